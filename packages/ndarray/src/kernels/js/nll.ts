
import type { KernelArgs, Kernels } from '../types';
import { host, hostFloat, span } from './host';

function nllLoss({ input, target, weight, axis, out }: KernelArgs<'nllLoss'>): void {
  const x = hostFloat(input);
  const y = host(target);
  const w = weight === undefined ? undefined : hostFloat(weight);
  const outer = span(input.shape, 0, axis);
  const C = input.shape[axis];
  const inner = span(input.shape, axis + 1, input.shape.length);
  let picked = 0;
  let all = 0;
  let total = 0;
  for (let o = 0; o < outer; o++) {
    for (let s = 0; s < inner; s++) {
      const c = y[o * inner + s];
      if (c < 0) continue; // an ignored row
      const base = o * C * inner + s;
      const wy = w === undefined ? 1 : w[c];
      picked += wy * x[base + c * inner];
      total += wy;
      let row = 0;
      if (w === undefined) for (let k = 0, i = base; k < C; k++, i += inner) row += x[i];
      else for (let k = 0, i = base; k < C; k++, i += inner) row += w[k] * x[i];
      all += row;
    }
  }
  const sums = hostFloat(out);
  sums[0] = picked;
  sums[1] = all;
  sums[2] = total;
}

function nllLossBackward({
  target,
  weight,
  labelSmoothing,
  scale,
  axis,
  out,
}: KernelArgs<'nllLossBackward'>): void {
  const g = hostFloat(out);
  const y = host(target);
  const w = weight === undefined ? undefined : hostFloat(weight);
  const outer = span(out.shape, 0, axis);
  const C = out.shape[axis];
  const inner = span(out.shape, axis + 1, out.shape.length);
  const spread = labelSmoothing / C;
  const keep = 1 - labelSmoothing;
  g.fill(0);
  for (let o = 0; o < outer; o++) {
    for (let s = 0; s < inner; s++) {
      const c = y[o * inner + s];
      if (c < 0) continue;
      const base = o * C * inner + s;
      // 0 − scale·a, so a zero coefficient gives +0 whatever scale's sign (as torch's).
      if (labelSmoothing !== 0) {
        for (let k = 0, i = base; k < C; k++, i += inner) g[i] = 0 - scale * (spread * (w === undefined ? 1 : w[k]));
      }
      const i = base + c * inner;
      const wy = w === undefined ? 1 : w[c];
      g[i] = 0 - scale * (keep * wy + (labelSmoothing === 0 ? 0 : spread * wy));
    }
  }
}

export const nllKernels = { nllLoss, nllLossBackward } satisfies Partial<Kernels>;
