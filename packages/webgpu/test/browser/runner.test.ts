/**
 * The test page's runner, here in Node: it must report what fails, or the
 * browser tests would pass whatever the page did.
 */
import { describe, expect, it } from 'vitest';
import { createRunner } from './runner';

/** A runner with suites `outer > inner` whose hooks and cases log what ran. */
function logged(options: Parameters<typeof createRunner>[0] = {}) {
  const log: string[] = [];
  const runner = createRunner(options);
  const { api } = runner;
  api.describe('outer', () => {
    api.beforeAll(() => void log.push('before outer'));
    api.afterAll(() => void log.push('after outer 1'));
    api.afterAll(() => void log.push('after outer 2'));
    api.it('first', () => void log.push('first'));
    api.describe('inner', () => {
      api.beforeAll(async () => void log.push('before inner'));
      api.afterAll(() => void log.push('after inner'));
      api.it('second', async () => void log.push('second'));
    });
    api.it('third', () => void log.push('third'));
  });
  api.it('top', () => void log.push('top'));
  return { log, runner };
}

describe('the in-page runner', () => {
  it('collects describes and cases into a tree, numbering the cases in order', () => {
    expect(logged().runner.tree).toEqual([
      {
        suite: 'outer',
        children: [
          { case: 'first', id: 0 },
          { suite: 'inner', children: [{ case: 'second', id: 1 }] },
          { case: 'third', id: 2 },
        ],
      },
      { case: 'top', id: 3 },
    ]);
  });

  it('runs the hooks of the suites a case enters and leaves, as vitest does in order', async () => {
    const { log, runner } = logged();
    for (const id of [0, 1, 2, 3]) expect(await runner.run(id)).toEqual({ ok: true });
    expect(await runner.finish()).toEqual([]);
    expect(log).toEqual([
      'before outer',
      'first',
      'before inner',
      'second',
      'after inner',
      'third',
      'after outer 2',
      'after outer 1',
      'top',
    ]);
  });

  it('runs only the hooks a filtered run needs, and the open suites’ afterAlls at the end', async () => {
    const { log, runner } = logged();
    await runner.run(1);
    expect(await runner.finish()).toEqual([]);
    expect(log).toEqual(['before outer', 'before inner', 'second', 'after inner', 'after outer 2', 'after outer 1']);
  });

  it('reports what a case threw, with the name of an Error other than a plain one', async () => {
    const runner = createRunner();
    runner.api.it('plain', () => {
      throw new Error('1 is not 2');
    });
    runner.api.it('typed', async () => {
      throw new TypeError('not a function');
    });
    runner.api.it('odd', () => {
      throw 42;
    });
    expect(await runner.run(0)).toEqual({ ok: false, message: '1 is not 2' });
    expect(await runner.run(1)).toEqual({ ok: false, message: 'TypeError: not a function' });
    expect(await runner.run(2)).toEqual({ ok: false, message: 'threw a non-Error: 42' });
    expect(await runner.run(7)).toEqual({ ok: false, message: 'the page has no case 7 (it has 3)' });
  });

  it('fails every case under a failed beforeAll without running them, and still runs the afterAlls', async () => {
    const log: string[] = [];
    const runner = createRunner();
    const { api } = runner;
    api.describe('gpu', () => {
      api.beforeAll(() => {
        throw new Error('no adapter');
      });
      api.afterAll(() => void log.push('after gpu'));
      api.it('a', () => void log.push('a'));
      api.describe('nested', () => api.it('b', () => void log.push('b')));
    });
    api.it('c', () => void log.push('c'));
    const failed = { ok: false, message: 'beforeAll of "gpu" failed: no adapter' };
    expect(await runner.run(0)).toEqual(failed);
    expect(await runner.run(1)).toEqual(failed);
    expect(await runner.run(2)).toEqual({ ok: true });
    expect(log).toEqual(['after gpu', 'c']);
  });

  it('reports failed afterAlls when it finishes', async () => {
    const runner = createRunner();
    runner.api.describe('s', () => {
      runner.api.afterAll(() => {
        throw new Error('could not restore the backend');
      });
      runner.api.it('a', () => {});
    });
    expect(await runner.run(0)).toEqual({ ok: true });
    expect(await runner.finish()).toEqual(['afterAll of "s" failed: could not restore the backend']);
    expect(await runner.finish()).toEqual([]);
  });

  it('settles after each case, failing the case when settling rejects', async () => {
    let settled = 0;
    const runner = createRunner({
      settle: async () => {
        settled++;
        if (settled === 2) throw new Error('the device reported an error');
      },
    });
    runner.api.it('a', () => {});
    runner.api.it('b', () => {});
    expect(await runner.run(0)).toEqual({ ok: true });
    expect(await runner.run(1)).toEqual({ ok: false, message: 'the device reported an error' });
  });

  it('runs one case at a time, in the order asked', async () => {
    const log: string[] = [];
    const runner = createRunner();
    runner.api.it('slow', async () => {
      log.push('slow starts');
      await new Promise((resolve) => setTimeout(resolve, 20));
      log.push('slow ends');
    });
    runner.api.it('fast', () => void log.push('fast'));
    await Promise.all([runner.run(0), runner.run(1)]);
    expect(log).toEqual(['slow starts', 'slow ends', 'fast']);
  });

  it('refuses cases registered once the cases run', async () => {
    const runner = createRunner();
    runner.api.it('registers', () => runner.api.it('late', () => {}));
    expect(await runner.run(0)).toEqual({
      ok: false,
      message: 'it called while the cases run: register every case before the first one runs',
    });
  });
});
