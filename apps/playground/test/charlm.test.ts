/**
 * The character-LM page's pieces in Node: the names pack, the app's split,
 * the transformer reading a model file written by PyTorch under apps/charlm's
 * names (tools/torch-fixtures/playground_charlm.py), sampling, and the live
 * run learning.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { StateDictError } from '@backprop/layers';
import { TorchGenerator, encodeSafetensors, getBackend } from '@backprop/ndarray';
import { type FixtureTensor, assertClose, fromFixture, readFixture } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import { NamesDataError, Vocabulary, blockSizeFor, encodeNames, sampleNames, splitNames } from '@backprop/data/names';
import { loadNames } from '@backprop/data/names/node';
import { NAMES_FILE, packBabyNames } from '../plugins/baby-names';
import { packNames, unpackNames } from '../src/charlm/names-pack';
import { TransformerModel, ModelFileError, decodeModel, parseTransformerConfig } from '../src/charlm/model';
import { sampleNamesOn } from '../src/charlm/sample';
import { LIVE_MODEL, NamesTrainer, VAL_NAMES, lrFactor } from '../src/charlm/trainer';
import { createStrictBackend } from './strict-backend';

interface Fixture {
  config: { model: 'transformer'; vocabSize: number; blockSize: number; embedDim: number; heads: number; layers: number };
  vocab: string[];
  keys: string[];
  probe: string[];
  probeIds: FixtureTensor;
  logits: FixtureTensor;
  greedy: Record<string, string>;
  split: { names: number; counts: number[]; trainHead: string[]; valHead: string[]; testHead: string[]; trainTail: string[] };
}

const fixture = readFixture<Fixture>(new URL('./fixtures/charlm-tiny.json', import.meta.url));
const modelFile = new Uint8Array(readFileSync(new URL('./fixtures/charlm-tiny.safetensors', import.meta.url)));
const names = loadNames();

describe('the names pack', () => {
  it('holds the corpus’s 30,294 names in order, and the worker’s split is torch’s randperm(n, seed 42) cut 80/10/10', () => {
    const packed = packBabyNames();
    const unpacked = unpackNames(new Uint8Array(gunzipSync(packed)));
    expect(unpacked).toEqual(names);
    expect(unpacked.length).toBe(fixture.split.names);
    expect(packed.length).toBeLessThan(120_000);
    expect(NAMES_FILE).toBe('baby-names.bin');
    const split = splitNames(unpacked);
    expect([split.train.length, split.val.length, split.test.length]).toEqual(fixture.split.counts);
    expect(split.train.slice(0, 5)).toEqual(fixture.split.trainHead);
    expect(split.train.slice(-3)).toEqual(fixture.split.trainTail);
    expect(split.val.slice(0, 5)).toEqual(fixture.split.valHead);
    expect(split.test.slice(0, 5)).toEqual(fixture.split.testHead);
    expect(Vocabulary.of(unpacked).chars).toEqual(fixture.vocab);
    expect(blockSizeFor(unpacked)).toBe(fixture.config.blockSize);
  });

  it('encodes each name as makemore’s rows: .emma → emma., padded with 0 and −1', () => {
    const { x, y } = encodeNames(['emma', 'al'], new Vocabulary(fixture.vocab), 6);
    expect(Array.from(x.data)).toEqual([0, 5, 13, 13, 1, 0, 0, 1, 12, 0, 0, 0]);
    expect(Array.from(y.data)).toEqual([5, 13, 13, 1, 0, -1, 1, 12, 0, -1, -1, -1]);
  });

  it('refuses what is not a pack or not names', () => {
    expect(() => unpackNames(new TextEncoder().encode('PK\u0003\u0004'))).toThrow(/expected the first line 'BPNAMES1 <count>'/);
    expect(() => unpackNames(new TextEncoder().encode('BPNAMES1 3\nann\nbo\n'))).toThrow(/says 3 names but holds 2/);
    expect(() => unpackNames(new TextEncoder().encode('BPNAMES1 2\nann\nbo'))).toThrow(/cut short/);
    expect(() => unpackNames(new TextEncoder().encode('BPNAMES1 2\nann\nB0\n'))).toThrow(/name 2 of the pack is "B0"/);
    expect(() => packNames(['ann', 'Zoë'])).toThrow(NamesDataError);
    expect(unpackNames(packNames(['ann', 'bo']))).toEqual(['ann', 'bo']);
  });
});

describe('a model file written by PyTorch under apps/charlm’s names', () => {
  it('loads into the transformer and gives torch’s logits', () => {
    const { model, vocab } = decodeModel(modelFile);
    expect(Object.keys(model.stateDict()).sort()).toEqual(fixture.keys);
    expect(model.config).toEqual(fixture.config);
    expect(vocab.chars).toEqual(fixture.vocab);
    expect(model.training).toBe(false);
    assertClose(model.forward(fromFixture(fixture.probeIds)), fixture.logits, 'transformer logits of "emma", "liam"');
  });

  it('gives torch’s greedy names (temperature 0) for each prefix', () => {
    const { model, vocab } = decodeModel(modelFile);
    const rng = new TorchGenerator(0);
    for (const [prefix, name] of Object.entries(fixture.greedy)) {
      expect(sampleNames(model, vocab, { count: 2, temperature: 0, rng, prefix })).toEqual([name, name]);
    }
  });

  it('refuses other files with a message that says what is wrong', () => {
    const { model } = decodeModel(modelFile);
    const weights = model.stateDict();
    const file = (meta: Record<string, string> | undefined, tensors = weights) => encodeSafetensors(tensors, meta);
    const vocab = JSON.stringify(fixture.vocab);
    const config = (changes: Record<string, unknown>) => JSON.stringify({ ...fixture.config, ...changes });
    expect(() => decodeModel(new TextEncoder().encode('just some text, not a model'))).toThrow(/not a safetensors file/);
    expect(() => decodeModel(file(undefined))).toThrow(/metadata has no 'config'; is it a model written by pnpm charlm\?/);
    expect(() => decodeModel(file({ config: '{"model":', vocab }))).toThrow(/'config' is not JSON/);
    expect(() => decodeModel(file({ config: config({ model: 'lstm', hidden: 128 }), vocab }))).toThrow(
      /samples from transformers only; the file holds a lstm model/,
    );
    expect(() => decodeModel(file({ config: config({ heads: 3 }), vocab }))).toThrow(/embedDim \(16\) must be divisible by config.heads \(3\)/);
    expect(() => decodeModel(file({ config: config({ layers: null }), vocab }))).toThrow(/config.layers of a transformer must be an integer from 1 to 64, got null/);
    expect(() => decodeModel(file({ config: config({ dropout: 0.1 }), vocab }))).toThrow(/unknown fields dropout/);
    expect(() => decodeModel(file({ config: config({}), vocab: '["a","b"]' }))).toThrow(/the metadata's vocab is not a vocabulary \(a vocabulary is '\.' followed by/);
    expect(() => decodeModel(file({ config: config({ vocabSize: 28 }), vocab }))).toThrow(/28/);
    expect(() => decodeModel(file({ config: config({ embedDim: 32, heads: 2 }), vocab }))).toThrow(/its config describes a transformer of 15,035 weights, but the file is only/);
    expect(() => decodeModel(file({ config: config({ embedDim: 8, heads: 2 }), vocab }))).toThrow(/the weights do not fit a transformer of this config/);
    const { 'head.bias': _, ...noBias } = weights;
    expect(() => decodeModel(file({ config: config({}), vocab }, noBias))).toThrow(/head\.bias/);
    expect(() => parseTransformerConfig([1])).toThrow(ModelFileError);
  });
});

describe('the transformer', () => {
  it('has apps/charlm’s state-dict names, and the ones a file lacks are named', () => {
    const model = new TransformerModel({ model: 'transformer', vocabSize: 27, blockSize: 16, ...LIVE_MODEL }, { rng: new TorchGenerator(0) });
    const keys = Object.keys(model.stateDict());
    expect(keys).toContain('wte.weight');
    expect(keys).toContain('wpe.weight');
    expect(keys).toContain('encoder.layers.0.self_attn.in_proj_weight');
    expect(keys).toContain('encoder.layers.1.linear2.bias');
    expect(keys).toContain('encoder.norm.weight');
    expect(keys).toContain('head.weight');
    expect(keys.filter((k) => k.startsWith('encoder.layers.')).length).toBe(2 * 12);
    expect(() => model.loadStateDict({})).toThrow(StateDictError);
    expect(() => model.forward(fromFixture(fixture.probeIds, 'float32'))).toThrow(/expected int32 token ids/);
  });
});

describe('the live run', () => {
  it('follows the app’s schedule: a 100-step warm-up, then a cosine to a tenth', () => {
    expect(lrFactor(0, 1000)).toBeCloseTo(0.01, 12);
    expect(lrFactor(99, 1000)).toBe(1);
    expect(lrFactor(999, 1000)).toBeCloseTo(0.1, 12);
    expect(lrFactor(549.5, 1000)).toBeCloseTo(0.55, 12);
  });

  it('trains in slices, lowers the loss, and its seeded samples repeat', async () => {
    const trainer = new NamesTrainer(names, { steps: 40, seed: 0 });
    expect(trainer.trainSize).toBe(fixture.split.counts[0]);
    expect(trainer.valSize).toBe(VAL_NAMES);
    const before = await trainer.valLoss();
    expect(before).toBeGreaterThan(Math.log(27) - 0.5); // an untrained model: about uniform over 27 characters
    const first = await trainer.train(60_000, 10);
    expect(first.step).toBe(10);
    const samples = await trainer.samples(8);
    expect(samples).toHaveLength(8);
    expect(samples.every((name) => /^[a-z]*$/.test(name) && name.length <= 15)).toBe(true);
    expect(await trainer.samples(8)).toEqual(samples); // the same draws each time
    const rest = await trainer.train(60_000);
    expect(rest.step).toBe(40);
    expect(trainer.done).toBe(true);
    expect((await trainer.train(60_000)).step).toBe(40); // nothing left to do
    expect(rest.loss).toBeLessThan(first.loss);
    expect(await trainer.valLoss()).toBeLessThan(before - 0.2);
    expect(await trainer.samples(8)).not.toEqual(samples);
    // The same seed gives the same run whatever the slices.
    const again = new NamesTrainer(names, { steps: 40, seed: 0 });
    await again.train(60_000, 3);
    await again.train(60_000, 10);
    expect(await again.samples(8)).toEqual(samples);
    expect(() => new NamesTrainer(names, { steps: 0, seed: 0 })).toThrow(/steps must be an integer >= 1, got 0/);
  });
});

describe('names sampled on any backend', () => {
  it('are sampleNames’ own on the CPU, name for name, at every temperature and prefix', async () => {
    const { model, vocab } = decodeModel(modelFile);
    for (const temperature of [0, 0.5, 1, 1.2]) {
      for (const prefix of ['', 'ma', 'jo']) {
        const options = { count: 12, temperature, prefix };
        const sync = sampleNames(model, vocab, { ...options, rng: new TorchGenerator(7) });
        expect(await sampleNamesOn(model, vocab, { ...options, rng: new TorchGenerator(7) })).toEqual(sync);
      }
    }
    expect(model.training).toBe(false);
    await expect(sampleNamesOn(model, vocab, { count: 0, temperature: 1, rng: new TorchGenerator(0) })).rejects.toThrow(/count must be a positive integer/);
    await expect(sampleNamesOn(model, vocab, { count: 1, temperature: 1, rng: new TorchGenerator(0), prefix: 'abcdefghijklmnopq' })).rejects.toThrow(
      /leaves no room in a block/,
    );
  });

  it('the live run trains, measures and samples on a backend that keeps its arrays off the host, with no synchronous read', async () => {
    const active = getBackend();
    const device = createStrictBackend();
    const gpuLike = new NamesTrainer(names, { steps: 20, seed: 0 }, { backend: device });
    const cpu = new NamesTrainer(names, { steps: 20, seed: 0 });
    expect(String(gpuLike.model)).toBe(String(cpu.model));
    const before = await gpuLike.valLoss();
    expect(before).toBeCloseTo(await cpu.valLoss(), 4);
    // Greedy names from the same weights: the same on either backend.
    const greedy = (t: NamesTrainer) => sampleNamesOn(t.model, t.vocab, { count: 5, temperature: 0, rng: new TorchGenerator(0) }, t.backend);
    expect(await greedy(gpuLike)).toEqual(await greedy(cpu));
    const first = await gpuLike.train(60_000, 10);
    const rest = await gpuLike.train(60_000);
    const cpuFirst = await cpu.train(60_000, 10);
    expect(first.loss).toBeCloseTo(cpuFirst.loss, 4);
    expect(rest.step).toBe(20);
    expect(rest.loss).toBeLessThan(first.loss);
    expect(rest.namesPerSecond).toBeGreaterThan(0);
    expect(await gpuLike.valLoss()).toBeLessThan(before - 0.2);
    const sampled = await gpuLike.samples(8);
    expect(sampled.every((name) => /^[a-z]*$/.test(name))).toBe(true);
    expect(device.syncReads).toBe(0);
    expect(getBackend()).toBe(active);
  });
});
