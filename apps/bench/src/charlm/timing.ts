import { forceGc, median, now } from '../stats';

/** How a side times training steps (the same on both sides; torch_charlm.py follows it). */
export interface StepPlan {
  /** Untimed steps first; the first `checkSteps` of them give the losses both sides compare. */
  warmupSteps: number;
  checkSteps: number;
  /** Then `repeats` timed runs of `stepsPerRepeat` steps each; the median of their ms per step. */
  stepsPerRepeat: number;
  repeats: number;
}

/** A full run: 5 warm-up steps (all checked), then 5 × 10 timed ones; `--quick`: 3 (3 checked), then 2 × 2. */
export function stepPlan(quick: boolean): StepPlan {
  if (quick) return { warmupSteps: 3, checkSteps: 3, stepsPerRepeat: 2, repeats: 2 };
  return { warmupSteps: 5, checkSteps: 5, stepsPerRepeat: 10, repeats: 5 };
}

/** One side's measurement of one (dtype, threads) case. */
export interface StepTiming {
  /** The median over the repeats of ms per step. */
  msPerStep: number;
  /** Each repeat's ms per step. */
  repeats: number[];
  /** The losses of the first `checkSteps` steps, from the fresh model. */
  losses: number[];
  /** The loss of the last timed step (training went on: it should be below the first). */
  lastLoss: number;
}

/**
 * Times `step(i)` (step i of a fresh model; it returns the loss) by `plan`:
 * the warm-up steps (keeping the first losses), a forced GC, then the timed
 * repeats, numbering the steps on, so that every side trains on the same
 * batches in the same order.
 */
export function timeSteps(step: (i: number) => number, plan: StepPlan): StepTiming {
  if (plan.checkSteps > plan.warmupSteps) throw new Error(`checkSteps (${plan.checkSteps}) must not exceed warmupSteps (${plan.warmupSteps})`);
  const losses: number[] = [];
  let i = 0;
  for (; i < plan.warmupSteps; i++) {
    const loss = step(i);
    if (i < plan.checkSteps) losses.push(loss);
  }
  forceGc();
  const repeats: number[] = [];
  let lastLoss = Number.NaN;
  for (let r = 0; r < plan.repeats; r++) {
    const t = now();
    for (let k = 0; k < plan.stepsPerRepeat; k++, i++) lastLoss = step(i);
    repeats.push((now() - t) / plan.stepsPerRepeat);
  }
  return { msPerStep: median(repeats), repeats, losses, lastLoss };
}
