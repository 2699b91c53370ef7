import { describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_FLAGS, requireChromium } from './e2e/chromium';

describe('the browser tests’ Chromium', () => {
  it('is Debian’s, run headless without a sandbox or anything that phones home', () => {
    expect(CHROMIUM).toBe('/usr/bin/chromium');
    expect(CHROMIUM_FLAGS).toEqual(expect.arrayContaining(['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking']));
  });

  it('fails at once, with the install command, when it is missing', () => {
    expect(() => requireChromium('/nonexistent/chromium')).toThrow(
      /drive Chromium at \/nonexistent\/chromium, which is not installed.*Install it with: apt-get install -y chromium/,
    );
  });
});
