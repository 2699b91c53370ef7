import { parseArgs } from 'node:util';
import { UsageError, choiceFlag, didYouMean, integerFlag } from '@backprop/cli-kit';
import { MODEL_NAMES, type ModelName } from './models';
import { OPTIMIZER_NAMES, type OptimizerName } from './train';

/** A training run, every flag resolved. */
export interface TrainCommand {
  kind: 'train';
  model: ModelName;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerName;
  seed: number;
  /** Threads for the large matrix products (ndarray's setNumThreads); results are the same bit for bit. */
  threads: number;
  /** The output folder as given (relative paths resolve against the caller's directory). */
  out: string;
  /** `--export-onnx`: also write the trained model as `model.onnx` (for ONNX Runtime). */
  exportOnnx: boolean;
}

/** `--eval <model file>`: evaluate a saved model on the test digits. */
export interface EvalCommand {
  kind: 'eval';
  modelFile: string;
}

export type Command = TrainCommand | EvalCommand | { kind: 'help' };

/** The recipe each model trains with unless a flag says otherwise (measured in README.md). */
export const MODEL_DEFAULTS: Record<ModelName, { epochs: number; batchSize: number; lr: number; optimizer: OptimizerName }> = {
  mlp: { epochs: 15, batchSize: 64, lr: 0.05, optimizer: 'sgd' },
  cnn: { epochs: 10, batchSize: 64, lr: 0.005, optimizer: 'adam' },
};

export { UsageError };

const OPTIONS = {
  model: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  optimizer: { type: 'string' },
  seed: { type: 'string' },
  threads: { type: 'string' },
  out: { type: 'string' },
  eval: { type: 'string' },
  'export-onnx': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const TRAINING_FLAGS = ['model', 'epochs', 'batch-size', 'lr', 'optimizer', 'seed', 'threads', 'out', 'export-onnx'] as const;

/** The `--help` text. */
export function helpText(): string {
  const d = MODEL_DEFAULTS;
  return `Train a classifier on 10,000 real MNIST digits (a fixed 8,000 / 2,000 train/test split).

Usage:
  pnpm train [flags]                  from the repository root
  pnpm train --eval <model file>      evaluate a saved model on the test digits

Flags:
  --model <mlp|cnn>       the model (default mlp)
                            mlp: 784 -> 128 -> ReLU -> 10
                            cnn: Conv(8, 3x3) ReLU MaxPool Conv(16, 3x3) ReLU MaxPool Linear(784, 10)
  --epochs <n>            passes over the 8,000 training digits (default: mlp ${d.mlp.epochs}, cnn ${d.cnn.epochs})
  --batch-size <n>        digits per step; the last batch of an epoch may be smaller (default ${d.mlp.batchSize})
  --lr <x>                peak learning rate, annealed to 0 by a cosine schedule over the run
                            (default: mlp ${d.mlp.lr}, cnn ${d.cnn.lr})
  --optimizer <name>      ${OPTIMIZER_NAMES.join(' | ')} (sgd uses momentum 0.9; default: mlp ${d.mlp.optimizer}, cnn ${d.cnn.optimizer})
  --seed <n>              seeds the weights and the shuffling: the same seed gives the same model,
                            bit for bit (default 0)
  --threads <n>           threads for the large matrix products (default 1); the model is the same
                            bit for bit on any number
  --out <dir>             where to write the results (default runs/<model>, replaced on each run);
                            relative to the directory you ran the command from
  --export-onnx           also write model.onnx: the trained model for ONNX Runtime (input 'pixels',
                            standardized as in model.safetensors' metadata; output 'logits')
  --eval <model file>     load a model.safetensors written by a training run and evaluate it
                            (no training; other flags are not allowed with it)
  -h, --help              print this help

Writes, under --out: metrics.json (per epoch and final test accuracy), model.safetensors
(weights under PyTorch state_dict names, the architecture in its metadata) and training.svg;
model.onnx with --export-onnx.

Examples:
  pnpm train
  pnpm train --model cnn --epochs 3 --out runs/cnn
  pnpm train --export-onnx
  pnpm train --eval runs/cnn/model.safetensors
`;
}

/**
 * Parses the command line (without `node` and the script) into a
 * {@link Command}, filling each model's defaults. Throws a {@link UsageError}
 * that names the flag and the bad value: an unknown flag, a missing value, a
 * number out of range, a stray argument, or training flags beside `--eval`.
 */
export function parseCommandLine(argv: readonly string[]): Command {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(rewordParseError(error as Error & { code?: string }));
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument '${positionals[0]}'; flags take the form --name value`);
  }
  for (const [flag, value] of Object.entries(values)) {
    if (typeof value === 'string' && value.trim() === '') throw new UsageError(`--${flag} needs a value, got an empty string`);
  }
  if (values.eval !== undefined) {
    const extra = TRAINING_FLAGS.find((flag) => values[flag] !== undefined);
    if (extra !== undefined) {
      throw new UsageError(`--${extra} cannot be used with --eval (evaluating a saved model trains nothing)`);
    }
    return { kind: 'eval', modelFile: values.eval };
  }
  const model = choiceFlag('model', values.model ?? 'mlp', MODEL_NAMES);
  const defaults = MODEL_DEFAULTS[model];
  let lr = defaults.lr;
  if (values.lr !== undefined) {
    lr = Number(values.lr);
    if (!/^[\d.eE+-]+$/.test(values.lr) || !Number.isFinite(lr) || lr <= 0 || lr > 10) {
      throw new UsageError(`--lr must be a number > 0 and <= 10, got '${values.lr}'`);
    }
  }
  return {
    kind: 'train',
    model,
    epochs: values.epochs === undefined ? defaults.epochs : integerFlag('epochs', values.epochs, 1, 1000),
    batchSize: values['batch-size'] === undefined ? defaults.batchSize : integerFlag('batch-size', values['batch-size'], 1, 8000),
    lr,
    optimizer: values.optimizer === undefined ? defaults.optimizer : choiceFlag('optimizer', values.optimizer, OPTIMIZER_NAMES),
    seed: values.seed === undefined ? 0 : integerFlag('seed', values.seed, 0, Number.MAX_SAFE_INTEGER),
    threads: values.threads === undefined ? 1 : integerFlag('threads', values.threads, 1, 64),
    out: values.out ?? `runs/${model}`,
    exportOnnx: values['export-onnx'] === true,
  };
}

/**
 * What to tell a user who asked for more threads than the machine has cores
 * (`undefined` when it has enough): the run still works, the same bit for
 * bit, but the extra threads share the cores and gain nothing.
 */
export function threadsNote(threads: number, cores: number): string | undefined {
  if (threads <= cores) return undefined;
  return `note: --threads ${threads} is more than this machine's ${cores} core${cores === 1 ? '' : 's'}; the extra threads share them (the results are the same bit for bit)`;
}

/** Node's parseArgs messages, said in this app's terms. */
function rewordParseError(error: Error & { code?: string }): string {
  const flag = /'(-{1,2}[A-Za-z][\w-]*)/.exec(error.message)?.[1] ?? 'a flag';
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    // A long flag may be a typo of a known one; main adds how to see them all.
    const typo = flag.startsWith('--') ? didYouMean(flag.slice(2), Object.keys(OPTIONS), (name) => `--${name}`) : '';
    return `unknown flag ${flag}${typo}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/does not take an argument/.test(error.message)) return `--help takes no value`;
    if (/ambiguous/.test(error.message)) {
      return `${flag} needs a value, but the next argument looks like a flag (to pass a value starting with '-', write ${flag}=<value>)`;
    }
    return `${flag} needs a value (e.g. ${flag} 3)`;
  }
  return error.message;
}
