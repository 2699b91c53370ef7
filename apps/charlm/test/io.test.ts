import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TorchGenerator, array, encodeSafetensors, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { Vocabulary } from '@backprop/data/names';
import { MAX_MODEL_FILE_BYTES, ModelFileError, OutputError, decodeModel, encodeModel, loadModel, parseConfig, writeFiles } from '../src/io';
import { type ModelConfig, buildModel } from '../src/models';

const vocab = Vocabulary.of(['abc', 'cab']);
const configs: ModelConfig[] = [
  { model: 'bigram', vocabSize: 4, blockSize: 5 },
  { model: 'mlp', vocabSize: 4, blockSize: 5, context: 3, embedDim: 2, hidden: 5 },
  { model: 'lstm', vocabSize: 4, blockSize: 5, embedDim: 3, hidden: 4, layers: 2 },
  { model: 'transformer', vocabSize: 4, blockSize: 5, embedDim: 4, heads: 2, layers: 2 },
];
const ids = array([[0, 1, 2, 3, 0]], { dtype: 'int32' });

describe('model files', () => {
  for (const config of configs) {
    it(`a ${config.model} comes back with the same weights, outputs, config and vocabulary`, () => {
      const model = buildModel(config, { rng: new TorchGenerator(4) });
      const bytes = encodeModel(model, { config, vocab, extra: { valLoss: 2.5 } });
      const { model: loaded, metadata } = decodeModel(bytes, 'model.safetensors');
      expect(Array.from(loaded.forward(ids).data)).toEqual(Array.from(model.forward(ids).data));
      expect(metadata.config).toEqual(config);
      expect(metadata.vocab.chars).toEqual(vocab.chars);
      expect(metadata.extra).toEqual({ valLoss: 2.5 });
    });
  }

  it('names the state dict as torch does', () => {
    const config = configs[3];
    const names = Object.keys(buildModel(config, { rng: new TorchGenerator(0) }).stateDict());
    expect(names.slice(0, 4)).toEqual(['wte.weight', 'wpe.weight', 'encoder.layers.0.self_attn.in_proj_weight', 'encoder.layers.0.self_attn.in_proj_bias']);
    expect(names.slice(-4)).toEqual(['encoder.norm.weight', 'encoder.norm.bias', 'head.weight', 'head.bias']);
  });

  it('writes files whole, and loadModel reads them back', () => {
    const folder = mkdtempSync(join(tmpdir(), 'charlm-io-'));
    const model = buildModel(configs[1], { rng: new TorchGenerator(0) });
    const [path] = writeFiles(folder, { 'model.safetensors': encodeModel(model, { config: configs[1], vocab }) });
    expect(loadModel(path).metadata.config).toEqual(configs[1]);
    expect(() => loadModel(join(folder, 'missing.safetensors'))).toThrow(/cannot read the model file .*missing.safetensors.*train one first/);
    expect(() => loadModel(folder)).toThrow(/is not a file/);
  });

  it('refuses a file that is not a model this app wrote, naming the file and the problem', () => {
    const folder = mkdtempSync(join(tmpdir(), 'charlm-io-'));
    const model = buildModel(configs[3], { rng: new TorchGenerator(0) });
    const good = encodeModel(model, { config: configs[3], vocab });
    const write = (name: string, bytes: Uint8Array) => {
      writeFileSync(join(folder, name), bytes);
      return join(folder, name);
    };
    expect(() => loadModel(write('cut.safetensors', good.subarray(0, good.length - 9)))).toThrow(ModelFileError);
    expect(() => loadModel(write('text.safetensors', new TextEncoder().encode('hello world, not a model')))).toThrow(/text.safetensors/);
    const weights = model.stateDict();
    const withMeta = (meta: Record<string, string>) => encodeSafetensors(weights, { format: 'pt', ...meta });
    const vocabJson = JSON.stringify(vocab.chars);
    expect(() => decodeModel(withMeta({ vocab: vocabJson }), 'f')).toThrow(/f: the metadata has no 'config'/);
    expect(() => decodeModel(withMeta({ config: '{', vocab: vocabJson }), 'f')).toThrow(/'config' is not JSON/);
    const config = (patch: Record<string, unknown>) => JSON.stringify({ ...configs[3], ...patch });
    expect(() => decodeModel(withMeta({ config: config({ layers: 1e9 }), vocab: vocabJson }), 'f')).toThrow(
      /config.layers of a transformer must be an integer from 1 to 64, got 1000000000/,
    );
    expect(() => decodeModel(withMeta({ config: config({ heads: 3 }), vocab: vocabJson }), 'f')).toThrow(/divisible by config.heads \(3\)/);
    expect(() => decodeModel(withMeta({ config: config({ model: 'gpt5' }), vocab: vocabJson }), 'f')).toThrow(/config.model must be one of/);
    expect(() => decodeModel(withMeta({ config: config({ layers: 1 }), vocab: vocabJson }), 'f')).toThrow(
      /the weights do not fit a transformer of this config/,
    );
    expect(() => decodeModel(withMeta({ config: config({}), vocab: '["."]' }), 'f')).toThrow(/1 characters but config.vocabSize is 4/);
    expect(() => decodeModel(withMeta({ config: config({}), vocab: '["a", "b", "c", "d"]' }), 'f')).toThrow(/a vocabulary is '.' followed by/);
    const mixed = { ...weights, 'head.bias': zeros([4], { dtype: 'float64' }) };
    expect(() => decodeModel(encodeSafetensors(mixed, { config: config({}), vocab: vocabJson }), 'f')).toThrow(/mix dtypes/);
    expect(MAX_MODEL_FILE_BYTES).toBeGreaterThan(readFileSync(write('ok.safetensors', good)).length);
  });

  it('refuses a config that describes more weights than the file holds, before building anything', () => {
    const small = buildModel(configs[3], { rng: new TorchGenerator(0) });
    const huge = JSON.stringify({ ...configs[3], embedDim: 4096, layers: 64 });
    const bytes = encodeSafetensors(small.stateDict(), { config: huge, vocab: JSON.stringify(vocab.chars) });
    expect(() => decodeModel(bytes, 'f')).toThrow(/f: its config describes a transformer of 12,888,371,204 weights, but the file is only [\d,]+ bytes/);
  });

  it('writeFiles names the path it cannot write', () => {
    const folder = mkdtempSync(join(tmpdir(), 'charlm-io-'));
    writeFileSync(join(folder, 'taken'), '');
    expect(() => writeFiles(join(folder, 'taken'), { 'a.txt': 'x' })).toThrow(OutputError);
    expect(() => writeFiles(join(folder, 'taken'), { 'a.txt': 'x' })).toThrow(/cannot create the output folder .*taken/);
  });

  it('parseConfig refuses unknown fields and non-objects', () => {
    expect(() => parseConfig([1])).toThrow(/config must be a JSON object/);
    expect(() => parseConfig({ ...configs[0], hidden: 3 })).toThrow(/unknown fields hidden/);
  });
});
