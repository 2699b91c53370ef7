import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  NDArray,
  ShapeError,
  add,
  formatShape,
  matmul,
  max,
  mean,
  mul,
  reshape,
  sub,
  sum,
  transpose,
} from '../src/index';

// Simple, obviously-right references: index arithmetic by definition, no strides tricks.

function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return idx;
}

function ravel(idx: readonly number[], shape: readonly number[]): number {
  return idx.reduce((o, i, d) => o * shape[d] + i, 0);
}

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

function filled(shape: number[], values: number[]): NDArray {
  const data = new Float64Array(size(shape));
  for (let i = 0; i < data.length; i++) data[i] = values[i % Math.max(values.length, 1)] ?? 0;
  return new NDArray(data, shape);
}

const dim = fc.integer({ min: 0, max: 4 });
const values = fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 32 });

/** Two shapes that broadcast: a common shape, then each side drops leading dims or sets some to 1. */
const broadcastPair = fc
  .record({
    base: fc.array(dim, { maxLength: 4 }),
    dropA: fc.nat(4),
    dropB: fc.nat(4),
    onesA: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    onesB: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  })
  .map(({ base, dropA, dropB, onesA, onesB }) => {
    const a = base.slice(Math.min(dropA, base.length)).map((d, i) => (onesA[i] ? 1 : d));
    const b = base.slice(Math.min(dropB, base.length)).map((d, i) => (onesB[i] ? 1 : d));
    return [a, b] as const;
  });

function referenceBroadcast(a: NDArray, b: NDArray, f: (x: number, y: number) => number): { shape: number[]; data: number[] } {
  const nd = Math.max(a.ndim, b.ndim);
  const pa = [...new Array(nd - a.ndim).fill(1), ...a.shape];
  const pb = [...new Array(nd - b.ndim).fill(1), ...b.shape];
  const shape = pa.map((d, i) => (d === 1 ? pb[i] : d));
  const data: number[] = [];
  for (let k = 0; k < size(shape); k++) {
    const idx = unravel(k, shape);
    const ia = ravel(idx.map((i, d) => (pa[d] === 1 ? 0 : i)), pa);
    const ib = ravel(idx.map((i, d) => (pb[d] === 1 ? 0 : i)), pb);
    data.push(f(a.data[ia], b.data[ib]));
  }
  return { shape, data };
}

describe('properties of the array core', () => {
  it('add, sub and mul broadcast exactly as the definition says', () => {
    fc.assert(
      fc.property(broadcastPair, values, values, ([sa, sb], va, vb) => {
        const a = filled([...sa], va);
        const b = filled([...sb], vb);
        for (const [op, f] of [[add, (x: number, y: number) => x + y], [sub, (x: number, y: number) => x - y], [mul, (x: number, y: number) => x * y]] as const) {
          const out = op(a, b);
          const ref = referenceBroadcast(a, b, f);
          expect(out.shape).toEqual(ref.shape);
          expect(Array.from(out.data)).toEqual(ref.data);
        }
      }),
      { numRuns: 300, seed: 3 },
    );
  });

  it('shapes that do not broadcast fail with a ShapeError naming both', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 2, max: 5 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 3 }), (shape, delta) => {
        const other = shape.slice();
        other[other.length - 1] += delta; // both > 1 and different
        const run = () => add(filled(shape, [1]), filled(other, [1]));
        expect(run).toThrow(ShapeError);
        expect(run).toThrow(`${formatShape(shape)} and ${formatShape(other)}`);
      }),
      { numRuns: 100, seed: 4 },
    );
  });

  it('sum, mean and max over any axis agree with loops over the definition', () => {
    fc.assert(
      fc.property(fc.array(dim, { minLength: 1, maxLength: 4 }), values, fc.nat(3), fc.boolean(), (shape, v, axisSeed, keepDims) => {
        const a = filled(shape, v);
        const axis = axisSeed % shape.length;
        const outShape = shape.filter((_, d) => d !== axis);
        const expectedSum: number[] = new Array(size(outShape)).fill(0);
        const expectedMax: number[] = new Array(size(outShape)).fill(Number.NEGATIVE_INFINITY);
        for (let k = 0; k < a.size; k++) {
          const idx = unravel(k, shape);
          const o = ravel(idx.filter((_, d) => d !== axis), outShape);
          expectedSum[o] += a.data[k];
          expectedMax[o] = Math.max(expectedMax[o], a.data[k]);
        }
        const keptShape = shape.map((d, i) => (i === axis ? 1 : d));
        const s = sum(a, axis, keepDims);
        expect(s.shape).toEqual(keepDims ? keptShape : outShape);
        expect(Array.from(s.data)).toEqual(expectedSum);
        const m = mean(a, axis);
        m.data.forEach((x, i) => {
          if (shape[axis] === 0) expect(x).toBeNaN();
          else expect(x).toBeCloseTo(expectedSum[i] / shape[axis], 12);
        });
        if (shape[axis] === 0) expect(() => max(a, axis)).toThrow(/empty dimension/);
        else expect(Array.from(max(a, axis).data)).toEqual(expectedMax);
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it('matmul agrees with the textbook sum over batched and vector shapes', () => {
    const shapes = fc
      .record({ m: dim, k: dim, n: dim, batchA: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), broadcast: fc.boolean(), vecA: fc.boolean(), vecB: fc.boolean() })
      .map(({ m, k, n, batchA, broadcast, vecA, vecB }) => {
        const batchB = broadcast ? batchA.map(() => 1) : batchA.slice(1);
        const a = vecA ? [k] : [...batchA, m, k];
        const b = vecB ? [k] : [...batchB, k, n];
        return { a, b };
      });
    fc.assert(
      fc.property(shapes, values, values, ({ a: sa, b: sb }, va, vb) => {
        const a = filled(sa, va);
        const b = filled(sb, vb);
        const out = matmul(a, b);
        // Reference: promote vectors, broadcast batches, sum over k.
        const A = a.ndim === 1 ? a.reshape([1, a.shape[0]]) : a;
        const B = b.ndim === 1 ? b.reshape([b.shape[0], 1]) : b;
        const [m, k] = A.shape.slice(-2);
        const n = B.shape[B.ndim - 1];
        const ba = A.shape.slice(0, -2);
        const bb = B.shape.slice(0, -2);
        const nb = Math.max(ba.length, bb.length);
        const pa = [...new Array(nb - ba.length).fill(1), ...ba];
        const pb = [...new Array(nb - bb.length).fill(1), ...bb];
        const batch = pa.map((d, i) => (d === 1 ? pb[i] : d));
        const expected: number[] = [];
        for (let t = 0; t < size(batch); t++) {
          const idx = unravel(t, batch);
          const oa = ravel(idx.map((i, d) => (pa[d] === 1 ? 0 : i)), pa) * m * k;
          const ob = ravel(idx.map((i, d) => (pb[d] === 1 ? 0 : i)), pb) * k * n;
          for (let i = 0; i < m; i++)
            for (let j = 0; j < n; j++) {
              let s = 0;
              for (let p = 0; p < k; p++) s += A.data[oa + i * k + p] * B.data[ob + p * n + j];
              expected.push(s);
            }
        }
        const expectedShape = [...batch, ...(a.ndim > 1 ? [m] : []), ...(b.ndim > 1 ? [n] : [])];
        expect(out.shape).toEqual(expectedShape);
        expect(Array.from(out.data)).toEqual(expected);
      }),
      { numRuns: 300, seed: 6 },
    );
  });

  it('reshape keeps the data and transpose by a permutation is undone by its inverse', () => {
    fc.assert(
      fc.property(fc.array(dim, { minLength: 1, maxLength: 4 }), values, fc.nat(), (shape, v, permSeed) => {
        const a = filled(shape, v);
        const flat = reshape(a, [-1]);
        expect(flat.shape).toEqual([a.size]);
        expect(Array.from(flat.data)).toEqual(Array.from(a.data));
        const perm = shape.map((_, i) => i);
        for (let i = perm.length - 1, s = permSeed; i > 0; i--, s = Math.floor(s / 7)) {
          const j = s % (i + 1);
          [perm[i], perm[j]] = [perm[j], perm[i]];
        }
        const inverse = perm.map((_, i) => perm.indexOf(i));
        const t = transpose(a, perm);
        expect(t.shape).toEqual(perm.map((p) => shape[p]));
        for (let k = 0; k < t.size; k++) {
          const idx = unravel(k, t.shape);
          const src = new Array(shape.length);
          perm.forEach((p, d) => {
            src[p] = idx[d];
          });
          expect(t.data[k]).toBe(a.data[ravel(src, shape)]);
        }
        expect(Array.from(transpose(t, inverse).data)).toEqual(Array.from(a.data));
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('matmul with misaligned inner dimensions names both shapes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), (m, k, delta) => {
        const a = filled([m, k], [1]);
        const b = filled([k + delta, 2], [1]);
        expect(() => matmul(a, b)).toThrow(`${formatShape(a.shape)} and ${formatShape(b.shape)}`);
      }),
      { numRuns: 50, seed: 8 },
    );
  });
});
