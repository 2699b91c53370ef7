import { DataLoader, DivergedError, TensorDataset } from '@backprop/data';
import { CrossEntropyLoss } from '@backprop/losses';
import { type Generator, type NDArray, ValueError, narrow } from '@backprop/ndarray';
import { AdamW, LambdaLR, clipGradNorm } from '@backprop/optimizers';
import { type Encoded, IGNORE } from '@backprop/data/names';
import type { LanguageModel } from './models';

/** How a model trains (every model but the bigram, which counts). The defaults are {@link RECIPES}. */
export interface Recipe {
  steps: number;
  batchSize: number;
  /** The peak learning rate, reached after `warmupSteps`. */
  lr: number;
  warmupSteps: number;
  /** The learning rate at the last step, as a fraction of the peak. */
  finalLrFraction: number;
  weightDecay: number;
  betas: [number, number];
  /** The largest gradient norm a step takes (clip_grad_norm_). */
  clip: number;
}

const COMMON = { batchSize: 32, warmupSteps: 100, finalLrFraction: 0.1, weightDecay: 0.01, betas: [0.9, 0.99], clip: 1 } as const;

/**
 * Each trainable model's default recipe, sized to train in a few minutes on
 * one thread of a 2-core machine (README.md measures them): AdamW with weight decay 0.01, a
 * 100-step warm-up then a cosine to a tenth of the peak rate, batches of 32
 * names, gradients clipped to norm 1.
 */
export const RECIPES: Record<'mlp' | 'lstm' | 'transformer', Recipe> = {
  mlp: { ...COMMON, betas: [...COMMON.betas], steps: 3000, lr: 3e-3 },
  lstm: { ...COMMON, betas: [...COMMON.betas], steps: 2000, lr: 3e-3 },
  transformer: { ...COMMON, betas: [...COMMON.betas], steps: 1500, lr: 5e-3 },
};

/**
 * The learning-rate factor at step `step` (0-based): a linear warm-up to 1
 * over `warmupSteps`, then a cosine from 1 down to `finalLrFraction` at the
 * last step. `torch.optim.lr_scheduler.LambdaLR` with the same function.
 */
export function lrFactor(step: number, recipe: Pick<Recipe, 'steps' | 'warmupSteps' | 'finalLrFraction'>): number {
  const { steps, warmupSteps, finalLrFraction } = recipe;
  if (step < warmupSteps) return (step + 1) / warmupSteps;
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, steps - 1 - warmupSteps));
  return finalLrFraction + (1 - finalLrFraction) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** The mean loss in nats per character over a split, every target counted once. */
export function evaluateLoss(model: LanguageModel, data: Encoded, batchSize = 1024): number {
  const loss = new CrossEntropyLoss({ ignoreIndex: IGNORE, reduction: 'sum' });
  const wasTraining = model.training;
  model.eval();
  let total = 0;
  let count = 0;
  try {
    const n = data.x.shape[0];
    for (let start = 0; start < n; start += batchSize) {
      const rows = Math.min(batchSize, n - start);
      const x = narrow(data.x, start, rows);
      const y = narrow(data.y, start, rows);
      const logits = model.forward(x);
      total += loss.forward(flatLogits(logits), y.reshape([y.size]));
      for (const target of y.data as Int32Array) if (target !== IGNORE) count++;
    }
  } finally {
    model.train(wasTraining);
  }
  return total / count;
}

/** `[B, T, V]` logits as `[B·T, V]` rows, one per target. */
const flatLogits = (logits: NDArray): NDArray => logits.reshape([logits.shape[0] * logits.shape[1], logits.shape[2]]);

/** What the training loop reports. */
export interface TrainHooks {
  /** After each step: its number (1-based), the batch's loss and the learning rate it used. */
  onStep?(step: number, loss: number, lr: number): void;
  /** After each evaluation. */
  onEval?(point: EvalPoint): void;
}

export interface EvalPoint {
  step: number;
  /** Mean training loss over the steps since the last evaluation. */
  trainLoss: number;
  valLoss: number;
  seconds: number;
}

export interface TrainOptions {
  recipe: Recipe;
  /** Draws each epoch's order of the training names (after the model's weights, as one torch generator would). */
  rng: Generator;
  /** Evaluate the validation loss every this many steps, and after the last. */
  evalEvery: number;
}

export interface TrainResult {
  /** Every step's training loss. */
  losses: number[];
  history: EvalPoint[];
}

/**
 * Trains `model` on `train` for `recipe.steps` steps: batches from a
 * shuffling DataLoader (one `randperm` an epoch, the last partial batch
 * dropped), cross-entropy on every target that is not past a name's end,
 * gradients clipped to norm `clip`, AdamW with a warm-up and cosine schedule.
 * The PyTorch script in `tools/torch-fixtures/charlm.py` runs the same loop.
 */
export function trainModel(
  model: LanguageModel,
  train: Encoded,
  val: Encoded,
  options: TrainOptions,
  hooks: TrainHooks = {},
  now: () => number = () => performance.now(),
): TrainResult {
  const { recipe, rng, evalEvery } = options;
  if (train.x.shape[0] < recipe.batchSize) {
    // The loader drops the last partial batch: an epoch would hold no step at all.
    throw new ValueError(`trainModel: ${train.x.shape[0]} training rows cannot fill one batch of ${recipe.batchSize}`);
  }
  const started = now();
  const loader = new DataLoader(new TensorDataset(train.x, train.y), {
    batchSize: recipe.batchSize,
    shuffle: true,
    rng,
    dropLast: true,
  });
  const optimizer = new AdamW(model.parameters(), { lr: recipe.lr, betas: recipe.betas, weightDecay: recipe.weightDecay });
  const schedule = new LambdaLR(optimizer, (step) => lrFactor(step, recipe));
  const lossFn = new CrossEntropyLoss({ ignoreIndex: IGNORE });
  const losses: number[] = [];
  const history: EvalPoint[] = [];
  model.train();
  let step = 0;
  let sinceEval = 0;
  while (step < recipe.steps) {
    for (const { x, y } of loader) {
      const lr = optimizer.paramGroups[0].lr;
      const logits = model.forward(x);
      const loss = lossFn.forward(flatLogits(logits), y.reshape([y.size]));
      if (!Number.isFinite(loss)) {
        throw new DivergedError(`the training loss is ${loss} at step ${step + 1}; lower --lr (it is ${recipe.lr})`, 1, step + 1);
      }
      model.backward(lossFn.backward().reshape(logits.shape), { inputGrad: false });
      clipGradNorm(model.parameters(), recipe.clip);
      optimizer.step();
      optimizer.zeroGrad();
      schedule.step();
      step++;
      losses.push(loss);
      sinceEval++;
      hooks.onStep?.(step, loss, lr);
      if (step % evalEvery === 0 || step === recipe.steps) {
        const trainLoss = losses.slice(-sinceEval).reduce((a, b) => a + b, 0) / sinceEval;
        const point = { step, trainLoss, valLoss: evaluateLoss(model, val), seconds: (now() - started) / 1000 };
        history.push(point);
        hooks.onEval?.(point);
        sinceEval = 0;
      }
      if (step === recipe.steps) break;
    }
  }
  return { losses, history };
}
