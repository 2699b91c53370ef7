/**
 * The app against its PyTorch twin (tools/torch-fixtures/charlm.py): the
 * same initial weights from the same seed, the first training steps' losses
 * and the validation loss after them, and PyTorch-trained checkpoints that
 * load here and give PyTorch's losses and greedy completions. Losses are
 * numbers computed in the model's dtype, compared as float64 values: within
 * TOLERANCE[dtype] (1e-10 relative for float64 runs, 1e-5 for float32).
 */
import { readFileSync } from 'node:fs';
import { gradcheck } from '@backprop/layers';
import { type DType, type NDArray, TorchGenerator, array, decodeSafetensors, zeros } from '@backprop/ndarray';
import { TOLERANCE, assertBitwiseEqual, assertClose, readFixture } from '@backprop/ndarray/test';
import { describe, expect, it } from 'vitest';
import { type Encoded, Vocabulary, blockSizeFor, encodeNames, sampleNames, splitNames } from '@backprop/data/names';
import { loadNames } from '@backprop/data/names/node';
import { type Bigram, type LanguageModel, MODEL_SIZES, type ModelConfig, buildModel } from '../src/models';
import { RECIPES, type Recipe, evaluateLoss, trainModel } from '../src/train';

type Trainable = 'mlp' | 'lstm' | 'transformer';

interface ParamStats {
  shape: number[];
  sum: number;
  absSum: number;
  sumSquares: number;
  first: number[];
  last: number[];
}

interface StepsCase {
  model: Trainable;
  dtype: 'float32' | 'float64';
  seed: number;
  sizes: Record<string, number>;
  recipe: Recipe;
  steps: number;
  losses: number[];
  valLoss: number;
  init: Record<string, ParamStats>;
}

interface CheckpointCase {
  file: string;
  seed: number;
  dtype: 'float32';
  sizes: Record<string, number>;
  recipe: Recipe;
  valLoss: number;
  testLoss: number;
  greedy: string[];
  greedyMinMargin: number[];
}

const fixture = <T>(name: string): T => readFixture<T>(new URL(`./fixtures/${name}.json`, import.meta.url));
const stepsFixture = fixture<{ cases: StepsCase[] }>('steps');
interface BigramCase {
  valLoss: number;
  testLoss: number;
  greedy: string[];
}
const checkpoints = fixture<{ models: Record<Trainable, CheckpointCase>; bigram: Record<'float32' | 'float64', BigramCase> }>('checkpoints');

const names = loadNames();
const vocab = Vocabulary.of(names);
const blockSize = blockSizeFor(names);
const split = splitNames(names);
const data: Record<'train' | 'val' | 'test', Encoded> = {
  train: encodeNames(split.train, vocab, blockSize),
  val: encodeNames(split.val, vocab, blockSize),
  test: encodeNames(split.test, vocab, blockSize),
};

function configOf(model: Trainable, sizes: Record<string, number>): ModelConfig {
  return { model, vocabSize: vocab.size, blockSize, ...sizes } as ModelConfig;
}

/**
 * Losses (numbers a model of `dtype` computed) against torch's, as float64
 * values within TOLERANCE[dtype]; prints the worst error with REPORT_ERRORS=1.
 */
function expectLosses(got: readonly number[], want: readonly number[], dtype: 'float32' | 'float64', label: string): void {
  const f64 = (v: readonly number[]) => array(Float64Array.from(v));
  const error = assertClose(f64(got), f64(want), label, TOLERANCE[dtype]);
  if (process.env.REPORT_ERRORS) console.log(`REPORT ${dtype} ${error.toExponential(2)} ${label}`);
}

/** Thrown from onStep to end a run early, the schedule still spanning the recipe's steps. */
class Stop extends Error {}


describe('the fixtures are for the app as it is', () => {
  it.each(stepsFixture.cases.map((c) => [`${c.model} ${c.dtype}`, c] as const))('%s: default sizes and recipe', (_, c) => {
    expect(c.sizes).toEqual(MODEL_SIZES[c.model]);
    expect(c.recipe).toEqual(RECIPES[c.model]);
  });
});

// One run in three stages, each its own test (they run in order and share the run), so that no
// test computes for long without yielding: vitest's worker must answer its runner within 60 s,
// and CI runs every package's tests at once on two cores.
describe.each(stepsFixture.cases.map((c) => [`${c.model} ${c.dtype}`, c] as const))('%s against torch', (label, c) => {
  const dtype: DType = c.dtype;
  const rng = new TorchGenerator(c.seed);
  let model: LanguageModel;

  it(`draws torch's initial weights from manual_seed(${c.seed})`, () => {
    model = buildModel(configOf(c.model, c.sizes), { dtype, rng });
    const state = model.stateDict();
    expect(Object.keys(state)).toEqual(Object.keys(c.init)); // torch's state_dict keys, in torch's order
    for (const [name, stats] of Object.entries(c.init)) {
      const value = state[name];
      expect(value.shape, `${label} ${name}: shape`).toEqual(stats.shape);
      expect(value.dtype).toBe(dtype);
      const values = Float64Array.from(value.data);
      assertBitwiseEqual(values.subarray(0, stats.first.length), stats.first, `${label} ${name}: first values`);
      assertBitwiseEqual(values.subarray(values.length - stats.last.length), stats.last, `${label} ${name}: last values`);
      let sum = 0;
      let absSum = 0;
      let sumSquares = 0;
      for (const v of values) {
        sum += v;
        absSum += Math.abs(v);
        sumSquares += v * v;
      }
      // Same values summed in another order: the sums agree to float64 round-off of |values|' sum.
      const scale = Math.max(stats.absSum, Number.MIN_VALUE);
      for (const [what, got, want, size] of [
        ['sum', sum, stats.sum, scale],
        ['|sum|', absSum, stats.absSum, scale],
        ['sum of squares', sumSquares, stats.sumSquares, Math.max(stats.sumSquares, Number.MIN_VALUE)],
      ] as const) {
        expect(Math.abs(got - want) / size, `${label} ${name}: ${what} ${got}, torch ${want}`).toBeLessThan(1e-12);
      }
    }
  });

  it(`takes torch's first ${c.steps} steps: the same losses`, () => {
    const losses: number[] = [];
    try {
      trainModel(
        model,
        data.train,
        data.val,
        { recipe: c.recipe, rng, evalEvery: c.recipe.steps },
        {
          onStep(step, loss) {
            losses.push(loss);
            if (step === c.steps) throw new Stop();
          },
        },
      );
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
    }
    expect(losses).toHaveLength(c.steps);
    expectLosses(losses, c.losses, c.dtype, `${label}: losses`);
  });

  it(`then gives torch's validation loss`, () => {
    const val = evaluateLoss(model, data.val);
    expectLosses([val], [c.valLoss], c.dtype, `${label}: validation loss`);
  });
});

interface LongRun {
  model: Trainable;
  dtype: 'float64';
  seed: number;
  sizes: Record<string, number>;
  recipe: Recipe;
  epochBatches: number;
  losses: number[];
  valLoss: number;
}

describe('a whole run against torch', () => {
  const long = fixture<LongRun>('long-run');

  it(`trains a tiny ${long.model} as torch does: warm-up, cosine, and into the second epoch`, () => {
    expect(long.recipe.steps).toBeGreaterThan(long.epochBatches + 1);
    expect(long.epochBatches).toBe(Math.floor(data.train.x.shape[0] / long.recipe.batchSize));
    const rng = new TorchGenerator(long.seed);
    const model = buildModel(configOf(long.model, long.sizes), { dtype: long.dtype, rng });
    const lrs: number[] = [];
    const { losses, history } = trainModel(
      model,
      data.train,
      data.val,
      { recipe: long.recipe, rng, evalEvery: long.recipe.steps },
      { onStep: (_, __, lr) => lrs.push(lr) },
    );
    expectLosses(losses, long.losses, long.dtype, `long ${long.model}: losses`);
    expectLosses([history.at(-1)?.valLoss ?? Number.NaN], [long.valLoss], long.dtype, `long ${long.model}: validation loss`);
    expect(lrs[0]).toBeCloseTo(long.recipe.lr / long.recipe.warmupSteps, 15);
    expect(Math.max(...lrs)).toBeCloseTo(long.recipe.lr, 15);
    expect(lrs.at(-1)).toBeCloseTo(long.recipe.lr * long.recipe.finalLrFraction, 15);
  });
});

describe.each((['mlp', 'lstm', 'transformer'] as const).map((m) => [m, checkpoints.models[m]] as const))(
  'the torch-trained %s checkpoint',
  (model, c) => {
    const load = (): LanguageModel => {
      const net = buildModel(configOf(model, c.sizes), { dtype: c.dtype });
      const bytes = readFileSync(new URL(`./fixtures/${c.file}`, import.meta.url));
      net.loadStateDict(decodeSafetensors(bytes).tensors);
      return net;
    };

    it.each(['val', 'test'] as const)("gives torch's %s loss", (part) => {
      const got = evaluateLoss(load(), data[part]);
      const want = part === 'val' ? c.valLoss : c.testLoss;
      expectLosses([got], [want], c.dtype, `${model} checkpoint: ${part} loss`);
    });

    it("completes each letter as torch does, greedily", () => {
      const net = load();
      const rng = new TorchGenerator(0);
      const greedy = [...'abcdefghijklmnopqrstuvwxyz'].map((prefix) => sampleNames(net, vocab, { count: 1, temperature: 0, rng, prefix })[0]);
      expect(greedy).toEqual(c.greedy);
    });

    it('refuses a checkpoint of another size', () => {
      const other = buildModel(configOf(model, { ...c.sizes, embedDim: 2 * c.sizes.embedDim }), { dtype: c.dtype });
      const bytes = readFileSync(new URL(`./fixtures/${c.file}`, import.meta.url));
      expect(() => other.loadStateDict(decodeSafetensors(bytes).tensors)).toThrow(/shape/);
    });
  },
);

describe.each(['float64', 'float32'] as const)('the bigram in %s', (dtype) => {
  it("counts torch's table: its validation and test loss and greedy completions", () => {
    const bigram = (buildModel({ model: 'bigram', vocabSize: vocab.size, blockSize }, { dtype }) as Bigram).fit(data.train.x, data.train.y);
    const want = checkpoints.bigram[dtype];
    expectLosses([evaluateLoss(bigram, data.val), evaluateLoss(bigram, data.test)], [want.valLoss, want.testLoss], dtype, `bigram ${dtype}: val, test loss`);
    const rng = new TorchGenerator(0);
    const greedy = [...'abcdefghijklmnopqrstuvwxyz'].map((prefix) => sampleNames(bigram, vocab, { count: 1, temperature: 0, rng, prefix })[0]);
    expect(greedy).toEqual(want.greedy);
  });
});

describe('each model backpropagates what finite differences measure (float64)', () => {
  // Token ids are not differentiable: the model is checked through a wrapper whose input is a dummy.
  const wrap = (model: LanguageModel, ids: NDArray) => ({
    forward: () => model.forward(ids),
    backward: (outputGrad: NDArray) => {
      model.backward(outputGrad, { inputGrad: false });
      return zeros([1], { dtype: 'float64' });
    },
    parameters: () => model.parameters(),
  });
  const tiny: [Trainable, Record<string, number>][] = [
    ['mlp', { context: 3, embedDim: 4, hidden: 6 }],
    ['lstm', { embedDim: 4, hidden: 5, layers: 2 }],
    ['transformer', { embedDim: 4, heads: 2, layers: 2 }],
  ];
  it.each(tiny)('%s', (name, sizes) => {
    const model = buildModel(configOf(name, sizes), { dtype: 'float64', rng: new TorchGenerator(3) });
    const batch = encodeNames(['emma', 'al', 'zoe'], vocab, 7).x; // [3, 7]: rows of different lengths
    const result = gradcheck(wrap(model, batch), zeros([1], { dtype: 'float64' }));
    if (process.env.REPORT_ERRORS) console.log(`GRADCHECK ${name} ${result.maxRelError.toExponential(2)} over ${result.checked} entries`);
    expect(result.checked).toBeGreaterThan(model.parameters().reduce((n, p) => n + p.value.size, 0));
    expect(result.ok, JSON.stringify(result.worst)).toBe(true);
  });
});
