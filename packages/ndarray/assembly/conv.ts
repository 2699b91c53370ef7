// WebAssembly kernels of convolution for @backprop/ndarray (compiled by
// scripts/build-wasm.mjs into a module of their own): im2col (`unfold`) and
// its adjoint col2im (`fold`), in float32 and float64. In TypeScript these
// are loops of index arithmetic around one load and one store; here an
// unstrided row of a receptive field is one `memory.copy`, col2im adds whole
// rows in SIMD lanes, and nothing is checked per element.
//
// The host copies operands into linear memory from `dataStart()` on, with
// the geometry as a record of int32 fields (in the order of the indices
// below), and grows the memory first; nothing is allocated here. Every entry
// takes the record's address, then its inputs', then its outputs'. Results
// equal the TypeScript kernels (src/kernels/js/conv.ts) bit for bit: the same
// values are copied and added in the same order.

import { dataStart, field } from './common';

export { dataStart };

// Conv2dGeometry's fields, by index in the record.
const BATCH = 0;
const CHANNELS = 1;
const HEIGHT = 2;
const WIDTH = 3;
const KERNEL_H = 4;
const KERNEL_W = 5;
const STRIDE_H = 6;
const STRIDE_W = 7;
const PAD_H = 8;
const PAD_W = 9;
const DILATION_H = 10;
const DILATION_W = 11;
const OUT_H = 12;
const OUT_W = 13;

/** The first output column ox whose input column ox·stride + offset is ≥ 0. */
@inline
function firstInside(offset: i32, stride: i32, outW: i32): i32 {
  const lo = offset >= 0 ? 0 : (stride - 1 - offset) / stride;
  return min(lo, outW);
}

/** One past the last output column whose input column ox·stride + offset is < width (at least lo). */
@inline
function pastInside(offset: i32, stride: i32, width: i32, outW: i32, lo: i32): i32 {
  const last = width - 1 - offset;
  const hi = last < 0 ? 0 : min(outW, last / stride + 1);
  return max(lo, hi);
}

/**
 * The loops im2col and col2im share, over every (image, channel, kernel row,
 * kernel column, output row) of `image` [N, C, H, W] and `cols`
 * [N, C·kh·kw, OH·OW]: with `fold` false, im2col (cols overwritten with the
 * pixels, 0 in the padding); with `fold` true, col2im (image overwritten with
 * the sum of the columns on the pixels they came from).
 */
function sweep<T>(g: usize, image: usize, cols: usize, fold: bool): void {
  const size = <usize>sizeof<T>();
  const lanes = 16 / sizeof<T>();
  const batch = field(g, BATCH);
  const channels = field(g, CHANNELS);
  const height = field(g, HEIGHT);
  const width = field(g, WIDTH);
  const kernelH = field(g, KERNEL_H);
  const kernelW = field(g, KERNEL_W);
  const strideH = field(g, STRIDE_H);
  const strideW = field(g, STRIDE_W);
  const padH = field(g, PAD_H);
  const padW = field(g, PAD_W);
  const dilationH = field(g, DILATION_H);
  const dilationW = field(g, DILATION_W);
  const outH = field(g, OUT_H);
  const outW = field(g, OUT_W);
  const rowBytes = <usize>outW * size;
  if (fold) memory.fill(image, 0, <usize>(batch * channels * height * width) * size);
  let k = cols;
  for (let plane = 0; plane < batch * channels; plane++) {
    const channel = image + <usize>(plane * height * width) * size;
    for (let i = 0; i < kernelH; i++) {
      for (let j = 0; j < kernelW; j++) {
        const offset = j * dilationW - padW;
        const lo = firstInside(offset, strideW, outW);
        const hi = pastInside(offset, strideW, width, outW, lo);
        for (let oy = 0; oy < outH; oy++, k += rowBytes) {
          const iy = oy * strideH - padH + i * dilationH;
          const outside = iy < 0 || iy >= height || lo == hi;
          const pixels = channel + <usize>(iy * width + offset) * size;
          if (fold) {
            if (outside) continue;
            // Each pixel of a row gets one addition per (kernel row, column, oy): lanes keep the order.
            let ox = lo;
            if (strideW == 1) {
              for (; ox + lanes <= hi; ox += lanes) {
                const at = pixels + <usize>ox * size;
                v128.store(at, v128.add<T>(v128.load(at), v128.load(k + <usize>ox * size)));
              }
            }
            for (; ox < hi; ox++) {
              const at = pixels + <usize>(ox * strideW) * size;
              store<T>(at, load<T>(at) + load<T>(k + <usize>ox * size));
            }
          } else if (outside) {
            memory.fill(k, 0, rowBytes);
          } else {
            memory.fill(k, 0, <usize>lo * size);
            if (strideW == 1) {
              memory.copy(k + <usize>lo * size, pixels + <usize>lo * size, <usize>(hi - lo) * size);
            } else {
              for (let ox = lo; ox < hi; ox++) store<T>(k + <usize>ox * size, load<T>(pixels + <usize>(ox * strideW) * size));
            }
            memory.fill(k + <usize>hi * size, 0, <usize>(outW - hi) * size);
          }
        }
      }
    }
  }
}

// The entries: the geometry record's address, then the inputs', then the outputs'.
export function unfoldF32(g: usize, x: usize, cols: usize): void {
  sweep<f32>(g, x, cols, false);
}
export function unfoldF64(g: usize, x: usize, cols: usize): void {
  sweep<f64>(g, x, cols, false);
}
export function foldF32(g: usize, cols: usize, dx: usize): void {
  sweep<f32>(g, dx, cols, true);
}
export function foldF64(g: usize, cols: usize, dx: usize): void {
  sweep<f64>(g, dx, cols, true);
}
