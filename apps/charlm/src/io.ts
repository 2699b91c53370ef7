import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StateDictError } from '@backprop/layers';
import { type DType, type NDArray, SafetensorsError, decodeSafetensors, encodeSafetensors } from '@backprop/ndarray';
import { Vocabulary } from '@backprop/data/names';
import { type LanguageModel, MODEL_NAMES, type ModelConfig, type ModelName, buildModel, stateSize } from './models';

/** What a model file records beside its weights (in the safetensors `__metadata__`, as strings). */
export interface ModelMetadata {
  config: ModelConfig;
  vocab: Vocabulary;
  /** Anything else worth keeping with the weights (the recipe, the seed, the losses), as JSON. */
  extra?: Record<string, unknown>;
}

/** A model file that cannot be read or does not describe a model this app can build. */
export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

/** The largest model file {@link loadModel} reads: 64 MiB, far above the app's models (the default is 0.4 MB). */
export const MAX_MODEL_FILE_BYTES = 64 * 1024 * 1024;

/**
 * The bounds a file's configuration must keep: a file cannot make the app
 * build a model of billions of weights or a block of a million tokens.
 */
const BOUNDS: Record<string, [number, number]> = {
  vocabSize: [2, 1024],
  blockSize: [2, 1024],
  context: [1, 64],
  embedDim: [1, 4096],
  hidden: [1, 16384],
  heads: [1, 64],
  layers: [1, 64],
};

const FIELDS: Record<ModelName, readonly string[]> = {
  bigram: ['vocabSize', 'blockSize'],
  mlp: ['vocabSize', 'blockSize', 'context', 'embedDim', 'hidden'],
  lstm: ['vocabSize', 'blockSize', 'embedDim', 'hidden', 'layers'],
  transformer: ['vocabSize', 'blockSize', 'embedDim', 'heads', 'layers'],
};

/** What every model file says of its model: `config` and `vocab`, as JSON strings (model.safetensors' and model.onnx's metadata). */
export function describeModel(config: ModelConfig, vocab: Vocabulary): { config: string; vocab: string } {
  return { config: JSON.stringify(config), vocab: JSON.stringify(vocab.chars) };
}

/**
 * The safetensors bytes of a model: its `stateDict()` under PyTorch's names
 * (`wte.weight`, `encoder.layers.0.self_attn.in_proj_weight`, …) and, as
 * metadata, `config` and `vocab` (JSON) with `format: "pt"`, so
 * `model.load_state_dict(safetensors.torch.load_file(path))` reads it in
 * PyTorch (`tools/torch-fixtures/charlm.py` builds the same modules).
 */
export function encodeModel(model: LanguageModel, metadata: ModelMetadata): Uint8Array {
  const meta: Record<string, string> = { format: 'pt', ...describeModel(metadata.config, metadata.vocab) };
  for (const [key, value] of Object.entries(metadata.extra ?? {})) meta[key] = JSON.stringify(value);
  return encodeSafetensors(model.stateDict(), meta);
}

/** Checks a configuration read from a file; every problem names the field, the value and what is allowed. */
export function parseConfig(value: unknown): ModelConfig {
  const record = value as Record<string, unknown> | null;
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new ModelFileError(`config must be a JSON object, got ${JSON.stringify(value)}`);
  }
  const model = record.model as ModelName;
  if (!MODEL_NAMES.includes(model)) throw new ModelFileError(`config.model must be one of ${MODEL_NAMES.join(', ')}, got ${JSON.stringify(record.model)}`);
  const config: Record<string, unknown> = { model };
  for (const field of FIELDS[model]) {
    const n = record[field];
    const [min, max] = BOUNDS[field];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw new ModelFileError(`config.${field} of a ${model} must be an integer from ${min} to ${max}, got ${JSON.stringify(n)}`);
    }
    config[field] = n;
  }
  const extra = Object.keys(record).filter((key) => key !== 'model' && !FIELDS[model].includes(key));
  if (extra.length > 0) throw new ModelFileError(`config of a ${model} has unknown fields ${extra.join(', ')}`);
  if (model === 'transformer' && (config.embedDim as number) % (config.heads as number) !== 0) {
    throw new ModelFileError(`config.embedDim (${config.embedDim}) of a transformer must be divisible by config.heads (${config.heads})`);
  }
  return config as unknown as ModelConfig;
}

/** Reads at most `maxBytes` of `path`, so a device or a pipe without end cannot exhaust memory. */
function readBounded(path: string, maxBytes: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const hint = code === 'ENOENT' ? ' (train one first: pnpm charlm, or give --load <file>)' : '';
    throw new ModelFileError(`cannot read the model file ${path}: ${(error as Error).message}${hint}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ModelFileError(`${path} is not a file`);
    if (stat.size > maxBytes) throw new ModelFileError(`${path} is ${stat.size} bytes; a model file may be at most ${maxBytes} bytes`);
    const bytes = new Uint8Array(stat.size);
    for (let at = 0; at < bytes.length; ) {
      const n = readSync(fd, bytes, at, bytes.length - at, at);
      if (n === 0) throw new ModelFileError(`${path} ended after ${at} of ${bytes.length} bytes (changed while reading?)`);
      at += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

function parseJson(path: string, key: string, text: string | undefined): unknown {
  if (text === undefined) throw new ModelFileError(`${path}: the metadata has no '${key}'; is it a model written by pnpm charlm?`);
  try {
    return JSON.parse(text);
  } catch {
    throw new ModelFileError(`${path}: the metadata's '${key}' is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
}

/** A model decoded from safetensors bytes (`source` names them in errors). */
export function decodeModel(bytes: Uint8Array, source: string): { model: LanguageModel; metadata: ModelMetadata } {
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (error) {
    if (error instanceof SafetensorsError) throw new ModelFileError(`${source}: ${error.message}`);
    throw error;
  }
  const meta = decoded.metadata ?? {};
  let config: ModelConfig;
  let vocab: Vocabulary;
  try {
    config = parseConfig(parseJson(source, 'config', meta.config));
    const chars = parseJson(source, 'vocab', meta.vocab);
    if (!Array.isArray(chars) || chars.some((c) => typeof c !== 'string')) throw new ModelFileError(`vocab must be an array of characters`);
    vocab = new Vocabulary(chars as string[]);
  } catch (error) {
    throw new ModelFileError(`${source}: ${(error as Error).message.replace(`${source}: `, '')}`);
  }
  if (vocab.size !== config.vocabSize) {
    throw new ModelFileError(`${source}: the vocabulary has ${vocab.size} characters but config.vocabSize is ${config.vocabSize}`);
  }
  // The config decides what buildModel allocates: a file must hold those numbers (at 2 bytes each at least, F16) before any is allocated.
  const size = stateSize(config);
  if (2 * size > bytes.length) {
    throw new ModelFileError(
      `${source}: its config describes a ${config.model} of ${size.toLocaleString('en-US')} weights, but the file is only ${bytes.length.toLocaleString('en-US')} bytes`,
    );
  }
  const tensors: Record<string, NDArray> = decoded.tensors;
  const dtypes = new Set(Object.values(tensors).map((t) => t.dtype).filter((d) => d !== 'int32'));
  if (dtypes.size > 1) throw new ModelFileError(`${source}: the weights mix dtypes ${[...dtypes].join(' and ')}`);
  const dtype = ([...dtypes][0] ?? 'float32') as DType;
  const model = buildModel(config, { dtype });
  try {
    model.loadStateDict(tensors);
  } catch (error) {
    if (error instanceof StateDictError) throw new ModelFileError(`${source}: the weights do not fit a ${config.model} of this config: ${error.message}`);
    throw error;
  }
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (key === 'format' || key === 'config' || key === 'vocab') continue;
    try {
      extra[key] = JSON.parse(value);
    } catch {
      extra[key] = value;
    }
  }
  return { model, metadata: { config, vocab, extra } };
}

/** Loads a model file written by {@link encodeModel}; anything else fails with a {@link ModelFileError} naming the file and the problem. */
export function loadModel(path: string): { model: LanguageModel; metadata: ModelMetadata } {
  return decodeModel(readBounded(path, MAX_MODEL_FILE_BYTES), path);
}

/** A run folder that cannot be created or written. */
export class OutputError extends Error {
  override name = 'OutputError';
}

/** Deletes `path` if it exists; a failure is an {@link OutputError} naming it. */
export function removeFile(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch (error) {
    throw new OutputError(`cannot remove ${path}: ${(error as Error).message}`);
  }
}

/**
 * Writes `files` (name → bytes or text) into `folder`, in order: each to a
 * temporary file first, renamed over its name only when written in full, so
 * an interrupted run never leaves a half-written file. With `remove`, the
 * files are deleted again (a check that the folder can be written). Any
 * failure is an {@link OutputError} naming the path.
 */
export function writeFiles(folder: string, files: Record<string, Uint8Array | string>, { remove = false } = {}): string[] {
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    throw new OutputError(`cannot create the output folder ${folder}: ${(error as Error).message}`);
  }
  return Object.entries(files).map(([name, data]) => {
    const path = join(folder, name);
    const temporary = join(dirname(path), `.${name}.${process.pid}.tmp`);
    try {
      writeFileSync(temporary, data);
      renameSync(temporary, path);
      if (remove) rmSync(path);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw new OutputError(`cannot write ${path}: ${(error as Error).message}`);
    }
    return path;
  });
}
