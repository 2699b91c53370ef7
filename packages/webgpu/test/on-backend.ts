/**
 * Hooks that make a backend current for the cases of the suite being
 * collected and restore the previous one after: with vitest's hooks in Node,
 * with the page's runner in the browser (it imports nothing of either).
 */
import { type Backend, setBackend } from '@backprop/ndarray';

export interface Hooks {
  beforeAll(body: () => void): void;
  afterAll(body: () => void): void;
}

export function onBackend(backend: Backend, { beforeAll, afterAll }: Hooks): void {
  let previous: Backend | undefined;
  beforeAll(() => {
    previous = setBackend(backend);
  });
  afterAll(() => {
    if (previous !== undefined) setBackend(previous);
  });
}
