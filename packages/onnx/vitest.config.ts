import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // A limit against hangs, not a speed check: CI runs every package's suite at once on two cores.
    testTimeout: 60_000,
  },
});
