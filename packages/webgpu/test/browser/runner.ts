/**
 * A test runner small enough to live in the page. `api` has vitest's
 * describe/it/beforeAll/afterAll shape (the `SuiteApi` that
 * `conformanceSuite` registers with); it collects the cases into a tree, and
 * `run(id)` runs one of them when the vitest side asks, the way vitest would
 * run it in order: first the `afterAll`s of the suites it leaves (innermost
 * first), then the `beforeAll`s of the suites it enters (outermost first),
 * then the case, then `settle` (which surfaces the GPU's errors in the case
 * that caused them). Cases and hooks may return promises. Runs queue behind
 * one another, so a case that never ends holds up the rest instead of
 * overlapping them.
 */
import type { Outcome, PageTests, TestNode } from './protocol';

type Body = () => void | Promise<void>;

/** `SuiteApi` (of `@backprop/ndarray/test`) whose bodies may return promises. */
export interface RunnerApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: Body): void;
  beforeAll(body: Body): void;
  afterAll(body: Body): void;
}

export interface Runner extends Omit<PageTests, 'ready'> {
  api: RunnerApi;
  /** The cases collected so far, in the suites they were registered in. */
  readonly tree: TestNode[];
}

interface Suite {
  name: string;
  parent: Suite | undefined;
  before: Body[];
  after: Body[];
  children: TestNode[];
  /** Why its cases fail without running: a `beforeAll` of it, or of a suite around it, failed. */
  failure?: string;
}

interface Case {
  suite: Suite;
  body: Body;
}

export function createRunner({ settle }: { settle?: () => Promise<void> } = {}): Runner {
  const root: Suite = { name: '', parent: undefined, before: [], after: [], children: [] };
  const cases: Case[] = [];
  let current = root;
  let running = false;

  const collecting = (what: string): void => {
    if (running) throw new Error(`${what} called while the cases run: register every case before the first one runs`);
  };
  const api: RunnerApi = {
    describe(name, body) {
      collecting('describe');
      const suite: Suite = { name, parent: current, before: [], after: [], children: [] };
      current.children.push({ suite: name, children: suite.children });
      current = suite;
      try {
        body();
      } finally {
        current = current.parent ?? root;
      }
    },
    it(name, body) {
      collecting('it');
      current.children.push({ case: name, id: cases.length });
      cases.push({ suite: current, body });
    },
    beforeAll(body) {
      collecting('beforeAll');
      current.before.push(body);
    },
    afterAll(body) {
      collecting('afterAll');
      current.after.push(body);
    },
  };

  /** The suites whose `beforeAll`s have run and whose `afterAll`s have not, outermost first. */
  const open: Suite[] = [];
  const hookFailures: string[] = [];

  async function leave(depth: number): Promise<void> {
    while (open.length > depth) {
      const suite = open.pop()!;
      for (const hook of [...suite.after].reverse()) {
        const failure = await attempt(hook);
        if (failure !== undefined) hookFailures.push(`afterAll of ${label(suite)} failed: ${failure}`);
      }
    }
  }

  async function enter(suite: Suite): Promise<void> {
    open.push(suite);
    suite.failure ??= suite.parent?.failure;
    if (suite.failure !== undefined) return;
    for (const hook of suite.before) {
      const failure = await attempt(hook);
      if (failure !== undefined) {
        suite.failure = `beforeAll of ${label(suite)} failed: ${failure}`;
        return;
      }
    }
  }

  async function runCase(id: number): Promise<Outcome> {
    running = true;
    const test = cases[id];
    if (test === undefined) return { ok: false, message: `the page has no case ${id} (it has ${cases.length})` };
    const path = ancestors(test.suite);
    let shared = 0;
    while (shared < open.length && open[shared] === path[shared]) shared++;
    await leave(shared);
    for (const suite of path.slice(shared)) await enter(suite);
    if (test.suite.failure !== undefined) return { ok: false, message: test.suite.failure };
    const failure = await attempt(async () => {
      await test.body();
      await settle?.();
    });
    return failure === undefined ? { ok: true } : { ok: false, message: failure };
  }

  let queue: Promise<unknown> = Promise.resolve();
  const queued = <T>(task: () => Promise<T>): Promise<T> => {
    const result = queue.then(task);
    queue = result.catch(() => undefined);
    return result;
  };

  return {
    api,
    tree: root.children,
    run: (id) => queued(() => runCase(id)),
    finish: () =>
      queued(async () => {
        await leave(0);
        return hookFailures.splice(0);
      }),
  };
}

/** `suite` and the suites around it, outermost (the root) first. */
function ancestors(suite: Suite): Suite[] {
  const path: Suite[] = [];
  for (let s: Suite | undefined = suite; s !== undefined; s = s.parent) path.unshift(s);
  return path;
}

function label(suite: Suite): string {
  const names = ancestors(suite)
    .slice(1)
    .map((s) => s.name);
  return names.length === 0 ? 'the page' : `"${names.join(' > ')}"`;
}

/** Runs `body`; undefined when it ends well, else the message of what it threw. */
async function attempt(body: Body): Promise<string | undefined> {
  try {
    await body();
    return undefined;
  } catch (error) {
    return messageOf(error);
  }
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return `${typeof error === 'string' ? '' : 'threw a non-Error: '}${String(error)}`;
  return error.name === 'Error' ? error.message : `${error.name}: ${error.message}`;
}
