import {
  concat,
  DTypeError,
  NDArray,
  randn,
  ShapeError,
  Slot,
  setBackend,
  slice,
  TorchGenerator,
  ValueError,
  zeros,
} from '@backprop/ndarray';
import { assertBitwiseEqual, countTypedArrays, createBoxedBackend } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import { type Differentiable, gradcheck } from '../src/gradcheck';
import { Linear } from '../src/linear';
import { GRU, LSTM, type LSTMState, type RecurrentOptions, RNN } from '../src/rnn';
import { Sequential } from '../src/sequential';
import { caseLabel, expectBitwiseEqual, expectClose, expectParamGrads, type FixtureTensor, loadFixture, toArray } from './helpers';

type Kind = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';
type AnyRecurrent = RNN | LSTM | GRU;

interface RecurrentCase {
  name: string;
  kind: Kind;
  dtype: 'float32' | 'float64';
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bias: boolean;
  batchFirst: boolean;
  dropout: number;
  bidirectional: boolean;
  training: boolean;
  seed: number;
  input: FixtureTensor;
  params: Record<string, FixtureTensor>;
  output: FixtureTensor;
  outputGrad: FixtureTensor;
  hn: FixtureTensor;
  cn?: FixtureTensor;
  hnGrad?: FixtureTensor;
  cnGrad?: FixtureTensor;
  h0?: FixtureTensor;
  c0?: FixtureTensor;
  h0Grad?: FixtureTensor;
  c0Grad?: FixtureTensor;
  inputGrad: FixtureTensor;
  paramGrads: Record<string, FixtureTensor>;
}

interface ReprCase {
  kind: Kind;
  inputSize: number;
  hiddenSize: number;
  options: { num_layers?: number; bias?: boolean; batch_first?: boolean; dropout?: number; bidirectional?: boolean };
  repr: string;
  keys: string[];
}

const { cases, reprs } = loadFixture<{ cases: RecurrentCase[]; reprs: ReprCase[] }>('recurrent');

function create(kind: Kind, inputSize: number, hiddenSize: number, options: RecurrentOptions): AnyRecurrent {
  switch (kind) {
    case 'RNN_TANH':
      return new RNN(inputSize, hiddenSize, options);
    case 'RNN_RELU':
      return new RNN(inputSize, hiddenSize, { ...options, nonlinearity: 'relu' });
    case 'LSTM':
      return new LSTM(inputSize, hiddenSize, options);
    default:
      return new GRU(inputSize, hiddenSize, options);
  }
}

/** The case's layer, built from torch's seed: its parameters are the initialisation, its generator then draws the dropout masks. */
function fromCase(c: RecurrentCase): AnyRecurrent {
  return create(c.kind, c.inputSize, c.hiddenSize, {
    numLayers: c.numLayers,
    bias: c.bias,
    batchFirst: c.batchFirst,
    dropout: c.dropout,
    bidirectional: c.bidirectional,
    dtype: c.dtype,
    rng: new TorchGenerator(c.seed),
  });
}

/** forward with the layer's kind of hx. */
function run(layer: AnyRecurrent, x: NDArray, h0?: NDArray, c0?: NDArray): NDArray {
  if (layer instanceof LSTM) return layer.forward(x, h0 === undefined ? {} : { hx: { h: h0, c: c0! } });
  return (layer as RNN).forward(x, h0 === undefined ? {} : { hx: h0 });
}

const label = (c: RecurrentCase): string => caseLabel({ case: c.name, kind: c.kind, dtype: c.dtype });

describe('recurrent layers against torch.nn.RNN / LSTM / GRU', () => {
  it.each(cases.map((c) => [label(c), c] as const))('%s', (name, c) => {
    const layer = fromCase(c);
    const out = run(layer, toArray(c.input), c.h0 && toArray(c.h0), c.c0 && toArray(c.c0));
    expectClose(out, c.output, `${name} output`);
    expectClose(layer.finalState!.h, c.hn, `${name} h_n`);
    if (c.cn) expectClose(layer.finalState!.c!, c.cn, `${name} c_n`);
    else expect(layer.finalState!.c).toBeUndefined();
    const finalStateGrad = { h: c.hnGrad && toArray(c.hnGrad), c: c.cnGrad && toArray(c.cnGrad) };
    const dx = layer.backward(toArray(c.outputGrad), { finalStateGrad: c.kind === 'LSTM' ? finalStateGrad : { h: finalStateGrad.h } });
    expectClose(dx!, c.inputGrad, `${name} input grad`);
    expectParamGrads(layer, c.paramGrads, name);
    if (c.h0) {
      expectClose(layer.initialStateGrad!.h, c.h0Grad!, `${name} h0 grad`);
      if (c.c0) expectClose(layer.initialStateGrad!.c!, c.c0Grad!, `${name} c0 grad`);
    } else {
      expect(layer.initialStateGrad).toBeUndefined();
    }
  });
});

describe('recurrent initialisation', () => {
  it.each(cases.map((c) => [label(c), c] as const))('%s: equals torch.manual_seed(s) bit for bit, in state-dict order', (name, c) => {
    const state = fromCase(c).stateDict();
    expect(Object.keys(state)).toEqual(Object.keys(c.params));
    for (const [key, value] of Object.entries(c.params)) expectBitwiseEqual(state[key], value, `${name} ${key}`);
  });

  it('draws every weight from U(-1/sqrt(H), 1/sqrt(H))', () => {
    const layer = new GRU(5, 16, { numLayers: 2, bidirectional: true, rng: new TorchGenerator(3) });
    for (const p of layer.parameters()) {
      expect(p.value.data.every((v) => Math.abs(v) <= 0.25)).toBe(true);
      expect(p.value.data.some((v) => Math.abs(v) > 0.2)).toBe(true);
    }
  });
});

describe('recurrent printing and state dict', () => {
  it.each(reprs.map((r) => [r.repr, r] as const))('%s', (repr, r) => {
    const layer = create(r.kind, r.inputSize, r.hiddenSize, {
      numLayers: r.options.num_layers,
      bias: r.options.bias,
      batchFirst: r.options.batch_first,
      dropout: r.options.dropout,
      bidirectional: r.options.bidirectional,
      dtype: 'float64',
    });
    expect(String(layer)).toBe(repr);
    expect(Object.keys(layer.stateDict())).toEqual(r.keys);
  });

  it('names the parameters of a child as torch (0.weight_ih_l0 in a Sequential)', () => {
    const model = new Sequential(new LSTM(3, 4, { rng: new TorchGenerator(0) }), new Linear(4, 2));
    expect(Object.keys(model.stateDict())).toEqual([
      '0.weight_ih_l0',
      '0.weight_hh_l0',
      '0.bias_ih_l0',
      '0.bias_hh_l0',
      '1.weight',
      '1.bias',
    ]);
  });
});

// ---- Finite differences ----------------------------------------------------

const rng = (seed: number) => new TorchGenerator(seed);
const f64 = (shape: number[], seed: number) => randn(shape, { dtype: 'float64', rng: rng(seed) });

const GRADCHECK_CONFIGS: [string, Kind, RecurrentOptions][] = [
  ['RNN tanh, 2 layers, bidirectional', 'RNN_TANH', { numLayers: 2, bidirectional: true }],
  ['RNN relu, batchFirst', 'RNN_RELU', { batchFirst: true }],
  ['LSTM, 2 layers, bidirectional, batchFirst', 'LSTM', { numLayers: 2, bidirectional: true, batchFirst: true }],
  ['LSTM, no bias', 'LSTM', { bias: false }],
  ['GRU, 2 layers, bidirectional', 'GRU', { numLayers: 2, bidirectional: true }],
  ['GRU, batchFirst', 'GRU', { batchFirst: true }],
];

function inputShape(options: RecurrentOptions): number[] {
  return options.batchFirst ? [2, 4, 3] : [4, 2, 3];
}

function expectGradcheck(layer: Differentiable, input: NDArray, checked: number): void {
  const result = gradcheck(layer, input);
  if (process.env.REPORT_ERRORS) console.log(`GRADCHECK ${result.maxRelError.toExponential(2)} ${result.checked} entries`);
  expect(result.ok, JSON.stringify(result)).toBe(true);
  expect(result.checked).toBe(checked);
}

const parameterCount = (layer: AnyRecurrent): number => layer.parameters().reduce((n, p) => n + p.value.size, 0);

describe('recurrent gradcheck (float64 finite differences)', () => {
  it.each(GRADCHECK_CONFIGS)('%s: input and every parameter', (_, kind, options) => {
    const layer = create(kind, 3, 3, { ...options, dtype: 'float64', rng: rng(1) });
    const x = f64(inputShape(options), 2);
    expectGradcheck(layer, x, x.size + parameterCount(layer));
  });

  it.each(GRADCHECK_CONFIGS)('%s: with an initial state, input and parameters', (_, kind, options) => {
    const layer = create(kind, 3, 3, { ...options, dtype: 'float64', rng: rng(3) });
    const D = options.bidirectional ? 2 : 1;
    const h0 = f64([D * (options.numLayers ?? 1), 2, 3], 4);
    const c0 = f64([D * (options.numLayers ?? 1), 2, 3], 5);
    const wrapped: Differentiable = {
      forward: (x) => run(layer, x, h0, c0),
      backward: (g) => layer.backward(g),
      parameters: () => layer.parameters(),
    };
    const x = f64(inputShape(options), 6);
    expectGradcheck(wrapped, x, x.size + parameterCount(layer));
  });

  it.each(GRADCHECK_CONFIGS)('%s: the initial state h0 (and c0)', (_, kind, options) => {
    const layer = create(kind, 3, 3, { ...options, dtype: 'float64', rng: rng(7) });
    const D = options.bidirectional ? 2 : 1;
    const stateShape = [D * (options.numLayers ?? 1), 2, 3];
    const x = f64(inputShape(options), 8);
    const c0 = f64(stateShape, 9);
    const h0 = f64(stateShape, 10);
    const throughH: Differentiable = {
      forward: (h) => run(layer, x, h, c0),
      backward: (g) => {
        layer.backward(g, { inputGrad: false });
        return layer.initialStateGrad!.h;
      },
    };
    expectGradcheck(throughH, h0, h0.size);
    if (kind === 'LSTM') {
      const throughC: Differentiable = {
        forward: (c) => run(layer, x, h0, c),
        backward: (g) => {
          layer.backward(g);
          return layer.initialStateGrad!.c!;
        },
      };
      expectGradcheck(throughC, c0, c0.size);
    }
  });

  it.each(GRADCHECK_CONFIGS)('%s: a loss on the output and on the final state (finalStateGrad)', (_, kind, options) => {
    const layer = create(kind, 3, 3, { ...options, dtype: 'float64', rng: rng(11) });
    // The output, h_n and c_n side by side, as one flat array.
    let sizes: number[] = [];
    const both: Differentiable = {
      forward: (x) => {
        const out = layer.forward(x);
        const parts = [out, layer.finalState!.h, ...(layer.finalState!.c ? [layer.finalState!.c] : [])];
        sizes = parts.map((p) => p.size);
        return concat(parts.map((p) => p.reshape([p.size])));
      },
      backward: (g) => {
        const out = slice(g, 0, sizes[0]);
        const h = slice(g, sizes[0], sizes[0] + sizes[1]);
        const state = layer.finalState!;
        const finalStateGrad = { h: h.reshape(state.h.shape), c: undefined as NDArray | undefined };
        if (state.c) finalStateGrad.c = slice(g, sizes[0] + sizes[1]).reshape(state.c.shape);
        const outShape = options.batchFirst ? [2, 4, 3 * (options.bidirectional ? 2 : 1)] : [4, 2, 3 * (options.bidirectional ? 2 : 1)];
        return layer.backward(out.reshape(outShape), { finalStateGrad })!;
      },
      parameters: () => layer.parameters(),
    };
    const x = f64(inputShape(options), 12);
    expectGradcheck(both, x, x.size + parameterCount(layer));
  });

  it('an unbatched LSTM input [L, H_in] with an initial state', () => {
    const layer = new LSTM(3, 2, { numLayers: 2, bidirectional: true, dtype: 'float64', rng: rng(13) });
    const h0 = f64([4, 2], 14);
    const c0 = f64([4, 2], 15);
    const wrapped: Differentiable = {
      forward: (x) => layer.forward(x, { hx: { h: h0, c: c0 } }),
      backward: (g) => layer.backward(g),
      parameters: () => layer.parameters(),
    };
    const x = f64([5, 3], 16);
    expectGradcheck(wrapped, x, x.size + parameterCount(layer));
  });

  it('a dropout mask in training mode (held fixed: the generator is reseeded before each pass)', () => {
    const seeded = new TorchGenerator(17);
    const layer = new GRU(3, 3, { numLayers: 2, dropout: 0.4, dtype: 'float64', rng: seeded });
    const wrapped: Differentiable = {
      forward: (x) => {
        seeded.manualSeed(99);
        return layer.forward(x);
      },
      backward: (g) => layer.backward(g),
      parameters: () => layer.parameters(),
    };
    const x = f64([4, 2, 3], 18);
    expectGradcheck(wrapped, x, x.size + parameterCount(layer));
  });
});

// ---- Behaviour ---------------------------------------------------------------

describe('recurrent behaviour', () => {
  it('eval() or dropout 0 gives exactly the result without dropout; training with dropout differs', () => {
    const x = f64([4, 2, 3], 20);
    const plain = new LSTM(3, 4, { numLayers: 2, dtype: 'float64', rng: rng(21) });
    const dropped = new LSTM(3, 4, { numLayers: 2, dropout: 0.5, dtype: 'float64', rng: rng(21) });
    const reference = plain.forward(x);
    const training = dropped.forward(x);
    expect(Array.from(training.data)).not.toEqual(Array.from(reference.data));
    dropped.eval();
    expect(Array.from(dropped.forward(x).data)).toEqual(Array.from(reference.data));
  });

  it('works inside Sequential and returns the input gradient', () => {
    const model = new Sequential(new GRU(3, 4, { rng: rng(22) }), new Linear(4, 2, { rng: rng(23) }));
    const x = randn([5, 2, 3], { rng: rng(24) });
    const y = model.forward(x);
    expect(y.shape).toEqual([5, 2, 2]);
    const dx = model.backward(zeros([5, 2, 2]).fill(1));
    expect(dx.shape).toEqual([5, 2, 3]);
    expect(model.parameters().every((p) => p.grad.data.some((v) => v !== 0))).toBe(true);
  });

  it('adds into the gradients on every backward, and skips the input gradient on request', () => {
    const layer = new RNN(3, 4, { numLayers: 2, dtype: 'float64', rng: rng(25) });
    const x = f64([3, 2, 3], 26);
    const g = f64([3, 2, 4], 27);
    layer.forward(x);
    layer.backward(g);
    const once = layer.parameters().map((p) => p.grad.clone());
    expect(layer.backward(g, { inputGrad: false })).toBeUndefined();
    layer.parameters().forEach((p, i) => {
      expectClose(p.grad, new NDArray(once[i].data.map((v) => 2 * v), once[i].shape), `${p.name} after two backwards`);
    });
  });

  it('returns final states [D*numLayers, N, H], and unbatched [D*numLayers, H]', () => {
    const layer = new LSTM(3, 4, { numLayers: 3, bidirectional: true, batchFirst: true, rng: rng(28) });
    expect(layer.forward(randn([2, 5, 3], { rng: rng(29) })).shape).toEqual([2, 5, 8]);
    expect(layer.finalState!.h.shape).toEqual([6, 2, 4]);
    expect(layer.finalState!.c!.shape).toEqual([6, 2, 4]);
    expect(layer.forward(randn([5, 3], { rng: rng(30) })).shape).toEqual([5, 8]);
    expect(layer.finalState!.h.shape).toEqual([6, 4]);
  });
});

describe('recurrent input checks', () => {
  const lstm = () => new LSTM(3, 4, { numLayers: 2, rng: rng(31) });

  it('rejects a wrong input size or rank, naming the expected shape', () => {
    expect(() => lstm().forward(zeros([5, 2, 4]))).toThrow(ShapeError);
    expect(() => lstm().forward(zeros([5, 2, 4]))).toThrow(/expected an input of shape \[L, N, 3\].*got \[5, 2, 4\]/);
    expect(() => lstm().forward(zeros([5, 2, 1, 3]))).toThrow(/got \[5, 2, 1, 3\]/);
    expect(() => lstm().forward(zeros([3]))).toThrow(ShapeError);
    expect(() => lstm().forward(zeros([0, 2, 3]))).toThrow(/at least one step/);
  });

  it('rejects a wrong dtype', () => {
    expect(() => lstm().forward(zeros([5, 2, 3], { dtype: 'float64' }))).toThrow(DTypeError);
  });

  it('rejects an initial state of the wrong shape or kind', () => {
    const x = zeros([5, 2, 3]);
    expect(() => lstm().forward(x, { hx: { h: zeros([2, 2, 4]), c: zeros([1, 2, 4]) } })).toThrow(
      /hx\.c has shape \[1, 2, 4\], expected \[2, 2, 4\]/,
    );
    expect(() => lstm().forward(x, { hx: zeros([2, 2, 4]) as unknown as LSTMState })).toThrow(/hx must be \{ h, c \}/);
    expect(() => new GRU(3, 4).forward(x, { hx: zeros([1, 3, 4]) })).toThrow(/hx has shape \[1, 3, 4\], expected \[1, 2, 4\]/);
    expect(() => new RNN(3, 4).forward(x, { hx: null as unknown as NDArray })).toThrow(ValueError);
  });

  it('rejects bad options', () => {
    expect(() => new LSTM(3, 4, { projSize: 2 })).toThrow(/projSize 2 is not supported/);
    expect(() => new GRU(3, 4, { numLayer: 2 } as RecurrentOptions)).toThrow(/numLayer/);
    expect(() => new RNN(3, 4, { nonlinearity: 'sigmoid' as 'tanh' })).toThrow(/nonlinearity/);
    expect(() => new RNN(3, 4, { dropout: 1.5 })).toThrow(/dropout.*<= 1, got 1.5/);
    expect(() => new LSTM(3, 0)).toThrow(/hiddenSize must be an integer >= 1, got 0/);
    expect(() => new GRU(3, 4, { numLayers: null as unknown as number })).toThrow(/numLayers/);
    expect(() => new GRU(3, 4).forward(zeros([5, 2, 3]), { h0: zeros([1, 2, 4]) } as object)).toThrow(/h0/);
  });

  it('rejects backward before forward, and a wrong output or final-state gradient', () => {
    expect(() => lstm().backward(zeros([5, 2, 4]))).toThrow(/before forward/);
    const layer = lstm();
    layer.forward(zeros([5, 2, 3]));
    expect(() => layer.backward(zeros([5, 2, 3]))).toThrow(/outputGrad has shape \[5, 2, 3\]/);
    expect(() => layer.backward(zeros([5, 2, 4]), { finalStateGrad: { h: zeros([2, 4]) } })).toThrow(
      /finalStateGrad\.h has shape \[2, 4\], expected the final state's shape \[2, 2, 4\]/,
    );
    const gru = new GRU(3, 4);
    gru.forward(zeros([5, 2, 3]));
    expect(() => gru.backward(zeros([5, 2, 4]), { finalStateGrad: { c: zeros([1, 2, 4]) } })).toThrow(/GRU has none/);
  });
});

// ---- Reuse of arrays, and backends whose arrays live off the host -----------

/** Layers whose every part runs: two layers, both directions, dropout, batchFirst, no bias. */
const REUSE_CONFIGS: [string, Kind, RecurrentOptions][] = [
  ['RNN relu, 2 layers, bidirectional, dropout', 'RNN_RELU', { numLayers: 2, bidirectional: true, dropout: 0.3 }],
  ['LSTM, 2 layers, bidirectional, batchFirst, dropout', 'LSTM', { numLayers: 2, bidirectional: true, batchFirst: true, dropout: 0.3 }],
  ['GRU, 2 layers, no bias', 'GRU', { numLayers: 2, bias: false }],
];

interface PassData {
  x: NDArray;
  h0: NDArray;
  c0: NDArray;
  outputGrad: NDArray;
  hnGrad: NDArray;
  cnGrad: NDArray;
}

/** A training pass's data: a batch of `batch` sequences of 4 steps, h0 and c0, dLoss/dOutput, dLoss/dh_n and dc_n. */
function passData(options: RecurrentOptions, batch: number, dtype: 'float32' | 'float64', seed: number): PassData {
  const data = rng(seed);
  const D = options.bidirectional ? 2 : 1;
  const stateShape = [D * (options.numLayers ?? 1), batch, 5];
  const draw = (shape: number[]) => randn(shape, { dtype, rng: data });
  const sequence = (features: number) => draw(options.batchFirst ? [batch, 4, features] : [4, batch, features]);
  return { x: sequence(3), h0: draw(stateShape), c0: draw(stateShape), outputGrad: sequence(5 * D), hnGrad: draw(stateShape), cnGrad: draw(stateShape) };
}

/** forward from (h0, c0) and backward with dLoss/dh_n (and dc_n), into the slots when given. */
function trainingPass(layer: AnyRecurrent, d: PassData, slots?: { out: Slot; dx: Slot }): { out: NDArray; dx: NDArray } {
  const lstm = layer instanceof LSTM;
  const out = lstm
    ? layer.forward(d.x, { hx: { h: d.h0, c: d.c0 }, into: slots?.out })
    : (layer as RNN).forward(d.x, { hx: d.h0, into: slots?.out });
  const dx = layer.backward(d.outputGrad, { finalStateGrad: lstm ? { h: d.hnGrad, c: d.cnGrad } : { h: d.hnGrad }, into: slots?.dx });
  return { out, dx: dx! };
}

/** Every array a pass hands out: output, input gradient, final state, initial-state gradient, then the parameter gradients. */
function results(layer: AnyRecurrent, pass: { out: NDArray; dx: NDArray }): [string, NDArray][] {
  const { h, c } = layer.finalState!;
  const dState = layer.initialStateGrad!;
  const handedOut: [string, NDArray | undefined][] = [
    ['output', pass.out],
    ['input gradient', pass.dx],
    ['h_n', h],
    ['c_n', c],
    ['h0 gradient', dState.h],
    ['c0 gradient', dState.c],
  ];
  return [
    ...(handedOut.filter(([, a]) => a !== undefined) as [string, NDArray][]),
    ...layer.namedParameters().map(([name, p]) => [`${name}.grad`, p.grad] as [string, NDArray]),
  ];
}

describe('recurrent layers reuse their own arrays', () => {
  it.each(REUSE_CONFIGS)('%s: a pass gives the same bits after passes of other sizes, and leaves what earlier passes handed out alone', (_, kind, options) => {
    const masks = rng(0);
    const build = () => create(kind, 3, 5, { ...options, dtype: 'float64', rng: masks });
    const d = passData(options, 3, 'float64', 41);
    masks.manualSeed(40);
    const fresh = build();
    masks.manualSeed(7);
    const expected = results(fresh, trainingPass(fresh, d));

    masks.manualSeed(40);
    const layer = build();
    masks.manualSeed(7);
    const first = results(layer, trainingPass(layer, d)).slice(0, -layer.parameters().length);
    const firstCopies = first.map(([, a]) => a.clone());
    for (const [batch, seed] of [[5, 42], [1, 43], [3, 44]]) {
      trainingPass(layer, passData(options, batch, 'float64', seed));
    }
    first.forEach(([name, a], i) => {
      assertBitwiseEqual(a, firstCopies[i], `first pass ${name}, after three more passes`);
    });

    layer.zeroGrad();
    masks.manualSeed(7);
    const again = results(layer, trainingPass(layer, d));
    expect(again.map(([name]) => name)).toEqual(expected.map(([name]) => name));
    again.forEach(([name, a], i) => {
      expect(a.shape, name).toEqual(expected[i][1].shape);
      assertBitwiseEqual(a, expected[i][1], `${name}, after passes of other sizes`);
    });
  });

  it.each(REUSE_CONFIGS)("%s: writes into the caller's slots, and a steady training step allocates nothing", (_, kind, options) => {
    const layer = create(kind, 3, 5, { ...options, rng: rng(45) });
    const slots = { out: new Slot(), dx: new Slot() };
    const large = passData(options, 6, 'float32', 46);
    const small = passData(options, 2, 'float32', 47);
    const step = (d: PassData) => {
      const result = trainingPass(layer, d, slots);
      layer.zeroGrad();
      return result;
    };
    // Warm-up at both sizes: every slot reaches its largest size.
    step(large);
    step(small);
    let last: { out: NDArray; dx: NDArray } | undefined;
    const counts = countTypedArrays(() => {
      step(large);
      step(small);
      last = step(large);
    });
    expect(counts.owning, 'typed arrays allocated by three steady steps').toBe(0);
    expect(slots.out.holds(last!.out), "the output is in the caller's slot").toBe(true);
    expect(slots.dx.holds(last!.dx), "the input gradient is in the caller's slot").toBe(true);
    expect(last!.out.shape).toEqual(large.outputGrad.shape);
  });

  it('builds finalState once per pass and initialStateGrad once per backward, as new arrays', () => {
    const layer = new LSTM(3, 5, { numLayers: 2, dtype: 'float64', rng: rng(47) });
    expect(layer.finalState).toBeUndefined();
    const x = f64([4, 2, 3], 48);
    layer.forward(x, { hx: { h: f64([2, 2, 5], 49), c: f64([2, 2, 5], 50) } });
    const state = layer.finalState!;
    expect(layer.finalState).toBe(state);
    expect(layer.initialStateGrad, 'before backward').toBeUndefined();
    layer.backward(f64([4, 2, 5], 51));
    const dState = layer.initialStateGrad!;
    expect(layer.initialStateGrad).toBe(dState);
    const copies = [state.h, state.c!, dState.h, dState.c!].map((a) => a.clone());
    // The final state fed back as the next initial state (truncated backpropagation through time).
    layer.forward(x, { hx: { h: state.h, c: state.c! } });
    expect(layer.finalState).not.toBe(state);
    expect(Array.from(layer.finalState!.h.data)).not.toEqual(Array.from(copies[0].data));
    expect(layer.initialStateGrad, 'after the next forward').toBeUndefined();
    layer.backward(f64([4, 2, 5], 52));
    expect(layer.initialStateGrad).not.toBe(dState);
    [state.h, state.c!, dState.h, dState.c!].forEach((a, i) => {
      assertBitwiseEqual(a, copies[i], `earlier state ${i}`);
    });
  });
});

describe('recurrent layers on a backend whose arrays live off the host', () => {
  it.each(REUSE_CONFIGS)('%s: the same bits as on the host, reading nothing back', (_, kind, options) => {
    const run = () => {
      const masks = rng(53);
      const layer = create(kind, 3, 5, { ...options, dtype: 'float64', rng: masks });
      trainingPass(layer, passData(options, 3, 'float64', 54));
      masks.manualSeed(10);
      const pass = trainingPass(layer, passData(options, 2, 'float64', 55)); // a second pass, of another size, on the same slots
      return { layer, pass };
    };
    const boxed = createBoxedBackend('boxed-recurrent');
    const previous = setBackend(boxed);
    let onDevice: [string, number[]][];
    try {
      const { layer, pass } = run();
      const handedOut = results(layer, pass); // finalState and initialStateGrad built on the device too
      expect(boxed.readBacks, 'arrays read back to the host').toBe(0);
      onDevice = handedOut.map(([name, a]) => [name, Array.from(a.data)]);
    } finally {
      setBackend(previous);
    }
    const { layer, pass } = run();
    const onHost = results(layer, pass);
    expect(onDevice.map(([name]) => name)).toEqual(onHost.map(([name]) => name));
    onHost.forEach(([name, a], i) => {
      assertBitwiseEqual(onDevice[i][1], a, `${name} on the device`);
    });
  });
});
