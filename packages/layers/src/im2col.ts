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

/** Writes the columns of the image at `x[xOffset..]` into `cols` ([C·kh·kw, OH·OW], overwritten). */
export function im2col(x: TypedArray, xOffset: number, g: ConvGeometry, cols: TypedArray): void {
  const { channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, outH, outW } = g;
  const positions = outH * outW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const channelOffset = xOffset + c * height * width;
    for (let i = 0; i < kernelH; i++) {
      for (let j = 0; j < kernelW; j++, row++) {
        let k = row * positions;
        for (let oy = 0; oy < outH; oy++) {
          const iy = oy * strideH - padH + i * dilationH;
          if (iy < 0 || iy >= height) {
            cols.fill(0, k, k + outW);
            k += outW;
            continue;
          }
          const rowOffset = channelOffset + iy * width;
          for (let ox = 0; ox < outW; ox++, k++) {
            const ix = ox * strideW - padW + j * dilationW;
            cols[k] = ix >= 0 && ix < width ? x[rowOffset + ix] : 0;
          }
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
        let k = row * positions;
        for (let oy = 0; oy < outH; oy++) {
          const iy = oy * strideH - padH + i * dilationH;
          if (iy < 0 || iy >= height) {
            k += outW;
            continue;
          }
          const rowOffset = channelOffset + iy * width;
          for (let ox = 0; ox < outW; ox++, k++) {
            const ix = ox * strideW - padW + j * dilationW;
            if (ix >= 0 && ix < width) dx[rowOffset + ix] += cols[k];
          }
        }
      }
    }
  }
}
