import { readFileSync } from 'node:fs';
import {
  type BackwardOptions,
  LAYERS,
  MultiheadAttention,
  type MultiheadAttentionForwardOptions,
  NeuralLayer,
  Residual,
  Sequential,
  type Size2d,
} from '@backprop/layers';
import { LOSSES, type Loss, type LossClass, type LossName, type LossTarget } from '@backprop/losses';
import { array, type DType, type NDArray, TorchGenerator, transpose } from '@backprop/ndarray';
import { TOLERANCE } from '@backprop/ndarray/test';
import {
  type LRScheduler,
  OPTIMIZERS,
  type Optimizer,
  type OptimizerClass,
  type OptimizerName,
  SCHEDULERS,
  type SchedulerClass,
  type SchedulerName,
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
  | { type: 'Flatten'; startDim?: number; endDim?: number }
  | { type: 'ReLU' | 'Tanh' | 'Sigmoid' | 'Identity' | 'SiLU' | 'Mish' }
  | { type: 'GELU'; approximate: 'none' | 'tanh' }
  | { type: 'ELU'; alpha: number }
  | { type: 'Softplus'; beta: number; threshold: number }
  | { type: 'LogSoftmax'; dim: number }
  | {
      type: 'BatchNorm1d' | 'BatchNorm2d';
      numFeatures: number;
      momentum: number | null;
      affine: boolean;
      trackRunningStats: boolean;
    }
  | { type: 'GroupNorm'; numGroups: number; numChannels: number; affine: boolean }
  | { type: 'LayerNorm'; normalizedShape: number | number[]; elementwiseAffine: boolean }
  | { type: 'AdaptiveAvgPool2d'; outputSize: Size2d }
  | {
      type: 'ConvTranspose2d';
      inChannels: number;
      outChannels: number;
      kernelSize: Size2d;
      stride: Size2d;
      padding: Size2d;
      outputPadding: Size2d;
      dilation: Size2d;
      bias: boolean;
    }
  | { type: 'Embedding'; numEmbeddings: number; embeddingDim: number; paddingIdx?: number }
  | {
      type: 'LSTM' | 'GRU' | 'RNN';
      inputSize: number;
      hiddenSize: number;
      numLayers: number;
      bias: boolean;
      batchFirst: boolean;
      bidirectional: boolean;
      nonlinearity?: 'tanh' | 'relu';
    }
  /** Self-attention, `mha(x, x, x)[0]`; `causal` masks each query's later keys (torch: a boolean `attn_mask`). */
  | { type: 'MultiheadAttention'; embedDim: number; numHeads: number; bias: boolean; batchFirst: boolean; causal: boolean }
  | { type: 'Residual'; block: LayerSpec }
  | { type: 'Sequential'; layers: LayerSpec[] }
  /** The test's own layer ({@link Permute}): torch's `x.permute(dims)`. */
  | { type: 'Permute'; dims: number[] };

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
  /** The state dict's buffers after the step (BatchNorm's running statistics), where the model has any. */
  buffers?: Record<string, FixtureTensor>;
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

/** A fixture tensor as an NDArray: float as it is, torch's int64 (token ids, `num_batches_tracked`) as int32. */
export function fromFixtureAny(t: FixtureTensor): NDArray {
  if (t.dtype === 'int64' || t.dtype === 'int32') return array(t.data, { shape: t.shape, dtype: 'int32' });
  return fromFixture(t);
}

/**
 * `x.permute(dims)` as a layer, the twin of parity.py's `Permute` (torch has no
 * such module): the sequence cases put a class loss's classes in dimension 1,
 * [N, L, C] → [N, C, L]. Backward permutes the gradient back.
 */
export class Permute extends NeuralLayer {
  readonly dims: readonly number[];
  readonly #inverse: number[];

  constructor(dims: readonly number[]) {
    super();
    this.dims = dims;
    this.#inverse = dims.map((_, i) => dims.indexOf(i));
  }

  forward(input: NDArray): NDArray {
    return transpose(input, this.dims);
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    if (options?.inputGrad === false) return undefined;
    return transpose(outputGrad, this.#inverse);
  }
}

/**
 * MultiheadAttention as a layer of a Sequential, with its causal mask: the
 * twin of parity.py's `SelfAttention` (an `nn.MultiheadAttention` whose
 * forward is `mha(x, x, x, attn_mask=causal or None)[0]`).
 */
export class CausalSelfAttention extends MultiheadAttention {
  override forward(input: NDArray, options: MultiheadAttentionForwardOptions = {}): NDArray {
    return super.forward(input, { ...options, isCausal: true });
  }
}

// biome-ignore lint/suspicious/noExplicitAny: a layer class by name, its options checked by its constructor at run time
type AnyLayerClass = new (...args: any[]) => NeuralLayer;

/** LAYERS[name], or an error naming a layer that has not landed in the registry (parity.py draws only those that have). */
function layerClass(name: string): AnyLayerClass {
  const Layer = (LAYERS as unknown as Record<string, AnyLayerClass | undefined>)[name];
  if (Layer === undefined) throw new Error(`layer ${name} is not in LAYERS of @backprop/layers (rebuild its dist?)`);
  return Layer;
}

/** The case's layer, from the one name → class list of @backprop/layers and the spec's options. */
function buildLayer(spec: LayerSpec, dtype: DType, rng: TorchGenerator): NeuralLayer {
  switch (spec.type) {
    case 'Linear':
      return new LAYERS.Linear(spec.inFeatures, spec.outFeatures, { bias: spec.bias, dtype });
    case 'Conv2d': {
      const { inChannels, outChannels, kernelSize, stride, padding, dilation, bias } = spec;
      return new LAYERS.Conv2d(inChannels, outChannels, kernelSize, { stride, padding, dilation, bias, dtype });
    }
    case 'MaxPool2d':
    case 'AvgPool2d': {
      const { type, kernelSize, ...options } = spec;
      return new LAYERS[type](kernelSize, options);
    }
    case 'LeakyReLU':
      return new LAYERS.LeakyReLU(spec.negativeSlope);
    case 'Dropout':
      return new LAYERS.Dropout(spec.p, { rng });
    case 'Flatten':
      return new LAYERS.Flatten(spec.startDim ?? 1, spec.endDim ?? -1);
    case 'GELU':
      return new (layerClass(spec.type))({ approximate: spec.approximate });
    case 'ELU':
      return new (layerClass(spec.type))({ alpha: spec.alpha });
    case 'Softplus':
      return new (layerClass(spec.type))({ beta: spec.beta, threshold: spec.threshold });
    case 'LogSoftmax':
      return new (layerClass(spec.type))({ dim: spec.dim });
    case 'BatchNorm1d':
    case 'BatchNorm2d': {
      const { type, numFeatures, ...options } = spec;
      return new (layerClass(type))(numFeatures, { ...options, dtype });
    }
    case 'GroupNorm':
      return new (layerClass(spec.type))(spec.numGroups, spec.numChannels, { affine: spec.affine, dtype });
    case 'LayerNorm':
      return new (layerClass(spec.type))(spec.normalizedShape, { elementwiseAffine: spec.elementwiseAffine, dtype });
    case 'AdaptiveAvgPool2d':
      return new (layerClass(spec.type))(spec.outputSize);
    case 'ConvTranspose2d': {
      const { type, inChannels, outChannels, kernelSize, ...options } = spec;
      return new (layerClass(type))(inChannels, outChannels, kernelSize, { ...options, dtype });
    }
    case 'Embedding':
      return new (layerClass(spec.type))(spec.numEmbeddings, spec.embeddingDim, { paddingIdx: spec.paddingIdx ?? null, dtype });
    case 'LSTM':
    case 'GRU':
    case 'RNN': {
      const { type, inputSize, hiddenSize, ...options } = spec;
      return new (layerClass(type))(inputSize, hiddenSize, { ...options, dtype });
    }
    case 'MultiheadAttention': {
      const { type, embedDim, numHeads, causal, ...options } = spec;
      const Attention = causal ? CausalSelfAttention : (layerClass(type) as typeof MultiheadAttention);
      return new Attention(embedDim, numHeads, { ...options, dtype });
    }
    case 'Residual':
      return new Residual(buildLayer(spec.block, dtype, rng));
    case 'Sequential':
      return new Sequential(...spec.layers.map((layer) => buildLayer(layer, dtype, rng)));
    case 'Permute':
      return new Permute(spec.dims);
    default:
      return new (layerClass(spec.type))();
  }
}

/** The case's model with torch's initial weights; every Dropout shares one generator, as torch's global one. */
export function buildModel(c: ParityCase): Sequential {
  const rng = new TorchGenerator(c.dropoutSeed);
  const model = new Sequential(...c.layers.map((spec) => buildLayer(spec, c.dtype, rng)));
  const state: Record<string, NDArray> = {};
  for (const [name, t] of Object.entries(c.initialState)) state[name] = fromFixtureAny(t);
  model.loadStateDict(state);
  return model.train();
}

export function buildLoss(spec: LossSpec): Loss {
  const options: Record<string, unknown> = { ...spec.options };
  if (spec.weight) options.weight = fromFixture(spec.weight);
  if (spec.posWeight) options.posWeight = fromFixture(spec.posWeight);
  const Criterion: LossClass | undefined = LOSSES[spec.type as LossName];
  if (Criterion === undefined) throw new Error(`unknown loss ${spec.type}`);
  return new Criterion(options);
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
  const Optim: OptimizerClass | undefined = OPTIMIZERS[spec.type as OptimizerName];
  if (Optim === undefined) throw new Error(`unknown optimizer ${spec.type}`);
  return new Optim(model.parameters(), spec.options);
}

export function buildScheduler(spec: OptimizerSpec | null, optimizer: Optimizer): LRScheduler | null {
  if (spec === null) return null;
  const Scheduler: SchedulerClass | undefined = SCHEDULERS[spec.type as SchedulerName];
  if (Scheduler === undefined) throw new Error(`unknown scheduler ${spec.type}`);
  const options = { ...spec.options };
  if (spec.type === 'SequentialLR') {
    // Its schedulers first, on the same optimizer and in order (each sets the lr once), as parity.py builds torch's.
    options.schedulers = (options.schedulers as OptimizerSpec[]).map((s) => buildScheduler(s, optimizer));
  }
  return new Scheduler(optimizer, options);
}

/**
 * The project's tolerance (`TOLERANCE` of `@backprop/ndarray/test`: 1e-10 for
 * float64, 1e-5 for float32), applied by {@link worstError} to whole training
 * runs: float64 of max(1, |ref|) per element, float32 of the array's scale.
 */
export function tolerance(dtype: DType): number {
  return TOLERANCE[dtype === 'float64' ? 'float64' : 'float32'];
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

/** The float32 scale of a buffer (a running mean or variance), as {@link paramScale}: its largest |value| over the run. */
export function bufferScale(name: string, c: ParityCase): number {
  let scale = maxAbs(c.initialState[name].data);
  for (const step of c.steps) scale = Math.max(scale, maxAbs(step.buffers?.[name]?.data ?? []));
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
  const buffers = new Map(model.namedBuffers());
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
      // An integer buffer (num_batches_tracked: int64 in torch, int32 here) is held to exact equality.
      const integer = expected.dtype === 'int64' || expected.dtype === 'int32';
      const worst = worstError(actual.data, expected.data, integer ? 'float64' : c.dtype, float32Scale);
      comparison = { step, what, worst };
      const shape = JSON.stringify(actual.shape);
      const dtypeMatches = integer ? actual.dtype === 'int32' : actual.dtype === expected.dtype;
      if (shape !== JSON.stringify(expected.shape) || !dtypeMatches) {
        comparison.problem = `got ${actual.dtype} ${shape}, expected ${expected.dtype} ${JSON.stringify(expected.shape)}`;
      }
    }
    comparisons.push(comparison);
    if (firstFailure === undefined && (comparison.problem || !(comparison.worst.error < tol))) firstFailure = comparison;
  };

  const expectedBuffers = Object.keys(c.steps[0].buffers ?? {});
  if (JSON.stringify([...buffers.keys()]) !== JSON.stringify(expectedBuffers)) {
    firstFailure = {
      step: 0,
      what: 'buffers',
      worst: { error: Number.POSITIVE_INFINITY, index: -1, actual: Number.NaN, expected: Number.NaN },
      problem: `buffers ${JSON.stringify([...buffers.keys()])}, expected torch's ${JSON.stringify(expectedBuffers)}`,
    };
    comparisons.push(firstFailure);
  }
  c.steps.forEach((expected, step) => {
    optimizer.zeroGrad();
    const output = model.forward(fromFixtureAny(c.inputs[step]));
    record(step, 'output', output, expected.output);
    const value = loss.forward(output, buildTarget(c.targets[step]));
    // A reduction of terms on the output's scale: where they cancel (NLL of raw outputs), their rounding remains.
    record(step, 'loss', value, expected.loss, maxAbs(expected.output.data));
    model.backward(loss.backward());
    for (const [name, grad] of Object.entries(expected.grads)) {
      record(step, `grad ${name}`, params[name].grad, grad, layerGradScale(name, c.steps));
    }
    optimizer.step();
    // ReduceLROnPlateau steps on a metric: the step's loss, as parity.py's torch run.
    if (c.scheduler?.type === 'ReduceLROnPlateau') scheduler?.step(value);
    else scheduler?.step();
    for (const [name, value] of Object.entries(expected.params)) {
      record(step, `param ${name}`, params[name].value, value, paramScale(name, c));
    }
    for (const [name, value] of Object.entries(expected.buffers ?? {})) {
      const ours = buffers.get(name);
      if (ours !== undefined) record(step, `buffer ${name}`, ours, value, bufferScale(name, c));
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
