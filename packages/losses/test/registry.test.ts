import { describe, expect, it } from 'vitest';
import * as losses from '../src/index';
import { LOSSES, Loss } from '../src/index';

describe('LOSSES', () => {
  it('names every exported loss class by its torch name, and only those', () => {
    const exported = Object.entries(losses)
      .filter(([, value]) => typeof value === 'function' && value.prototype instanceof Loss)
      .map(([name]) => name)
      .sort();
    expect(Object.keys(LOSSES).sort()).toEqual(exported);
    for (const [name, Class] of Object.entries(LOSSES)) {
      expect(new Class()).toBeInstanceOf(Loss);
      expect(Class.name).toBe(name);
    }
  });
});
