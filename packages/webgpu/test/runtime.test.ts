/** The runtime's own mechanics, below the kernels. */
import { add, array, firstNonFinite, mul, narrow, relu, } from '@backprop/ndarray';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { GpuStorage } from '../src/storage';
import { webgpu } from './gpu';
import { onBackend } from './on-backend';

const gpu = await webgpu();
onBackend(gpu, { beforeAll, afterAll });

it('copies between two views of one buffer (which a single buffer copy may not do) and keeps the batch around it', async () => {
  const rows = array([[1, 2], [3, 4], [5, 6]]);
  const before = add(rows, 10); // a dispatch in the same batch, before the copy
  const source = narrow(rows, 0, 1).storage as GpuStorage;
  const target = narrow(rows, 2, 1).storage as GpuStorage;
  source.runtime.copy(source, target);
  const after = add(rows, 100); // and one after it
  expect(Array.from(await rows.toHost())).toEqual([1, 2, 3, 4, 1, 2]);
  expect(Array.from(await before.toHost())).toEqual([11, 12, 13, 14, 15, 16]);
  expect(Array.from(await after.toHost())).toEqual([101, 102, 103, 104, 101, 102]);
});

it('answers more deferred checks than one batch holds, and reports the first bad one', async () => {
  const good = array([1, 2]);
  for (let i = 0; i < 600; i++) firstNonFinite(good, `check ${i}`);
  firstNonFinite(array([1, Number.NaN]), 'the bad one');
  for (let i = 0; i < 300; i++) firstNonFinite(good, `check ${600 + i}`);
  await expect(good.toHost()).rejects.toThrow('the bad one (a float32 array of shape [2]) holds a value that is not finite at flat index 1');
  expect(Array.from(await good.toHost())).toEqual([1, 2]);
});

it('computes in place through the output binding, and frees the pool on request', async () => {
  const x = array([-1, 2, -3, 4]);
  relu(x, x);
  mul(x, 2, x);
  expect(Array.from(await x.toHost())).toEqual([0, 4, 0, 8]);
  for (let i = 0; i < 5; i++) add(x, i); // results dropped: pooled once collected
  await gpu.synchronize();
  const pooled = gpu.memory().bytesPooled;
  expect(gpu.releasePool()).toBe(pooled);
  expect(gpu.memory()).toMatchObject({ bytesPooled: 0, buffersPooled: 0 });
  expect(Array.from(await add(x, 1).toHost())).toEqual([1, 5, 1, 9]);
});
