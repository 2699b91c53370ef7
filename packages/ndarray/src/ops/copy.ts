/**
 * The kernels behind NDArray's own methods (`clone`, `astype`, `fill`), so
 * they work on any backend's storage. Internal: the methods are the API.
 */
import type { DType } from '../dtype';
import { elementwiseKernels as ts } from '../kernels/js/elementwise';
import { kernel } from '../kernels/registry';
import type { NDArray } from '../ndarray';
import { checkArray, empty } from './operand';

export function copyKernel(x: NDArray): NDArray {
  checkArray('clone', 'array', x);
  const out = empty(x.shape, x.dtype);
  kernel('copy', ts.copy)({ x, out });
  return out;
}

export function castKernel(x: NDArray, dtype: DType): NDArray {
  checkArray('astype', 'array', x);
  const out = empty(x.shape, dtype);
  kernel(x.dtype === dtype ? 'copy' : 'cast', x.dtype === dtype ? ts.copy : ts.cast)({ x, out });
  return out;
}

export function fillKernel(out: NDArray, value: number): void {
  checkArray('fill', 'array', out);
  kernel('fill', ts.fill)({ out, value });
}
