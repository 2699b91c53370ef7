import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { exitCodeFor } from '@backprop/cli-kit';
import { DivergedError } from '@backprop/data';
import { MnistDataError, normalize, splitDataset } from '@backprop/data/mnist';
import { loadDigits, prepareData } from '@backprop/data/mnist/node';
import { summary } from '@backprop/layers';
import { TorchGenerator, setNumThreads } from '@backprop/ndarray';
import { type EvalCommand, type TrainCommand, helpText, parseCommandLine, threadsNote } from './cli';
import { evaluate } from './evaluate';
import { encodeOnnx } from './onnx';
import { ModelFileError, encodeModel, loadModel } from './io';
import { architectureFor, buildModel } from './models';
import { OutputError, RunFolder } from './output';
import { type ReportStream, TrainingReporter, buildMetrics, formatConfusion, printable, renderTrainingSvg, terminalChart } from './report';
import { trainModel } from './train';

/** Where the app writes, and the directory relative paths resolve against. */
export interface AppIO {
  stdout: ReportStream;
  stderr: ReportStream;
  /** The caller's directory: pnpm sets INIT_CWD to where `pnpm train` was typed. */
  cwd: string;
}

const seconds = (since: number): number => (performance.now() - since) / 1000;

async function runTraining(command: TrainCommand, io: AppIO): Promise<number> {
  const started = performance.now();
  const outDir = resolve(io.cwd, command.out);
  // Before anything else: a folder that cannot be written fails now, not after training.
  const output = RunFolder.prepare(outDir, { cwd: io.cwd });
  try {
    return await trainInto(output, command, io, started);
  } finally {
    output.discard();
  }
}

async function trainInto(output: RunFolder, command: TrainCommand, io: AppIO, started: number): Promise<number> {
  const { stdout } = io;
  const outDir = output.path;
  const data = prepareData();
  const { mean, std } = data.normalization;
  stdout.write(
    `Loaded ${(data.train.labels.length + data.test.labels.length).toLocaleString('en-US')} MNIST digits ` +
      `(${data.train.labels.length.toLocaleString('en-US')} train / ${data.test.labels.length.toLocaleString('en-US')} test, fixed split), ` +
      `standardized with the train mean ${mean.toFixed(4)} and std ${std.toFixed(4)} in ${seconds(started).toFixed(1)} s\n`,
  );

  // One generator for the whole run, as torch.manual_seed: the weights first, then each epoch's shuffle.
  const rng = new TorchGenerator(command.seed);
  const architecture = architectureFor(command.model);
  const model = buildModel(architecture, rng);
  const parameterCount = model.parameters().reduce((n, p) => n + p.value.size, 0);
  // The layer table as torchinfo prints it, for one training batch. Its forward pass runs in eval
  // mode and draws nothing from rng, so the run is the same bit for bit with or without it.
  stdout.write(
    `Model ${command.model}: ${model} (${parameterCount.toLocaleString('en-US')} parameters)\n` +
      `${summary(model, [command.batchSize, ...architecture.inputShape])}\n` +
      `Training ${command.epochs} epoch${command.epochs === 1 ? '' : 's'}, batch ${command.batchSize}, ${command.optimizer}${command.optimizer === 'sgd' ? ' (momentum 0.9)' : ''}, ` +
      `lr ${command.lr} with cosine annealing, seed ${command.seed}\n`,
  );

  const reporter = new TrainingReporter(stdout, command.epochs);
  let result: ReturnType<typeof trainModel>;
  try {
    result = trainModel(
      model,
      data.train,
      data.test,
      {
        epochs: command.epochs,
        batchSize: command.batchSize,
        lr: command.lr,
        optimizer: command.optimizer,
        sampleShape: architecture.inputShape,
        rng,
      },
      reporter,
    );
  } finally {
    reporter.close();
  }
  const { history, final } = result;

  const training = { optimizer: command.optimizer, lr: command.lr, epochs: command.epochs, batchSize: command.batchSize, schedule: 'cosine' };
  // The files are staged, then swapped in together (RunFolder.commit): --out always holds one run's.
  const modelPath = join(outDir, 'model.safetensors');
  output.write(
    'model.safetensors',
    encodeModel(model, { architecture, normalization: data.normalization, seed: command.seed, testAccuracy: final.accuracy, training }),
  );
  if (command.exportOnnx) output.write('model.onnx', encodeOnnx(model, { architecture, normalization: data.normalization }));
  const title = `${command.model} on MNIST: ${(100 * final.accuracy).toFixed(2)}% test accuracy`;
  const svgPath = join(outDir, 'training.svg');
  output.write('training.svg', await renderTrainingSvg(history, title));
  const metrics = buildMetrics(
    {
      model: command.model,
      config: { ...training, model: command.model, seed: command.seed, threads: command.threads, out: outDir },
      normalization: data.normalization,
      totalSeconds: seconds(started),
      trainSize: data.train.labels.length,
    },
    history,
    final,
  );
  const metricsPath = join(outDir, 'metrics.json');
  output.write('metrics.json', `${JSON.stringify(metrics, null, 2)}\n`);
  output.commit();

  stdout.write(`\n${terminalChart(history, { color: stdout.isTTY === true })}\n${formatConfusion(final.confusion)}\n`);
  const correct = Math.round(final.accuracy * final.count);
  stdout.write(
    `Test accuracy ${(100 * final.accuracy).toFixed(2)}% (${correct}/${final.count}), test loss ${final.loss.toFixed(4)}; ` +
      `trained at ${Math.round(metrics.samplesPerSecond).toLocaleString('en-US')} samples/s, ${metrics.totalSeconds.toFixed(1)} s in all\n`,
  );
  const shown = (path: string) => {
    const fromCwd = relative(io.cwd, path);
    return fromCwd === '' || fromCwd.startsWith('..') ? path : fromCwd;
  };
  const written = [modelPath, ...(command.exportOnnx ? [join(outDir, 'model.onnx')] : []), metricsPath].map(shown);
  stdout.write(`Wrote ${written.join(', ')} and ${shown(svgPath)}\n`);
  stdout.write(`Evaluate it again with: pnpm train --eval ${shown(modelPath)}\n`);
  return 0;
}

async function runEvaluation(command: EvalCommand, io: AppIO): Promise<number> {
  const path = resolve(io.cwd, command.modelFile);
  const { model, metadata } = loadModel(path);
  // The split is fixed; the model's own normalization (from its training set) applies, as in training.
  const { test } = splitDataset(loadDigits());
  let evaluation: ReturnType<typeof evaluate>;
  try {
    evaluation = evaluate(model, normalize(test, metadata.normalization), { sampleShape: metadata.architecture.inputShape });
  } catch (error) {
    // The file passed every check on loading, yet its model cannot classify the digits (an input shape other than 784 pixels, 3 outputs…).
    throw new ModelFileError(`${path}: the model cannot be evaluated on the test digits: ${(error as Error).message}`);
  }
  if (!Number.isFinite(evaluation.loss)) {
    throw new ModelFileError(`${path}: the model's test loss is ${evaluation.loss}; its outputs overflow on the test digits`);
  }
  const correct = Math.round(evaluation.accuracy * evaluation.count);
  // The name comes from the file: escaped, so it cannot drive the terminal.
  io.stdout.write(`Model ${printable(metadata.architecture.name)}: ${model}\n`);
  io.stdout.write(formatConfusion(evaluation.confusion));
  io.stdout.write(
    `Test accuracy ${(100 * evaluation.accuracy).toFixed(2)}% (${correct}/${evaluation.count}), test loss ${evaluation.loss.toFixed(4)}` +
      (metadata.testAccuracy === undefined ? '' : `; recorded when trained: ${(100 * metadata.testAccuracy).toFixed(2)}%`) +
      '\n',
  );
  return 0;
}

/**
 * Runs the app for `argv` (the arguments after the script) and returns the
 * exit code: 0 done, 1 failed (missing data, a bad model file, divergence),
 * 2 a bad command line.
 */
export async function main(argv: readonly string[], io: AppIO): Promise<number> {
  try {
    const command = parseCommandLine(argv);
    if (command.kind === 'help') {
      io.stdout.write(helpText());
      return 0;
    }
    if (command.kind === 'eval') return await runEvaluation(command, io);
    const note = threadsNote(command.threads, availableParallelism());
    if (note !== undefined) io.stderr.write(`mnist: ${note}\n`);
    // The workers stop at the end, so a caller in the same process (a test) is back on one thread.
    await setNumThreads(command.threads);
    try {
      return await runTraining(command, io);
    } finally {
      await setNumThreads(1);
    }
  } catch (error) {
    return exitCodeFor('mnist', error, io.stderr, [DivergedError, ModelFileError, MnistDataError, OutputError]);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.env.INIT_CWD ?? process.cwd(),
  });
}
