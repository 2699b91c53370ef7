import { markdownTable } from '../report';
import { formatValue } from '../stats';
import type { MachineInfo } from '../types';
import type { PassSums, SideTiming } from './ours';
import type { TorchInfo } from './torch';

/** How close both sides' sums must be (relative to Σ|v|) for the check to pass: float32 noise is ~1e-6, a different computation O(1). */
export const SUMS_TOLERANCE = 1e-3;

/** Whether ours and torch computed the same first pass: the worst relative difference of their sums. */
export interface SumsCheck {
  maxRelDiff: number;
  pass: boolean;
  /** What differed most (`output`, `inputGrad`, `parameterGrads`), or what one side lacked. */
  worst: string;
}

/** One row of the layer bench. */
export interface LayerRow {
  name: string;
  label: string;
  input: string;
  /** Ours' timing, or why ours did not run (the layer has not landed, or it threw). */
  ours: SideTiming | { skipped: string };
  /** Torch's timing, or why not (no torch, or it threw). */
  torch: SideTiming | { skipped: string };
  /** ours ÷ torch, time per forward + backward: above 1, ours is slower. */
  ratio?: number;
  check?: SumsCheck;
}

/** The JSON the layer bench writes. */
export interface LayerBenchResult {
  date: string;
  command: string;
  quick: boolean;
  machine: MachineInfo;
  /** Where our layers came from: the built dist or the sources. */
  layers: string;
  torch: TorchInfo | { unavailable: string };
  /** Ours' float32 256×256 matmul, GFLOP/s (one thread), beside torch's `matmul256Gflops`. */
  oursMatmul256Gflops: number;
  rows: LayerRow[];
  seconds: number;
}

export const measured = (side: SideTiming | { skipped: string }): side is SideTiming => !('skipped' in side);

/** Compares each [Σ v, Σ |v|] pair of the two sides, relative to torch's Σ |v|. */
export function checkSums(ours: PassSums, torch: PassSums): SumsCheck {
  let maxRelDiff = 0;
  let worst = '';
  for (const key of ['output', 'inputGrad', 'parameterGrads'] as const) {
    const a = ours[key];
    const b = torch[key];
    if (!a || !b) {
      if (a || b) return { maxRelDiff: Number.POSITIVE_INFINITY, pass: false, worst: `${key} only in ${a ? 'ours' : 'torch'}` };
      continue;
    }
    const scale = Math.max(Math.abs(b[1]), Number.MIN_VALUE);
    const diff = Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1])) / scale;
    // A NaN sum fails: the comparison below is false for it.
    if (!(diff <= maxRelDiff)) {
      maxRelDiff = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
      worst = key;
    }
  }
  return { maxRelDiff, pass: maxRelDiff <= SUMS_TOLERANCE, worst };
}

const ms = (side: SideTiming | { skipped: string }) => (measured(side) ? `${formatValue(side.msPerCall)} ms` : 'skipped');

/** The rows as one Markdown table: ours and torch in ms per forward + backward, ours ÷ torch, and the sums check. */
export function renderLayerTable(rows: LayerRow[]): string {
  const header = ['layer', 'input', 'ours', 'torch', 'ours ÷ torch', 'same numbers'];
  const body = rows.map((r) => [
    r.label,
    r.input,
    ms(r.ours),
    ms(r.torch),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    r.check ? `${r.check.pass ? '✓' : '✗'} ${r.check.maxRelDiff.toExponential(0)}${r.check.pass ? '' : ` (${r.check.worst})`}` : '',
  ]);
  return markdownTable(header, body, (i) => i >= 2 && i <= 4);
}
