import { afterEach } from 'vitest';

// The tests train and evaluate for seconds without awaiting anything. Between
// tests, let the event loop reach its poll phase (setImmediate runs after it;
// a 0 ms timer runs before), so vitest's worker reads its runner's replies
// and a slow, loaded machine does not end the run with "Timeout calling onTaskUpdate".
afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
