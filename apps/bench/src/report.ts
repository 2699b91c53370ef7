import { formatValue } from './stats';
import { CONTENDERS, type ContenderReport, type Measurement, OURS, type OursName, type Ratio, TASKS, isOurs } from './types';

const speed = (m: Measurement) => (m.better === 'higher' ? m.value : 1 / m.value);
const label = (m: { contender: string; variant?: string }) => (m.variant ? `${m.contender} (${m.variant})` : m.contender);

/**
 * ours ÷ peer for every peer measurement that has an ours counterpart (same
 * task and case), as a speed ratio: throughput ÷ throughput, or the peer's
 * latency ÷ ours. Above 1, ours is faster. Once for each of ours (one thread,
 * two threads) that ran.
 */
export function computeRatios(reports: ContenderReport[]): Ratio[] {
  const all = reports.flatMap((r) => r.measurements);
  const ratios: Ratio[] = [];
  for (const series of OURS) {
    const ours = new Map(all.filter((m) => m.contender === series).map((m) => [`${m.task}|${m.case}`, m]));
    for (const m of all) {
      if (isOurs(m.contender)) continue;
      const o = ours.get(`${m.task}|${m.case}`);
      if (o) ratios.push({ ours: series, task: m.task, case: m.case, peer: label(m), ratio: speed(o) / speed(m) });
    }
  }
  return ratios;
}

function caseOrder(c: string): number {
  const n = /(\d+)/.exec(c);
  return (n ? Number(n[1]) : 0) + (c.includes('float64') ? 0.5 : 0);
}

/** The results as one Markdown table: per task and case, one row per contender. */
export function renderTable(reports: ContenderReport[], ratios: Ratio[]): string {
  type Row = { task: string; case: string; who: string; result: string; ratios: string[]; check: string; order: number };
  const rows: Row[] = [];
  const ratioOf = new Map(ratios.map((r) => [`${r.ours}|${r.task}|${r.case}|${r.peer}`, r.ratio]));
  for (const report of reports) {
    for (const m of report.measurements) {
      const ratioCell = (series: string) => {
        if (isOurs(m.contender)) return '—';
        const ratio = ratioOf.get(`${series}|${m.task}|${m.case}|${label(m)}`);
        return ratio === undefined ? '' : `${ratio.toFixed(2)}×`;
      };
      let check = '';
      if (m.check) check = `err ${m.check.maxRelError.toExponential(1)} ${m.check.pass ? '✓' : '✗ FAIL'}`;
      else if (m.accuracy !== undefined) {
        check = `acc ${(m.accuracy * 100).toFixed(1)}%${m.trainedSteps !== undefined ? ` after ${m.trainedSteps} steps only` : ''}`;
      }
      rows.push({
        task: m.task,
        case: m.case,
        who: label(m),
        result: `${formatValue(m.value)} ${m.metric}`,
        ratios: OURS.map(ratioCell),
        check,
        order: CONTENDERS.indexOf(m.contender) * 2 + (m.variant === 'fit' ? 1 : 0),
      });
    }
    for (const u of report.unsupported) {
      rows.push({
        task: u.task,
        case: u.case,
        who: label(u),
        result: 'not supported',
        ratios: OURS.map(() => ''),
        check: u.reason.length > 60 ? `${u.reason.slice(0, 57)}...` : u.reason,
        order: CONTENDERS.indexOf(u.contender) * 2,
      });
    }
  }
  rows.sort(
    (a, b) =>
      TASKS.indexOf(a.task as never) - TASKS.indexOf(b.task as never) ||
      caseOrder(a.case) - caseOrder(b.case) ||
      a.case.localeCompare(b.case) ||
      a.order - b.order,
  );
  const header = ['task', 'case', 'contender', 'result', ...OURS.map((o) => `${o} ÷ peer`), 'check'];
  const body = rows.map((r) => [r.task, r.case, r.who, r.result, ...r.ratios, r.check]);
  return markdownTable(header, body, (i) => i >= 3 && i < 3 + 1 + OURS.length);
}

/**
 * The peers a summary column compares, each against ours on the same number
 * of threads: a two-thread peer against `ours-2t`, every other against `ours`;
 * TF.js's training is its hand-written loop (`fit` is in the full table).
 */
const SUMMARY_COLUMNS: { ours: OursName; peer: string; variant?: string }[] = [
  { ours: 'ours', peer: 'tfjs-cpu' },
  { ours: 'ours', peer: 'tfjs-wasm' },
  { ours: 'ours-2t', peer: 'tfjs-wasm-2t' },
  { ours: 'ours', peer: 'torch' },
  { ours: 'ours-2t', peer: 'torch-2t' },
];

/**
 * The ratios alone, one row per task and case and one column per peer on
 * the same threads (`ours ÷ torch`, `ours-2t ÷ torch-2t`, …); columns of
 * peers that did not run are left out.
 */
export function renderSummary(ratios: Ratio[]): string {
  const cellOf = (r: Ratio, column: (typeof SUMMARY_COLUMNS)[number]) =>
    r.ours === column.ours && (r.peer === column.peer || r.peer === `${column.peer} (loop)`);
  const columns = SUMMARY_COLUMNS.filter((column) => ratios.some((r) => cellOf(r, column)));
  const cases: { task: string; case: string }[] = [];
  for (const r of ratios) if (!cases.some((c) => c.task === r.task && c.case === r.case)) cases.push({ task: r.task, case: r.case });
  cases.sort((a, b) => TASKS.indexOf(a.task as never) - TASKS.indexOf(b.task as never) || caseOrder(a.case) - caseOrder(b.case));
  const body = cases.map((c) => [
    c.task,
    c.case,
    ...columns.map((column) => {
      const r = ratios.find((x) => x.task === c.task && x.case === c.case && cellOf(x, column));
      return r ? `${r.ratio.toFixed(2)}×` : '';
    }),
  ]);
  return markdownTable(['task', 'case', ...columns.map((c) => `${c.ours} ÷ ${c.peer}`)], body, (i) => i >= 2);
}

/** A Markdown table with padded columns; the `numeric` ones right-aligned. */
export function markdownTable(header: string[], body: string[][], numeric: (column: number) => boolean): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (numeric(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** The heap lines of ours' timed MLP and CNN epochs (one and two threads). */
export function renderHeap(reports: ContenderReport[]): string[] {
  const lines: string[] = [];
  for (const m of reports.filter((r) => isOurs(r.contender)).flatMap((r) => r.measurements)) {
    if ((m.task !== 'mlp' && m.task !== 'cnn') || !m.heap) continue;
    const h = m.heap;
    const g = h.gcDuringTimed;
    lines.push(
      `${m.contender} ${m.task.toUpperCase()} ${m.case}: heap used ${mb(h.before.heapUsed)} → ${mb(h.after.heapUsed)}, ` +
        `array buffers ${mb(h.before.arrayBuffers)} → ${mb(h.after.arrayBuffers)} around ${h.steps} timed steps` +
        `${h.gcForced ? ' (after a forced GC)' : ' (no --expose-gc: no forced GC)'}; ` +
        `GCs during them: ${g.minor} minor, ${g.major} major, ${g.other} other, ${g.pauseMs.toFixed(0)} ms paused` +
        (h.allocation
          ? `; allocates ${h.allocation.gcs > 0 ? '≥ ' : ''}${(h.allocation.bytesPerStep / 1024).toFixed(0)} KB of typed arrays per step`
          : ''),
    );
  }
  return lines;
}
