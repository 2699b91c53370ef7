import {
  DTypeError,
  type Generator,
  ShapeError,
  TorchGenerator,
  ValueError,
  array,
  manualSeed,
  ones,
  randn,
  zeros,
} from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { Dropout, Identity, Sequential, gradcheck } from '../src/index';
import { type LayerCase, caseLabel, expectBitwiseEqual, loadFixture, toArray } from './helpers';

interface DropoutCase extends LayerCase {
  p: number;
  seed: number;
}

const { cases } = loadFixture<{ cases: DropoutCase[] }>('dropout');

/** A generator that draws the same uniforms on every call, so every forward pass applies one mask. */
function fixedMask(seed: number): Generator {
  return {
    uniform: (out, low, high) => new TorchGenerator(seed).uniform(out, low, high),
    normal: (out, mean, std) => new TorchGenerator(seed).normal(out, mean, std),
    randint: (n) => new TorchGenerator(seed).randint(n),
  };
}

describe('Dropout against torch.nn.Dropout after torch.manual_seed (a torch without MKL), bit for bit', () => {
  it.each(cases.map((c) => [caseLabel({ p: c.p, seed: c.seed, dtype: c.dtype }), c] as const))('%s', (label, c) => {
    const layer = new Dropout(c.p, { rng: new TorchGenerator(c.seed) });
    expectBitwiseEqual(layer.forward(toArray(c.input)), c.output, `${label} output`);
    expectBitwiseEqual(layer.backward(toArray(c.outputGrad)), c.inputGrad, `${label} input grad`);
  });

  it('draws from the global generator by default, as torch', () => {
    const c = cases.find((k) => k.p === 0.5 && k.dtype === 'float32')!;
    const layer = new Dropout(0.5);
    manualSeed(c.seed);
    expectBitwiseEqual(layer.forward(toArray(c.input)), c.output, 'output');
  });
});

describe('Dropout statistics and modes', () => {
  it.each([0.1, 0.5, 0.8])('p = %s: drops a fraction p of 10^5 elements (within 5σ) and scales the rest by 1/(1 − p)', (p) => {
    const n = 100_000;
    const out = new Dropout(p, { rng: new TorchGenerator(11) }).forward(ones([n], { dtype: 'float64' }));
    let dropped = 0;
    let otherValues = 0;
    for (const v of out.data) {
      if (v === 0) dropped++;
      else if (v !== 1 / (1 - p)) otherValues++;
    }
    expect(otherValues).toBe(0);
    const sigma = Math.sqrt((p * (1 - p)) / n);
    expect(Math.abs(dropped / n - p)).toBeLessThan(5 * sigma);
  });

  it('draws the same mask for float32 and float64 inputs, and float32 scales by 1/(1 − p) rounded to float32', () => {
    const a = new Dropout(0.3, { rng: new TorchGenerator(12) }).forward(ones([1000])).data;
    const b = new Dropout(0.3, { rng: new TorchGenerator(12) }).forward(ones([1000], { dtype: 'float64' })).data;
    expect(Array.from(a, (v) => v === 0)).toEqual(Array.from(b, (v) => v === 0));
    expect(a.find((v) => v !== 0)).toBe(Math.fround(1 / Math.fround(0.7)));
    expect(b.find((v) => v !== 0)).toBe(1 / 0.7);
  });

  it('is reproducible from the seed, and draws a fresh mask on every training pass', () => {
    const x = randn([200], { dtype: 'float64', rng: new TorchGenerator(0) });
    const a = new Dropout(0.5, { rng: new TorchGenerator(13) });
    const b = new Dropout(0.5, { rng: new TorchGenerator(13) });
    const first = Array.from(a.forward(x).data);
    expect(Array.from(b.forward(x).data)).toEqual(first);
    expect(Array.from(a.forward(x).data)).not.toEqual(first);
  });

  it('backward applies the mask and scale of the last forward pass', () => {
    const layer = new Dropout(0.25, { rng: new TorchGenerator(14) });
    const out = layer.forward(ones([500], { dtype: 'float64' }));
    const dx = layer.backward(ones([500], { dtype: 'float64' }));
    expect(Array.from(dx.data)).toEqual(Array.from(out.data));
    const g = randn([500], { dtype: 'float64', rng: new TorchGenerator(15) });
    const dg = layer.backward(g);
    for (let i = 0; i < 500; i++) expect(dg.data[i]).toBe(g.data[i] * out.data[i]);
  });

  it('is the identity in eval mode (the same array, nothing drawn), and again active after train()', () => {
    const rng = new TorchGenerator(16);
    const layer = new Dropout(0.5, { rng });
    const x = ones([100], { dtype: 'float64' });
    layer.eval();
    expect(layer.forward(x)).toBe(x);
    const g = randn([100], { dtype: 'float64', rng: new TorchGenerator(1) });
    expect(layer.backward(g)).toBe(g);
    layer.train();
    const out = layer.forward(x);
    expect(out.data.some((v) => v === 0)).toBe(true);
    // Eval drew nothing: the training pass used the generator's first draws.
    expect(Array.from(out.data)).toEqual(Array.from(new Dropout(0.5, { rng: new TorchGenerator(16) }).forward(x).data));
  });

  it('follows train() and eval() of a parent Sequential', () => {
    const dropout = new Dropout(0.5, { rng: new TorchGenerator(17) });
    const model = new Sequential(new Identity(), dropout);
    const x = ones([2, 50], { dtype: 'float64' });
    model.eval();
    expect(dropout.training).toBe(false);
    expect(Array.from(model.forward(x).data)).toEqual(Array.from(x.data));
    model.train();
    expect(dropout.training).toBe(true);
    const out = model.forward(x);
    expect(new Set(out.data)).toEqual(new Set([0, 2]));
    expect(Array.from(model.backward(x).data)).toEqual(Array.from(out.data));
  });

  it('p = 0 is the identity in training too and draws nothing, as torch', () => {
    const rng = new TorchGenerator(18);
    const x = randn([10], { dtype: 'float64', rng: new TorchGenerator(2) });
    const layer = new Dropout(0, { rng });
    expect(layer.forward(x)).toBe(x);
    const next = new Float64Array(4);
    const fresh = new Float64Array(4);
    rng.uniform(next, 0, 1);
    new TorchGenerator(18).uniform(fresh, 0, 1);
    expect(next).toEqual(fresh);
  });

  it('p = 1 multiplies by 0, as torch: zeros (−0 for negative inputs, NaN for non-finite ones)', () => {
    const layer = new Dropout(1);
    const out = layer.forward(array([2, -3, Number.POSITIVE_INFINITY, Number.NaN], { dtype: 'float64' }));
    expect(Array.from(out.data)).toEqual([0, -0, Number.NaN, Number.NaN]);
    expect(Object.is(out.data[1], -0)).toBe(true);
    expect(Array.from(layer.backward(array([1, 1, 1, 1], { dtype: 'float64' })).data)).toEqual([0, 0, 0, 0]);
  });

  it('passes gradcheck with a fixed mask', () => {
    const layer = new Dropout(0.4, { rng: fixedMask(19) });
    const x = randn([3, 4, 5], { dtype: 'float64', rng: new TorchGenerator(3) });
    expect(layer.forward(x).data.some((v) => v === 0)).toBe(true);
    const result = gradcheck(layer, x);
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });

  it('takes any shape, and names itself with p', () => {
    expect(new Dropout().forward(zeros([2, 3, 4, 5])).shape).toEqual([2, 3, 4, 5]);
    expect(new Dropout().forward(zeros([0, 3])).shape).toEqual([0, 3]);
    expect(String(new Dropout())).toBe('Dropout(p=0.5, inplace=False)');
    expect(String(new Dropout(0.1))).toBe('Dropout(p=0.1, inplace=False)');
    expect(new Dropout(0.2).parameters()).toEqual([]);
  });
});

describe('Dropout errors', () => {
  it('rejects p outside [0, 1]', () => {
    expect(() => new Dropout(1.5)).toThrow(ValueError);
    expect(() => new Dropout(1.5)).toThrow(
      'Dropout(1.5): p (the probability of zeroing an element) must be a number in [0, 1], got 1.5',
    );
    expect(() => new Dropout(-0.1)).toThrow(/must be a number in \[0, 1\], got -0.1/);
    expect(() => new Dropout(Number.NaN)).toThrow(/must be a number in \[0, 1\], got NaN/);
    expect(() => new Dropout('0.5' as unknown as number)).toThrow(/must be a number in \[0, 1\], got '0.5'/);
  });

  it('rejects unknown options and an rng that is not a Generator', () => {
    expect(() => new Dropout(0.5, { inplace: true } as object)).toThrow(
      "Dropout(0.5): unknown option 'inplace'; expected one of 'rng'",
    );
    expect(() => new Dropout(0.5, { rng: 42 as unknown as Generator })).toThrow(
      'Dropout(0.5): rng must be a Generator (such as new TorchGenerator(seed)), got 42',
    );
  });

  it('rejects a non-array input, backward before forward and a mismatched gradient', () => {
    const layer = new Dropout();
    expect(() => layer.forward([1, 2] as never)).toThrow('Dropout(0.5): input must be an NDArray, got an array of length 2');
    expect(() => layer.backward(zeros([2]))).toThrow(/^Dropout\(0\.5\): backward\(\) called before forward\(\)/);
    layer.forward(zeros([2, 3]));
    expect(() => layer.backward(zeros([3, 2]))).toThrow(ShapeError);
    expect(() => layer.backward(zeros([3, 2]))).toThrow(
      'Dropout(0.5).backward: outputGrad has shape [3, 2], expected the shape of the last forward output [2, 3]',
    );
    expect(() => layer.backward(zeros([2, 3], { dtype: 'float64' }))).toThrow(DTypeError);
  });
});
