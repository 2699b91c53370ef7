import { defineConfig } from 'vitest/config';

// Unit tests (Node): the page's pure logic. The browser tests are vitest.e2e.config.ts.
export default defineConfig({
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000 },
});
