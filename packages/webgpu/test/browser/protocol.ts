/**
 * What the test page and the vitest side say to each other: the page runs
 * the cases, vitest asks it for them one at a time (through Playwright's
 * `evaluate`, so everything here is plain JSON).
 */

/** The global under which the page puts its {@link PageTests}. */
export const PAGE_GLOBAL = 'backpropWebGpuTests';

/** The suites' tree as the page collected it: describes and cases, in registration order. */
export type TestNode = { suite: string; children: TestNode[] } | { case: string; id: number };

/** How a case, or a hook around it, ended. */
export type Outcome = { ok: true } | { ok: false; message: string };

/** The adapter the backend's device came from, as `GPUAdapterInfo` reports it. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** What the page reports once its backend exists and its suites are collected. */
export interface PageReady {
  adapter: AdapterInfo;
  tree: TestNode[];
}

/** The page's side: `ready` rejects when there is no backend (no WebGPU, no adapter). */
export interface PageTests {
  ready: Promise<PageReady>;
  /** Runs case `id` (after the `beforeAll`s of the suites it enters, and the `afterAll`s of those it leaves). */
  run(id: number): Promise<Outcome>;
  /** Runs the `afterAll`s of the suites still open; resolves to the messages of the hooks that failed. */
  finish(): Promise<string[]>;
}
