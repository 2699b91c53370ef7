/**
 * The kernels behind NDArray's own methods (`clone`, `astype`, `fill`), so
 * they work on any backend's storage. Internal: the methods are the API.
 *
 * A copy stays where its array is, as torch's `clone()` and `to(dtype)`
 * stay on the tensor's device: a host array (a batch, a state dict read
 * from a file) is copied on the host even while a GPU backend is active,
 * and `toBackend` moves it.
 */
import { type DType, allocate, isTypedArray } from '../dtype';
import { elementwiseKernels as ts } from '../kernels/js/elementwise';
import { getBackend, kernel } from '../kernels/registry';
import { NDArray } from '../ndarray';
import { checkArray, empty } from './operand';

/** A host array while the active backend keeps its arrays elsewhere: its copies are made on the host. */
function staysOnHost(x: NDArray): boolean {
  return isTypedArray(x.storage) && getBackend().allocate !== undefined;
}

export function copyKernel(x: NDArray): NDArray {
  if (staysOnHost(x)) return hostCopy(x, x.dtype);
  checkArray('clone', 'array', x);
  const out = empty(x.shape, x.dtype);
  kernel('copy', ts.copy)({ x, out });
  return out;
}

export function castKernel(x: NDArray, dtype: DType): NDArray {
  if (staysOnHost(x)) return hostCopy(x, dtype);
  checkArray('astype', 'array', x);
  const out = empty(x.shape, dtype);
  kernel(x.dtype === dtype ? 'copy' : 'cast', x.dtype === dtype ? ts.copy : ts.cast)({ x, out });
  return out;
}

/** `x` copied into a new host array of `dtype` by the TypeScript kernels. */
function hostCopy(x: NDArray, dtype: DType): NDArray {
  const out = new NDArray(allocate(dtype, x.size), x.shape);
  (x.dtype === dtype ? ts.copy : ts.cast)({ x, out });
  return out;
}

export function fillKernel(out: NDArray, value: number): void {
  if (staysOnHost(out)) {
    ts.fill({ out, value });
    return;
  }
  checkArray('fill', 'array', out);
  kernel('fill', ts.fill)({ out, value });
}
