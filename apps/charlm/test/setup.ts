import { afterEach } from 'vitest';

// The tests train and evaluate for seconds without awaiting anything. Between
// tests, yield to the event loop so vitest's worker reads its runner's replies
// before the next test computes. No yield helps a single test that computes
// for longer than vitest's 60 s RPC timeout on a loaded machine: keep each
// test to a few seconds here (parity.test.ts splits its runs into stages).
afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
