import { describe, expect, it } from 'vitest';
import { OPTIONS, UsageError, defaultEvalEvery, helpText, parseCommandLine } from '../src/cli';
import { MODEL_NAMES, MODEL_SIZES } from '../src/models';
import { RECIPES } from '../src/train';

function usageError(args: string[]): UsageError {
  try {
    parseCommandLine(args);
  } catch (error) {
    expect(error, JSON.stringify(args)).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    return error as UsageError;
  }
  throw new Error(`expected ${JSON.stringify(args)} to be rejected`);
}

describe('parseCommandLine: training', () => {
  it('defaults to the transformer and its recipe', () => {
    expect(parseCommandLine([])).toEqual({
      kind: 'train',
      model: 'transformer',
      recipe: RECIPES.transformer,
      seed: 0,
      threads: 1,
      out: 'runs/charlm-transformer',
      exportOnnx: false,
      evalEvery: defaultEvalEvery(RECIPES.transformer.steps),
    });
  });

  it("gives each model its own recipe, and applies every flag to it without changing RECIPES", () => {
    const before = structuredClone(RECIPES);
    for (const model of ['mlp', 'lstm'] as const) {
      expect(parseCommandLine(['--model', model])).toMatchObject({ model, recipe: RECIPES[model], out: `runs/charlm-${model}` });
    }
    const command = parseCommandLine([
      '--model=lstm',
      '--steps',
      '500',
      '--batch-size',
      '64',
      '--lr',
      '1e-3',
      '--eval-every',
      '100',
      '--seed',
      '7',
      '--threads',
      '2',
      '--out',
      'runs/x',
      '--export-onnx',
    ]);
    expect(command).toEqual({
      kind: 'train',
      model: 'lstm',
      recipe: { ...RECIPES.lstm, steps: 500, batchSize: 64, lr: 0.001 },
      seed: 7,
      threads: 2,
      out: 'runs/x',
      exportOnnx: true,
      evalEvery: 100,
    });
    expect(RECIPES).toEqual(before);
  });

  it('evaluates about every sixth of the steps by default, on a multiple of 50 once that is 50 or more', () => {
    expect(defaultEvalEvery(1500)).toBe(250);
    expect(defaultEvalEvery(2000)).toBe(350);
    expect(defaultEvalEvery(3000)).toBe(500);
    expect(defaultEvalEvery(100)).toBe(17);
    expect(defaultEvalEvery(3)).toBe(1);
    expect(defaultEvalEvery(1)).toBe(1);
    expect(parseCommandLine(['--steps', '600'])).toMatchObject({ evalEvery: 100 });
  });

  it('reads --export-onnx for a training run only', () => {
    expect(parseCommandLine(['--model', 'lstm', '--export-onnx'])).toMatchObject({ model: 'lstm', exportOnnx: true });
    expect(() => parseCommandLine(['--eval', '--export-onnx'])).toThrow(/--export-onnx/);
  });

  it('trains the bigram without a recipe', () => {
    expect(parseCommandLine(['--model', 'bigram', '--seed', '3'])).toEqual({
      kind: 'train',
      model: 'bigram',
      recipe: null,
      seed: 3,
      threads: 1,
      out: 'runs/charlm-bigram',
      exportOnnx: false,
      evalEvery: null,
    });
  });
});

describe('parseCommandLine: saved models', () => {
  it('reads --help, --eval and --sample with their defaults', () => {
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['-h', '--steps', 'x'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['--eval'])).toEqual({ kind: 'eval', modelFile: 'runs/charlm-transformer/model.safetensors' });
    expect(parseCommandLine(['--eval', '--model', 'lstm'])).toEqual({ kind: 'eval', modelFile: 'runs/charlm-lstm/model.safetensors' });
    expect(parseCommandLine(['--eval', '--load', 'm.safetensors'])).toEqual({ kind: 'eval', modelFile: 'm.safetensors' });
    expect(parseCommandLine(['--eval', '--model', 'mlp', '--load', 'm.safetensors'])).toEqual({ kind: 'eval', modelFile: 'm.safetensors' });
    expect(parseCommandLine(['--sample', '20'])).toEqual({
      kind: 'sample',
      modelFile: 'runs/charlm-transformer/model.safetensors',
      count: 20,
      temperature: 1,
      seed: 0,
      prefix: '',
    });
    expect(
      parseCommandLine(['--sample', '5', '--temperature', '0', '--seed', '9', '--prefix', 'em', '--load', 'a/model.safetensors']),
    ).toEqual({ kind: 'sample', modelFile: 'a/model.safetensors', count: 5, temperature: 0, seed: 9, prefix: 'em' });
    expect(parseCommandLine(['--sample', '1000', '--temperature', '.8', '--model', 'mlp'])).toMatchObject({
      count: 1000,
      temperature: 0.8,
      modelFile: 'runs/charlm-mlp/model.safetensors',
    });
  });
});

describe('parseCommandLine: errors', () => {
  it('rejects each bad command line with a message naming the flag and the value', () => {
    const cases: [string[], RegExp | string][] = [
      [['--modle', 'lstm'], 'unknown flag --modle'],
      [['-x'], 'unknown flag -x'],
      [['--model', 'rnn'], "--model must be one of bigram, mlp, lstm, transformer, got 'rnn'"],
      [['--model'], '--model needs a value (e.g. --model lstm)'],
      [['--steps'], '--steps needs a value (e.g. --steps 3)'],
      [['--steps', '--lr', '0.1'], /^--steps needs a value, but the next argument looks like a flag.*--steps=<value>/],
      [['--steps', '0'], "--steps must be an integer from 1 to 1000000, got '0'"],
      [['--steps', '2.5'], "--steps must be an integer from 1 to 1000000, got '2.5'"],
      [['--steps', 'ten'], "--steps must be an integer from 1 to 1000000, got 'ten'"],
      [['--batch-size', '0'], "--batch-size must be an integer from 1 to 10000, got '0'"],
      [['--batch-size', '1e3'], "--batch-size must be an integer from 1 to 10000, got '1e3'"],
      [['--lr', '0'], "--lr must be a number > 0 and <= 1, got '0'"],
      [['--lr=-0.1'], "--lr must be a number > 0 and <= 1, got '-0.1'"],
      [['--lr', 'fast'], "--lr must be a number > 0 and <= 1, got 'fast'"],
      [['--lr', 'Infinity'], "--lr must be a number > 0 and <= 1, got 'Infinity'"],
      [['--lr', '0x10'], "--lr must be a number > 0 and <= 1, got '0x10'"],
      [['--eval-every', '0'], "--eval-every must be an integer from 1 to 1500, got '0'"],
      [['--steps', '100', '--eval-every', '101'], "--eval-every must be an integer from 1 to 100, got '101'"],
      [['--seed=-1'], "--seed must be an integer from 0 to 9007199254740991, got '-1'"],
      [['--seed', '1.5'], "--seed must be an integer from 0 to 9007199254740991, got '1.5'"],
      [['--threads', '0'], "--threads must be an integer from 1 to 64, got '0'"],
      [['--threads', 'all'], "--threads must be an integer from 1 to 64, got 'all'"],
      [['--out', ''], '--out needs a value, got an empty string'],
      [['--help=yes'], '--help takes no value'],
      [['--eval=yes'], '--eval takes no value'],
      [['lstm'], "unexpected argument 'lstm'; flags take the form --name value"],
      [['--model', 'bigram', '--steps', '10'], "--steps '10' does not apply to --model bigram"],
      [['--model', 'bigram', '--batch-size', '8'], "--batch-size '8' does not apply to --model bigram"],
      [['--model', 'bigram', '--lr', '0.1'], "--lr '0.1' does not apply to --model bigram"],
      [['--model', 'bigram', '--eval-every', '5'], "--eval-every '5' does not apply to --model bigram"],
      [['--eval', '--sample', '3'], "--eval and --sample '3' cannot be used together"],
      [['--eval', '--steps', '3'], "--steps '3' cannot be used with --eval"],
      [['--eval', '--seed', '3'], "--seed '3' cannot be used with --eval"],
      [['--eval', '--out', 'x'], "--out 'x' cannot be used with --eval"],
      [['--sample', '3', '--lr', '0.1'], "--lr '0.1' cannot be used with --sample"],
      [['--sample', '3', '--threads', '2'], "--threads '2' cannot be used with --sample"],
      [['--temperature', '0.5'], "--temperature '0.5' needs --sample"],
      [['--eval', '--prefix', 'em'], "--prefix 'em' needs --sample"],
      [['--load', 'm.safetensors'], "--load 'm.safetensors' needs --eval or --sample"],
      [['--sample', '0'], "--sample must be an integer from 1 to 1000, got '0'"],
      [['--sample', '1001'], "--sample must be an integer from 1 to 1000, got '1001'"],
      [['--sample', 'many'], "--sample must be an integer from 1 to 1000, got 'many'"],
      [['--sample'], '--sample needs a value'],
      [['--sample', '3', '--temperature=-1'], "--temperature must be a number >= 0 and <= 10, got '-1'"],
      [['--sample', '3', '--temperature', '11'], "--temperature must be a number >= 0 and <= 10, got '11'"],
      [['--sample', '3', '--temperature', 'NaN'], "--temperature must be a number >= 0 and <= 10, got 'NaN'"],
      [['--sample', '3', '--prefix', 'Em'], "--prefix must be lower-case letters a-z (the names' characters), got 'Em'"],
      [['--sample', '3', '--prefix', 'a.b'], "--prefix must be lower-case letters a-z (the names' characters), got 'a.b'"],
      [['--sample', '3', '--prefix', 'é'], "got 'é'"],
    ];
    for (const [args, message] of cases) {
      const error = usageError(args);
      if (typeof message === 'string') expect(error.message, JSON.stringify(args)).toContain(message);
      else expect(error.message, JSON.stringify(args)).toMatch(message);
    }
  });
});

describe('did you mean', () => {
  const message = (args: string[]) => usageError(args).message;

  it('names the closest known flag for a mistyped one', () => {
    expect(message(['--modle', 'lstm'])).toBe('unknown flag --modle (did you mean --model?)');
    expect(message(['--step', '10'])).toBe('unknown flag --step (did you mean --steps?)');
    expect(message(['--evalevery', '10'])).toBe('unknown flag --evalevery (did you mean --eval-every?)');
    expect(message(['--sample', '3', '--temprature', '0.5'])).toBe('unknown flag --temprature (did you mean --temperature?)');
    expect(message(['--prefx=em'])).toBe('unknown flag --prefx (did you mean --prefix?)');
  });

  it('names the closest model for a mistyped value', () => {
    expect(message(['--model', 'tranformer'])).toBe(
      "--model must be one of bigram, mlp, lstm, transformer, got 'tranformer' (did you mean 'transformer'?)",
    );
    expect(message(['--model', 'lstn'])).toBe("--model must be one of bigram, mlp, lstm, transformer, got 'lstn' (did you mean 'lstm'?)");
    expect(message(['--model', 'Bigram'])).toBe("--model must be one of bigram, mlp, lstm, transformer, got 'Bigram' (did you mean 'bigram'?)");
  });

  it('guesses nothing when nothing is close', () => {
    expect(message(['--verbose'])).toBe('unknown flag --verbose');
    expect(message(['-x'])).toBe('unknown flag -x');
    expect(message(['--model', 'gpt'])).toBe("--model must be one of bigram, mlp, lstm, transformer, got 'gpt'");
  });
});

describe('helpText', () => {
  const help = helpText();

  it('documents every flag the parser reads', () => {
    const flags = Object.keys(OPTIONS);
    expect(flags.length).toBeGreaterThan(10);
    for (const flag of flags) expect(help, flag).toMatch(new RegExp(`^ +(-h, )?--${flag} `, 'm'));
  });

  it('gives the defaults from RECIPES, each model with its sizes, the output files and examples', () => {
    expect(help).toContain(`--steps <n>               optimizer steps (default: mlp ${RECIPES.mlp.steps}, lstm ${RECIPES.lstm.steps}, transformer ${RECIPES.transformer.steps})`);
    expect(help).toContain(`(default ${RECIPES.transformer.batchSize})`);
    expect(help).toContain(`transformer ${RECIPES.transformer.lr})`);
    for (const model of MODEL_NAMES) expect(help).toMatch(new RegExp(`^ {6}${model} +\\S`, 'm'));
    expect(help).toContain(`tanh(${MODEL_SIZES.mlp.hidden})`);
    expect(help).toContain(`hidden ${MODEL_SIZES.lstm.hidden}`);
    expect(help).toContain(`width ${MODEL_SIZES.transformer.embedDim}`);
    for (const file of ['model.safetensors', 'metrics.json', 'loss.svg']) expect(help).toContain(file);
    for (const example of ['pnpm charlm\n', 'pnpm charlm --model lstm --steps 500', 'pnpm charlm --sample 20 --temperature 0.8', 'pnpm charlm --eval\n']) {
      expect(help).toContain(example);
    }
  });

  it('parses its own examples', () => {
    const examples = help
      .slice(help.indexOf('Examples:'))
      .split('\n')
      .filter((line) => line.startsWith('  pnpm charlm'));
    expect(examples).toHaveLength(4);
    for (const line of examples) expect(() => parseCommandLine(line.trim().split(/ +/).slice(2))).not.toThrow();
  });
});
