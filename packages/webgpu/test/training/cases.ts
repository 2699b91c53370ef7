/**
 * A few training steps of an MLP, a CNN and a causal transformer, run by one
 * loop on the CPU (the WebAssembly backend, or TypeScript where it is
 * missing) and on the WebGPU backend, from the same seed, data and batch
 * order: the losses and the trained weights must agree within float32
 * tolerance. The loop is the one every backend runs: `compute` leaves the
 * loss where the model is, `await itemAsync()` reads it.
 *
 * Registered with any describe/it (vitest in Node, the page's runner in
 * Chromium), so both run the same cases.
 */
import {
  Conv2d,
  Embedding,
  Flatten,
  LayerNorm,
  Linear,
  MaxPool2d,
  NeuralLayer,
  ReLU,
  Sequential,
  Tanh,
  TransformerEncoderLayer,
} from '@backprop/layers';
import { CrossEntropyLoss } from '@backprop/losses';
import { type Backend, type NDArray, TorchGenerator, add, arange, array, getBackend, jsBackend, setBackend, sizeOf, sum, toBackend, wasmBackend } from '@backprop/ndarray';
import { Adam, type AnyOptimizer, SGD, clipGradNorm } from '@backprop/optimizers';

export interface TrainingApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>): void;
}

/** What a run leaves to compare: the loss at every step and every weight after the last. */
interface Run {
  losses: number[];
  weights: Map<string, Float32Array>;
}

interface Problem {
  /** The model, its weights drawn from `rng`. */
  model(rng: TorchGenerator): NeuralLayer;
  /** The optimizer over its parameters. */
  optimizer(model: NeuralLayer): AnyOptimizer;
  /** A batch: inputs and int32 class targets, built on the host from `rng`. */
  batch(rng: TorchGenerator): [NDArray, NDArray];
  /** The largest total gradient norm, clipped to before each step (none when absent). */
  clip?: number;
}

/** Token ids [B, T] → logits [B·T, V]: embeddings, a pre-norm causal encoder block, a final norm and a linear head. */
class TinyLM extends NeuralLayer {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly block: TransformerEncoderLayer;
  readonly norm: LayerNorm;
  readonly head: Linear;
  private positions: NDArray | undefined;

  constructor(vocab: number, block: number, width: number, rng: TorchGenerator) {
    super();
    this.wte = new Embedding(vocab, width, { rng });
    this.wpe = new Embedding(block, width, { rng });
    this.block = new TransformerEncoderLayer(width, 2, { dimFeedforward: 2 * width, dropout: 0, activation: 'gelu', batchFirst: true, normFirst: true, rng });
    this.norm = new LayerNorm(width);
    this.head = new Linear(width, vocab, { rng });
  }

  forward(ids: NDArray): NDArray {
    const T = ids.shape[1];
    if (this.positions?.shape[0] !== T) this.positions = arange(0, T, 1, { dtype: 'int32' });
    const x = add(this.wte.forward(ids), this.wpe.forward(this.positions));
    const h = this.norm.forward(this.block.forward(x, { isCausal: true }));
    const logits = this.head.forward(h);
    return logits.reshape([-1, logits.shape[2]]);
  }

  /** Adds every weight's gradient; token ids have none, so it returns the embeddings' gradient [B, T, C]. */
  backward(outputGrad: NDArray): NDArray {
    const T = this.positions?.shape[0] ?? 1;
    const g = this.block.backward(this.norm.backward(this.head.backward(outputGrad.reshape([-1, T, this.head.outFeatures]))));
    this.wte.backward(g, { inputGrad: false });
    this.wpe.backward(sum(g, 0), { inputGrad: false }); // the positions broadcast over the batch
    return g;
  }
}

const PROBLEMS: Record<string, Problem> = {
  'an MLP (Linear, Tanh, Linear, ReLU, Linear) with SGD and momentum': {
    model: (rng) => new Sequential(new Linear(12, 24, { rng }), new Tanh(), new Linear(24, 16, { rng }), new ReLU(), new Linear(16, 5, { rng })),
    optimizer: (model) => new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }),
    batch: (rng) => [randomArray(rng, [16, 12]), classes(rng, 16, 5)],
  },
  'a CNN (Conv2d, ReLU, MaxPool2d, Flatten, Linear) with Adam': {
    model: (rng) =>
      new Sequential(new Conv2d(1, 4, 3, { padding: 1, rng }), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(4 * 4 * 4, 3, { rng })),
    optimizer: (model) => new Adam(model.parameters(), { lr: 0.01 }),
    batch: (rng) => [randomArray(rng, [6, 1, 8, 8]), classes(rng, 6, 3)],
  },
  // SGD, not Adam: the key projection's bias has a gradient of exactly 0 in theory (softmax ignores a shift of every
  // score), which Adam would turn from rounding noise into full steps that differ between any two backends.
  'a causal transformer (embeddings, a pre-norm encoder block with GELU, LayerNorm, a linear head) with SGD and clipGradNorm': {
    model: (rng) => new TinyLM(7, 6, 8, rng),
    optimizer: (model) => new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }),
    clip: 0.5,
    batch: (rng) => [classes(rng, 3 * 6, 7).reshape([3, 6]), classes(rng, 3 * 6, 7)],
  },
};

function randomArray(rng: TorchGenerator, shape: number[]): NDArray {
  const values = new Float32Array(sizeOf(shape));
  rng.normal(values, 0, 1);
  return array(values, { shape });
}

function classes(rng: TorchGenerator, n: number, count: number): NDArray {
  const u = new Float32Array(n);
  rng.uniform(u, 0, count);
  return array(Int32Array.from(u, (v) => Math.min(count - 1, Math.floor(v))), { shape: [n] });
}

const STEPS = 4;
/** The CPU backend the GPU is compared with: WebAssembly SIMD, or TypeScript where the engine lacks it. */
const CPU = wasmBackend ?? jsBackend;

/** Trains `problem` for a few steps on `backend` with the one loop, and reads back its losses and weights. */
async function train(problem: Problem, backend: Backend): Promise<Run> {
  const previous = setBackend(backend);
  try {
    const model = problem.model(new TorchGenerator(7));
    const optimizer = problem.optimizer(model);
    const lossFn = new CrossEntropyLoss();
    const data = new TorchGenerator(11);
    const losses: number[] = [];
    // One batch, made on the host as a data loader makes it, learnt step after step (the loss must fall).
    const [x, y] = hostBatch(() => problem.batch(data));
    for (let step = 0; step < STEPS; step++) losses.push(await step1(problem, model, optimizer, lossFn, x, y));
    return { losses, weights: await weightsOf(model) };
  } finally {
    setBackend(previous);
  }
}

/** Every weight of `model`, by name, read back to the host. */
async function weightsOf(model: NeuralLayer): Promise<Map<string, Float32Array>> {
  const weights = new Map<string, Float32Array>();
  for (const [name, param] of model.namedParameters()) weights.set(name, (await param.value.toHost()) as Float32Array);
  return weights;
}

/** `make()` run with the host backend active, so its arrays live on the host. */
function hostBatch(make: () => [NDArray, NDArray]): [NDArray, NDArray] {
  const previous = setBackend(CPU);
  try {
    return make();
  } finally {
    setBackend(previous);
  }
}

/** |a − b| ≤ tolerance · max|b| over the whole array (normwise, as float32 roundings add up over steps). */
function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, label: string): void {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) worst = d; // NaN too
  }
  if (actual.length !== expected.length || !(worst <= tolerance * scale)) {
    throw new Error(`${label}: differs by ${worst} (max |expected| ${scale}, tolerance ${tolerance} of it; lengths ${actual.length} and ${expected.length})`);
  }
}

/**
 * Trains `problem` `before` steps on the CPU, then moves the model and its optimizer's state to `backend` (a model
 * built there loads the CPU model's state dict, its optimizer the CPU optimizer's) and trains `after` more steps.
 */
async function trainThenMove(problem: Problem, backend: Backend, before: number, after: number): Promise<Run> {
  const previous = setBackend(CPU);
  try {
    const lossFn = new CrossEntropyLoss();
    const [x, y] = problem.batch(new TorchGenerator(11));
    const model = problem.model(new TorchGenerator(7));
    const optimizer = problem.optimizer(model);
    const losses: number[] = [];
    for (let step = 0; step < before; step++) losses.push(await step1(problem, model, optimizer, lossFn, x, y));
    setBackend(backend);
    const moved = problem.model(new TorchGenerator(99)); // other weights: the state dict must replace them all
    moved.loadStateDict(model.stateDict());
    const movedOptimizer = problem.optimizer(moved);
    movedOptimizer.loadStateDict(optimizer.stateDict());
    const gpuLoss = new CrossEntropyLoss();
    for (let step = 0; step < after; step++) losses.push(await step1(problem, moved, movedOptimizer, gpuLoss, x, y));
    return { losses, weights: await weightsOf(moved) };
  } finally {
    setBackend(previous);
  }
}

/** One step of the loop every backend runs; resolves to the loss. */
async function step1(
  problem: Problem,
  model: NeuralLayer,
  optimizer: AnyOptimizer,
  lossFn: CrossEntropyLoss,
  x: NDArray,
  y: NDArray,
): Promise<number> {
  const loss = lossFn.compute(model.forward(toBackend(x)), toBackend(y));
  model.backward(lossFn.backward());
  if (problem.clip !== undefined) clipGradNorm(model.parameters(), problem.clip, { read: false });
  optimizer.step();
  optimizer.zeroGrad();
  return loss.itemAsync();
}

export function trainingSuite(gpu: Backend, api: TrainingApi): void {
  api.it('a model and its optimizer trained on the CPU move to the GPU by their state dicts and train on as on the CPU', async () => {
    const problem = PROBLEMS['a CNN (Conv2d, ReLU, MaxPool2d, Flatten, Linear) with Adam'];
    const cpu = await trainThenMove(problem, CPU, 2, 2);
    const moved = await trainThenMove(problem, gpu, 2, 2);
    expectNear(moved.losses, cpu.losses, 1e-5, 'losses');
    for (const [weight, values] of cpu.weights) expectNear(moved.weights.get(weight) ?? [], values, 1e-4, `weight '${weight}'`);
  });

  api.describe(`${STEPS} training steps equal the CPU backend's`, () => {
    for (const [name, problem] of Object.entries(PROBLEMS)) {
      api.it(name, async () => {
        const cpu = await train(problem, CPU);
        const device = await train(problem, gpu);
        expectNear(device.losses, cpu.losses, 1e-5, 'losses');
        if (!(cpu.losses[STEPS - 1] < cpu.losses[0])) throw new Error(`the CPU run did not learn: losses ${cpu.losses.join(', ')}`);
        for (const [weight, values] of cpu.weights) {
          const got = device.weights.get(weight);
          if (got === undefined) throw new Error(`the GPU model has no weight '${weight}'`);
          expectNear(got, values, 1e-4, `weight '${weight}'`);
        }
        if (getBackend() === gpu) throw new Error('train() left the GPU backend active');
      });
    }
  });
}
