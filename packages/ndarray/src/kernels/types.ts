/**
 * The kernels, by name, and what each receives. A kernel is the loop behind
 * an op: the op has validated its arguments, worked out the output's shape
 * and dtype, and allocated it on the active backend; the kernel computes and
 * writes every element of its output (`out`), never allocating the result
 * itself. Kernels receive arrays, never raw memory, so a backend whose arrays
 * live off the host reads them its own way.
 *
 * Unless a kernel says otherwise, its arrays share one dtype and are
 * contiguous row-major; `out` may be one of the inputs where the op allows
 * writing in place.
 */
import type { NDArray } from '../ndarray';
import type { Generator } from '../random/generator';

/** a op b, elementwise, with a and b broadcast (numpy rules) to out's shape. */
export interface BinaryArgs {
  a: NDArray;
  b: NDArray;
  out: NDArray;
}

/** f(x), elementwise; out has x's shape. */
export interface UnaryArgs {
  x: NDArray;
  out: NDArray;
}

/** An activation's backward pass from its forward output y: out = grad · f′ (as a function of y). */
export interface OutputGradArgs {
  grad: NDArray;
  output: NDArray;
  out: NDArray;
}

/** An activation's backward pass from its forward input x: out = grad · f′(x). */
export interface InputGradArgs {
  grad: NDArray;
  input: NDArray;
  out: NDArray;
}

/** GELU's two forms, as torch's `approximate`: the exact erf form or the tanh approximation. */
export type GeluApproximate = 'none' | 'tanh';

/** A reduction of x over `axes` (sorted, distinct) into out, which has x's shape with those axes of size 1. */
export interface ReduceArgs {
  x: NDArray;
  axes: readonly number[];
  out: NDArray;
}

/** Along one axis of x, into out of x's shape (softmax and kin). */
export interface AxisArgs {
  x: NDArray;
  axis: number;
  out: NDArray;
}

/** The backward pass of an op along one axis, from its forward output. */
export interface AxisGradArgs {
  grad: NDArray;
  output: NDArray;
  axis: number;
  out: NDArray;
}

/** The activations a gemm can apply to its result. */
export type GemmActivation = 'relu' | 'tanh' | 'sigmoid';

/**
 * A (batched) matrix product: for each batch item t,
 * C_t ← act(alpha · op(A_t) · op(B_t) + beta · C_t + bias),
 * with op(A) m×k (A stored m×k, or k×m when `transA`), op(B) k×n (stored k×n,
 * or n×k when `transB`), C m×n, all row-major. Matrix t of A starts at
 * `aOffset + t · aStride` elements into a's storage (likewise B, C). A stride
 * of 0 reuses one matrix for every item; for C with `beta` 1 it sums the
 * items' products into one matrix (a convolution's weight gradient).
 * Items run in order; with cStride 0 each sees the previous one's C.
 */
export interface GemmProblem {
  a: NDArray;
  b: NDArray;
  c: NDArray;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  batch: number;
  aOffset: number;
  bOffset: number;
  cOffset: number;
  aStride: number;
  bStride: number;
  cStride: number;
  alpha: number;
  /** 0: C is overwritten (its prior content ignored, NaN included); 1: the product is added into C. */
  beta: number;
  /** Added to every row (shape [n]) or every column (shape [m, 1]); none when undefined. */
  bias: NDArray | undefined;
  activation: GemmActivation | undefined;
}

/** The sizes of one 2-D convolution's unfolding, all integers. */
export interface Conv2dGeometry {
  batch: number;
  channels: number;
  height: number;
  width: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  dilationH: number;
  dilationW: number;
  outH: number;
  outW: number;
}

/** The sizes of one 2-D pooling pass; a plane is one (sample, channel) image. */
export interface Pool2dGeometry {
  planes: number;
  height: number;
  width: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  outH: number;
  outW: number;
}

/** Average pooling's divisor rule, as torch's `count_include_pad` and `divisor_override`. */
export interface AvgPoolDivisor {
  countIncludePad: boolean;
  divisorOverride: number | null;
}

/** Rows of `x` along `axis` picked by int32 `indices` (numpy's `take`, torch's `index_select`). */
export interface TakeArgs {
  x: NDArray;
  indices: NDArray;
  axis: number;
  out: NDArray;
}

/** out[..., indices[i], ...] += source[..., i, ...] along `axis` (torch's `index_add_`); out is not cleared. */
export interface IndexAddArgs {
  source: NDArray;
  indices: NDArray;
  axis: number;
  out: NDArray;
}

/**
 * torch.gather / scatter_add: `indices` (int32) has the rank of x (or of out)
 * and picks, along `axis`, one position per element.
 */
export interface GatherArgs {
  x: NDArray;
  indices: NDArray;
  axis: number;
  out: NDArray;
}
export interface ScatterAddArgs {
  source: NDArray;
  indices: NDArray;
  axis: number;
  out: NDArray;
}

/**
 * `SGD`'s update of one parameter, in torch 1.13's order of floating-point
 * operations (see @backprop/optimizers' sgd.ts for the rule). `momentumBuffer`
 * is read and written when `momentum` ≠ 0; `first` says it holds nothing yet.
 */
export interface SgdStepArgs {
  param: NDArray;
  grad: NDArray;
  momentumBuffer: NDArray | undefined;
  first: boolean;
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  maximize: boolean;
}

/** Adam's and AdamW's update; the bias corrections 1 − βᵗ are the optimizer's (computed in double). */
export interface AdamStepArgs {
  param: NDArray;
  grad: NDArray;
  expAvg: NDArray;
  expAvgSq: NDArray;
  /** With amsgrad: the running maximum of expAvgSq, read and written. */
  maxExpAvgSq: NDArray | undefined;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Adam's L2 term added to the gradient (0: none). */
  weightDecay: number;
  /** AdamW's decoupled decay: θ ← θ·(1 − lr·decoupledDecay) first (null: Adam). */
  decoupledDecay: number | null;
  biasCorrection1: number;
  biasCorrection2: number;
  maximize: boolean;
}

export interface RmspropStepArgs {
  param: NDArray;
  grad: NDArray;
  squareAvg: NDArray;
  /** When momentum > 0. */
  momentumBuffer: NDArray | undefined;
  /** When centered. */
  gradAvg: NDArray | undefined;
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  maximize: boolean;
}

export interface AdagradStepArgs {
  param: NDArray;
  grad: NDArray;
  sum: NDArray;
  /** lr / (1 + (t − 1)·lrDecay), computed by the optimizer. */
  clr: number;
  eps: number;
  weightDecay: number;
  maximize: boolean;
}

/**
 * Every kernel, by name: what a backend may implement. The TypeScript backend
 * implements all of them; another backend implements what pays and, where its
 * arrays live on the host, the TypeScript kernel runs for the rest.
 */
export interface Kernels {
  // Elementwise, broadcasting a and b to out.
  add(args: BinaryArgs): void;
  sub(args: BinaryArgs): void;
  mul(args: BinaryArgs): void;
  div(args: BinaryArgs): void;
  pow(args: BinaryArgs): void;
  /** NaN propagates, as torch.maximum. */
  maximum(args: BinaryArgs): void;
  minimum(args: BinaryArgs): void;
  /** Comparisons write 1 where true, 0 where false, in out's dtype (any). */
  equal(args: BinaryArgs): void;
  notEqual(args: BinaryArgs): void;
  less(args: BinaryArgs): void;
  lessEqual(args: BinaryArgs): void;
  greater(args: BinaryArgs): void;
  greaterEqual(args: BinaryArgs): void;
  /** out = condition ≠ 0 ? a : b, all three broadcast to out; condition of any dtype. */
  where(args: { condition: NDArray; a: NDArray; b: NDArray; out: NDArray }): void;

  // Elementwise, one input.
  neg(args: UnaryArgs): void;
  exp(args: UnaryArgs): void;
  log(args: UnaryArgs): void;
  sqrt(args: UnaryArgs): void;
  abs(args: UnaryArgs): void;
  square(args: UnaryArgs): void;
  sign(args: UnaryArgs): void;
  tanh(args: UnaryArgs): void;
  /** 1/(1 + e⁻ˣ), rounding each step in float32 as torch's kernel does. */
  sigmoid(args: UnaryArgs): void;
  relu(args: UnaryArgs): void;
  leakyRelu(args: { x: NDArray; negativeSlope: number; out: NDArray }): void;
  clip(args: { x: NDArray; min: number; max: number; out: NDArray }): void;
  /** The error function, fdlibm's algorithm in double (within 1 ulp), rounded once into out. */
  erf(args: UnaryArgs): void;
  /** x·Φ(x) = 0.5·x·(1 + erf(x/√2)), or with `approximate` 'tanh' 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
  gelu(args: { x: NDArray; approximate: GeluApproximate; out: NDArray }): void;
  /** x/(1 + e⁻ˣ) (SiLU, swish). */
  silu(args: UnaryArgs): void;
  /** x where x > 0, else alpha·(eˣ − 1) (as torch 1.13, not expm1). */
  elu(args: { x: NDArray; alpha: number; out: NDArray }): void;
  /** x where beta·x > threshold, else log1p(e^(beta·x))/beta. */
  softplus(args: { x: NDArray; beta: number; threshold: number; out: NDArray }): void;
  /** x·tanh(log1p(eˣ)). */
  mish(args: UnaryArgs): void;

  // Activations' backward passes.
  /** grad where output > 0, else 0 (torch's threshold_backward). */
  reluBackward(args: OutputGradArgs): void;
  /** grad·(1 − y²). */
  tanhBackward(args: OutputGradArgs): void;
  /** grad·(1 − y)·y. */
  sigmoidBackward(args: OutputGradArgs): void;
  /** From the input x: grad where x > 0, else grad·negativeSlope. */
  leakyReluBackward(args: { grad: NDArray; input: NDArray; negativeSlope: number; out: NDArray }): void;
  /** From x: grad·(Φ(x) + x·φ(x)), or the tanh form's derivative, as torch's GeluBackward kernel. */
  geluBackward(args: { grad: NDArray; input: NDArray; approximate: GeluApproximate; out: NDArray }): void;
  /** From x, with s = σ(x): grad·s·(1 + x·(1 − s)). */
  siluBackward(args: InputGradArgs): void;
  /** From x: grad where x > 0, else grad·alpha·eˣ, NaN for NaN (torch's elu_backward with is_result false). */
  eluBackward(args: { grad: NDArray; input: NDArray; alpha: number; out: NDArray }): void;
  /** From x, with z = e^(beta·x): grad where beta·x > threshold, else grad·z/(z + 1). */
  softplusBackward(args: { grad: NDArray; input: NDArray; beta: number; threshold: number; out: NDArray }): void;
  /** From x, with t = tanh(softplus(x)): grad·(t + x·σ(x)·(1 − t²)). */
  mishBackward(args: InputGradArgs): void;

  // Whole arrays.
  fill(args: { out: NDArray; value: number }): void;
  /** out = x, same shape and dtype. */
  copy(args: UnaryArgs): void;
  /** out = x converted to out's dtype (round to nearest; truncation toward zero into int32). */
  cast(args: UnaryArgs): void;
  /** out = x with its dimensions reordered: out's dimension i is x's `axes[i]`. */
  permute(args: { x: NDArray; axes: readonly number[]; out: NDArray }): void;
  /** Joins `inputs` (one dtype, equal but along `axis`) along `axis`. */
  concat(args: { inputs: readonly NDArray[]; axis: number; out: NDArray }): void;
  take(args: TakeArgs): void;
  indexAdd(args: IndexAddArgs): void;
  gather(args: GatherArgs): void;
  scatterAdd(args: ScatterAddArgs): void;

  // Reductions: float64 accumulation, rounded once into out.
  sum(args: ReduceArgs): void;
  /** NaN wins, as torch.max. */
  max(args: ReduceArgs): void;
  min(args: ReduceArgs): void;
  /** Index (int32 out) of the first maximum along `axis`; a NaN is the maximum. */
  argmax(args: AxisArgs): void;
  argmin(args: AxisArgs): void;
  /** Σ(x − mean)² / (count − correction) over `axes`. */
  variance(args: ReduceArgs & { correction: number }): void;
  /** log Σ exp over `axes`, max-shifted. */
  logSumExp(args: ReduceArgs): void;
  /** (Σ|x|^ord)^(1/ord) over all of x into a 0-d out; ord ∞ is max|x|. */
  vectorNorm(args: { x: NDArray; ord: number; out: NDArray }): void;
  /** The first flat index whose value is not in [low, high] (NaN never is), or −1. */
  firstOutside(args: {
    x: NDArray;
    low: number;
    high: number;
    /** What is checked, for a backend that reports later (`"CrossEntropyLoss: target"`); unused by the host backends. */
    what?: string;
  }): number;

  // Softmax and kin, along one axis.
  softmax(args: AxisArgs): void;
  logSoftmax(args: AxisArgs): void;
  /** y·(g − Σ g·y) from the softmax y. */
  softmaxBackward(args: AxisGradArgs): void;
  /** g − exp(y)·Σ g from the log-softmax y. */
  logSoftmaxBackward(args: AxisGradArgs): void;

  // The negative log-likelihood on class indices (cross-entropy after a log-softmax).
  /**
   * Over the rows of `input` (every position but the class `axis`) whose int32
   * `target` (the input's shape without that axis) is a class (≥ 0; a negative
   * index is an ignored row), with w the per-class weight (1 without one), into the
   * float64 `out` [3]: Σ w_y·x_y, Σ Σ_c w_c·x_c (label smoothing's term) and
   * Σ w_y, each accumulated in float64 (torch's nll_loss output and
   * total_weight, before the negation and the mean).
   */
  nllLoss(args: { input: NDArray; target: NDArray; weight: NDArray | undefined; axis: number; out: NDArray }): void;
  /**
   * The gradient of −(1 − ε)·Σ w_y·x_y − (ε/C)·Σ Σ_c w_c·x_c, times `scale`, into
   * `out` (the input's shape): −scale·((1 − ε)·w_y·[c = y] + (ε/C)·w_c) on every
   * counted row, +0 on ignored rows.
   */
  nllLossBackward(args: {
    target: NDArray;
    weight: NDArray | undefined;
    labelSmoothing: number;
    scale: number;
    axis: number;
    out: NDArray;
  }): void;

  // Normalisation over the trailing `features` of x, as torch's native_layer_norm.
  /** out = (x − mean)·invStd (·weight + bias); mean and invStd (one per row, float) are written too. */
  layerNorm(args: {
    x: NDArray;
    weight: NDArray | undefined;
    bias: NDArray | undefined;
    eps: number;
    out: NDArray;
    mean: NDArray;
    invStd: NDArray;
  }): void;
  /** The input gradient (into dx) and, when given, the weight and bias gradients (added into). */
  layerNormBackward(args: {
    grad: NDArray;
    x: NDArray;
    mean: NDArray;
    invStd: NDArray;
    weight: NDArray | undefined;
    dx: NDArray | undefined;
    dWeight: NDArray | undefined;
    dBias: NDArray | undefined;
  }): void;

  // Linear algebra.
  gemm(problem: GemmProblem): void;

  // Convolution and pooling (NCHW).
  /** x [N, C, H, W] unfolded into out [N, C·kh·kw, OH·OW]: row (c·kh + i)·kw + j holds tap (i, j) of channel c. */
  im2col(args: { x: NDArray; geometry: Conv2dGeometry; out: NDArray }): void;
  /** im2col's adjoint: out [N, C, H, W] = Σ of the columns onto the pixels they came from (out overwritten). */
  col2im(args: { cols: NDArray; geometry: Conv2dGeometry; out: NDArray }): void;
  /** Each window's maximum into out, and its position within the plane (int32) into indices. */
  maxPool2d(args: { x: NDArray; geometry: Pool2dGeometry; out: NDArray; indices: NDArray }): void;
  /** Each output's gradient onto the input position it came from (out overwritten). */
  maxPool2dBackward(args: { grad: NDArray; indices: NDArray; geometry: Pool2dGeometry; out: NDArray }): void;
  avgPool2d(args: { x: NDArray; geometry: Pool2dGeometry; divisor: AvgPoolDivisor; out: NDArray }): void;
  avgPool2dBackward(args: { grad: NDArray; geometry: Pool2dGeometry; divisor: AvgPoolDivisor; out: NDArray }): void;

  // Randomness, from a seeded generator (the draws are the generator's: torch's stream).
  uniform(args: { rng: Generator; low: number; high: number; out: NDArray }): void;
  normal(args: { rng: Generator; mean: number; std: number; out: NDArray }): void;

  // Optimizer updates: one kernel per step of one parameter, in place.
  sgdStep(args: SgdStepArgs): void;
  adamStep(args: AdamStepArgs): void;
  rmspropStep(args: RmspropStepArgs): void;
  adagradStep(args: AdagradStepArgs): void;
}

export type KernelName = keyof Kernels;

/** The argument record of the kernel called `name`, for implementations that destructure it. */
export type KernelArgs<K extends keyof Kernels> = Parameters<Kernels[K]>[0];
