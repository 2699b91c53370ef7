import { mkdtempSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TorchGenerator, decodeSafetensors, encodeSafetensors } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { TensorDataset } from '@backprop/data';
import { type Digits, normalize, splitDataset } from '@backprop/data/mnist';
import { loadDigits, prepareData } from '@backprop/data/mnist/node';
import { evaluate } from '../src/evaluate';
import { ModelFileError, encodeModel, inferMlpArchitecture, loadModel, saveModel, writeFileAtomic } from '../src/io';
import { buildModel, cnnArchitecture, mlpArchitecture } from '../src/models';
import { trainModel } from '../src/train';
import { DEAD_PID } from './helpers';

const data = prepareData();
const first = (n: number, from: Digits = data.train) => {
  const { x, y } = from.getItems(Array.from({ length: n }, (_, i) => i));
  return new TensorDataset(x, y);
};

function trained(architecture = mlpArchitecture(), samples = 300) {
  const rng = new TorchGenerator(1);
  const model = buildModel(architecture, rng);
  const { final } = trainModel(model, first(samples), data.test, {
    epochs: 1,
    batchSize: 32,
    lr: 0.003,
    optimizer: 'adam',
    sampleShape: architecture.inputShape,
    rng,
  });
  return { model, final };
}

describe('save → load → evaluate', () => {
  for (const architecture of [mlpArchitecture(), cnnArchitecture()]) {
    it(`${architecture.name}: the loaded model predicts exactly as the saved one`, () => {
      const { model, final } = trained(architecture, architecture.name === 'cnn' ? 64 : 300);
      const dir = mkdtempSync(join(tmpdir(), 'mnist-io-'));
      const path = join(dir, 'model.safetensors');
      const training = { optimizer: 'adam', lr: 0.003 };
      saveModel(path, model, { architecture, normalization: data.normalization, seed: 1, testAccuracy: final.accuracy, training });
      expect(readdirSync(dir)).toEqual(['model.safetensors']); // the temporary file was renamed away

      const loaded = loadModel(path);
      expect(loaded.metadata).toEqual({ architecture, normalization: data.normalization, seed: 1, testAccuracy: final.accuracy, training });
      expect(loaded.model.training).toBe(false);
      const again = evaluate(loaded.model, data.test, { sampleShape: architecture.inputShape });
      expect(Array.from(again.predictions)).toEqual(Array.from(final.predictions));
      expect(again.loss).toBe(final.loss);
      expect(again.accuracy).toBe(final.accuracy);
      const x = first(20, data.test).inputs.reshape([20, ...architecture.inputShape]);
      expect(Array.from(loaded.model.forward(x).data)).toEqual(Array.from(model.eval().forward(x).data));
    });
  }

  it('writes PyTorch state_dict names, format "pt" and the metadata a reader needs', () => {
    const { model } = trained();
    const dir = mkdtempSync(join(tmpdir(), 'mnist-io-'));
    const path = join(dir, 'model.safetensors');
    saveModel(path, model, { architecture: mlpArchitecture(), normalization: data.normalization, seed: 1, testAccuracy: 0.5 });
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(path)));
    expect(Object.keys(tensors).sort()).toEqual(['0.bias', '0.weight', '2.bias', '2.weight']);
    expect(metadata.format).toBe('pt');
    expect(JSON.parse(metadata.architecture)).toEqual(mlpArchitecture());
    expect(JSON.parse(metadata.normalization)).toEqual(data.normalization);
    expect(metadata.seed).toBe('1');
    expect(metadata.testAccuracy).toBe('0.5');
  });
});

describe('loadModel errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mnist-bad-'));
  const write = (name: string, bytes: Uint8Array | string) => {
    writeFileSync(join(dir, name), bytes);
    return join(dir, name);
  };
  const weights = buildModel(mlpArchitecture(), new TorchGenerator(0)).stateDict();
  const normalization = JSON.stringify({ mean: 0.1, std: 0.3 });

  it('names the file and the problem', () => {
    expect(() => loadModel(write('junk.safetensors', 'not a model'))).toThrow(ModelFileError);
    expect(() => loadModel(write('junk.safetensors', 'not a model'))).toThrow(/junk\.safetensors is not a valid safetensors file/);
    const wrongArch = encodeSafetensors(weights, { architecture: JSON.stringify(cnnArchitecture()), normalization });
    expect(() => loadModel(write('arch.safetensors', wrongArch))).toThrow(/the weights do not fit the architecture 'cnn'/);
    const badArch = encodeSafetensors(weights, { architecture: '{"name": "mlp"}', normalization });
    expect(() => loadModel(write('bad.safetensors', badArch))).toThrow(/bad\.safetensors: architecture: 'inputShape' must be/);
    const notJson = encodeSafetensors(weights, { architecture: '{', normalization });
    expect(() => loadModel(write('json.safetensors', notJson))).toThrow(/metadata 'architecture' is not valid JSON/);
    const noNorm = encodeSafetensors(weights, { architecture: JSON.stringify(mlpArchitecture()) });
    expect(() => loadModel(write('nonorm.safetensors', noNorm))).toThrow(/has no 'normalization' metadata/);
    const badNorm = encodeSafetensors(weights, { architecture: JSON.stringify(mlpArchitecture()), normalization: '{"mean": 0, "std": 0}' });
    expect(() => loadModel(write('badnorm.safetensors', badNorm))).toThrow(/'normalization' must be \{"mean": number in \[0, 1\], "std": number in \[0\.01, 1\]\}/);
    const conv = encodeSafetensors(buildModel(cnnArchitecture(), new TorchGenerator(0)).stateDict());
    expect(() => loadModel(write('conv.safetensors', conv))).toThrow(/no 'architecture' metadata and its tensors .* are not a Linear\/ReLU stack/);
  });

  it('reads a bare state_dict of Linear layers as an MLP', () => {
    expect(inferMlpArchitecture(weights)).toEqual(mlpArchitecture());
    const bare = write('bare.safetensors', encodeSafetensors(weights));
    const { model, metadata } = loadModel(bare, { fallbackNormalization: { mean: 0, std: 1 } });
    expect(metadata.architecture).toEqual(mlpArchitecture());
    expect(Array.from(model.stateDict()['2.weight'].data)).toEqual(Array.from(weights['2.weight'].data));
  });
});

describe('the evaluation split used by --eval', () => {
  it('is the fixed test split, standardized with the saved training statistics', () => {
    const { test } = splitDataset(loadDigits());
    expect(Array.from(normalize(test, data.normalization).inputs.data.subarray(0, 784))).toEqual(
      Array.from(data.test.inputs.data.subarray(0, 784)),
    );
  });
});

describe('saving never loses the old model', () => {
  it('a write that fails midway (a full disk) leaves the previous file as it was, and no temporary file', () => {
    const architecture = mlpArchitecture();
    const dir = mkdtempSync(join(tmpdir(), 'mnist-atomic-'));
    const path = join(dir, 'model.safetensors');
    const metadata = { architecture, normalization: data.normalization, seed: 1, testAccuracy: 0.5, training: { optimizer: 'sgd', lr: 0.1 } };
    const old = buildModel(architecture, new TorchGenerator(1));
    saveModel(path, old, metadata);
    const before = readFileSync(path);

    const replacement = encodeModel(buildModel(architecture, new TorchGenerator(2)), metadata);
    let written = 0;
    const diskFullHalfway = {
      writeSync(fd: number, bytes: Uint8Array, offset: number, length: number): number {
        const room = Math.floor(replacement.length / 2) - written;
        if (room <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        const n = writeSync(fd, bytes, offset, Math.min(length, room, 4096));
        written += n;
        return n;
      },
    };
    expect(() => writeFileAtomic(path, replacement, diskFullHalfway)).toThrow(/ENOSPC/);
    expect(written).toBeGreaterThan(0); // it really failed part of the way through
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    const x = first(5, data.test).inputs;
    expect(Array.from(loadModel(path).model.forward(x).data)).toEqual(Array.from(old.eval().forward(x).data));

    writeFileAtomic(path, replacement); // and a write that succeeds replaces it
    expect(readFileSync(path).equals(Buffer.from(replacement))).toBe(true);
  });

  it('removes the temporary file a killed write left (SIGKILL midway), and no other', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnist-atomic-'));
    const path = join(dir, 'model.safetensors');
    writeFileSync(join(dir, `.model.safetensors.${DEAD_PID}.tmp`), new Uint8Array(100_000));
    writeFileSync(join(dir, `.model.safetensors.${process.ppid}.tmp`), 'a write in progress in a live process');
    writeFileSync(join(dir, `.metrics.json.${DEAD_PID}.tmp`), 'another file');
    writeFileAtomic(path, 'new');
    expect(readdirSync(dir).sort()).toEqual([`.metrics.json.${DEAD_PID}.tmp`, `.model.safetensors.${process.ppid}.tmp`, 'model.safetensors']);
  });
});
