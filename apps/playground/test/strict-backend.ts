/**
 * A backend that behaves as the WebGPU backend does where it matters to the
 * trainers, for tests in Node (which has no GPU here): its arrays live in
 * boxes off the host (ndarray's boxed test backend, whose kernels are the
 * TypeScript ones), a synchronous read (`.data`, `item()`) throws as a GPU's
 * does, `await toHost()` works, and it holds float32 and int32 only.
 */
import { type Backend, type DType, type DeviceStorage, DTypeError } from '@backprop/ndarray';
import { createBoxedBackend } from '@backprop/ndarray/test';

export interface StrictBackend extends Backend {
  /** Synchronous reads attempted (each threw). */
  syncReads: number;
  /** Reads with `await toHost()` / `itemAsync()`. */
  asyncReads: number;
}

export function createStrictBackend(name = 'strict'): StrictBackend {
  const boxed = createBoxedBackend(`${name}-boxes`);
  const strict: StrictBackend = {
    name,
    kernels: boxed.kernels,
    dtypes: ['float32', 'int32'],
    syncReads: 0,
    asyncReads: 0,
    allocate(dtype: DType, size: number): DeviceStorage {
      if (dtype === 'float64') throw new DTypeError(`${name}: float64 arrays cannot live here (as on a GPU)`);
      return guard(boxed.allocate!(dtype, size) as DeviceStorage);
    },
  };
  // A box seen through an object whose prototype is the box: still one of the boxed backend's boxes for its kernels.
  function guard(box: DeviceStorage): DeviceStorage {
    const view = Object.create(box) as DeviceStorage;
    Object.defineProperties(view, {
      backend: { value: name },
      readSync: {
        value: () => {
          strict.syncReads++;
          throw new Error(`${name}: a synchronous read of an array that lives off the host (use await toHost())`);
        },
      },
      read: {
        value: async () => {
          strict.asyncReads++;
          return box.readSync();
        },
      },
      subarray: { value: (begin: number, end: number) => guard(box.subarray!(begin, end)) },
    });
    return view;
  }
  return strict;
}
