/**
 * The WGSL kernels that move elements (permute, concat, take, gather) and
 * their adjoints (indexAdd, scatterAdd), and the random fills, against the
 * TypeScript backend on the same inputs: moves and fills bit for bit, the adds
 * bit for bit too (each output element sums its sources in the same order).
 */
import {
  type DType,
  NDArray,
  TorchGenerator,
  concat,
  fillNormal,
  fillUniform,
  gather,
  indexAdd,
  jsBackend,
  narrow,
  scatterAdd,
  setBackend,
  take,
  transpose,
  zeros,
} from '@backprop/ndarray';
import { testRandom } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import { both, gpu, useGpu } from './reference';

useGpu();

const random = testRandom(15);

function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Host values of a shape: floats in [−2, 2) or small integers. */
function values(shape: readonly number[], dtype: DType = 'float32'): Float32Array | Int32Array {
  const n = size(shape);
  if (dtype === 'int32') return Int32Array.from({ length: n }, () => Math.floor(random() * 2000) - 1000);
  return Float32Array.from({ length: n }, () => random() * 4 - 2);
}

/** Int32 indices in [−n, n) (negative ones count from the end), as a host array of `shape`. */
function indicesIn(n: number, shape: readonly number[], negative = true): NDArray {
  const data = Int32Array.from({ length: size(shape) }, () => Math.floor(random() * (negative ? 2 * n : n)) - (negative ? n : 0));
  return new NDArray(data, shape);
}

function input(shape: readonly number[], dtype: DType = 'float32'): NDArray {
  return new NDArray(values(shape, dtype), shape);
}

describe('webgpu permute', () => {
  const cases: [number[], number[]][] = [
    [[5, 7], [1, 0]],
    [[33, 65], [1, 0]],
    [[70, 3], [1, 0]],
    [[2, 3, 4], [0, 2, 1]],
    [[2, 3, 4], [1, 2, 0]],
    [[2, 3, 4], [2, 0, 1]],
    [[4, 35, 40], [2, 1, 0]],
    [[3, 4, 5, 6], [3, 1, 0, 2]],
    [[3, 4, 5, 6], [1, 0, 2, 3]],
    [[2, 1, 3, 1, 5], [4, 3, 2, 0, 1]],
    [[2, 3, 2, 3, 2, 3], [5, 0, 4, 1, 3, 2]],
    [[6, 1], [1, 0]],
    [[1, 1], [1, 0]],
    [[3, 0, 4], [2, 1, 0]],
    [[], []],
    [[7], [0]],
  ];
  for (const [shape, axes] of cases) {
    it(`[${shape}] by (${axes})`, async () => {
      const { expected, actual } = await both([input(shape)], (x) => transpose(x, axes));
      expect(actual).toEqual(expected);
    });
  }

  it('moves int32 elements and reads a view', async () => {
    const { expected, actual } = await both([input([9, 40, 3], 'int32')], (x) => transpose(x, [1, 2, 0]));
    expect(actual).toEqual(expected);
    const { expected: e2, actual: a2 } = await both([input([5, 6, 7])], (x) => transpose(narrow(x.reshape([30, 7]), 3, 26), [1, 0]));
    expect(a2).toEqual(e2);
  });

  it('transposes a batch of tiles spread over several workgroups', async () => {
    const { expected, actual } = await both([input([3, 70, 97])], (x) => transpose(x, [0, 2, 1]));
    expect(actual).toEqual(expected);
  });
});

describe('webgpu concat', () => {
  const cases: [number[][], number][] = [
    [[[2, 3], [4, 3]], 0],
    [[[2, 3], [2, 5], [2, 1]], 1],
    [[[3, 2, 4], [3, 0, 4], [3, 5, 4]], 1],
    [[[3, 2, 4], [3, 2, 1]], 2],
    [[[5], [7], [1], [2], [3], [4], [5], [6], [7], [8]], 0],
    [[[2, 3, 1], [2, 3, 2], [2, 3, 3], [2, 3, 1], [2, 3, 2], [2, 3, 3], [2, 3, 1], [2, 3, 2], [2, 3, 3]], 2],
    [[[0, 3], [0, 2]], 1],
  ];
  for (const [shapes, axis] of cases) {
    it(`${shapes.map((s) => `[${s}]`).join(' ')} along ${axis}`, async () => {
      const { expected, actual } = await both(
        shapes.map((s) => input(s)),
        (...xs) => concat(xs, axis),
      );
      expect(actual).toEqual(expected);
    });
  }

  it('joins views into larger buffers, by buffer copies and by dispatches', async () => {
    const { expected: e0, actual: a0 } = await both([input([5, 4]), input([7, 4])], (a, b) => concat([narrow(a, 1, 3), narrow(b, 2, 5), narrow(a, 4, 1)], 0));
    expect(a0).toEqual(e0);
    const { expected: e1, actual: a1 } = await both([input([5, 4]), input([7, 3])], (a, b) => concat([narrow(a, 1, 3), narrow(b, 3, 3)], 1));
    expect(a1).toEqual(e1);
  });

  it('joins int32 arrays', async () => {
    const { expected, actual } = await both([input([4, 3], 'int32'), input([4, 2], 'int32')], (a, b) => concat([a, b], 1));
    expect(actual).toEqual(expected);
  });
});

describe('webgpu take', () => {
  const cases: [number[], number, number[]][] = [
    [[10, 4], 0, [7]],
    [[10, 4], 1, [3, 2]],
    [[3, 50, 17], 1, [40]],
    [[3, 5, 2], 2, [1]],
    [[6], 0, [0]],
    [[6, 3], 0, [1300]],
  ];
  for (const [shape, axis, idxShape] of cases) {
    it(`[${shape}] along ${axis} at [${idxShape}] indices`, async () => {
      const idx = indicesIn(shape[axis], idxShape);
      const { expected, actual } = await both([input(shape), idx], (x, i) => take(x, i, axis));
      expect(actual).toEqual(expected);
    });
  }

  it('picks int32 rows', async () => {
    const { expected, actual } = await both([input([8, 3], 'int32'), indicesIn(8, [5])], (x, i) => take(x, i, 0));
    expect(actual).toEqual(expected);
  });
});

describe('webgpu indexAdd', () => {
  const cases: [number[], number, number][] = [
    [[10, 4], 0, 25],
    [[5, 6, 3], 1, 14],
    [[4, 3, 2], 2, 9],
    [[7], 0, 1],
    [[30, 5], 0, 1500],
    [[3, 2], 0, 0],
  ];
  for (const [shape, axis, count] of cases) {
    it(`into [${shape}] along ${axis} from ${count} indices`, async () => {
      const idx = indicesIn(shape[axis], [count]);
      const sourceShape = shape.map((d, i) => (i === axis ? count : d));
      const { expected, actual } = await both([input(shape), idx, input(sourceShape)], (out, i, s) =>
        indexAdd(out, axis, i, s),
      );
      expect(actual).toEqual(expected);
    });
  }

  it('sums one repeated row many times over', async () => {
    const idx = new NDArray(new Int32Array(700).fill(-2), [700]);
    const { expected, actual } = await both([input([3, 4]), idx, input([700, 4])], (out, i, s) => indexAdd(out, 0, i, s));
    expect(actual).toEqual(expected);
  });

  it('adds int32 rows', async () => {
    const { expected, actual } = await both(
      [input([6, 2], 'int32'), indicesIn(6, [9]), input([9, 2], 'int32')],
      (out, i, s) => indexAdd(out, 0, i, s),
    );
    expect(actual).toEqual(expected);
  });
});

describe('webgpu gather and scatterAdd', () => {
  const cases: [number[], number, number[]][] = [
    [[4, 10], 1, [4, 1]],
    [[4, 10], 1, [4, 13]],
    [[6, 5], 0, [9, 5]],
    [[3, 4, 5], 1, [3, 7, 5]],
    [[3, 4, 5], 2, [3, 4, 2]],
    [[8], 0, [20]],
    [[64, 40], 1, [64, 40]],
    [[2, 3], 0, [0, 3]],
  ];
  for (const [shape, axis, idxShape] of cases) {
    it(`gather from [${shape}] along ${axis} at [${idxShape}]`, async () => {
      const idx = indicesIn(shape[axis], idxShape);
      const { expected, actual } = await both([input(shape), idx], (x, i) => gather(x, axis, i));
      expect(actual).toEqual(expected);
    });
    it(`scatterAdd into [${shape}] along ${axis} from [${idxShape}]`, async () => {
      const idx = indicesIn(shape[axis], idxShape);
      const { expected, actual } = await both([input(shape), idx, input(idxShape)], (out, i, s) =>
        scatterAdd(out, axis, i, s),
      );
      expect(actual).toEqual(expected);
    });
  }

  it('scatterAdd with indices smaller than out in other dimensions', async () => {
    const idxShape = [2, 3, 6];
    const idx = indicesIn(4, idxShape);
    const { expected, actual } = await both([input([3, 5, 4]), idx, input(idxShape)], (out, i, s) =>
      scatterAdd(out, 2, i, s),
    );
    expect(actual).toEqual(expected);
  });

  it('scatterAdd sums thousands of colliding sources in order', async () => {
    const idxShape = [2, 3000];
    const idx = indicesIn(3, idxShape);
    const { expected, actual } = await both([input([2, 3]), idx, input(idxShape)], (out, i, s) =>
      scatterAdd(out, 1, i, s),
    );
    expect(actual).toEqual(expected);
  });
});

describe('webgpu random fills', () => {
  for (const n of [0, 1, 7, 1000]) {
    it(`uniform and normal of ${n} draws equal the TypeScript kernel's`, async () => {
      setBackend(jsBackend);
      const hostU = fillUniform(zeros([n]), -1, 3, new TorchGenerator(7));
      const hostN = fillNormal(zeros([n]), 0.5, 2, new TorchGenerator(8));
      setBackend(gpu());
      const u = fillUniform(zeros([n]), -1, 3, new TorchGenerator(7));
      const v = fillNormal(zeros([n]), 0.5, 2, new TorchGenerator(8));
      const [actualU, actualN] = [await u.toHost(), await v.toHost()];
      setBackend(jsBackend);
      expect(actualU).toEqual(hostU.data);
      expect(actualN).toEqual(hostN.data);
      if (n > 1) expect(new Set(actualU).size).toBeGreaterThan(1);
    });
  }

  it('fills a view in place, leaving the rest of its buffer', async () => {
    setBackend(gpu());
    const whole = zeros([4, 3]);
    fillNormal(narrow(whole, 1, 2), 0, 1, new TorchGenerator(1));
    const result = await whole.toHost();
    setBackend(jsBackend);
    const expected = fillNormal(zeros([2, 3]), 0, 1, new TorchGenerator(1)).data;
    expect(Array.from(result)).toEqual([0, 0, 0, ...expected, 0, 0, 0]);
  });
});
