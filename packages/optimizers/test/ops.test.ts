/**
 * Optimizers compute only through ndarray's ops: a steady step reads no
 * array back to the host and allocates no typed array, and the same step on
 * a backend whose arrays live off the host (boxes standing for GPU buffers)
 * gives the `js` backend's parameters bit for bit.
 */
import { type FloatDType, type NDArray, Parameter, array, copyInto, getBackend, setBackend } from '@backprop/ndarray';
import { assertBitwiseEqual, countDataReads, countTypedArrays, createBoxedBackend, testRandom } from '@backprop/ndarray/test';
import { afterEach, describe, expect, test } from 'vitest';
import { type AnyOptimizer, OPTIMIZERS, type OptimizerClass, type OptimizerName } from '../src/index';

/** One configuration per optimizer that switches on every buffer it has. */
const CONFIGS: [string, OptimizerName, Record<string, unknown>][] = [
  ['SGD momentum nesterov weightDecay', 'SGD', { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }],
  ['SGD momentum dampening maximize', 'SGD', { lr: 0.05, momentum: 0.5, dampening: 0.25, maximize: true }],
  ['Adam weightDecay', 'Adam', { lr: 0.01, weightDecay: 0.1 }],
  ['AdamW amsgrad', 'AdamW', { lr: 0.01, amsgrad: true, betas: [0.8, 0.95] }],
  ['RMSprop centered momentum', 'RMSprop', { lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.01 }],
  ['Adagrad', 'Adagrad', { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1, weightDecay: 0.01 }],
];

const SHAPES = [[3, 4], [4], [2, 3, 5]];
const STEPS = 4;

/** Fixed initial values and one gradient per step and parameter, as plain numbers. */
function problem(seed: number): { values: number[][]; grads: number[][][] } {
  const next = testRandom(seed);
  const draw = (shape: number[]) => Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => 4 * next() - 2);
  return { values: SHAPES.map(draw), grads: Array.from({ length: STEPS }, () => SHAPES.map(draw)) };
}

/** Parameters on the active backend (created with `array`, so on a device where the backend has one). */
function makeParams(values: number[][], dtype: FloatDType): Parameter[] {
  return values.map((v, i) => new Parameter(array(v, { shape: SHAPES[i], dtype }), `p${i}`));
}

/** Writes step `k`'s gradients through an op, so on any backend. */
function setGrads(params: Parameter[], grads: number[][]): void {
  params.forEach((p, i) => {
    copyInto(p.grad, array(grads[i], { shape: SHAPES[i], dtype: p.dtype }));
  });
}

function build(name: OptimizerName, params: Parameter[], options: Record<string, unknown>): AnyOptimizer {
  const Optim: OptimizerClass = OPTIMIZERS[name];
  return new Optim(params, options);
}

const active = getBackend();
afterEach(() => {
  setBackend(active);
});

describe.each(CONFIGS)('%s', (_label, name, options) => {
  test.each(['float64', 'float32'] as FloatDType[])('%s: after the first step, a step reads nothing back and allocates no typed array', (dtype) => {
    const { values, grads } = problem(7);
    const params = makeParams(values, dtype);
    const opt = build(name, params, options);
    setGrads(params, grads[0]);
    opt.step(); // creates the state
    setGrads(params, grads[1]);
    const reads = countDataReads(() => {
      opt.step();
      opt.zeroGrad();
    });
    expect(reads, 'reads of .data during step() and zeroGrad()').toBe(0);
    setGrads(params, grads[2]);
    const counts = countTypedArrays(() => {
      opt.step();
      opt.zeroGrad();
    });
    expect(counts.owning, 'typed arrays with memory of their own created by a steady step').toBe(0);
    expect(opt.stepCount).toBe(3);
  });

  test.each(['float64', 'float32'] as FloatDType[])(
    '%s: on a backend whose arrays live off the host, the parameters and state equal js bit for bit',
    (dtype) => {
      const { values, grads } = problem(11);
      const run = (): { params: Parameter[]; opt: AnyOptimizer } => {
        const params = makeParams(values, dtype);
        const opt = build(name, params, options);
        for (const g of grads) {
          setGrads(params, g);
          opt.step();
        }
        return { params, opt };
      };

      setBackend('js');
      const reference = run();

      const boxed = createBoxedBackend();
      setBackend(boxed);
      let device: { params: Parameter[]; opt: AnyOptimizer };
      const reads = countDataReads(() => {
        device = run();
      });
      expect(reads, 'reads of .data while building and stepping on the boxed backend').toBe(0);
      expect(boxed.readBacks).toBe(0);
      setBackend(active);

      device!.params.forEach((p, i) => {
        expect(p.value.storage, 'the parameter lives in a box').not.toBeInstanceOf(Float32Array);
        expect(p.value.storage).not.toBeInstanceOf(Float64Array);
        assertBitwiseEqual(p.value, reference.params[i].value, `${name} ${dtype} param ${i}`);
        const state = device!.opt.state.get(p) as Record<string, NDArray | number | undefined>;
        const expected = reference.opt.state.get(reference.params[i]) as Record<string, NDArray | number | undefined>;
        expect(Object.keys(state).sort()).toEqual(Object.keys(expected).sort());
        for (const [key, value] of Object.entries(expected)) {
          if (typeof value === 'number' || value === undefined) expect(state[key]).toBe(value);
          else assertBitwiseEqual(state[key] as NDArray, value, `${name} ${dtype} state ${i}.${key}`);
        }
      });
      expect(boxed.readBacks).toBeGreaterThan(0); // the comparison itself read them back
    },
  );
});

test('on a backend off the host, a NaN gradient is found there and named as on the host; nothing moves', () => {
  const boxed = createBoxedBackend();
  setBackend(boxed);
  const a = new Parameter(array([1, 2], { dtype: 'float64' }), '0.weight');
  const b = new Parameter(array([3, 4], { dtype: 'float64' }), '2.weight');
  const opt = new OPTIMIZERS.Adam([a, b], { lr: 0.1 });
  copyInto(b.grad, array([1, Number.NaN], { dtype: 'float64' }));
  expect(() => opt.step()).toThrow(
    /^Adam\.step: step 1: the grad of '2\.weight' \(parameter 1\) holds NaN at index \[1\] \(shape \[2\]\); no parameter was updated\./,
  );
  expect(boxed.readBacks).toBe(1); // the bad gradient, read once for the message
  expect(Array.from(a.value.data)).toEqual([1, 2]);
  expect(Array.from(b.value.data)).toEqual([3, 4]);
  expect(opt.stepCount).toBe(0);
});
