import { readFileSync } from 'node:fs';
import {
  AvgPool2d,
  Conv2d,
  Dropout,
  Flatten,
  Identity,
  LeakyReLU,
  Linear,
  MaxPool2d,
  type NeuralLayer,
  ReLU,
  Sequential,
  Sigmoid,
  type Size2d,
  Tanh,
} from '@backprop/layers';
import {
  BCELoss,
  BCEWithLogitsLoss,
  CrossEntropyLoss,
  HuberLoss,
  L1Loss,
  type Loss,
  type LossTarget,
  MSELoss,
  NLLLoss,
  SmoothL1Loss,
} from '@backprop/losses';
import { type DType, type NDArray, TorchGenerator, array } from '@backprop/ndarray';
import {
  Adagrad,
  Adam,
  AdamW,
  CosineAnnealingLR,
  ExponentialLR,
  LinearLR,
  type LRScheduler,
  MultiStepLR,
  type Optimizer,
  RMSprop,
  SGD,
  StepLR,
} from '@backprop/optimizers';

/** A tensor as tools/torch-fixtures/common.py writes it. */
export interface FixtureTensor {
  shape: number[];
  dtype: DType | 'int64' | 'int32';
  data: number[];
}

/** One layer of a case's model, with the options our constructors take (camelCase). */
export type LayerSpec =
  | { type: 'Linear'; inFeatures: number; outFeatures: number; bias: boolean }
  | {
      type: 'Conv2d';
      inChannels: number;
      outChannels: number;
      kernelSize: Size2d;
      stride: Size2d;
      padding: Size2d;
      dilation: Size2d;
      bias: boolean;
    }
  | { type: 'MaxPool2d'; kernelSize: Size2d; stride: Size2d; padding: Size2d; ceilMode: boolean }
  | {
      type: 'AvgPool2d';
      kernelSize: Size2d;
      stride: Size2d;
      padding: Size2d;
      ceilMode: boolean;
      countIncludePad: boolean;
      divisorOverride?: number;
    }
  | { type: 'LeakyReLU'; negativeSlope: number }
  | { type: 'Dropout'; p: number }
  | { type: 'ReLU' | 'Tanh' | 'Sigmoid' | 'Identity' | 'Flatten' };

export interface LossSpec {
  type: string;
  options: Record<string, unknown>;
  weight?: FixtureTensor;
  posWeight?: FixtureTensor;
}

export interface OptimizerSpec {
  type: string;
  options: Record<string, unknown>;
}

/** What PyTorch recorded after one training step. */
export interface StepRecord {
  loss: number;
  output: FixtureTensor;
  /** Every parameter's grad after backward, before the optimizer's step. */
  grads: Record<string, FixtureTensor>;
  /** Every parameter's value after the step. */
  params: Record<string, FixtureTensor>;
  /** The first param group's lr after the scheduler's step (the next step's rate). */
  lr: number;
}

export interface ParityCase {
  name: string;
  seed: number;
  dtype: DType;
  layers: LayerSpec[];
  loss: LossSpec;
  optimizer: OptimizerSpec;
  scheduler: OptimizerSpec | null;
  /** Seeds the one generator every Dropout draws its mask from, in forward order (torch.manual_seed before step 1). */
  dropoutSeed: number;
  initialState: Record<string, FixtureTensor>;
  inputs: FixtureTensor[];
  targets: FixtureTensor[];
  steps: StepRecord[];
}

/**
 * The committed cases, or those of the file PARITY_FIXTURE names (a wider
 * sweep written by `parity.py --cases N --out PATH`).
 */
export function loadCases(): ParityCase[] {
  const override = process.env.PARITY_FIXTURE;
  const text = readFileSync(override ? override : new URL('./fixtures/parity.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { cases: ParityCase[] }).cases;
}

/** A float fixture tensor as an NDArray of its own dtype. */
export function fromFixture(t: FixtureTensor): NDArray {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new Error(`expected a float tensor, got ${t.dtype}`);
  return array(t.data, { shape: t.shape, dtype: t.dtype });
}

function buildLayer(spec: LayerSpec, dtype: DType, rng: TorchGenerator): NeuralLayer {
  switch (spec.type) {
    case 'Linear':
      return new Linear(spec.inFeatures, spec.outFeatures, { bias: spec.bias, dtype });
    case 'Conv2d':
      return new Conv2d(spec.inChannels, spec.outChannels, spec.kernelSize, {
        stride: spec.stride,
        padding: spec.padding,
        dilation: spec.dilation,
        bias: spec.bias,
        dtype,
      });
    case 'MaxPool2d':
      return new MaxPool2d(spec.kernelSize, { stride: spec.stride, padding: spec.padding, ceilMode: spec.ceilMode });
    case 'AvgPool2d':
      return new AvgPool2d(spec.kernelSize, {
        stride: spec.stride,
        padding: spec.padding,
        ceilMode: spec.ceilMode,
        countIncludePad: spec.countIncludePad,
        divisorOverride: spec.divisorOverride,
      });
    case 'LeakyReLU':
      return new LeakyReLU(spec.negativeSlope);
    case 'Dropout':
      return new Dropout(spec.p, { rng });
    case 'ReLU':
      return new ReLU();
    case 'Tanh':
      return new Tanh();
    case 'Sigmoid':
      return new Sigmoid();
    case 'Identity':
      return new Identity();
    case 'Flatten':
      return new Flatten();
  }
}

/** The case's model with torch's initial weights; every Dropout shares one generator, as torch's global one. */
export function buildModel(c: ParityCase): Sequential {
  const rng = new TorchGenerator(c.dropoutSeed);
  const model = new Sequential(...c.layers.map((spec) => buildLayer(spec, c.dtype, rng)));
  const state: Record<string, NDArray> = {};
  for (const [name, t] of Object.entries(c.initialState)) state[name] = fromFixture(t);
  model.loadStateDict(state);
  return model.train();
}

export function buildLoss(spec: LossSpec): Loss {
  const options: Record<string, unknown> = { ...spec.options };
  if (spec.weight) options.weight = fromFixture(spec.weight);
  if (spec.posWeight) options.posWeight = fromFixture(spec.posWeight);
  switch (spec.type) {
    case 'MSELoss':
      return new MSELoss(options);
    case 'L1Loss':
      return new L1Loss(options);
    case 'SmoothL1Loss':
      return new SmoothL1Loss(options);
    case 'HuberLoss':
      return new HuberLoss(options);
    case 'BCELoss':
      return new BCELoss(options);
    case 'BCEWithLogitsLoss':
      return new BCEWithLogitsLoss(options);
    case 'CrossEntropyLoss':
      return new CrossEntropyLoss(options);
    case 'NLLLoss':
      return new NLLLoss(options);
  }
  throw new Error(`unknown loss ${spec.type}`);
}

/** A target as the loss takes it: class indices as torch's int64 (1-D) or an integer-valued NDArray, else a float NDArray. */
export function buildTarget(t: FixtureTensor): LossTarget {
  if (t.dtype === 'int64' || t.dtype === 'int32') {
    if (t.shape.length === 1) return BigInt64Array.from(t.data, (v) => BigInt(v));
    return array(t.data, { shape: t.shape, dtype: 'float64' });
  }
  return fromFixture(t);
}

export function buildOptimizer(spec: OptimizerSpec, model: Sequential): Optimizer {
  const params = model.parameters();
  const options = spec.options as never;
  switch (spec.type) {
    case 'SGD':
      return new SGD(params, options);
    case 'Adam':
      return new Adam(params, options);
    case 'AdamW':
      return new AdamW(params, options);
    case 'RMSprop':
      return new RMSprop(params, options);
    case 'Adagrad':
      return new Adagrad(params, options);
  }
  throw new Error(`unknown optimizer ${spec.type}`);
}

export function buildScheduler(spec: OptimizerSpec | null, optimizer: Optimizer): LRScheduler | null {
  if (spec === null) return null;
  const options = spec.options as never;
  switch (spec.type) {
    case 'StepLR':
      return new StepLR(optimizer, options);
    case 'ExponentialLR':
      return new ExponentialLR(optimizer, options);
    case 'CosineAnnealingLR':
      return new CosineAnnealingLR(optimizer, options);
    case 'MultiStepLR':
      return new MultiStepLR(optimizer, options);
    case 'LinearLR':
      return new LinearLR(optimizer, options);
  }
  throw new Error(`unknown scheduler ${spec.type}`);
}

/** float64 is held to 1e-10 of max(1, |ref|) per element; float32 to 1e-5 of the array's largest |ref|. */
export function tolerance(dtype: DType): number {
  return dtype === 'float64' ? 1e-10 : 1e-5;
}

export interface Worst {
  error: number;
  index: number;
  actual: number;
  expected: number;
}

/**
 * The worst relative error of `actual` against `expected`. float64: per
 * element, |a − b| / max(1, |b|), so values near zero are held to an absolute
 * 1e-10. float32: |a − b| / max|b| over the array, since every float32
 * intermediate (torch's as well as ours) rounds at the array's scale, and a
 * small element that is a difference of large terms carries that error.
 * `float32Scale` widens that scale where a value can fall far below the size
 * of what it is computed from (see {@link layerGradScale}, {@link paramScale}).
 */
export function worstError(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  dtype: DType,
  float32Scale = 0,
): Worst {
  let floor = 1;
  if (dtype === 'float32') {
    floor = Math.max(float32Scale, Number.MIN_VALUE);
    for (let i = 0; i < expected.length; i++) floor = Math.max(floor, Math.abs(expected[i]));
  }
  const worst: Worst = { error: 0, index: -1, actual: Number.NaN, expected: Number.NaN };
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    const e = a === b ? 0 : Math.abs(a - b) / (dtype === 'float64' ? Math.max(1, Math.abs(b)) : floor);
    if (!(e <= worst.error)) Object.assign(worst, { error: e, index: i, actual: a, expected: b });
  }
  return worst;
}

/**
 * The float32 scale of a parameter's gradient: the largest |grad| of its layer
 * (`0.weight` and `0.bias` together) over every step of the run. A bias
 * gradient sums upstream gradients over the batch and every position; where
 * they cancel at one step (a conv bias's grad 100 times below its usual size),
 * a one-ulp difference in any weight, which both sides' float32 rounding
 * makes, moves it by a few ulps of the usual size, not of its own.
 */
export function layerGradScale(name: string, steps: readonly StepRecord[]): number {
  const layer = name.slice(0, name.lastIndexOf('.') + 1);
  let scale = 0;
  for (const step of steps) {
    for (const [other, grad] of Object.entries(step.grads)) {
      if (other.startsWith(layer) && !other.slice(layer.length).includes('.')) scale = Math.max(scale, maxAbs(grad.data));
    }
  }
  return scale;
}

/**
 * The float32 scale of a parameter: its largest |value| over the run, from
 * torch's initial state on. A single bias that an update carries through
 * zero is held to the rounding of the values it moved between, not to its own
 * size near zero.
 */
export function paramScale(name: string, c: ParityCase): number {
  let scale = maxAbs(c.initialState[name].data);
  for (const step of c.steps) scale = Math.max(scale, maxAbs(step.params[name].data));
  return scale;
}

function maxAbs(values: readonly number[]): number {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

/** One compared quantity of one step. */
export interface Comparison {
  step: number;
  what: string;
  worst: Worst;
  problem?: string;
}

export interface CaseResult {
  /** Every comparison, in the order the training loop produces them. */
  comparisons: Comparison[];
  /** The first comparison over tolerance (or of the wrong shape/dtype), if any. */
  firstFailure?: Comparison;
  /** The worst error over the whole case. */
  worst: Comparison;
}

/** Trains the case's model for the recorded steps with our packages and compares every quantity with PyTorch's. */
export function runCase(c: ParityCase): CaseResult {
  const model = buildModel(c);
  const loss = buildLoss(c.loss);
  const optimizer = buildOptimizer(c.optimizer, model);
  const scheduler = buildScheduler(c.scheduler, optimizer);
  const params = Object.fromEntries(model.namedParameters());
  const tol = tolerance(c.dtype);
  const comparisons: Comparison[] = [];
  let firstFailure: Comparison | undefined;
  const record = (
    step: number,
    what: string,
    actual: NDArray | number,
    expected: FixtureTensor | number,
    float32Scale = 0,
  ) => {
    let comparison: Comparison;
    if (typeof actual === 'number' || typeof expected === 'number') {
      const dtype = what === 'lr' ? 'float64' : c.dtype;
      const worst = worstError([actual as number], [expected as number], dtype, float32Scale);
      comparison = { step, what, worst };
    } else {
      const worst = worstError(actual.data, expected.data, c.dtype, float32Scale);
      comparison = { step, what, worst };
      const shape = JSON.stringify(actual.shape);
      if (shape !== JSON.stringify(expected.shape) || actual.dtype !== expected.dtype) {
        comparison.problem = `got ${actual.dtype} ${shape}, expected ${expected.dtype} ${JSON.stringify(expected.shape)}`;
      }
    }
    comparisons.push(comparison);
    if (firstFailure === undefined && (comparison.problem || !(comparison.worst.error < tol))) firstFailure = comparison;
  };

  c.steps.forEach((expected, step) => {
    optimizer.zeroGrad();
    const output = model.forward(fromFixture(c.inputs[step]));
    record(step, 'output', output, expected.output);
    const value = loss.forward(output, buildTarget(c.targets[step]));
    // A reduction of terms on the output's scale: where they cancel (NLL of raw outputs), their rounding remains.
    record(step, 'loss', value, expected.loss, maxAbs(expected.output.data));
    model.backward(loss.backward());
    for (const [name, grad] of Object.entries(expected.grads)) {
      record(step, `grad ${name}`, params[name].grad, grad, layerGradScale(name, c.steps));
    }
    optimizer.step();
    scheduler?.step();
    for (const [name, value] of Object.entries(expected.params)) {
      record(step, `param ${name}`, params[name].value, value, paramScale(name, c));
    }
    record(step, 'lr', optimizer.paramGroups[0].lr, expected.lr);
  });
  const worst = comparisons.reduce((a, b) => (b.worst.error > a.worst.error ? b : a));
  return { comparisons, firstFailure, worst };
}

/** The case as a reader needs it to reproduce a failure: its spec, without the tensors. */
export function describeCase(c: ParityCase): string {
  const loss = { ...c.loss, weight: c.loss.weight?.shape, posWeight: c.loss.posWeight?.shape };
  const spec = {
    name: c.name,
    seed: c.seed,
    dtype: c.dtype,
    input: c.inputs[0].shape,
    layers: c.layers,
    loss,
    optimizer: c.optimizer,
    scheduler: c.scheduler,
    dropoutSeed: c.dropoutSeed,
  };
  return JSON.stringify(spec, null, 1).replace(/\n\s*/g, ' ');
}
