import { type NDArray, abs, checkNumber, clip, less, mul, sub, where } from '@backprop/ndarray';
import { ElementwiseLoss } from './elementwise';
import type { LossOptions } from './loss';
import type { Reduction, ScalarReduction } from './reduction';

/** Options of {@link HuberLoss}. */
export interface HuberLossOptions<R extends Reduction = ScalarReduction> extends LossOptions<R> {
  /** Where the loss turns from quadratic to linear; default 1, must be > 0. */
  delta?: number;
}

/**
 * Huber loss: with d = p − y, ℓ = 0.5d² where |d| < δ, else δ(|d| − 0.5δ);
 * reduced by mean (default), sum or not ('none'). The gradient is d clamped to [−δ, δ].
 * Equal to δ · SmoothL1(β = δ).
 * PyTorch: `torch.nn.HuberLoss(reduction='mean', delta=1.0)`.
 *
 * @example
 * ```ts
 * const loss = new HuberLoss({ delta: 2 });
 * loss.forward(prediction, target);
 * const grad = loss.backward();
 * ```
 */
export class HuberLoss<R extends Reduction = 'mean'> extends ElementwiseLoss<R> {
  /** The quadratic-to-linear threshold δ. */
  readonly delta: number;

  constructor(options: HuberLossOptions<R> = {}) {
    super('HuberLoss', options, ['reduction', 'delta']);
    this.delta = checkNumber('HuberLoss', 'delta', options?.delta ?? 1, { min: 0, exclusiveMin: true });
  }

  protected override elementLosses(p: NDArray, y: NDArray): NDArray {
    const dtype = p.dtype;
    const delta = this.c(this.delta, dtype);
    const z = this.tmp('z', p);
    const quadratic = this.tmp('quadratic', p);
    const linear = this.tmp('linear', p);
    abs(sub(p, y, z), z);
    // PyTorch: z < δ ? 0.5·z·z : δ·(z − 0.5·δ)
    mul(mul(z, this.c(0.5, dtype), quadratic), z, quadratic);
    mul(delta, sub(z, this.c(0.5 * this.delta, dtype), linear), linear);
    return where(less(z, delta, this.tmp('inside', p)), quadratic, linear, quadratic);
  }

  protected override gradient(p: NDArray, y: NDArray, outputGrad: number | NDArray): NDArray {
    // d clamped to ±δ, with δ as the dtype holds it (PyTorch compares with its scalar_t δ).
    const delta = p.dtype === 'float32' ? Math.fround(this.delta) : this.delta;
    const d = sub(p, y, this.tmp('d', p));
    return this.scaled(clip(d, -delta, delta, d), outputGrad);
  }
}
