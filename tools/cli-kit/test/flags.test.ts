import { describe, expect, it } from 'vitest';
import { UsageError, choiceFlag, integerFlag, printable } from '../src/index';

describe('integerFlag and choiceFlag', () => {
  it('take a value in range or among the choices', () => {
    expect(integerFlag('epochs', ' +12 ', 1, 1000)).toBe(12);
    expect(choiceFlag('model', 'cnn', ['mlp', 'cnn'])).toBe('cnn');
  });

  it('refuse anything else with a UsageError (exit code 2) naming the flag and the value', () => {
    expect(() => integerFlag('epochs', '1.5', 1, 1000)).toThrow(new UsageError("--epochs must be an integer from 1 to 1000, got '1.5'"));
    expect(() => integerFlag('epochs', '0', 1, 1000)).toThrow(/from 1 to 1000, got '0'/);
    expect(() => choiceFlag('model', 'cnm', ['mlp', 'cnn'])).toThrow("--model must be one of mlp, cnn, got 'cnm' (did you mean 'cnn'?)");
    expect(new UsageError('x').exitCode).toBe(2);
  });
});

describe('printable', () => {
  it('shows control characters and bidirectional overrides escaped, and keeps the rest', () => {
    expect(printable('a\x1b[2Jb\nc\u202ed é')).toBe('a\\x1b[2Jb\\x0ac\\u202ed é');
  });
});
