import {
  type DType,
  type Generator,
  type NDArray,
  ValueError,
  checkOptions,
  describe,
} from '@backprop/ndarray';
import { OutputBuffer, markReusing } from './buffers';
import { checkArrayArg, checkOutputGrad, checkRng } from './checks';
import { NeuralLayer } from './layer';

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
 * buffer of one uniform per element with `rng.uniform(u, 0, 1)` (whatever the
 * input's dtype) and keeps element i when u[i] < 1 − p. The scale is
 * 1 / (1 − p) rounded to the input's dtype, and each output is x · scale or
 * x · 0. This is torch's own CPU path, `bernoulli_(1 − p)` then
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

  /** What the last forward did: 'identity' (eval, p = 0), 'zero' (p = 1) or 'mask'. */
  private mode?: 'identity' | 'zero' | 'mask';
  private outputShape?: readonly number[];
  private dtype?: DType;
  private scale = 1;
  /** Scratch for the uniforms and the kept elements (1) of the last pass, reused while the size stays. */
  private uniforms?: Float64Array;
  private mask?: Uint8Array;
  /** The output and the input gradient, reused when they stay inside a Sequential. */
  private readonly outputBuffer = new OutputBuffer();
  private readonly inputGradBuffer = new OutputBuffer();

  constructor(p = 0.5, options: DropoutOptions = {}) {
    super();
    markReusing(this, new.target, Dropout);
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

  override toString(): string {
    return `Dropout(${this.p})`;
  }

  forward(input: NDArray): NDArray {
    checkArrayArg(this.toString(), 'input', input);
    this.outputShape = input.shape;
    this.dtype = input.dtype;
    const n = input.size;
    if (!this.training || this.p === 0 || n === 0) {
      this.mode = 'identity';
      return input;
    }
    // Both branches below write every element.
    const out = this.outputBuffer.produce(input.shape, input.dtype, false);
    const x = input.data;
    const y = out.data;
    if (this.p === 1) {
      this.mode = 'zero';
      for (let i = 0; i < n; i++) y[i] = x[i] * 0;
      return out;
    }
    this.mode = 'mask';
    if (this.uniforms === undefined || this.uniforms.length !== n) {
      this.uniforms = new Float64Array(n);
      this.mask = new Uint8Array(n);
    }
    const u = this.uniforms;
    const mask = this.mask!;
    this.rng.uniform(u, 0, 1);
    const keep = 1 - this.p;
    // torch divides a float32 mask by 1 − p in float32: both roundings matter for bit equality.
    this.scale = input.dtype === 'float32' ? Math.fround(1 / Math.fround(keep)) : 1 / keep;
    const scale = this.scale;
    for (let i = 0; i < n; i++) {
      const kept = u[i] < keep;
      mask[i] = kept ? 1 : 0;
      y[i] = x[i] * (kept ? scale : 0);
    }
    return out;
  }

  backward(outputGrad: NDArray): NDArray {
    const grad = checkOutputGrad(this.toString(), outputGrad, this.outputShape, this.dtype ?? 'float32');
    if (this.mode === 'identity') return grad;
    // Both branches below write every element.
    const dx = this.inputGradBuffer.produce(grad.shape, grad.dtype, false);
    const g = grad.data;
    const d = dx.data;
    if (this.mode === 'zero') {
      for (let i = 0; i < g.length; i++) d[i] = g[i] * 0;
      return dx;
    }
    const mask = this.mask!;
    const scale = this.scale;
    for (let i = 0; i < g.length; i++) d[i] = g[i] * (mask[i] === 1 ? scale : 0);
    return dx;
  }
}
