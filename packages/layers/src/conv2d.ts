import type { DType, Generator } from '@backprop/ndarray';
import { ConvLayer, type PaddingString } from './conv-core';
import type { Size2d } from './size2d';

/** Options of {@link Conv2d}. */
export interface Conv2dOptions {
  /** Step between receptive fields, default 1. */
  stride?: Size2d;
  /**
   * Zeros added on every side, default 0; or 'valid' (none) or 'same'
   * (stride 1 only: the output is as large as the input; an even total goes
   * one more to the bottom and right, as in torch).
   */
  padding?: Size2d | PaddingString;
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
 * 2-D convolution (cross-correlation, as every framework computes it) over
 * NCHW input, as `torch.nn.Conv2d(inChannels, outChannels, kernelSize, stride,
 * padding, dilation, groups, bias=bias)` with zero padding.
 *
 * `weight` is [outChannels, inChannels/groups, kh, kw] and `bias` [outChannels]
 * (or null), initialised as torch does (kaiming-uniform a = √5, then the bias
 * from U(−1/√fan_in, 1/√fan_in) with fan_in = inChannels/groups·kh·kw), so after
 * `manualSeed(s)` the parameters equal torch's bit for bit.
 *
 * Input [N, C, H, W] gives [N, O, OH, OW] with OH = ⌊(H + 2·ph − dh·(kh − 1) − 1) / sh⌋ + 1
 * (likewise OW). An unbatched [C, H, W] input gives [O, OH, OW], as in torch.
 * Forward is im2col, then one batched gemm W[O, C·kh·kw] · cols onto the
 * bias; backward keeps the columns and uses gemm for dW += Σ g·colsᵀ and
 * dcols = Wᵀ·g, then col2im for dx (the shared machinery of `conv-core.ts`).
 *
 * @example
 * const conv = new Conv2d(1, 8, 3, { padding: 1 });
 * conv.forward(zeros([32, 1, 28, 28])).shape   // [32, 8, 28, 28]
 */
export class Conv2d extends ConvLayer {
  declare readonly kernelSize: readonly [number, number];
  declare readonly stride: readonly [number, number];
  declare readonly padding: readonly [number, number] | PaddingString;
  declare readonly dilation: readonly [number, number];

  constructor(inChannels: number, outChannels: number, kernelSize: Size2d, options: Conv2dOptions = {}) {
    super({ name: 'Conv2d', dims: 2, transposed: false }, inChannels, outChannels, kernelSize, options);
  }

  override get typeName(): string {
    return this.namedAs(Conv2d, 'Conv2d');
  }
}
