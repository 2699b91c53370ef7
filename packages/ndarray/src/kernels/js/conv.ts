/**
 * im2col and col2im in TypeScript, image by image. `im2col` lays every
 * receptive field out as a column: row (c·kh + i)·kw + j of an image's
 * [C·kh·kw, OH·OW] matrix holds input pixel (c, oy·sh − ph + i·dh,
 * ox·sw − pw + j·dw) for each output position (oy, ox), or 0 in the padding.
 * Rows are ordered as a weight [O, C, kh, kw] is, so a convolution is the
 * product W[O, C·kh·kw] · cols. `col2im` is its adjoint: it adds each column
 * entry back onto the pixel it came from.
 */
import type { FloatArray } from '../../dtype';
import type { Conv2dGeometry, KernelArgs, Kernels } from '../types';
import { hostFloat } from './host';

/**
 * The output columns ox whose input column ox·sw + offset lies inside the
 * image: [lo, hi), empty when none does. Computed once per kernel column, so
 * the copying loops test no bounds per pixel.
 */
function validRange(offset: number, stride: number, width: number, outW: number): [number, number] {
  const lo = Math.min(outW, Math.max(0, Math.ceil(-offset / stride)));
  const hi = Math.max(lo, Math.min(outW, Math.floor((width - 1 - offset) / stride) + 1));
  return [lo, hi];
}

/** One image at x[xOffset..] into its columns at cols[colsOffset..] (overwritten). */
function unfold(x: FloatArray, xOffset: number, g: Conv2dGeometry, cols: FloatArray, colsOffset: number): void {
  const { channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, outH, outW } = g;
  const positions = outH * outW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const channelOffset = xOffset + c * height * width;
    for (let i = 0; i < kernelH; i++) {
      for (let j = 0; j < kernelW; j++, row++) {
        const offset = j * dilationW - padW;
        const [lo, hi] = validRange(offset, strideW, width, outW);
        let k = colsOffset + row * positions;
        for (let oy = 0; oy < outH; oy++, k += outW) {
          const iy = oy * strideH - padH + i * dilationH;
          if (iy < 0 || iy >= height) {
            cols.fill(0, k, k + outW);
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

/** Adds one image's columns at cols[colsOffset..] onto dx[dxOffset..]. */
function fold(cols: FloatArray, colsOffset: number, g: Conv2dGeometry, dx: FloatArray, dxOffset: number): void {
  const { channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, outH, outW } = g;
  const positions = outH * outW;
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const channelOffset = dxOffset + c * height * width;
    for (let i = 0; i < kernelH; i++) {
      for (let j = 0; j < kernelW; j++, row++) {
        const offset = j * dilationW - padW;
        const [lo, hi] = validRange(offset, strideW, width, outW);
        let k = colsOffset + row * positions;
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

function im2col({ x, geometry: g, out }: KernelArgs<'im2col'>): void {
  const input = hostFloat(x);
  const cols = hostFloat(out);
  const image = g.channels * g.height * g.width;
  const perImage = g.channels * g.kernelH * g.kernelW * g.outH * g.outW;
  for (let b = 0; b < g.batch; b++) unfold(input, b * image, g, cols, b * perImage);
}

function col2im({ cols, geometry: g, out }: KernelArgs<'col2im'>): void {
  const columns = hostFloat(cols);
  const dx = hostFloat(out);
  dx.fill(0);
  const image = g.channels * g.height * g.width;
  const perImage = g.channels * g.kernelH * g.kernelW * g.outH * g.outW;
  for (let b = 0; b < g.batch; b++) fold(columns, b * perImage, g, dx, b * image);
}

export const convKernels = { im2col, col2im } satisfies Partial<Kernels>;
