import { markdownTable } from '../report';
import { formatValue } from '../stats';
import type { MachineInfo } from '../types';
import type { CharlmConfig } from './model';
import type { StepPlan, StepTiming } from './timing';

/**
 * How close both sides' first losses must be, relative: float32 (1e-4, the
 * brief's bound: a few AdamW steps of float32 rounding stay far below it, a
 * different model or batch is O(1e-2) or more) and float64.
 */
export const LOSS_TOLERANCE = { float32: 1e-4, float64: 1e-10 } as const;

export type CharlmDType = keyof typeof LOSS_TOLERANCE;

/** Whether ours and torch trained the same: the worst relative difference of the first steps' losses. */
export interface LossCheck {
  maxRelDiff: number;
  tolerance: number;
  pass: boolean;
}

/** One side of a row: its timing, or why it did not run. */
export type CharlmSide = StepTiming | { skipped: string };

/** One row: a dtype on a number of threads, both sides. */
export interface CharlmRow {
  dtype: CharlmDType;
  threads: number;
  ours: CharlmSide;
  torch: CharlmSide;
  /** ours ÷ torch, ms per step: above 1, ours is slower. */
  ratio?: number;
  check?: LossCheck;
}

/** The JSON the charlm bench writes. */
export interface CharlmBenchResult {
  date: string;
  command: string;
  quick: boolean;
  machine: MachineInfo;
  config: CharlmConfig;
  plan: StepPlan;
  /** torch's version and BLAS, or why it did not run. */
  torch: { torch: string; mkl: boolean; blasLibraries?: string[]; matmul256Gflops: number } | { unavailable: string };
  rows: CharlmRow[];
  seconds: number;
}

export const measuredSide = (side: CharlmSide): side is StepTiming => !('skipped' in side);

/** Compares the losses step by step, relative to torch's; a NaN, or a different count, fails. */
export function checkLosses(ours: readonly number[], torch: readonly number[], tolerance: number): LossCheck {
  if (ours.length !== torch.length || ours.length === 0) return { maxRelDiff: Number.POSITIVE_INFINITY, tolerance, pass: false };
  let maxRelDiff = 0;
  for (let i = 0; i < ours.length; i++) {
    const diff = Math.abs(ours[i] - torch[i]) / Math.abs(torch[i]);
    // A NaN fails: the comparison is false for it.
    if (!(diff <= maxRelDiff)) maxRelDiff = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
  }
  return { maxRelDiff, tolerance, pass: maxRelDiff <= tolerance };
}

const ms = (side: CharlmSide) => (measuredSide(side) ? `${formatValue(side.msPerStep)} ms` : 'skipped');
const perSecond = (side: CharlmSide) => (measuredSide(side) ? formatValue(1000 / side.msPerStep) : '');

/** The rows as one Markdown table: ms/step and steps/s of each side, ours ÷ torch, and the loss check. */
export function renderCharlmTable(rows: CharlmRow[]): string {
  const header = ['dtype', 'threads', 'ours ms/step', 'ours steps/s', 'torch ms/step', 'torch steps/s', 'ours ÷ torch', 'same losses'];
  const body = rows.map((r) => [
    r.dtype,
    String(r.threads),
    ms(r.ours),
    perSecond(r.ours),
    ms(r.torch),
    perSecond(r.torch),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    r.check ? `${r.check.pass ? '✓' : '✗'} ${r.check.maxRelDiff.toExponential(0)}` : '',
  ]);
  return markdownTable(header, body, (i) => i >= 1 && i <= 6);
}
