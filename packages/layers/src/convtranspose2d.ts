import type { DType, Generator } from '@backprop/ndarray';
import { ConvLayer } from './conv-core';
import type { Size2d } from './size2d';

/** Options of {@link ConvTranspose2d}. */
export interface ConvTranspose2dOptions {
  /** The stride of the convolution this one transposes (the upsampling factor), default 1. */
  stride?: Size2d;
  /** That convolution's zero padding: dilation·(k − 1) − padding zeros pad each side of the input, default 0. */
  padding?: Size2d;
  /**
   * Rows and columns added to one side of the output (default 0), to pick one
   * of the output sizes a strided convolution maps to the same input size; it
   * must be smaller than the stride or the dilation, as torch requires.
   */
  outputPadding?: Size2d;
  /** Spacing between kernel taps, default 1. */
  dilation?: Size2d;
  /** Split the channels into this many independent convolutions (default 1); it must divide both channel counts. */
  groups?: number;
  /** Learn a per-channel bias (default true). */
  bias?: boolean;
  /** Parameter dtype, float32 by default. */
  dtype?: DType;
  /** Generator for the initial weights; the global one by default. */
  rng?: Generator;
}

/**
 * 2-D transposed convolution ("deconvolution", fractionally strided
 * convolution) over NCHW input, as `torch.nn.ConvTranspose2d(inChannels,
 * outChannels, kernelSize, stride, padding, output_padding, groups, bias,
 * dilation)`: the gradient of a Conv2d with respect to its input, used as a
 * layer (learned upsampling).
 *
 * `weight` is [inChannels, outChannels/groups, kh, kw] (torch's layout, the
 * transpose of a Conv2d's) and `bias` [outChannels] (or null), initialised as
 * torch does: kaiming-uniform a = √5, with torch's fan_in computed from the
 * weight's dimension 1, outChannels/groups·kh·kw, and the bias from
 * U(−1/√fan_in, 1/√fan_in); bit for bit after `manualSeed(s)`.
 *
 * Input [N, C, H, W] gives [N, O, OH, OW] with
 * OH = (H − 1)·sh − 2·ph + dh·(kh − 1) + outputPadding_h + 1 (likewise OW); an
 * unbatched [C, H, W] gives [O, OH, OW]. Forward is one batched gemm
 * cols = Wᵀ·x then col2im onto the output; backward unfolds the output
 * gradient with im2col, then dx = W·dcols and dW += Σ x·dcolsᵀ (gemm).
 *
 * @example
 * const up = new ConvTranspose2d(16, 8, 3, { stride: 2, padding: 1, outputPadding: 1 });
 * up.forward(zeros([4, 16, 14, 14])).shape   // [4, 8, 28, 28]
 */
export class ConvTranspose2d extends ConvLayer {
  declare readonly kernelSize: readonly [number, number];
  declare readonly stride: readonly [number, number];
  declare readonly padding: readonly [number, number];
  declare readonly dilation: readonly [number, number];

  constructor(inChannels: number, outChannels: number, kernelSize: Size2d, options: ConvTranspose2dOptions = {}) {
    super({ name: 'ConvTranspose2d', dims: 2, transposed: true }, inChannels, outChannels, kernelSize, options);
  }

  /** The rows and columns added to one side of the output, [h, w]. */
  get outputPadding(): readonly [number, number] {
    const [h, w] = this.outputPaddingTuple;
    return [h, w];
  }

  override get typeName(): string {
    return this.namedAs(ConvTranspose2d, 'ConvTranspose2d');
  }
}
