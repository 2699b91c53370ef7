import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // The soak test forces garbage collections to read a steady heap.
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
  },
});
