/** The median (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Milliseconds from a monotonic clock. */
export function now(): number {
  return performance.now();
}

/** Runs a forced major GC when node was started with --expose-gc; says whether it could. */
export function forceGc(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return false;
  gc();
  return true;
}

/** 3 significant figures at most, thousands separated: 0.35, 12.3, 4,210. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** How {@link timePerCall} warms up and repeats; the layer bench's Python side follows the same plan. */
export interface RepeatPlan {
  /** Untimed calls run for at least this long … */
  warmupMs: number;
  /** … and at least this many times. */
  warmupCalls: number;
  /** Each timed repeat runs enough calls to last at least this long (sized from the warm-up). */
  repeatMs: number;
  /** At most this many repeats … */
  repeats: number;
  /** … at least this many … */
  minRepeats: number;
  /** … and no new repeat past `minRepeats` once the timed repeats have taken this long. */
  capMs: number;
}

/** What {@link timePerCall} measured: milliseconds per call, the median and each repeat's. */
export interface CallTiming {
  msPerCall: number;
  repeats: number[];
  callsPerRepeat: number;
  warmupCalls: number;
}

/**
 * Milliseconds per call of `fn`: untimed warm-up calls (`plan.warmupCalls`
 * and `plan.warmupMs`, at least), whose mean sizes a repeat to last about
 * `plan.repeatMs`; then timed repeats until `plan.repeats`, or `plan.capMs`
 * once `plan.minRepeats` are done; the median repeat. The matmul timing of
 * the contender bench, for one function.
 *
 * `before` counts untimed calls the caller already made (a first pass it
 * checked) into the warm-up, so a call of seconds is not run once more for
 * nothing.
 */
export function timePerCall(fn: () => void, plan: RepeatPlan, before: { calls: number; ms: number } = { calls: 0, ms: 0 }): CallTiming {
  const t0 = now() - before.ms;
  let warmupCalls = before.calls;
  while (warmupCalls < Math.max(1, plan.warmupCalls) || now() - t0 < plan.warmupMs) {
    fn();
    warmupCalls++;
  }
  const perCall = (now() - t0) / warmupCalls;
  const callsPerRepeat = Math.max(1, Math.ceil(plan.repeatMs / Math.max(perCall, 1e-3)));
  const repeats: number[] = [];
  const start = now();
  while (repeats.length < plan.repeats && (repeats.length < plan.minRepeats || now() - start < plan.capMs)) {
    const t = now();
    for (let i = 0; i < callsPerRepeat; i++) fn();
    repeats.push((now() - t) / callsPerRepeat);
  }
  return { msPerCall: median(repeats), repeats, callsPerRepeat, warmupCalls };
}
