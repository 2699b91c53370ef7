import { type NDArray, abs, checkNumber, div, greaterEqual, less, lessEqual, mul, sub, where } from '@backprop/ndarray';
import { ElementwiseLoss } from './elementwise';
import type { LossOptions } from './loss';
import type { Reduction, ScalarReduction } from './reduction';

/** Options of {@link SmoothL1Loss}. */
export interface SmoothL1LossOptions<R extends Reduction = ScalarReduction> extends LossOptions<R> {
  /** Where the loss turns from quadratic to linear; default 1, must be ≥ 0 (0 gives L1). */
  beta?: number;
}

/**
 * Smooth L1: with d = p − y, ℓ = 0.5d²/β where |d| < β, else |d| − 0.5β;
 * reduced by mean (default), sum or not ('none'). The gradient is d/β inside, ±1 outside.
 * β = 0 is the L1 loss, except that the gradient at d = 0 exactly is −1
 * (PyTorch's kernel tests d ≤ −β first), which we reproduce.
 * PyTorch: `torch.nn.SmoothL1Loss(reduction='mean', beta=1.0)`.
 *
 * @example
 * ```ts
 * const loss = new SmoothL1Loss({ beta: 0.5 });
 * loss.forward(prediction, target);
 * const grad = loss.backward();
 * ```
 */
export class SmoothL1Loss<R extends Reduction = 'mean'> extends ElementwiseLoss<R> {
  /** The quadratic-to-linear threshold β. */
  readonly beta: number;

  constructor(options: SmoothL1LossOptions<R> = {}) {
    super('SmoothL1Loss', options, ['reduction', 'beta']);
    this.beta = checkNumber('SmoothL1Loss', 'beta', options?.beta ?? 1, { min: 0 });
  }

  protected override elementLosses(p: NDArray, y: NDArray): NDArray {
    const dtype = p.dtype;
    const beta = this.c(this.beta, dtype);
    const z = this.tmp('z', p);
    const quadratic = this.tmp('quadratic', p);
    const linear = this.tmp('linear', p);
    abs(sub(p, y, z), z);
    // PyTorch: z < β ? 0.5·z·z/β : z − 0.5·β. With β = 0 the quadratic branch
    // is NaN or ∞, but z < 0 never picks it.
    div(mul(mul(z, this.c(0.5, dtype), quadratic), z, quadratic), beta, quadratic);
    sub(z, this.c(0.5 * this.beta, dtype), linear);
    return where(less(z, beta, this.tmp('inside', p)), quadratic, linear, quadratic);
  }

  protected override gradient(p: NDArray, y: NDArray, outputGrad: number | NDArray): NDArray {
    const dtype = p.dtype;
    const d = sub(p, y, this.tmp('d', p));
    const slope = this.tmp('slope', p);
    const mask = this.tmp('mask', p);
    // PyTorch's order: d ≤ −β ? −1 : d ≥ β ? 1 : d/β, so β = 0 and d = 0 give −1.
    div(d, this.c(this.beta, dtype), slope);
    where(greaterEqual(d, this.c(this.beta, dtype), mask), this.c(1, dtype), slope, slope);
    where(lessEqual(d, this.c(-this.beta, dtype), mask), this.c(-1, dtype), slope, slope);
    return this.scaled(slope, outputGrad);
  }
}
