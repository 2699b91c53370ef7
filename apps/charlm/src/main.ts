import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { exitCodeFor } from '@backprop/cli-kit';
import { DivergedError } from '@backprop/data';
import { CORPUS, type Encoded, NamesDataError, type Split, Vocabulary, blockSizeFor, encodeNames, sampleNames, splitNames } from '@backprop/data/names';
import { loadNames } from '@backprop/data/names/node';
import { TorchGenerator, setNumThreads } from '@backprop/ndarray';
import { type EvalCommand, type SampleCommand, type TrainCommand, UsageError, defaultOut, helpText, parseCommandLine } from './cli';
import { ModelFileError, OutputError, encodeModel, loadModel, removeFile, writeFiles } from './io';
import { Bigram, type LanguageModel, buildModel, configFor } from './models';
import { exportModel } from './onnx';
import { type ReportStream, TrainingReporter, printable, renderLossSvg, terminalChart } from './report';
import { type EvalPoint, evaluateLoss, trainModel } from './train';

/** Where the app writes, and the directory relative paths resolve against. */
export interface AppIO {
  stdout: ReportStream;
  stderr: ReportStream;
  /** The caller's directory: pnpm sets INIT_CWD to where `pnpm charlm` was typed. */
  cwd: string;
}

const seconds = (since: number): number => (performance.now() - since) / 1000;
const grouped = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The corpus, its vocabulary, the fixed split and each part encoded. */
interface Data {
  names: string[];
  vocab: Vocabulary;
  blockSize: number;
  split: Split;
  train: Encoded;
  val: Encoded;
  test: Encoded;
}

function loadData(): Data {
  const names = loadNames();
  const vocab = Vocabulary.of(names);
  const blockSize = blockSizeFor(names);
  const split = splitNames(names);
  const encode = (part: string[]) => encodeNames(part, vocab, blockSize);
  return { names, vocab, blockSize, split, train: encode(split.train), val: encode(split.val), test: encode(split.test) };
}

/** Samples as one line, each marked `*` when it is a name of the training split (copied rather than made up); an empty name is `""`. */
function formatSamples(samples: readonly string[], known: ReadonlySet<string>): string {
  return samples.map((name) => (name === '' ? '""' : known.has(name) ? `${name}*` : name)).join(', ');
}

async function runTraining(command: TrainCommand, io: AppIO): Promise<number> {
  const started = performance.now();
  const { stdout } = io;
  const outDir = resolve(io.cwd, command.out);
  // A folder that cannot be written fails now, not after minutes of training.
  writeFiles(outDir, { '.write-check': '' }, { remove: true });
  const data = loadData();
  const { vocab, blockSize, split } = data;
  const known = new Set(split.train);
  stdout.write(
    `Loaded ${grouped(data.names.length)} names (${grouped(split.train.length)} train / ${grouped(split.val.length)} val / ` +
      `${grouped(split.test.length)} test, fixed split) from ${CORPUS.description}; ${vocab.size} tokens, block ${blockSize}\n`,
  );

  // The count baseline, on every run: the line every model must beat.
  const bigram = new Bigram(configFor('bigram', vocab.size, blockSize) as Bigram['config']).fit(data.train.x, data.train.y);
  const baseline = { val: evaluateLoss(bigram, data.val), test: evaluateLoss(bigram, data.test) };
  stdout.write(`Bigram baseline: val ${baseline.val.toFixed(4)}, test ${baseline.test.toFixed(4)} nats/char\n`);

  // One generator for the run, as torch.manual_seed: the weights first, then each epoch's order.
  // Samples draw from their own, so printing them changes nothing in training.
  const rng = new TorchGenerator(command.seed);
  const sampling = new TorchGenerator(command.seed);
  let model: LanguageModel;
  let history: EvalPoint[] = [];
  let trainSeconds = 0;
  if (command.model === 'bigram') {
    model = bigram;
    stdout.write('The bigram counts; nothing to train.\n');
  } else {
    model = buildModel(configFor(command.model, vocab.size, blockSize), { rng });
    const parameterCount = model.parameters().reduce((n, p) => n + p.value.size, 0);
    const r = command.recipe;
    stdout.write(
      `Model ${command.model} (${grouped(parameterCount)} parameters):\n${model}\n` +
        `Training ${grouped(r.steps)} steps of ${r.batchSize} names, AdamW lr ${r.lr} (warm-up ${r.warmupSteps} steps, cosine to ` +
        `${r.finalLrFraction}×), weight decay ${r.weightDecay}, clip ${r.clip}, seed ${command.seed}, ${command.threads} thread${command.threads === 1 ? '' : 's'}\n`,
    );
    const reporter = new TrainingReporter(stdout, r.steps, () => `  samples: ${formatSamples(sampleNames(model, vocab, { count: 8, temperature: 1, rng: sampling }), known)}`);
    const trainStarted = performance.now();
    try {
      history = trainModel(model, data.train, data.val, { recipe: r, rng, evalEvery: command.evalEvery }, reporter).history;
    } finally {
      reporter.close();
    }
    trainSeconds = seconds(trainStarted);
  }

  // trainModel evaluated the final weights at its last step; the bigram has the baseline's.
  const valLoss = history.at(-1)?.valLoss ?? baseline.val;
  const testLoss = command.model === 'bigram' ? baseline.test : evaluateLoss(model, data.test);
  const samples = sampleNames(model, vocab, { count: 20, temperature: 1, rng: sampling });
  const extra = { corpus: CORPUS.description, seed: command.seed, recipe: command.model === 'bigram' ? null : command.recipe, valLoss, testLoss };
  const title = `${command.model} on U.S. baby names: val ${valLoss.toFixed(4)} nats/char (bigram ${baseline.val.toFixed(4)})`;
  const metrics = {
    model: command.model,
    config: model.config,
    recipe: command.model === 'bigram' ? null : command.recipe,
    seed: command.seed,
    threads: command.threads,
    corpus: CORPUS.description,
    split: { train: split.train.length, val: split.val.length, test: split.test.length },
    history,
    valLoss,
    testLoss,
    bigram: baseline,
    samples,
    trainSeconds,
    stepsPerSecond: command.model === 'bigram' ? null : command.recipe.steps / trainSeconds,
    totalSeconds: seconds(started),
    node: process.version,
    createdAt: new Date().toISOString(),
  };
  const files: Record<string, Uint8Array | string> = { 'metrics.json': `${JSON.stringify(metrics, null, 2)}\n` };
  if (history.length > 0) files['loss.svg'] = await renderLossSvg(history, title, { baseline: baseline.val });
  // The model last: a run whose other files failed to write leaves the previous model in place.
  files['model.safetensors'] = encodeModel(model, { config: model.config, vocab, extra });
  const written = writeFiles(outDir, files);
  // After the model is saved, so a model that cannot be exported is not lost; without the flag, an
  // earlier run's model.onnx (no longer this model.safetensors') is removed.
  if (command.exportOnnx) written.push(...writeFiles(outDir, { 'model.onnx': exportModel(model, vocab) }));
  else removeFile(join(outDir, 'model.onnx'));

  if (history.length > 0) stdout.write(`\n${terminalChart(history, { color: stdout.isTTY === true, baseline: baseline.val })}\n`);
  const novel = samples.filter((name) => !known.has(name)).length;
  stdout.write(
    `Samples (${novel} of ${samples.length} not in the training names; * marks the others):\n  ${formatSamples(samples, known)}\n` +
      `Val loss ${valLoss.toFixed(4)}, test loss ${testLoss.toFixed(4)} nats/char (bigram: ${baseline.val.toFixed(4)}, ${baseline.test.toFixed(4)})` +
      (command.model === 'bigram' ? '' : `; trained at ${(command.recipe.steps / trainSeconds).toFixed(1)} steps/s, ${trainSeconds.toFixed(1)} s`) +
      `, ${seconds(started).toFixed(1)} s in all\n`,
  );
  const shown = (path: string) => {
    const fromCwd = relative(io.cwd, path);
    return fromCwd === '' || fromCwd.startsWith('..') ? path : fromCwd;
  };
  stdout.write(`Wrote ${written.map(shown).join(', ')}\n`);
  const again =
    command.out !== defaultOut(command.model) ? ` --load ${shown(written.at(-1) as string)}` : command.model === 'transformer' ? '' : ` --model ${command.model}`;
  stdout.write(`Sample from it with: pnpm charlm --sample 20${again}\n`);
  return 0;
}

function runEvaluation(command: EvalCommand, io: AppIO): number {
  const path = resolve(io.cwd, command.modelFile);
  const { model, metadata } = loadModel(path);
  const data = loadData();
  if (metadata.vocab.chars.join('') !== data.vocab.chars.join('') || model.config.blockSize < data.blockSize) {
    throw new ModelFileError(
      `${path}: the model's vocabulary (${printable(metadata.vocab.chars.join(''))}) or block (${model.config.blockSize}) does not fit the corpus ` +
        `(${data.vocab.chars.join('')}, block ${data.blockSize})`,
    );
  }
  const valLoss = evaluateLoss(model, data.val);
  const testLoss = evaluateLoss(model, data.test);
  const recorded = metadata.extra?.testLoss;
  io.stdout.write(
    `Model ${model.config.model}: ${model}\n` +
      `Val loss ${valLoss.toFixed(4)}, test loss ${testLoss.toFixed(4)} nats/char` +
      (typeof recorded === 'number' ? `; recorded when trained: test ${recorded.toFixed(4)}` : '') +
      '\n',
  );
  return 0;
}

function runSampling(command: SampleCommand, io: AppIO): number {
  const path = resolve(io.cwd, command.modelFile);
  const { model, metadata } = loadModel(path);
  const room = model.config.blockSize - 2;
  if ([...command.prefix].length > room) {
    throw new UsageError(`--prefix '${command.prefix}' is longer than this model's names can start with (at most ${room} letters)`);
  }
  const samples = sampleNames(model, metadata.vocab, {
    count: command.count,
    temperature: command.temperature,
    rng: new TorchGenerator(command.seed),
    prefix: command.prefix,
  });
  io.stdout.write(`${samples.map(printable).join('\n')}\n`);
  return 0;
}

/**
 * Runs the app for `argv` (the arguments after the script) and returns the
 * exit code: 0 done, 1 failed (a missing corpus, a bad model file, divergence),
 * 2 a bad command line.
 */
export async function main(argv: readonly string[], io: AppIO): Promise<number> {
  try {
    const command = parseCommandLine(argv);
    if (command.kind === 'help') {
      io.stdout.write(helpText());
      return 0;
    }
    if (command.kind === 'eval') return runEvaluation(command, io);
    if (command.kind === 'sample') return runSampling(command, io);
    // The workers stop at the end, so a caller in the same process (a test) is back on one thread.
    await setNumThreads(command.threads);
    try {
      return await runTraining(command, io);
    } finally {
      await setNumThreads(1);
    }
  } catch (error) {
    return exitCodeFor('charlm', error, io.stderr, [DivergedError, ModelFileError, NamesDataError, OutputError]);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.env.INIT_CWD ?? process.cwd(),
  });
}
