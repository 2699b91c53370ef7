
import type { AvgPoolDivisor, KernelArgs, Kernels, Pool2dGeometry } from '../types';
import { host, hostFloat } from './host';

function maxPool2d({ x, geometry: g, out, indices }: KernelArgs<'maxPool2d'>): void {
  const input = hostFloat(x);
  const o = hostFloat(out);
  const argmax = host(indices);
  const { planes, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW } = g;
  let k = 0;
  for (let plane = 0; plane < planes; plane++) {
    const offset = plane * height * width;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = Math.max(oy * strideH - padH, 0);
      const y1 = Math.min(oy * strideH - padH + kernelH, height);
      for (let ox = 0; ox < outW; ox++, k++) {
        const x0 = Math.max(ox * strideW - padW, 0);
        const x1 = Math.min(ox * strideW - padW + kernelW, width);
        // As torch: start at −∞ and the window's first input, so an all −∞ window points there.
        let max = Number.NEGATIVE_INFINITY;
        let index = y0 * width + x0;
        for (let y = y0; y < y1; y++) {
          for (let i = y * width + x0, end = y * width + x1; i < end; i++) {
            const v = input[offset + i];
            // `>` keeps the first of equal maxima; a NaN always takes over, so the last NaN wins.
            if (v > max || Number.isNaN(v)) {
              max = v;
              index = i;
            }
          }
        }
        o[k] = max;
        argmax[k] = index;
      }
    }
  }
}

function maxPool2dBackward({
  grad,
  indices,
  geometry: g,
  out,
}: KernelArgs<'maxPool2dBackward'>): void {
  const gr = hostFloat(grad);
  const argmax = host(indices);
  const dx = hostFloat(out);
  dx.fill(0);
  const planeSize = g.height * g.width;
  const perPlane = g.outH * g.outW;
  let k = 0;
  for (let plane = 0; plane < g.planes; plane++) {
    const offset = plane * planeSize;
    for (let j = 0; j < perPlane; j++, k++) dx[offset + argmax[k]] += gr[k];
  }
}

/**
 * The divisor of output (oy, ox), as torch's `cpu_avg_pool` works it out:
 * with countIncludePad the window clipped to the padded input, otherwise
 * clipped to the input itself; or the override.
 */
function divisorAt(g: Pool2dGeometry, d: AvgPoolDivisor, oy: number, ox: number): number {
  if (d.divisorOverride !== null) return d.divisorOverride;
  const top = oy * g.strideH - g.padH;
  const left = ox * g.strideW - g.padW;
  if (d.countIncludePad) {
    return (Math.min(top + g.kernelH, g.height + g.padH) - top) * (Math.min(left + g.kernelW, g.width + g.padW) - left);
  }
  return (
    (Math.min(top + g.kernelH, g.height) - Math.max(top, 0)) * (Math.min(left + g.kernelW, g.width) - Math.max(left, 0))
  );
}

/** out = Σ window / divisor; float32 sums round after every addition, in row-major window order, as torch's. */
function avgPool2d({ x, geometry: g, divisor, out }: KernelArgs<'avgPool2d'>): void {
  const input = hostFloat(x);
  const o = hostFloat(out);
  const single = input instanceof Float32Array;
  const { planes, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW } = g;
  let k = 0;
  for (let plane = 0; plane < planes; plane++) {
    const offset = plane * height * width;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = Math.max(oy * strideH - padH, 0);
      const y1 = Math.min(oy * strideH - padH + kernelH, height);
      for (let ox = 0; ox < outW; ox++, k++) {
        const x0 = Math.max(ox * strideW - padW, 0);
        const x1 = Math.min(ox * strideW - padW + kernelW, width);
        let sum = 0;
        for (let y = y0; y < y1; y++) {
          for (let i = offset + y * width + x0, end = offset + y * width + x1; i < end; i++) {
            sum = single ? Math.fround(sum + input[i]) : sum + input[i];
          }
        }
        o[k] = sum / divisorAt(g, divisor, oy, ox);
      }
    }
  }
}

/** Adds grad / divisor (rounded to float32 first for float32, as torch) onto every input of each window. */
function avgPool2dBackward({
  grad,
  geometry: g,
  divisor,
  out,
}: KernelArgs<'avgPool2dBackward'>): void {
  const gr = hostFloat(grad);
  const dx = hostFloat(out);
  dx.fill(0);
  const single = gr instanceof Float32Array;
  const { planes, height, width, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW } = g;
  let k = 0;
  for (let plane = 0; plane < planes; plane++) {
    const offset = plane * height * width;
    for (let oy = 0; oy < outH; oy++) {
      const y0 = Math.max(oy * strideH - padH, 0);
      const y1 = Math.min(oy * strideH - padH + kernelH, height);
      for (let ox = 0; ox < outW; ox++, k++) {
        const x0 = Math.max(ox * strideW - padW, 0);
        const x1 = Math.min(ox * strideW - padW + kernelW, width);
        const share = gr[k] / divisorAt(g, divisor, oy, ox);
        const value = single ? Math.fround(share) : share;
        for (let y = y0; y < y1; y++) {
          for (let i = offset + y * width + x0, end = offset + y * width + x1; i < end; i++) dx[i] += value;
        }
      }
    }
  }
}

export const poolKernels = { maxPool2d, maxPool2dBackward, avgPool2d, avgPool2dBackward } satisfies Partial<Kernels>;
