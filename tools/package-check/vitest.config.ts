import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Packs every package once; the test files share the tarballs.
    globalSetup: ['test/global-setup.ts'],
    // The tests wait on npm, tsc and node child processes.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
