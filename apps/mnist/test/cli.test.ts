import { describe, expect, it } from 'vitest';
import { MODEL_DEFAULTS, UsageError, helpText, parseCommandLine, threadsNote } from '../src/cli';
import { runApp } from './helpers';

function usageError(args: string[]): UsageError {
  try {
    parseCommandLine(args);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    return error as UsageError;
  }
  throw new Error(`expected ${JSON.stringify(args)} to be rejected`);
}

describe('parseCommandLine', () => {
  it('defaults to the MLP recipe', () => {
    expect(parseCommandLine([])).toEqual({
      kind: 'train',
      model: 'mlp',
      ...MODEL_DEFAULTS.mlp,
      seed: 0,
      threads: 1,
      out: 'runs/mlp',
      exportOnnx: false,
    });
  });

  it('takes each model its own defaults, and every flag', () => {
    expect(parseCommandLine(['--model', 'cnn'])).toMatchObject({ model: 'cnn', ...MODEL_DEFAULTS.cnn, out: 'runs/cnn' });
    expect(
      parseCommandLine(['--model=cnn', '--epochs', '3', '--batch-size', '32', '--lr', '1e-3', '--optimizer', 'adamw', '--seed', '42', '--threads', '2', '--out', 'runs/x']),
    ).toEqual({ kind: 'train', model: 'cnn', epochs: 3, batchSize: 32, lr: 0.001, optimizer: 'adamw', seed: 42, threads: 2, out: 'runs/x', exportOnnx: false });
  });

  it('reads --export-onnx, and refuses it beside --eval', () => {
    expect(parseCommandLine(['--export-onnx'])).toMatchObject({ kind: 'train', exportOnnx: true });
    expect(() => parseCommandLine(['--eval', 'm.safetensors', '--export-onnx'])).toThrow(/--export-onnx cannot be used with --eval/);
    expect(() => parseCommandLine(['--export-onx'])).toThrow(/unknown flag --export-onx \(did you mean --export-onnx\?\)/);
  });

  it('reads --help and --eval', () => {
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['-h', '--epochs', 'x'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['--eval', 'runs/mlp/model.safetensors'])).toEqual({ kind: 'eval', modelFile: 'runs/mlp/model.safetensors' });
  });

  it('rejects each bad flag with a message naming it', () => {
    const cases: [string[], RegExp | string][] = [
      [['--modle', 'cnn'], 'unknown flag --modle'],
      [['-x'], 'unknown flag -x'],
      [['--model', 'rnn'], "--model must be one of mlp, cnn, got 'rnn'"],
      [['--epochs', '0'], "--epochs must be an integer from 1 to 1000, got '0'"],
      [['--epochs', '2.5'], "--epochs must be an integer from 1 to 1000, got '2.5'"],
      [['--epochs', 'ten'], "--epochs must be an integer from 1 to 1000, got 'ten'"],
      [['--epochs'], '--epochs needs a value (e.g. --epochs 3)'],
      [['--epochs', '--lr', '0.1'], /--epochs needs a value, but the next argument looks like a flag/],
      [['--batch-size', '0'], "--batch-size must be an integer from 1 to 8000, got '0'"],
      [['--batch-size', '9000'], "--batch-size must be an integer from 1 to 8000, got '9000'"],
      [['--lr', '0'], "--lr must be a number > 0 and <= 10, got '0'"],
      [['--lr=-0.1'], "--lr must be a number > 0 and <= 10, got '-0.1'"],
      [['--lr', 'fast'], "--lr must be a number > 0 and <= 10, got 'fast'"],
      [['--lr', 'Infinity'], "--lr must be a number > 0 and <= 10, got 'Infinity'"],
      [['--optimizer', 'lbfgs'], "--optimizer must be one of sgd, adam, adamw, got 'lbfgs'"],
      [['--seed', '-1'], /--seed needs a value/],
      [['--seed=-1'], "--seed must be an integer from 0 to 9007199254740991, got '-1'"],
      [['--seed', '1.5'], "--seed must be an integer from 0 to 9007199254740991, got '1.5'"],
      [['--threads', '0'], "--threads must be an integer from 1 to 64, got '0'"],
      [['--threads', 'all'], "--threads must be an integer from 1 to 64, got 'all'"],
      [['--out', ''], '--out needs a value, got an empty string'],
      [['--help=yes'], '--help takes no value'],
      [['cnn'], "unexpected argument 'cnn'; flags take the form --name value"],
      [['--eval', 'm.safetensors', '--epochs', '3'], '--epochs cannot be used with --eval'],
    ];
    for (const [args, message] of cases) {
      const error = usageError(args);
      if (typeof message === 'string') expect(error.message, JSON.stringify(args)).toContain(message);
      else expect(error.message, JSON.stringify(args)).toMatch(message);
    }
  });

  it('documents every flag in --help', () => {
    const help = helpText();
    for (const flag of ['--model', '--epochs', '--batch-size', '--lr', '--optimizer', '--seed', '--out', '--eval', '--help']) {
      expect(help).toContain(flag);
    }
    expect(help).toContain(`cnn ${MODEL_DEFAULTS.cnn.epochs}`);
  });
});

describe('the command line, run as a process', () => {
  it('--help prints the help and exits 0', () => {
    const result = runApp(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(helpText());
  });

  it('a bad flag prints a clear message on stderr and exits 2', () => {
    const result = runApp(['--epochs', 'zero']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("mnist: --epochs must be an integer from 1 to 1000, got 'zero'\nRun with --help for usage.\n");
  });

  it('says when --threads asks for more threads than the machine has cores, and only then', () => {
    expect(threadsNote(2, 2)).toBeUndefined();
    expect(threadsNote(1, 16)).toBeUndefined();
    expect(threadsNote(9, 2)).toBe("note: --threads 9 is more than this machine's 2 cores; the extra threads share them (the results are the same bit for bit)");
    expect(threadsNote(2, 1)).toMatch(/this machine's 1 core;/);
  });

  it('an unknown flag is named once, with one pointer to --help', () => {
    const result = runApp(['--modle', 'cnn']);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('mnist: unknown flag --modle (did you mean --model?)\nRun with --help for usage.\n');
  });
});

describe('did you mean', () => {
  const message = (args: string[]) => usageError(args).message;

  it('names the closest known flag for a mistyped one', () => {
    expect(message(['--modle', 'cnn'])).toBe('unknown flag --modle (did you mean --model?)');
    expect(message(['--epoch', '3'])).toBe('unknown flag --epoch (did you mean --epochs?)');
    expect(message(['--batchsize', '32'])).toBe('unknown flag --batchsize (did you mean --batch-size?)');
    expect(message(['--optimiser', 'adam'])).toBe('unknown flag --optimiser (did you mean --optimizer?)');
    expect(message(['--thread=2'])).toBe('unknown flag --thread (did you mean --threads?)');
  });

  it('names the closest model and optimizer for a mistyped value', () => {
    expect(message(['--model', 'cnm'])).toBe("--model must be one of mlp, cnn, got 'cnm' (did you mean 'cnn'?)");
    expect(message(['--model', 'MLP'])).toBe("--model must be one of mlp, cnn, got 'MLP' (did you mean 'mlp'?)");
    expect(message(['--optimizer', 'adm'])).toBe("--optimizer must be one of sgd, adam, adamw, got 'adm' (did you mean 'adam'?)");
  });

  it('guesses nothing when nothing is close', () => {
    expect(message(['--verbose'])).toBe('unknown flag --verbose');
    expect(message(['-x'])).toBe('unknown flag -x');
    expect(message(['--optimizer', 'lbfgs'])).toBe("--optimizer must be one of sgd, adam, adamw, got 'lbfgs'");
  });
});
