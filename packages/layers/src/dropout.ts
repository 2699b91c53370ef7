import {
  type DType,
  type Generator,
  type NDArray,
  Slot,
  ValueError,
  checkOptions,
  describe,
  accumulatorDType,
  fillUniform,
  less,
  mul,
} from '@backprop/ndarray';
import { pythonFloat } from './python-repr';
import { checkArrayArg, checkOutputGrad, checkRng } from './checks';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';

/** Options of {@link Dropout}. */
export interface DropoutOptions {
  /** Generator the masks are drawn from; the global one (`manualSeed`) by default. */
  rng?: Generator;
}

/**
 * Inverted dropout, as `torch.nn.Dropout(p)`: in training mode each element
 * is zeroed with probability `p` and the survivors are scaled by 1 / (1 − p),
 * so the expected output equals the input; after `eval()` the layer is the
 * identity (it returns its input). Backward applies the same mask and scale.
 *
 * How the mask is drawn, exactly: each training forward pass fills a float64
 * array of one uniform per element (`fillUniform(u, 0, 1, rng)`, whatever the
 * input's dtype) and keeps element i when u[i] < 1 − p. The scale is
 * 1 / (1 − p) rounded to the input's dtype, and each output is x · scale or
 * x · 0 (a mask of scales and zeros, multiplied in). This is torch's own CPU path, `bernoulli_(1 − p)` then
 * `div_(1 − p)`, in builds without MKL (Debian's, for one): there, with a
 * `TorchGenerator` seeded as `torch.manual_seed`, the output is torch's bit for
 * bit. Builds with MKL (the x86 pip wheels) draw the Bernoulli mask through
 * MKL instead, so their masks differ (with the same distribution). As in
 * torch, p = 0 and p = 1 draw nothing: p = 0 returns the input, p = 1 returns
 * x · 0 (zeros, NaN where x is not finite).
 *
 * @example
 * const model = new Sequential(new Linear(784, 128), new ReLU(), new Dropout(0.2), new Linear(128, 10));
 * model.eval();   // dropout off for evaluation; model.train() turns it back on
 */
export class Dropout extends NeuralLayer {
  /** The probability of zeroing an element. */
  readonly p: number;
  /** Where the masks come from. */
  readonly rng: Generator;

  /** What the last forward did: 'identity' (eval, p = 0), or 'mask' (the mask holds 0 or the scale; all 0 for p = 1). */
  #mode?: 'identity' | 'mask';
  #outputShape?: readonly number[];
  #dtype?: DType;
  /** The uniforms (float64 whatever the dtype), and the mask of the last training pass. */
  readonly #uniforms = new Slot();
  readonly #mask = new Slot();
  /** 1 − p and the scale 1 / (1 − p) as 0-d arrays: ops take arrays, and these never change. */
  readonly #keep = new Slot();
  readonly #scale = new Slot();

  constructor(p = 0.5, options: DropoutOptions = {}) {
    super();
    const op = `Dropout(${describe(p)})`;
    checkOptions(op, options, ['rng']);
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
      throw new ValueError(
        `${op}: p (the probability of zeroing an element) must be a number in [0, 1], got ${describe(p)}`,
      );
    }
    this.p = p;
    this.rng = checkRng(op, options.rng);
  }

  override get typeName(): string {
    return this.namedAs(Dropout, 'Dropout');
  }

  override extraRepr(): string {
    return `p=${pythonFloat(this.p)}, inplace=False`;
  }

  protected override label(): string {
    return `Dropout(${this.p})`;
  }

  forward(input: NDArray, options?: ForwardOptions): NDArray {
    checkArrayArg(this.label(), 'input', input);
    this.#outputShape = input.shape;
    this.#dtype = input.dtype;
    if (!this.training || this.p === 0 || input.size === 0) {
      this.#mode = 'identity';
      return input;
    }
    this.#mode = 'mask';
    const mask = this.#mask.take(input.shape, input.dtype);
    const keep = 1 - this.p;
    // torch divides a float32 mask by 1 − p in float32: both roundings matter for bit equality.
    const scale = input.dtype === 'float32' ? Math.fround(1 / Math.fround(keep)) : 1 / keep;
    if (this.p === 1) {
      mask.fill(0); // torch draws nothing for p = 1: the output is x · 0
    } else {
      // Double uniforms, as torch's bernoulli_ draws; float32 ones on a backend without float64 (another mask for a seed).
      const uniformDType = accumulatorDType(input.dtype);
      const u = fillUniform(this.#uniforms.take(input.shape, uniformDType), 0, 1, this.rng);
      less(u, this.#keep.take([], uniformDType).fill(keep), mask); // 1 where kept
      mul(mask, this.#scale.take([], input.dtype).fill(scale), mask);
    }
    return mul(input, mask, this.output(options, input.shape, input.dtype));
  }

  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options?: BackwardOptions): NDArray | undefined {
    const grad = checkOutputGrad(this.label(), outputGrad, this.#outputShape, this.#dtype ?? 'float32');
    if (this.#mode === 'identity') return grad;
    if (options?.inputGrad === false) return undefined;
    return mul(grad, this.#mask.take(grad.shape, grad.dtype), this.output(options, grad.shape, grad.dtype));
  }
}
