import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // A limit against hangs, not a speed check: CI runs every package's suite at once on two cores.
    testTimeout: 60_000,
    // test/memory.test.ts collects garbage at chosen steps, to show that every array a step drops returns to the pool.
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
  },
});
