/**
 * A backend whose arrays are not host typed arrays: each is an opaque
 * `DeviceStorage` box, as a GPU buffer would be (the idea of ndarray's own
 * test/boxed-backend.ts, rebuilt here on ndarray's public API). Only its
 * kernels open the boxes: each runs the public op of the same name on host
 * views of the boxes' contents under the `js` backend, so it computes exactly
 * what `js` computes. It implements only the kernels an optimizer step needs
 * (a missing one is a KernelError naming it), and counts every read-back.
 */
import {
  type Backend,
  type DType,
  type DeviceStorage,
  type Kernels,
  NDArray,
  type TypedArray,
  adagradStep,
  adamStep,
  copyInto,
  firstOutside,
  rmspropStep,
  setBackend,
  sgdStep,
} from '@backprop/ndarray';

class Box implements DeviceStorage {
  readonly backend: string;
  readonly length: number;
  constructor(
    readonly owner: BoxedBackend,
    readonly contents: TypedArray,
    readonly dtype: DType,
  ) {
    this.backend = owner.name;
    this.length = contents.length;
  }
  readSync(): TypedArray {
    this.owner.readBacks++;
    return this.contents.slice();
  }
  async read(): Promise<TypedArray> {
    return this.readSync();
  }
  write(values: TypedArray): void {
    this.contents.set(values);
  }
}

export interface BoxedBackend extends Backend {
  /** How many times something read a box back to the host (`.data`, `toHost`). */
  readBacks: number;
}

/** A host view of a boxed array, for the `js` op that stands in for this backend's kernel. */
function open(x: NDArray): NDArray {
  const storage = x.storage;
  if (!(storage instanceof Box)) throw new Error('boxed backend: a kernel received an array that is not one of its boxes');
  return new NDArray(storage.contents, x.shape);
}

/** The same arguments with every array opened. */
function openAll<A extends object>(args: A): A {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) out[key] = value instanceof NDArray ? open(value) : value;
  return out as A;
}

/** Runs `run` with the `js` backend active, then restores this one. */
function onHost<T>(run: () => T): T {
  const previous = setBackend('js');
  try {
    return run();
  } finally {
    setBackend(previous);
  }
}

export function createBoxedBackend(name = 'boxed'): BoxedBackend {
  const kernels: Partial<Kernels> = {
    fill: ({ out, value }) => onHost(() => void open(out).fill(value)),
    copy: ({ x, out }) => onHost(() => void copyInto(open(out), open(x))),
    firstOutside: ({ x, low, high }) => onHost(() => firstOutside(open(x), low, high)),
    sgdStep: (args) => onHost(() => sgdStep(openAll(args))),
    adamStep: (args) => onHost(() => adamStep(openAll(args))),
    rmspropStep: (args) => onHost(() => rmspropStep(openAll(args))),
    adagradStep: (args) => onHost(() => adagradStep(openAll(args))),
  };
  const backend: BoxedBackend = {
    name,
    kernels,
    readBacks: 0,
    allocate(dtype: DType, size: number): DeviceStorage {
      const contents = dtype === 'float32' ? new Float32Array(size) : dtype === 'float64' ? new Float64Array(size) : new Int32Array(size);
      return new Box(backend, contents, dtype);
    },
  };
  return backend;
}
