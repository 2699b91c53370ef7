import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Sequential } from '@backprop/layers';
import { type NDArray, TorchGenerator, decodeSafetensors, encodeSafetensors } from '@backprop/ndarray';
import type { Normalization } from '@backprop/data/mnist';
import { type Architecture, ArchitectureError, buildModel, parseArchitecture, stateDictShapes } from './models';
import { isRunning, syncFolder } from './output';

/** What a model file records beside its weights (in the safetensors `__metadata__`). */
export interface ModelMetadata {
  architecture: Architecture;
  /** The input standardization the model was trained with; `--eval` applies the same. */
  normalization: Normalization;
  /** The `--seed` of the run that trained it. */
  seed?: number;
  /** Test accuracy (a fraction) measured at the end of training. */
  testAccuracy?: number;
  /** How it was trained (optimizer, lr, epochs, batch size), for the record. */
  training?: Record<string, unknown>;
}

/** A model file that cannot be read or does not describe a model this app can build. */
export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

/** The file-system calls `writeFileAtomic` makes; tests replace `writeSync` to fail a write midway. */
export interface AtomicWriteIO {
  writeSync(fd: number, data: Uint8Array, offset: number, length: number): number;
}

/**
 * Writes a file so that a crash or a full disk never costs the old one: the
 * bytes go to a temporary file in the same folder, are flushed to the disk
 * (fsync), and only then renamed over `path` (atomic on POSIX file systems).
 * If anything fails, the temporary file is removed and `path` is untouched.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, io: AtomicWriteIO = { writeSync }): void {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const folder = dirname(path);
  mkdirSync(folder, { recursive: true });
  removeStaleTemporaries(path);
  const temporary = join(folder, `.${basename(path)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temporary, 'w');
    for (let offset = 0; offset < bytes.length; ) {
      offset += io.writeSync(fd, bytes, offset, bytes.length - offset);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  syncFolder(folder);
}

/** Removes the temporary files of earlier writes of `path` whose process was killed before it could (`.<name>.<pid>.tmp`). */
function removeStaleTemporaries(path: string): void {
  const prefix = `.${basename(path)}.`;
  for (const entry of readdirSync(dirname(path))) {
    const pid = entry.startsWith(prefix) ? /^(\d+)\.tmp$/.exec(entry.slice(prefix.length))?.[1] : undefined;
    if (pid !== undefined && !isRunning(Number(pid))) rmSync(join(dirname(path), entry), { force: true });
  }
}

/**
 * The safetensors bytes of a model: its `stateDict()` under PyTorch's names
 * (`0.weight`, `0.bias`, …) and the metadata as strings (JSON where
 * structured), with `format: "pt"` as `safetensors.torch.save_file` writes, so
 * `model.load_state_dict(safetensors.torch.load_file(path))` reads it in PyTorch.
 */
export function encodeModel(model: Sequential, metadata: ModelMetadata): Uint8Array {
  const meta: Record<string, string> = {
    format: 'pt',
    architecture: JSON.stringify(metadata.architecture),
    normalization: JSON.stringify(metadata.normalization),
  };
  if (metadata.seed !== undefined) meta.seed = String(metadata.seed);
  if (metadata.testAccuracy !== undefined) meta.testAccuracy = String(metadata.testAccuracy);
  if (metadata.training !== undefined) meta.training = JSON.stringify(metadata.training);
  return encodeSafetensors(model.stateDict(), meta);
}

/** Saves `model` as `path` (a `.safetensors` file), atomically. */
export function saveModel(path: string, model: Sequential, metadata: ModelMetadata): void {
  writeFileAtomic(path, encodeModel(model, metadata));
}

/**
 * The largest model file `loadModel` reads: 256 MiB, a model of 64 million
 * float32 weights (the app's MLP is 0.4 MB). It is a bound on what a file can
 * make the app allocate, and it stops a read of an endless file (`/dev/zero`).
 */
export const MAX_MODEL_FILE_BYTES = 256 * 1024 * 1024;

/**
 * Normalizations `loadModel` accepts: the mean and std of pixels in [0, 1],
 * so a mean in [0, 1] and a std in [0.01, 1] (torch's MNIST recipe is 0.1307,
 * 0.3081; none at all is 0, 1). A std of 1e-30 would scale the digits by 1e30.
 */
export const NORMALIZATION_BOUNDS = { mean: [0, 1], std: [0.01, 1] } as const;

/** Names for a message: the first five, and how many more (a file may hold millions). */
const listed = (names: readonly string[]): string =>
  names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;

/** Reads at most `maxBytes` of `path`, in pieces, so a device or a pipe without end cannot exhaust memory. */
function readBounded(path: string, maxBytes: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw new ModelFileError(`${path} is ${size} bytes; a model file may be at most ${maxBytes} bytes`);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = new Uint8Array(Math.min(1 << 20, maxBytes + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) throw new ModelFileError(`${path} holds more than ${maxBytes} bytes; a model file may be at most ${maxBytes} bytes`);
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/** Throws if a weight is NaN or infinite: such a model only fails later, far from the file. */
function checkFinite(path: string, name: string, tensor: NDArray): void {
  const data = tensor.data;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new ModelFileError(`${path}: tensor '${name}' holds ${data[i]} at flat index ${i}; model weights must be finite`);
    }
  }
}

/** Throws unless the tensors are exactly those the architecture's model holds (names and shapes), before it is built. */
function checkTensorsFit(path: string, architecture: Architecture, tensors: Record<string, NDArray>): void {
  const expected = stateDictShapes(architecture);
  const fail: (what: string) => never = (what) => {
    throw new ModelFileError(`${path}: the weights do not fit the architecture '${architecture.name}': ${what}`);
  };
  for (const [name, shape] of Object.entries(expected)) {
    const tensor = Object.hasOwn(tensors, name) ? tensors[name] : undefined;
    if (tensor === undefined) fail(`it needs a tensor '${name}' of shape [${shape.join(', ')}], which the file does not hold`);
    if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
      fail(`tensor '${name}' has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
  }
  const unexpected = Object.keys(tensors).filter((name) => !Object.hasOwn(expected, name));
  if (unexpected.length > 0) fail(`the file holds tensors the architecture has no place for: ${listed(unexpected)}`);
}

/** A metadata number: the whole string must be a finite number within [min, max] (an integer if asked). */
function metadataNumber(path: string, key: string, text: string, { min, max, integer = false }: { min: number; max: number; integer?: boolean }): number {
  const value = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new ModelFileError(
      `${path}: metadata '${key}' must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
  return value;
}

function parseJson(path: string, key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelFileError(`${path}: metadata '${key}' is not valid JSON (${(error as Error).message})`);
  }
}

/**
 * When a file has no `architecture` metadata (a bare PyTorch `save_file` of an
 * `nn.Sequential` of Linear layers with ReLU between them), the architecture
 * the tensor names and shapes imply: `0.weight` [h, 784], `2.weight` [10, h], …
 */
export function inferMlpArchitecture(tensors: Record<string, { shape: readonly number[] }>): Architecture | undefined {
  const layers: Architecture['layers'] = [];
  const keys = new Set(Object.keys(tensors));
  let index = 0;
  let features: number | undefined;
  while (keys.has(`${index}.weight`)) {
    const weight = tensors[`${index}.weight`].shape;
    const bias = tensors[`${index}.bias`]?.shape;
    if (weight.length !== 2 || bias === undefined || bias.length !== 1 || bias[0] !== weight[0]) return undefined;
    if (features !== undefined && weight[1] !== features) return undefined;
    if (index > 0) layers.push({ type: 'ReLU' });
    layers.push({ type: 'Linear', inFeatures: weight[1], outFeatures: weight[0] });
    keys.delete(`${index}.weight`);
    keys.delete(`${index}.bias`);
    features = weight[0];
    index += 2;
  }
  if (layers.length === 0 || keys.size > 0) return undefined;
  const first = layers[0] as { inFeatures: number };
  return { name: 'mlp', inputShape: [first.inFeatures], layers };
}

/**
 * Reads a model file written by {@link saveModel} (or by PyTorch with the same
 * metadata): rebuilds the architecture from the metadata, loads the weights
 * strictly (every name and shape must match) and returns the model in eval
 * mode with its metadata. A file without `architecture` metadata is read as
 * an MLP when its tensors are one; without `normalization` it gets
 * `fallbackNormalization` if given, else an error.
 *
 * Everything in the file is checked before the model is built, so a hostile
 * file costs no more than its own size: at most `maxBytes` are read
 * ({@link MAX_MODEL_FILE_BYTES}), the architecture is within
 * `ARCHITECTURE_LIMITS` and its tensors are exactly the file's (names and
 * shapes), every weight is finite, the normalization within
 * {@link NORMALIZATION_BOUNDS}, `seed` an integer and `testAccuracy` a number
 * in [0, 1]. Each problem is a {@link ModelFileError} naming the file.
 */
export function loadModel(
  path: string,
  { fallbackNormalization, maxBytes = MAX_MODEL_FILE_BYTES }: { fallbackNormalization?: Normalization; maxBytes?: number } = {},
): { model: Sequential; metadata: ModelMetadata } {
  let bytes: Uint8Array;
  try {
    bytes = readBounded(path, maxBytes);
  } catch (error) {
    if (error instanceof ModelFileError) throw error;
    throw new ModelFileError(`cannot read model file ${path}: ${(error as Error).message}`);
  }
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (error) {
    throw new ModelFileError(`${path} is not a valid safetensors file: ${(error as Error).message}`);
  }
  const { tensors, metadata: raw } = decoded;
  // No prototype: a tensor named `__proto__` or `constructor` is a name like any other.
  const floats: Record<string, NDArray> = Object.create(null);
  for (const [name, tensor] of Object.entries(tensors)) {
    if (tensor.dtype === 'int32') {
      throw new ModelFileError(`${path}: tensor '${name}' is ${tensor.dtype}; model weights must be float32 or float64`);
    }
    checkFinite(path, name, tensor);
    floats[name] = tensor;
  }
  let architecture: Architecture;
  if (raw.architecture !== undefined) {
    try {
      architecture = parseArchitecture(parseJson(path, 'architecture', raw.architecture));
    } catch (error) {
      if (error instanceof ArchitectureError) throw new ModelFileError(`${path}: ${error.message}`);
      throw error;
    }
  } else {
    const inferred = inferMlpArchitecture(floats);
    if (inferred === undefined) {
      throw new ModelFileError(
        `${path} has no 'architecture' metadata and its tensors (${listed(Object.keys(floats))}) are not a Linear/ReLU stack; ` +
          'save it with this app, or add the architecture JSON to the metadata',
      );
    }
    try {
      architecture = parseArchitecture(inferred);
    } catch (error) {
      if (error instanceof ArchitectureError) {
        throw new ModelFileError(`${path}: the Linear/ReLU stack its tensors form is not one this app builds: ${error.message}`);
      }
      throw error;
    }
  }
  checkTensorsFit(path, architecture, floats);
  let normalization: Normalization;
  if (raw.normalization !== undefined) {
    const parsed = parseJson(path, 'normalization', raw.normalization) as Partial<Normalization> | null;
    const { mean: meanBounds, std: stdBounds } = NORMALIZATION_BOUNDS;
    const within = (x: unknown, [lo, hi]: readonly [number, number]) => typeof x === 'number' && x >= lo && x <= hi;
    if (!(within(parsed?.mean, meanBounds) && within(parsed?.std, stdBounds))) {
      throw new ModelFileError(
        `${path}: metadata 'normalization' must be {"mean": number in [${meanBounds.join(', ')}], "std": number in [${stdBounds.join(', ')}]} ` +
          `(the statistics of pixels in [0, 1]), got ${JSON.stringify(raw.normalization.slice(0, 120))}`,
      );
    }
    normalization = { mean: parsed?.mean as number, std: parsed?.std as number };
  } else if (fallbackNormalization !== undefined) {
    normalization = fallbackNormalization;
  } else {
    throw new ModelFileError(`${path} has no 'normalization' metadata: the input mean and std the model was trained with are unknown`);
  }
  const metadata: ModelMetadata = { architecture, normalization };
  if (raw.seed !== undefined) metadata.seed = metadataNumber(path, 'seed', raw.seed, { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });
  if (raw.testAccuracy !== undefined) metadata.testAccuracy = metadataNumber(path, 'testAccuracy', raw.testAccuracy, { min: 0, max: 1 });
  if (raw.training !== undefined) {
    const training = parseJson(path, 'training', raw.training);
    if (training === null || typeof training !== 'object' || Array.isArray(training)) {
      throw new ModelFileError(`${path}: metadata 'training' must be a JSON object, got ${JSON.stringify(raw.training.slice(0, 80))}`);
    }
    metadata.training = training as Record<string, unknown>;
  }
  // Everything is checked: only now is the model built. The weights are overwritten at once;
  // the generator only satisfies the constructors.
  const model = buildModel(architecture, new TorchGenerator(0));
  try {
    model.loadStateDict(floats);
  } catch (error) {
    throw new ModelFileError(`${path}: the weights do not fit the architecture '${architecture.name}': ${(error as Error).message}`);
  }
  return { model: model.eval(), metadata };
}
