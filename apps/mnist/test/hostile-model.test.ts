import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TorchGenerator, encodeSafetensors, zeros } from '@backprop/ndarray';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_MODEL_FILE_BYTES, ModelFileError, loadModel } from '../src/io';
import { main } from '../src/main';
import { buildModel, mlpArchitecture } from '../src/models';
import { printable } from '../src/report';
import { Capture } from './helpers';

// A spy on buildModel, to see that a file is checked before anything is built from it.
vi.mock('../src/models', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/models')>();
  return { ...actual, buildModel: vi.fn(actual.buildModel) };
});

afterEach(() => {
  vi.mocked(buildModel).mockClear();
});

const dir = mkdtempSync(join(tmpdir(), 'mnist-hostile-'));
const weights = buildModel(mlpArchitecture(), new TorchGenerator(0)).stateDict();
const normalization = JSON.stringify({ mean: 0.1307, std: 0.3081 });
const architecture = JSON.stringify(mlpArchitecture());

function write(name: string, tensors: Parameters<typeof encodeSafetensors>[0], metadata: Record<string, string>): string {
  const path = join(dir, name);
  writeFileSync(path, encodeSafetensors(tensors, metadata));
  return path;
}

/** What loadModel throws for `path`, and whether it built a model first. */
function rejection(path: string, options: Parameters<typeof loadModel>[1] = {}): { error: unknown; built: boolean } {
  vi.mocked(buildModel).mockClear();
  try {
    loadModel(path, options);
  } catch (error) {
    return { error, built: vi.mocked(buildModel).mock.calls.length > 0 };
  }
  throw new Error(`expected ${path} to be rejected`);
}

/** The control characters in `text` other than its line feeds (C0, DEL, C1). */
const controls = (text: string): string[] =>
  [...text].filter((char) => {
    const code = char.charCodeAt(0);
    return (code < 0x20 && char !== '\n') || (code >= 0x7f && code <= 0x9f);
  });

async function evaluateFile(path: string) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(['--eval', path], { stdout, stderr, cwd: dir });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('a hostile model file is rejected before anything is built from it', () => {
  it('an architecture its weights do not fit (Linear(784, 60000) over a 400 KB file) builds nothing', () => {
    const claimed = {
      ...mlpArchitecture(),
      layers: [{ type: 'Linear', inFeatures: 784, outFeatures: 60_000 }, { type: 'ReLU' }, { type: 'Linear', inFeatures: 60_000, outFeatures: 10 }],
    };
    const path = write('wide.safetensors', weights, { architecture: JSON.stringify(claimed), normalization });
    const { error, built } = rejection(path);
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as Error).message).toBe(
      `${path}: the weights do not fit the architecture 'mlp': tensor '0.weight' has shape [128, 784], expected [60000, 784]`,
    );
    expect(built).toBe(false);

    const extra = write('extra.safetensors', { ...weights, '4.weight': zeros([2, 2]) }, { architecture, normalization });
    expect(rejection(extra).error).toEqual(
      new ModelFileError(`${extra}: the weights do not fit the architecture 'mlp': the file holds tensors the architecture has no place for: 4.weight`),
    );
    const missing = write('missing.safetensors', { '0.weight': weights['0.weight'] }, { architecture, normalization });
    expect((rejection(missing).error as Error).message).toMatch(/it needs a tensor '0\.bias' of shape \[128\], which the file does not hold$/);
  });

  it('absurd sizes and 100,000 layers are a ModelFileError, not a RangeError or a stack overflow', () => {
    const huge = { ...mlpArchitecture(), layers: [{ type: 'Linear', inFeatures: 100_000, outFeatures: 100_000 }] };
    const hugePath = write('huge.safetensors', weights, { architecture: JSON.stringify(huge), normalization });
    const deep = { ...mlpArchitecture(), layers: [...mlpArchitecture().layers, ...Array.from({ length: 100_000 }, () => ({ type: 'ReLU' }))] };
    const deepPath = write('deep.safetensors', weights, { architecture: JSON.stringify(deep), normalization });
    for (const [path, message] of [
      [hugePath, /huge\.safetensors: architecture: layers\[0\] \(Linear\)\.inFeatures is 100000; expected an integer from 1 to 65536$/],
      [deepPath, /deep\.safetensors: architecture: 'layers' must be an array of 1 to 256 layers, got 100003 layers$/],
    ] as const) {
      const { error, built } = rejection(path);
      expect(error).toBeInstanceOf(ModelFileError);
      expect((error as Error).message).toMatch(message);
      expect(built).toBe(false);
    }
  });

  it('a bare state_dict of 130 Linear layers (no architecture metadata) is held to the same bounds', () => {
    const stack = Object.fromEntries(
      Array.from({ length: 130 }, (_, i) => [
        [`${2 * i}.weight`, zeros([1, 1])],
        [`${2 * i}.bias`, zeros([1])],
      ]).flat(),
    );
    const path = write('stack.safetensors', stack, { normalization });
    const { error, built } = rejection(path);
    expect((error as Error).message).toBe(
      `${path}: the Linear/ReLU stack its tensors form is not one this app builds: architecture: 'layers' must be an array of 1 to 256 layers, got 259 layers`,
    );
    expect(built).toBe(false);
  });

  it('reads at most maxBytes of a file', () => {
    const path = write('ok.safetensors', weights, { architecture, normalization });
    const size = readFileSync(path).length;
    expect(rejection(path, { maxBytes: 1000 }).error).toEqual(new ModelFileError(`${path} is ${size} bytes; a model file may be at most 1000 bytes`));
    expect(loadModel(path).metadata.architecture).toEqual(mlpArchitecture());
  });

  it('reads at most 256 MiB by default, so /dev/zero (whose size says 0) is refused instead of read without end', () => {
    expect(MAX_MODEL_FILE_BYTES).toBe(256 * 1024 * 1024);
    expect(rejection('/dev/zero').error).toEqual(
      new ModelFileError(`/dev/zero holds more than ${MAX_MODEL_FILE_BYTES} bytes; a model file may be at most ${MAX_MODEL_FILE_BYTES} bytes`),
    );
  });

  it('NaN or infinite weights, and an absurd normalization, are refused naming the file', () => {
    for (const [bad, shown] of [
      [Number.NaN, 'NaN'],
      [Number.NEGATIVE_INFINITY, '-Infinity'],
    ] as const) {
      const bias = weights['2.bias'].clone();
      bias.data[3] = bad;
      const path = write('nan.safetensors', { ...weights, '2.bias': bias }, { architecture, normalization });
      expect(rejection(path).error).toEqual(new ModelFileError(`${path}: tensor '2.bias' holds ${shown} at flat index 3; model weights must be finite`));
    }
    for (const norm of ['{"mean": 0.1, "std": 1e-30}', '{"mean": 1e400, "std": 0.3}', '{"mean": -5, "std": 0.3}', '{"mean": 0.1, "std": 7}']) {
      const path = write('norm.safetensors', weights, { architecture, normalization: norm });
      expect((rejection(path).error as Error).message).toBe(
        `${path}: metadata 'normalization' must be {"mean": number in [0, 1], "std": number in [0.01, 1]} (the statistics of pixels in [0, 1]), got ${JSON.stringify(norm)}`,
      );
    }
  });

  it('seed and testAccuracy must be numbers in range, not NaN% or Infinity%', async () => {
    for (const accuracy of ['NaN', 'Infinity', 'high', '1.5', '']) {
      const path = write('accuracy.safetensors', weights, { architecture, normalization, testAccuracy: accuracy });
      expect((rejection(path).error as Error).message).toBe(`${path}: metadata 'testAccuracy' must be a number from 0 to 1, got ${JSON.stringify(accuracy)}`);
    }
    const seed = write('seed.safetensors', weights, { architecture, normalization, seed: '1.5' });
    expect((rejection(seed).error as Error).message).toMatch(/metadata 'seed' must be an integer from 0 to 9007199254740991, got "1\.5"$/);
    const training = write('training.safetensors', weights, { architecture, normalization, training: '3' });
    expect((rejection(training).error as Error).message).toMatch(/metadata 'training' must be a JSON object, got "3"$/);

    const run = await evaluateFile(write('infinite.safetensors', weights, { architecture, normalization, testAccuracy: 'Infinity' }));
    expect(run.code).toBe(1);
    expect(run.stdout).not.toMatch(/Infinity%|NaN%/);
    expect(run.stderr).toMatch(/^mnist: .*infinite\.safetensors: metadata 'testAccuracy' must be a number from 0 to 1, got "Infinity"\n$/);
  });
});

describe('what a file holds never drives the terminal', () => {
  it('printable shows control characters and bidirectional overrides as escapes, on one line', () => {
    expect(printable('mlp\u001b]0;owned\u0007\u001b[2J\r\nfake line\u009b31m\u202eevil\u007f')).toBe(
      'mlp\\x1b]0;owned\\x07\\x1b[2J\\x0d\\x0afake line\\x9b31m\\u202eevil\\x7f',
    );
    expect(printable('Linear(784, 128) – 0.5 µ ✓')).toBe('Linear(784, 128) – 0.5 µ ✓');
  });

  it('--eval escapes an architecture name and a normalization holding escape codes', async () => {
    const named = write('named.safetensors', weights, {
      architecture: JSON.stringify({ ...mlpArchitecture(), name: 'mlp\u001b]0;owned\u0007\u001b[2J\u009b' }),
      normalization,
    });
    const run = await evaluateFile(named);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Model mlp\\x1b]0;owned\\x07\\x1b[2J\\x9b: Sequential(');
    expect(controls(run.stdout)).toEqual([]);

    // JSON allows C1 controls raw in a string (\u009b is CSI, as ESC [), and names ESC itself as \u001b.
    const colored = write('colored.safetensors', weights, { architecture, normalization: '{"mean": "\u009b2J", "std": 1}' });
    const failed = await evaluateFile(colored);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(String.raw`got "{\"mean\": \"\x9b2J\", \"std\": 1}"`);
    const int = write('int.safetensors', { ...weights, 'w\u001b[2J\n': zeros([1], { dtype: 'int32' }) }, { architecture, normalization });
    const named2 = await evaluateFile(int);
    expect(named2.code).toBe(1);
    expect(named2.stderr).toContain(String.raw`tensor 'w\x1b[2J\x0a' is int32`);
    for (const text of [failed.stderr, named2.stderr]) {
      expect(controls(text)).toEqual([]);
      expect(text.split('\n')).toHaveLength(2); // one line and its newline
    }
  });
});
