/**
 * im2col and col2im for one NCHW image (internal to Conv2d, in its own module
 * so a bundle that only uses Linear leaves it out).
 *
 * `im2col` lays every receptive field out as a column: row (c·kh + i)·kw + j
 * of the [C·kh·kw, OH·OW] matrix holds input pixel (c, oy·sh − ph + i·dh,
 * ox·sw − pw + j·dw) for each output position (oy, ox), or 0 in the padding.
 * Rows are ordered as the weight [O, C, kh, kw] is, so the convolution is the
 * single product W[O, C·kh·kw] · cols. `col2im` is its adjoint: it adds each
 * column entry back onto the pixel it came from, which turns the gradient of
 * the columns into the gradient of the image.
 */
import type { TypedArray } from '@backprop/ndarray';

/** Sizes of one convolution, all integers. */
export interface ConvGeometry {
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

/** One output size, as torch computes it: ⌊(in + 2·pad − dilation·(kernel − 1) − 1) / stride⌋ + 1. */
export function convOutputSize(size: number, kernel: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((size + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

/**
 * The output columns ox whose input column ox·sw + offset lies inside the
 * image: [lo, hi), empty when none does. Computed once per kernel column, so
 * the copying loops below test no bounds per pixel.
 */
function validRange(offset: number, stride: number, width: number, outW: number): [number, number] {
  const lo = Math.min(outW, Math.max(0, Math.ceil(-offset / stride)));
  const hi = Math.max(lo, Math.min(outW, Math.floor((width - 1 - offset) / stride) + 1));
  return [lo, hi];
}

/** Writes the columns of the image at `x[xOffset..]` into `cols` ([C·kh·kw, OH·OW], overwritten). */
export function im2col(x: TypedArray, xOffset: number, g: ConvGeometry, cols: TypedArray): void {
  const { channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, outH, outW } = g;
  const positions = outH * outW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const channelOffset = xOffset + c * height * width;
    for (let i = 0; i < kernelH; i++) {
      for (let j = 0; j < kernelW; j++, row++) {
        const offset = j * dilationW - padW;
        const [lo, hi] = validRange(offset, strideW, width, outW);
        let k = row * positions;
        for (let oy = 0; oy < outH; oy++, k += outW) {
          const iy = oy * strideH - padH + i * dilationH;
          if (iy < 0 || iy >= height) {
            for (let ox = 0; ox < outW; ox++) cols[k + ox] = 0;
            continue;
          }
          const src = channelOffset + iy * width + offset;
          for (let ox = 0; ox < lo; ox++) cols[k + ox] = 0;
          for (let ox = lo; ox < hi; ox++) cols[k + ox] = x[src + ox * strideW];
          for (let ox = hi; ox < outW; ox++) cols[k + ox] = 0;
        }
      }
    }
  }
}

/** Adds the columns `cols` ([C·kh·kw, OH·OW]) onto the image at `dx[dxOffset..]` (accumulating). */
export function col2im(cols: TypedArray, g: ConvGeometry, dx: TypedArray, dxOffset: number): void {
  const { channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, outH, outW } = g;
  const positions = outH * outW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const channelOffset = dxOffset + c * height * width;
    for (let i = 0; i < kernelH; i++) {
      for (let j = 0; j < kernelW; j++, row++) {
        const offset = j * dilationW - padW;
        const [lo, hi] = validRange(offset, strideW, width, outW);
        let k = row * positions;
        for (let oy = 0; oy < outH; oy++, k += outW) {
          const iy = oy * strideH - padH + i * dilationH;
          if (iy < 0 || iy >= height) continue;
          const dst = channelOffset + iy * width + offset;
          for (let ox = lo; ox < hi; ox++) dx[dst + ox * strideW] += cols[k + ox];
        }
      }
    }
  }
}
