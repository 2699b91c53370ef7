/**
 * What a user of the GPU backend runs into, and what it says: reads that a
 * GPU cannot answer synchronously, float64, options, and checks of values
 * that report at the next read.
 */
import { Linear } from '@backprop/layers';
import { CrossEntropyLoss } from '@backprop/losses';
import { DTypeError, Parameter, array, clip, copyInto, full, jsBackend, setBackend, zeros } from '@backprop/ndarray';
import { SGD } from '@backprop/optimizers';
import { create } from 'webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend } from '../src/index';
import { webgpu } from './gpu';
import { onBackend } from './on-backend';

const gpu = await webgpu();
onBackend(gpu, { beforeAll, afterAll });

describe('reads', () => {
  it('a synchronous read of a GPU array says how to read it instead', async () => {
    const x = array([1, 2, 3]);
    expect(() => x.data).toThrow('webgpu: a float32 array of 3 elements lives on the GPU, which a browser cannot read synchronously');
    expect(() => full([1], 2).item()).toThrow(/await x\.itemAsync\(\)/);
    expect(Array.from(await x.toHost())).toEqual([1, 2, 3]);
    expect(await full([], 2.5).itemAsync()).toBe(2.5);
  });

  it("a loss's forward (a number) points to compute, which leaves the loss on the GPU", async () => {
    const logits = array([[1, 2, 3], [3, 2, 1]]);
    const labels = array([2, 0], { dtype: 'int32' });
    expect(() => new CrossEntropyLoss().forward(logits, labels)).toThrow(/lossFn\.compute\(prediction, target\)/);
    const loss = new CrossEntropyLoss().compute(logits, labels);
    expect(await loss.itemAsync()).toBeCloseTo(0.40760596, 6);
  });
});

describe('dtypes and options', () => {
  it('float64 cannot live on the GPU, and the error says what to do', () => {
    expect(() => zeros([2], { dtype: 'float64' })).toThrow(DTypeError);
    expect(() => zeros([2], { dtype: 'float64' })).toThrow("convert with astype('float32'), or keep float64 work on the CPU");
    expect(() => new Linear(2, 2, { dtype: 'float64' })).toThrow('float64 arrays cannot live on the GPU');
  });

  it('createWebGpuBackend checks its options', async () => {
    await expect(createWebGpuBackend({ gpu: create([]), powerPrefernce: 'low-power' } as never)).rejects.toThrow(/powerPrefernce/);
    await expect(createWebGpuBackend({ gpu: create([]), name: '' })).rejects.toThrow("createWebGpuBackend: name must be a non-empty string, got ''");
  });
});

describe('checks of values run on the GPU and report at the next read', () => {
  it('a NaN gradient: the optimizer steps, and the next read rejects naming the array and the index, once', async () => {
    const param = new Parameter(array([1, 2, 3, 4]), 'w');
    copyInto(param.grad, array([0, 0, Number.NaN, 0]));
    new SGD([param], { lr: 0.1 }).step();
    await expect(param.value.toHost()).rejects.toThrow(
      "SGD.step: the grad of 'w' (parameter 0) (a float32 array of shape [4]) holds a value that is not finite at flat index 2",
    );
    expect((await param.value.toHost()).length).toBe(4); // reported once
  });

  it('a class index out of range in a loss reports at the next read', async () => {
    const loss = new CrossEntropyLoss().compute(array([[1, 2, 3]]), array([5], { dtype: 'int32' }));
    await expect(loss.itemAsync()).rejects.toThrow(
      'CrossEntropyLoss: target (class indices other than ignoreIndex -100) (an int32 array of shape [1]) holds a value that is not in [0, 2] at flat index 0',
    );
  });
});

describe('the pool', () => {
  it('counts an array of 1,000 float32 in use as 4,000 bytes', () => {
    const before = gpu.memory();
    const kept = zeros([1000]);
    const after = gpu.memory();
    expect(after.bytesInUse - before.bytesInUse).toBe(4000);
    expect(after.buffersInUse - before.buffersInUse).toBe(1);
    expect(kept.size).toBe(1000);
  });
});

describe('int32 clip', () => {
  it('clips as the host does with infinite, fractional and out-of-range bounds', async () => {
    const values = [-(2 ** 31), -7, -1, 0, 1, 2, 7, 2 ** 31 - 1];
    for (const [low, high] of [[0, Number.POSITIVE_INFINITY], [Number.NEGATIVE_INFINITY, 1.5], [-1.5, 2.5], [-1e12, 1e12], [3, 3]]) {
      setBackend(jsBackend);
      const expected = Array.from(clip(array(values, { dtype: 'int32' }), low, high).data);
      setBackend(gpu);
      const got = Array.from(await clip(array(values, { dtype: 'int32' }), low, high).toHost());
      expect(got, `clip to [${low}, ${high}]`).toEqual(expected);
    }
  });
});
