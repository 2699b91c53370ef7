import { type DType, NDArray, Parameter, array, decodeSafetensors, encodeSafetensors } from '@backprop/ndarray';
import { describe, expect, test } from 'vitest';
import { Adagrad, Adam, AdamW, type AnyOptimizer, RMSprop, SGD } from '../src/index';

function param(values: number[], dtype: DType = 'float64', name = 'p'): Parameter {
  return new Parameter(array(values, { dtype }), name);
}

/** A deterministic gradient for step `k` of parameter `i`. */
function gradFor(k: number, i: number, size: number): number[] {
  return Array.from({ length: size }, (_, j) => Math.sin(1.3 * k + 0.7 * i + 0.31 * j + 0.1) * (1 + (k % 3)));
}

function train(opt: AnyOptimizer, params: Parameter[], from: number, to: number): void {
  for (let k = from; k < to; k++) {
    params.forEach((p, i) => {
      p.grad.data.set(gradFor(k, i, p.size));
    });
    opt.step();
  }
}

describe('zeroGrad', () => {
  test('zeroes every gradient in every group', () => {
    const a = param([1, 2]);
    const b = param([3]);
    a.grad.data.set([5, 6]);
    b.grad.data.set([7]);
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
    opt.zeroGrad();
    expect(Array.from(a.grad.data)).toEqual([0, 0]);
    expect(Array.from(b.grad.data)).toEqual([0]);
  });
});

describe('hand-derived updates', () => {
  test('SGD: θ − lr·g, and momentum starts from a copy of g', () => {
    const p = param([1, -2]);
    const opt = new SGD([p], { lr: 0.5, momentum: 0.9, dampening: 0.5 });
    p.grad.data.set([0.5, 1]);
    opt.step();
    // b = g (no dampening on the first step)
    expect(Array.from(p.value.data)).toEqual([0.75, -2.5]);
    expect(Array.from(opt.state.get(p)!.momentumBuffer!.data)).toEqual([0.5, 1]);
    opt.step();
    // b = 0.9·b + 0.5·g = [0.7, 1.4]
    expect(Array.from(opt.state.get(p)!.momentumBuffer!.data)).toEqual([0.9 * 0.5 + 0.5 * 0.5, 0.9 + 0.5]);
  });

  test("Adam's first step moves each weight by about lr, against the gradient's sign", () => {
    const p = param([1, 1, 1]);
    const opt = new Adam([p], { lr: 0.01 });
    p.grad.data.set([3, -0.2, 1e-3]);
    opt.step();
    // m̂ = g, v̂ = g², so the step is lr·g/(|g| + eps)
    const expected = [1 - 0.01 * (3 / (3 + 1e-8)), 1 + 0.01 * (0.2 / (0.2 + 1e-8)), 1 - 0.01 * (1e-3 / (1e-3 + 1e-8))];
    Array.from(p.value.data).forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i], 14);
    });
    expect(opt.state.get(p)!.step).toBe(1);
  });

  test('AdamW decays with the current lr even when the gradient is zero', () => {
    const p = param([2]);
    const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.5 });
    opt.step();
    expect(p.value.data[0]).toBe(2 * (1 - 0.1 * 0.5));
    opt.lr = 0.2;
    opt.step();
    expect(p.value.data[0]).toBe(2 * (1 - 0.1 * 0.5) * (1 - 0.2 * 0.5));
  });

  test('Adagrad creates its state at construction, with the sum at initialAccumulatorValue', () => {
    const p = param([1, 2], 'float32');
    const opt = new Adagrad([p], { initialAccumulatorValue: 0.25 });
    const state = opt.state.get(p)!;
    expect(state.step).toBe(0);
    expect(state.sum.dtype).toBe('float32');
    expect(Array.from(state.sum.data)).toEqual([0.25, 0.25]);
  });

  test('RMSprop: θ − lr·g/(√v + eps) with v = (1 − α)·g²', () => {
    const p = param([1]);
    const opt = new RMSprop([p], { lr: 0.1, alpha: 0.75, eps: 0 });
    p.grad.data.set([2]);
    opt.step();
    expect(p.value.data[0]).toBe(1 - (0.1 * 2) / Math.sqrt(0.25 * 4));
  });

  test('buffers take the dtype of their parameter', () => {
    const p = param([1, 2, 3], 'float32');
    const opt = new Adam([p], { amsgrad: true });
    opt.step();
    const state = opt.state.get(p)!;
    for (const buffer of [state.expAvg, state.expAvgSq, state.maxExpAvgSq!]) {
      expect(buffer.dtype).toBe('float32');
      expect(buffer.shape).toEqual([3]);
    }
  });
});

describe('lr', () => {
  test('reads and sets the learning rate of every group; step uses the new one', () => {
    const p = param([1]);
    const opt = new SGD([p], { lr: 0.1 });
    expect(opt.lr).toBe(0.1);
    p.grad.data.set([0.5]);
    opt.step();
    expect(p.value.data[0]).toBe(0.95);
    opt.lr = 0.2;
    expect(opt.lr).toBe(0.2);
    expect(opt.paramGroups[0].lr).toBe(0.2);
    opt.step();
    expect(p.value.data[0]).toBe(0.85);
  });

  test('with groups of different rates, reading lr names the groups and setting it sets all', () => {
    const opt = new SGD([{ params: [param([1])], lr: 0.1 }, { params: [param([2])] }], { lr: 0.01 });
    expect(() => opt.lr).toThrow(/SGD\.lr: the 2 param groups have different learning rates \(0\.1, 0\.01\)/);
    opt.lr = 0.3;
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.3, 0.3]);
    expect(opt.lr).toBe(0.3);
  });

  test('a group lr set to something invalid by hand is caught at the next step', () => {
    const opt = new SGD([param([1])], { lr: 0.1 });
    opt.paramGroups[0].lr = -1;
    expect(() => opt.step()).toThrow(/SGD\.step: paramGroups\[0\]\.lr must be a number >= 0, got -1/);
  });
});

describe('parameters and groups', () => {
  test('takes any iterable of parameters', () => {
    const a = param([1]);
    const b = param([2]);
    function* gen() {
      yield a;
      yield b;
    }
    expect(new SGD(gen(), { lr: 0.1 }).params).toEqual([a, b]);
    expect(new Adam(new Set([a, b])).params).toEqual([a, b]);
  });

  test('groups take their own options and the defaults for the rest', () => {
    const a = param([1]);
    const b = param([2]);
    const opt = new Adam([{ params: [a], lr: 0.1, amsgrad: true }, { params: b }], { weightDecay: 0.01 });
    expect(opt.paramGroups[0]).toMatchObject({ lr: 0.1, amsgrad: true, weightDecay: 0.01, betas: [0.9, 0.999] });
    expect(opt.paramGroups[1]).toMatchObject({ lr: 1e-3, amsgrad: false, weightDecay: 0.01 });
    expect(opt.paramGroups[1].params).toEqual([b]);
    expect(opt.defaults).toMatchObject({ lr: 1e-3, weightDecay: 0.01 });
  });

  test('SGD groups may each give lr instead of the optimizer', () => {
    const opt = new SGD([{ params: [param([1])], lr: 0.1 }]);
    expect(opt.lr).toBe(0.1);
  });

  test('addParamGroup adds a group later; its parameters train from then on', () => {
    const a = param([1]);
    const b = param([1]);
    const opt = new SGD([a], { lr: 0.1 });
    a.grad.data.set([1]);
    b.grad.data.set([1]);
    opt.step();
    opt.addParamGroup({ params: [b], lr: 0.5 });
    opt.step();
    expect(a.value.data[0]).toBeCloseTo(0.8, 15);
    expect(b.value.data[0]).toBe(0.5);
    expect(() => opt.addParamGroup({ params: [a] })).toThrow(/appears more than once/);
  });

  test('step runs the closure first and returns its value; stepCount counts steps', () => {
    const p = param([1]);
    const opt = new SGD([p], { lr: 0.1 });
    let calls = 0;
    const loss = opt.step(() => {
      calls++;
      p.grad.data.set([1]);
      return 42;
    });
    expect(loss).toBe(42);
    expect(calls).toBe(1);
    expect(p.value.data[0]).toBe(0.9);
    expect(opt.step()).toBeUndefined();
    expect(opt.stepCount).toBe(2);
  });
});

type Make = (params: Parameter[]) => AnyOptimizer;
const MAKERS: [string, Make][] = [
  ['SGD nesterov', (p) => new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ['SGD groups', (p) => new SGD([{ params: [p[0]], momentum: 0.5 }, { params: p.slice(1), lr: 0.01 }], { lr: 0.05 })],
  ['Adam amsgrad', (p) => new Adam(p, { lr: 0.01, amsgrad: true, weightDecay: 0.1 })],
  ['AdamW', (p) => new AdamW(p, { lr: 0.01, betas: [0.8, 0.9] })],
  ['RMSprop centered momentum', (p) => new RMSprop(p, { momentum: 0.9, centered: true })],
  ['Adagrad', (p) => new Adagrad(p, { lrDecay: 0.1, initialAccumulatorValue: 0.1 })],
];

function makeParams(dtype: DType): Parameter[] {
  return [
    new Parameter(array([[0.5, -1], [2, 0.25], [-0.75, 1.5]], { dtype }), 'weight'),
    new Parameter(array([0.1, -0.2], { dtype }), 'bias'),
  ];
}

describe.each(MAKERS)('state dict round trip: %s', (_name, make) => {
  test.each(['float64', 'float32'] as DType[])('%s: save after 3 steps, load into a fresh optimizer, continue = uninterrupted', (dtype) => {
    const straight = makeParams(dtype);
    const straightOpt = make(straight);
    train(straightOpt, straight, 0, 8);

    const first = makeParams(dtype);
    const firstOpt = make(first);
    train(firstOpt, first, 0, 3);
    const saved = firstOpt.stateDict();
    const resumed = first.map((p) => new Parameter(p.value.clone(), p.name));
    const resumedOpt = make(resumed);
    resumedOpt.loadStateDict(saved);
    expect(resumedOpt.stepCount).toBe(3);
    // The dict is a copy: training on does not change it, nor does it share buffers.
    train(firstOpt, first, 3, 5);
    train(resumedOpt, resumed, 3, 8);
    resumed.forEach((p, i) => {
      expect(Array.from(p.value.data)).toEqual(Array.from(straight[i].value.data));
    });
    expect(resumedOpt.stateDict()).toEqual(straightOpt.stateDict());
  });
});

describe('stateDict', () => {
  test('numbers parameters across groups, as torch, and lists options per group', () => {
    const [w, b] = makeParams('float64');
    const opt = new Adam([{ params: [w] }, { params: [b], lr: 0.1 }]);
    w.grad.data.fill(1);
    opt.step();
    const dict = opt.stateDict();
    expect(dict.paramGroups).toEqual([
      { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, params: [0] },
      { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, params: [1] },
    ]);
    expect(Object.keys(dict.state)).toEqual(['0', '1']);
    expect(dict.state[0].step).toBe(1);
    expect(dict.state[0].expAvg).toBeInstanceOf(NDArray);
    // The options are JSON; the buffers go through safetensors.
    expect(JSON.parse(JSON.stringify(dict.paramGroups))).toEqual(dict.paramGroups);
    const bytes = encodeSafetensors({ '0.expAvg': dict.state[0].expAvg as NDArray });
    expect(Array.from((decodeSafetensors(bytes).tensors['0.expAvg'] as NDArray).data)).toEqual(
      Array.from((dict.state[0].expAvg as NDArray).data),
    );
  });

  test('SGD without momentum keeps no state', () => {
    const [w] = makeParams('float64');
    const opt = new SGD([w], { lr: 0.1 });
    opt.step();
    expect(opt.stateDict().state).toEqual({});
  });

  test('loading converts buffers to the parameter dtype and restores group options', () => {
    const source = makeParams('float64');
    const sourceOpt = new RMSprop(source, { momentum: 0.5 });
    train(sourceOpt, source, 0, 2);
    const target = makeParams('float32');
    const targetOpt = new RMSprop(target, { momentum: 0.5, lr: 0.5 });
    targetOpt.loadStateDict(sourceOpt.stateDict());
    const state = targetOpt.state.get(target[0])!;
    expect(state.squareAvg.dtype).toBe('float32');
    expect(state.momentumBuffer!.dtype).toBe('float32');
    expect(targetOpt.lr).toBe(1e-2);
  });
});
