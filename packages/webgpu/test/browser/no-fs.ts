/**
 * `node:fs` in the test page's bundle: `@backprop/ndarray/test` imports
 * `readFileSync` for `readFixture`, which only Node's tests call.
 */
export function readFileSync(): never {
  throw new Error('readFileSync: the test page has no file system (readFixture runs in Node only)');
}
