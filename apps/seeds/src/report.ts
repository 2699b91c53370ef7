import { type NDArray, isNDArray, maxAbsDiff } from '@backprop/ndarray';

/** One compared quantity: what the notebook has, what the packages give, how far apart. */
export interface Row {
  quantity: string;
  /** The notebook's printed text, or the value its own code computes (see the fixture script). */
  notebook: string;
  ours: string;
  /** max |ours − reference| (0 for an exact textual match, NaN when text differs). */
  maxError: number;
  tolerance: number;
}

export interface NotebookReport {
  id: string;
  title: string;
  rows: Row[];
  /** Sentences printed under the table: what was checked and why it holds. */
  notes: string[];
}

export const passed = (row: Row): boolean => row.maxError <= row.tolerance;

/** numpy's printing for arrays, Python's repr for numbers (JavaScript's shortest round-trip is the same). */
export function show(value: NDArray | number): string {
  if (!isNDArray(value)) return String(value);
  if (value.size > 6) return `array of shape [${value.shape.join(', ')}]`;
  return value.toString().replace(/\s*\n\s*/g, ' ');
}

/** The tolerance for a comparison in `dtype`: float64 to rounding, float32 to its epsilon, relative to the scale. */
export function toleranceFor(dtype: 'float32' | 'float64', reference: NDArray | number): number {
  const scale = isNDArray(reference)
    ? Math.max(1, ...Array.from(reference.data, Math.abs))
    : Math.max(1, Math.abs(reference));
  return (dtype === 'float64' ? 1e-12 : 1e-6) * scale;
}

/** Compares a value of ours with a reference value, shown as the notebook shows it. */
export function valueRow(
  quantity: string,
  ours: NDArray | number,
  reference: NDArray | number,
  options: { notebook?: string; tolerance?: number; dtype?: 'float32' | 'float64' } = {},
): Row {
  const dtype = options.dtype ?? (isNDArray(ours) && ours.dtype === 'float32' ? 'float32' : 'float64');
  return {
    quantity,
    notebook: options.notebook ?? show(reference),
    ours: show(ours),
    maxError: maxAbsDiff(ours, reference),
    tolerance: options.tolerance ?? toleranceFor(dtype, reference),
  };
}

/** Compares printed text: ours must read exactly as the notebook printed it. */
export function printedRow(quantity: string, ours: string, notebook: string): Row {
  return { quantity, notebook, ours, maxError: ours === notebook ? 0 : Number.NaN, tolerance: 0 };
}

/** Renders a report as an aligned table with a verdict column. */
export function renderReport(report: NotebookReport): string {
  const header = ['quantity', 'notebook', 'ours', 'max error', ''];
  const body = report.rows.map((r) => [
    r.quantity,
    r.notebook,
    r.ours,
    Number.isNaN(r.maxError) ? 'differs' : r.maxError === 0 ? '0' : r.maxError.toExponential(1),
    passed(r) ? 'ok' : 'MISMATCH',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();
  const out = [
    `${report.id}  ${report.title}`,
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
  ];
  if (report.notes.length > 0) out.push('', ...report.notes.map((n) => `  ${n}`));
  return out.join('\n');
}
