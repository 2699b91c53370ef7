import type { DType, Generator } from '@backprop/ndarray';
import { ConvLayer, type PaddingString } from './conv-core';

/** A size along one dimension: `3`, or `[3]` as torch's one-element tuple. */
export type Size1d = number | readonly [number];

/** Options of {@link Conv1d}. */
export interface Conv1dOptions {
  /** Step between receptive fields, default 1. */
  stride?: Size1d;
  /**
   * Zeros added at both ends, default 0; or 'valid' (none) or 'same'
   * (stride 1 only: the output is as long as the input; an odd total of
   * d·(k − 1) puts the extra zero at the end, as in torch).
   */
  padding?: Size1d | PaddingString;
  /** Spacing between kernel taps, default 1. */
  dilation?: Size1d;
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
 * 1-D convolution (cross-correlation) over [N, C, L] input, as
 * `torch.nn.Conv1d(inChannels, outChannels, kernelSize, stride, padding,
 * dilation, groups, bias=bias)` with zero padding.
 *
 * `weight` is [outChannels, inChannels/groups, k] and `bias` [outChannels] (or
 * null), initialised as torch does (kaiming-uniform a = √5, then the bias from
 * U(−1/√fan_in, 1/√fan_in) with fan_in = inChannels/groups·k), so after
 * `manualSeed(s)` the parameters equal torch's bit for bit.
 *
 * Input [N, C, L] gives [N, O, OL] with OL = ⌊(L + 2·p − d·(k − 1) − 1) / s⌋ + 1;
 * an unbatched [C, L] gives [O, OL], as in torch. It is Conv2d's machinery
 * on images of height 1 (im2col, one batched gemm; col2im in backward).
 *
 * @example
 * const conv = new Conv1d(16, 32, 5, { padding: 'same' });
 * conv.forward(zeros([8, 16, 100])).shape   // [8, 32, 100]
 */
export class Conv1d extends ConvLayer {
  declare readonly kernelSize: readonly [number];
  declare readonly stride: readonly [number];
  declare readonly padding: readonly [number] | PaddingString;
  declare readonly dilation: readonly [number];

  constructor(inChannels: number, outChannels: number, kernelSize: Size1d, options: Conv1dOptions = {}) {
    super({ name: 'Conv1d', dims: 1, transposed: false }, inChannels, outChannels, kernelSize, options);
  }

  override get typeName(): string {
    return this.namedAs(Conv1d, 'Conv1d');
  }
}
