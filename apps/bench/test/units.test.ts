import { describe, expect, it } from 'vitest';
import { batchOrder } from '../src/data';
import { checkMatmul, referenceMatmul } from '../src/matmul-reference';
import { convWeightToHwio, nchwLinearToNhwcKernel, transpose2d } from '../src/models';
import { computeRatios, renderSummary } from '../src/report';
import { median } from '../src/stats';
import type { ContenderReport, Measurement } from '../src/types';

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('matmul check', () => {
  const n = 4;
  const a = Float32Array.from({ length: n * n }, (_, i) => (i % 5) - 2);
  const b = Float32Array.from({ length: n * n }, (_, i) => (i % 3) - 1.5);
  const ref = referenceMatmul(a, b, n);

  it('computes the product and |A|·|B| by hand', () => {
    let c01 = 0;
    let s01 = 0;
    for (let k = 0; k < n; k++) {
      c01 += a[k] * b[k * n + 1];
      s01 += Math.abs(a[k]) * Math.abs(b[k * n + 1]);
    }
    expect(ref.c[1]).toBe(c01);
    expect(ref.scale[1]).toBe(s01);
  });

  it('passes the exact product and fails a wrong or NaN entry', () => {
    expect(checkMatmul(ref.c, ref, n, 'float64')).toMatchObject({ maxRelError: 0, pass: true });
    const wrong = Float64Array.from(ref.c);
    wrong[5] += 1e-3 * (ref.scale[5] || 1);
    expect(checkMatmul(wrong, ref, n, 'float32').pass).toBe(false);
    wrong[5] = Number.NaN;
    expect(checkMatmul(wrong, ref, n, 'float32').pass).toBe(false);
  });
});

describe('weight layouts', () => {
  it('transposes [out, in] to [in, out]', () => {
    expect(Array.from(transpose2d(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('maps a conv weight OIHW to HWIO', () => {
    const [o, i, kh, kw] = [2, 3, 2, 2];
    const w = Float32Array.from({ length: o * i * kh * kw }, (_, k) => k);
    const hwio = convWeightToHwio(w, [o, i, kh, kw]);
    for (let a = 0; a < o; a++)
      for (let c = 0; c < i; c++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++) expect(hwio[((y * kw + x) * i + c) * o + a]).toBe(w[((a * i + c) * kh + y) * kw + x]);
  });

  it('re-orders a Linear over NCHW features for NHWC features: same outputs', () => {
    const [c, h, w, out] = [3, 2, 2, 2];
    const weight = Float32Array.from({ length: out * c * h * w }, (_, k) => (k * 7) % 11);
    const nchw = Float32Array.from({ length: c * h * w }, (_, k) => k + 1);
    const nhwc = new Float32Array(c * h * w);
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) nhwc[p * c + ch] = nchw[ch * h * w + p];
    const kernel = nchwLinearToNhwcKernel(weight, out, c, h, w);
    for (let o = 0; o < out; o++) {
      let ours = 0;
      let theirs = 0;
      for (let k = 0; k < c * h * w; k++) {
        ours += weight[o * c * h * w + k] * nchw[k];
        theirs += kernel[k * out + o] * nhwc[k];
      }
      expect(theirs).toBe(ours);
    }
  });
});

describe('batch order', () => {
  it('is a seeded permutation per epoch, cut into batches with a short last one', () => {
    const epochs = batchOrder(10, 4, 2, 1);
    expect(epochs.map((e) => e.map((b) => b.length))).toEqual([
      [4, 4, 2],
      [4, 4, 2],
    ]);
    for (const e of epochs) {
      expect(e.flatMap((b) => Array.from(b)).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    expect(batchOrder(10, 4, 2, 1)).toEqual(epochs);
  });
});

describe('ratios', () => {
  const m = (contender: Measurement['contender'], value: number, better: 'higher' | 'lower', variant?: string): Measurement => ({
    task: better === 'higher' ? 'mlp' : 'infer',
    case: 'c',
    contender,
    variant,
    metric: better === 'higher' ? 'samples/s' : 'µs',
    better,
    value,
    repeats: [value],
  });
  const report = (contender: Measurement['contender'], measurements: Measurement[]): ContenderReport => ({
    contender,
    available: true,
    description: contender,
    measurements,
    unsupported: [],
    notes: [],
    seconds: 0,
  });

  it('divides our speed by the peer’s: throughput over throughput, the peer’s latency over ours', () => {
    const ratios = computeRatios([
      report('ours', [m('ours', 300, 'higher'), m('ours', 10, 'lower')]),
      report('tfjs-wasm', [m('tfjs-wasm', 100, 'higher', 'loop'), m('tfjs-wasm', 40, 'lower')]),
    ]);
    expect(ratios).toEqual([
      { ours: 'ours', task: 'mlp', case: 'c', peer: 'tfjs-wasm (loop)', ratio: 3 },
      { ours: 'ours', task: 'infer', case: 'c', peer: 'tfjs-wasm', ratio: 4 },
    ]);
  });

  it('sums the ratios up with each peer against ours on the same threads: ours ÷ torch, ours-2t ÷ torch-2t', () => {
    const ratios = computeRatios([
      report('ours', [m('ours', 300, 'higher')]),
      report('ours-2t', [m('ours-2t', 600, 'higher')]),
      report('tfjs-wasm', [m('tfjs-wasm', 200, 'higher', 'loop'), m('tfjs-wasm', 100, 'higher', 'fit')]),
      report('torch', [m('torch', 400, 'higher')]),
      report('torch-2t', [m('torch-2t', 500, 'higher')]),
    ]);
    const lines = renderSummary(ratios).split('\n');
    expect(lines[0]).toBe('| task | case | ours ÷ tfjs-wasm | ours ÷ torch | ours-2t ÷ torch-2t |');
    // tfjs-wasm's loop (not fit) against ours; torch against ours; torch-2t against ours-2t (600 / 500).
    expect(lines[2]).toBe('| mlp  | c    |            1.50× |        0.75× |              1.20× |');
    expect(lines).toHaveLength(3);
  });

  it('gives the two-thread series its own ratios, and never compares ours with ours', () => {
    const ratios = computeRatios([
      report('ours', [m('ours', 300, 'higher')]),
      report('ours-2t', [m('ours-2t', 600, 'higher')]),
      report('tfjs-wasm', [m('tfjs-wasm', 200, 'higher', 'loop')]),
    ]);
    expect(ratios).toEqual([
      { ours: 'ours', task: 'mlp', case: 'c', peer: 'tfjs-wasm (loop)', ratio: 1.5 },
      { ours: 'ours-2t', task: 'mlp', case: 'c', peer: 'tfjs-wasm (loop)', ratio: 3 },
    ]);
  });
});
