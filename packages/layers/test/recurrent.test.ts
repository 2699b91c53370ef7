import {
  concat,
  DTypeError,
  NDArray,
  randn,
  ShapeError,
  slice,
  TorchGenerator,
  ValueError,
  zeros,
} from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { type Differentiable, gradcheck } from '../src/gradcheck';
import { Linear } from '../src/linear';
import { GRU, LSTM, type LSTMState, type RecurrentOptions, RNN } from '../src/rnn';
import { Sequential } from '../src/sequential';
import { caseLabel, expectBitwiseEqual, expectClose, type FixtureTensor, loadFixture, toArray } from './helpers';

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
    const named = Object.fromEntries(layer.namedParameters());
    expect(Object.keys(named)).toEqual(Object.keys(c.paramGrads));
    for (const [key, grad] of Object.entries(c.paramGrads)) expectClose(named[key].grad, grad, `${name} ${key} grad`);
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
