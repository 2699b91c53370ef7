/**
 * The convolution and pooling kernels against the TypeScript ones: each op
 * runs on host copies with the `js` backend and on uploads with `webgpu`.
 * im2col, col2im, maxPool2d and maxPool2dBackward add in the TypeScript
 * kernels' order, so they must match bit for bit; average pooling divides on
 * the GPU (within 2.5 ulp in WGSL), so it is compared within float32 rounding.
 */
import {
  type AvgPoolDivisor,
  type Conv2dWindow,
  NDArray,
  type Pool2dWindow,
  array,
  avgPool2d,
  avgPool2dBackward,
  col2im,
  conv2dGeometry,
  im2col,
  maxPool2d,
  maxPool2dBackward,
  pool2dGeometry,
  setBackend,
} from '@backprop/ndarray';
import { testRandom } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import { gpu, onGpu, onHost, useGpu } from './reference';

useGpu();

function uniform(n: number, next: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => next() * 4 - 2);
}

function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Every element equal, NaN to NaN and −0 to −0; the first mismatches listed. */
function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  expect(actual.length, label).toBe(expected.length);
  const wrong: string[] = [];
  for (let i = 0; i < expected.length && wrong.length < 5; i++) {
    if (!Object.is(actual[i], expected[i])) wrong.push(`[${i}] ${actual[i]} != ${expected[i]}`);
  }
  expect(wrong, label).toEqual([]);
}

/** |actual − expected| within `ulps` float32 roundings of max(|expected|, 1) (the inputs are of order 1); NaN to NaN. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, ulps = 16): void {
  expect(actual.length, label).toBe(expected.length);
  const wrong: string[] = [];
  for (let i = 0; i < expected.length && wrong.length < 5; i++) {
    const bound = ulps * 2 ** -23 * Math.max(Math.abs(expected[i]), 1);
    if (!Object.is(actual[i], expected[i]) && !(Math.abs(actual[i] - expected[i]) <= bound)) wrong.push(`[${i}] ${actual[i]} vs ${expected[i]}`);
  }
  expect(wrong, label).toEqual([]);
}

const convCases: { shape: number[]; window: Conv2dWindow }[] = [
  { shape: [2, 3, 5, 6], window: { kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] } },
  { shape: [2, 3, 5, 6], window: { kernelSize: [2, 3], stride: [2, 1], padding: [0, 2], dilation: [1, 2] } },
  { shape: [2, 3, 5, 6], window: { kernelSize: [1, 1], stride: [3, 2], padding: [0, 0], dilation: [1, 1] } },
  // Several workgroups each way; overlapping taps that a stride of 2 reaches only every other row.
  { shape: [3, 4, 17, 19], window: { kernelSize: [5, 3], stride: [2, 2], padding: [2, 1], dilation: [1, 1] } },
  { shape: [2, 5, 23, 9], window: { kernelSize: [3, 4], stride: [1, 3], padding: [3, 2], dilation: [3, 2] } },
  { shape: [1, 1, 1, 1], window: { kernelSize: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1] } },
  { shape: [0, 3, 5, 6], window: { kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] } },
];

describe('im2col and col2im', () => {
  for (const { shape, window } of convCases) {
    it(`${JSON.stringify(shape)} ${JSON.stringify(window)}`, async () => {
      const next = testRandom(shape.reduce((s, d) => s * 31 + d, 7));
      const g = conv2dGeometry('test', shape, window);
      const colsShape = [g.batch, g.channels * g.kernelH * g.kernelW, g.outH * g.outW];
      const x = new NDArray(uniform(size(shape), next), shape);
      const cols = new NDArray(uniform(size(colsShape), next), colsShape);

      const unfolded = onHost([x], (a) => im2col(a, g));
      expectSame(await onGpu([x], (a) => im2col(a, g)).toHost(), unfolded.data, 'im2col');

      const folded = onHost([cols], (c) => col2im(c, g));
      // The overlaps make this a sum of several columns at most pixels.
      expectSame(await onGpu([cols], (c) => col2im(c, g)).toHost(), folded.data, 'col2im');
    });
  }

  it('col2im overwrites out and propagates NaN and ∞', async () => {
    const shape = [1, 2, 4, 4];
    const g = conv2dGeometry('test', shape, { kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] });
    const colsShape = [1, 2 * 9, 16];
    const cols = uniform(size(colsShape), testRandom(3));
    cols[5] = Number.NaN;
    cols[16 * 13 + 2] = Number.POSITIVE_INFINITY; // channel 1, the centre tap: always inside
    const expected = onHost([new NDArray(cols, colsShape)], (c) => col2im(c, g)).data;
    setBackend(gpu());
    const out = array(new Float32Array(32).fill(7), { shape });
    col2im(array(cols, { shape: colsShape }), g, out);
    const actual = await out.toHost();
    expectSame(actual, expected, 'col2im into a filled out');
    expect(actual.some(Number.isNaN)).toBe(true);
    expect(actual.includes(Number.POSITIVE_INFINITY)).toBe(true);
  });
});

const poolCases: { shape: number[]; window: Pool2dWindow }[] = [
  { shape: [2, 2, 5, 4], window: { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: false } },
  { shape: [2, 2, 5, 4], window: { kernelSize: [3, 2], stride: [2, 1], padding: [1, 1], ceilMode: true } },
  // Ceil mode with padding on a larger input: the last window hangs over the edge; several workgroups.
  { shape: [3, 5, 9, 11], window: { kernelSize: [3, 3], stride: [2, 2], padding: [1, 1], ceilMode: true } },
  { shape: [2, 3, 13, 10], window: { kernelSize: [4, 2], stride: [3, 3], padding: [2, 0], ceilMode: true } },
  // Overlapping windows (stride 1), unbatched [C, H, W].
  { shape: [4, 7, 6], window: { kernelSize: [3, 3], stride: [1, 1], padding: [1, 0], ceilMode: false } },
  { shape: [1, 1, 1, 1], window: { kernelSize: [1, 1], stride: [1, 1], padding: [0, 0], ceilMode: false } },
  { shape: [0, 2, 5, 4], window: { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: false } },
];

/** Small integers (so windows tie), with NaN, ±∞ and −0 sprinkled in when `special`. */
function poolInput(n: number, next: () => number, special: boolean): Float32Array {
  const values = Float32Array.from({ length: n }, () => Math.floor(next() * 7) - 3);
  if (special) {
    for (let i = 0; i < n; i++) {
      const r = next();
      if (r < 0.06) values[i] = Number.NaN;
      else if (r < 0.1) values[i] = Number.NEGATIVE_INFINITY;
      else if (r < 0.12) values[i] = Number.POSITIVE_INFINITY;
      else if (r < 0.16) values[i] = -0;
    }
  }
  return values;
}

describe('maxPool2d and maxPool2dBackward', () => {
  for (const { shape, window } of poolCases) {
    for (const special of [false, true]) {
      it(`${JSON.stringify(shape)} ${JSON.stringify(window)}${special ? ' with NaN, ±∞, −0' : ''}`, async () => {
        const next = testRandom(shape.reduce((s, d) => s * 37 + d, special ? 11 : 5));
        const g = pool2dGeometry('test', shape, window);
        const x = new NDArray(poolInput(size(shape), next, special), shape);

        const host = onHost([x], (a) => maxPool2d(a, g));
        const device = onGpu([x], (a) => maxPool2d(a, g));
        expectSame(await device.output.toHost(), host.output.data, 'maxPool2d');
        expectSame(await device.indices.toHost(), host.indices.data, 'maxPool2d indices');

        const grad = uniform(host.output.size, next);
        const dx = onHost([new NDArray(grad, host.output.shape), host.indices], (gr, idx) => maxPool2dBackward(gr, idx, g, shape));
        setBackend(gpu());
        const back = maxPool2dBackward(array(grad, { shape: device.output.shape }), device.indices, g, shape);
        expectSame(await back.toHost(), dx.data, 'maxPool2dBackward');
      });
    }
  }

  it('an all −∞ window points at its first pixel; a NaN takes over from −∞', async () => {
    const shape = [1, 1, 2, 4];
    const g = pool2dGeometry('test', shape, { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: false });
    const x = new NDArray(Float32Array.from([-Infinity, -Infinity, -Infinity, Number.NaN, -Infinity, -Infinity, 1, Number.NaN]), shape);
    const { output, indices } = onGpu([x], (a) => maxPool2d(a, g));
    expectSame(await output.toHost(), [Number.NEGATIVE_INFINITY, Number.NaN], 'values');
    expectSame(await indices.toHost(), [0, 7], 'indices');
  });
});

const divisors: AvgPoolDivisor[] = [
  { countIncludePad: true, divisorOverride: null },
  { countIncludePad: false, divisorOverride: null },
  { countIncludePad: true, divisorOverride: 3 },
  { countIncludePad: false, divisorOverride: -2 },
];

describe('avgPool2d and avgPool2dBackward', () => {
  for (const { shape, window } of poolCases) {
    it(`${JSON.stringify(shape)} ${JSON.stringify(window)}`, async () => {
      const next = testRandom(shape.reduce((s, d) => s * 41 + d, 13));
      const g = pool2dGeometry('test', shape, window);
      const outShape = [...shape.slice(0, -2), g.outH, g.outW];
      const x = new NDArray(uniform(size(shape), next), shape);
      const grad = new NDArray(uniform(size(outShape), next), outShape);
      for (const divisor of divisors) {
        const label = JSON.stringify(divisor);
        const host = onHost([x], (a) => avgPool2d(a, g, divisor));
        expectClose(await onGpu([x], (a) => avgPool2d(a, g, divisor)).toHost(), host.data, `avgPool2d ${label}`);
        const dx = onHost([grad], (gr) => avgPool2dBackward(gr, g, divisor, shape));
        expectClose(await onGpu([grad], (gr) => avgPool2dBackward(gr, g, divisor, shape)).toHost(), dx.data, `avgPool2dBackward ${label}`);
      }
    });
  }

  it('NaN and ∞ propagate through the window and back', async () => {
    const shape = [1, 1, 4, 4];
    const g = pool2dGeometry('test', shape, { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: false });
    const x = Float32Array.from({ length: 16 }, (_, i) => i);
    x[0] = Number.NaN;
    x[7] = Number.POSITIVE_INFINITY;
    const divisor = { countIncludePad: true, divisorOverride: null };
    expectSame(await onGpu([new NDArray(x, shape)], (a) => avgPool2d(a, g, divisor)).toHost(), [Number.NaN, Number.POSITIVE_INFINITY, 10.5, 12.5], 'forward');
    const back = await onGpu([new NDArray(Float32Array.from([Number.NaN, 4, 8, -2]), [1, 1, 2, 2])], (gr) => avgPool2dBackward(gr, g, divisor, shape)).toHost();
    expectSame(back.slice(0, 4), [Number.NaN, Number.NaN, 1, 1], 'backward');
  });
});
