import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Sequential } from '@backprop/layers';
import { NDArray, TorchGenerator, decodeSafetensors, encodeSafetensors } from '@backprop/ndarray';
import type { Normalization } from '@backprop/data/mnist';
import { type Architecture, ArchitectureError, buildModel, parseArchitecture } from './models';

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

/** Flushes the folder's entry for the renamed file, where the platform allows it. */
function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open a folder; the rename itself is already durable enough there.
  } finally {
    if (fd !== undefined) closeSync(fd);
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
 */
export function loadModel(
  path: string,
  { fallbackNormalization }: { fallbackNormalization?: Normalization } = {},
): { model: Sequential; metadata: ModelMetadata } {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new ModelFileError(`cannot read model file ${path}: ${(error as Error).message}`);
  }
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (error) {
    throw new ModelFileError(`${path} is not a valid safetensors file: ${(error as Error).message}`);
  }
  const { tensors, metadata: raw } = decoded;
  const floats: Record<string, NDArray> = {};
  for (const [name, tensor] of Object.entries(tensors)) {
    if (tensor.dtype === 'int32') {
      throw new ModelFileError(`${path}: tensor '${name}' is ${tensor.dtype}; model weights must be float32 or float64`);
    }
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
        `${path} has no 'architecture' metadata and its tensors (${Object.keys(floats).join(', ')}) are not a Linear/ReLU stack; ` +
          'save it with this app, or add the architecture JSON to the metadata',
      );
    }
    architecture = inferred;
  }
  let normalization: Normalization;
  if (raw.normalization !== undefined) {
    const parsed = parseJson(path, 'normalization', raw.normalization) as Partial<Normalization> | null;
    if (!(typeof parsed?.mean === 'number' && typeof parsed.std === 'number' && parsed.std > 0)) {
      throw new ModelFileError(`${path}: metadata 'normalization' must be {"mean": number, "std": number > 0}, got ${raw.normalization}`);
    }
    normalization = { mean: parsed.mean, std: parsed.std };
  } else if (fallbackNormalization !== undefined) {
    normalization = fallbackNormalization;
  } else {
    throw new ModelFileError(`${path} has no 'normalization' metadata: the input mean and std the model was trained with are unknown`);
  }
  // The weights are overwritten at once; the generator only satisfies the constructors.
  const model = buildModel(architecture, new TorchGenerator(0));
  try {
    model.loadStateDict(floats);
  } catch (error) {
    throw new ModelFileError(`${path}: the weights do not fit the architecture '${architecture.name}': ${(error as Error).message}`);
  }
  const metadata: ModelMetadata = { architecture, normalization };
  if (raw.seed !== undefined) metadata.seed = Number(raw.seed);
  if (raw.testAccuracy !== undefined) metadata.testAccuracy = Number(raw.testAccuracy);
  if (raw.training !== undefined) metadata.training = parseJson(path, 'training', raw.training) as Record<string, unknown>;
  return { model: model.eval(), metadata };
}
