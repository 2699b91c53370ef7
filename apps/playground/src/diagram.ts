/**
 * A network drawn as in seed notebook 002's figures (nnfigs): neurons as
 * circles, split into the weighted sum Σ and the activation's curve, inputs
 * as small empty circles, synapses as lines. Here the lines carry the
 * numbers: colour is the weight's sign (blue positive, red negative), width
 * its size, and after a step a dashed amber line beside each synapse shows
 * the gradient that moved it (width relative to the largest). Pure string
 * building, so it is tested without a browser.
 */
import type { Activation, Bias, Synapse } from './small-nets';

export interface Point {
  x: number;
  y: number;
}

/** What to draw. */
export interface DiagramInput {
  sizes: readonly number[];
  activations: readonly Activation[];
  synapses: readonly Synapse[];
  biases: readonly Bias[];
  /** Each neuron's value for the sample shown, layer by layer (optional). */
  values?: readonly (readonly number[])[];
  /** Neuron names, layer by layer (the notebook's x1, y1, …), or none. */
  names?: readonly (readonly string[])[];
  /** The output's name after the arrow (`y`). */
  outputName?: string;
  /** The least width and height: the drawing grows to `diagramWidth` and `diagramHeight` when its layers need more. */
  width: number;
  height: number;
  /** Room left of the inputs and right of the outputs, for their labels (default 60 and 100). */
  marginLeft?: number;
  marginRight?: number;
}

export const POSITIVE = '#2563eb';
export const NEGATIVE = '#dc2626';
export const GRADIENT = '#d97706';
const INPUT_RADIUS = 9;
const NEURON_RADIUS = 19;
const MARGIN_LEFT = 60;
const MARGIN_RIGHT = 100;
const MARGIN_Y = 44;
/** The gap between a neuron and the dashed ring of its bias's gradient. */
const RING_GAP = 2;
/** The widest gradient line: the largest gradient's. */
const MAX_GRADIENT_WIDTH = gradientWidth(1, 1);
/** How far a neuron's drawing reaches from its centre: its circle and, after a step, its bias gradient's ring at its widest. */
export const NEURON_EXTENT = NEURON_RADIUS + RING_GAP + MAX_GRADIENT_WIDTH;

/**
 * The height a diagram of these layer sizes needs: the tallest layer's
 * neurons 2·NEURON_EXTENT apart (centre to centre), so neither the neurons
 * nor their gradient rings ever touch, within the top and bottom margins
 * left for the neurons' names.
 */
export function diagramHeight(sizes: readonly number[]): number {
  return 2 * MARGIN_Y + (Math.max(1, ...sizes) - 1) * 2 * NEURON_EXTENT;
}

/** The width a diagram of this many layers needs: its layers 2·NEURON_EXTENT apart between the side margins. */
export function diagramWidth(sizes: readonly number[], marginLeft = MARGIN_LEFT, marginRight = MARGIN_RIGHT): number {
  return marginLeft + marginRight + Math.max(0, sizes.length - 1) * 2 * NEURON_EXTENT;
}

/**
 * Neuron centres: layers evenly spaced left to right, each layer's neurons
 * evenly spaced and centred vertically. The tallest layer spans the height;
 * a shorter one spans its share of it plus a little, so two inputs beside
 * eight hidden neurons are not squeezed together; one neuron sits in the
 * middle, as the notebook's output does. The width and height must be at
 * least `diagramWidth` and `diagramHeight`, so that no two neurons overlap.
 */
export function layoutNeurons(
  sizes: readonly number[],
  width: number,
  height: number,
  marginLeft = MARGIN_LEFT,
  marginRight = MARGIN_RIGHT,
): Point[][] {
  if (sizes.length === 0 || !sizes.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new Error(`layoutNeurons: sizes must be one or more whole numbers of neurons, at least 1 each, got [${sizes.join(', ')}]`);
  }
  if (!(width >= diagramWidth(sizes, marginLeft, marginRight))) {
    throw new Error(
      `layoutNeurons: ${sizes.length} layers between margins of ${marginLeft} and ${marginRight} need a width of at least ${diagramWidth(sizes, marginLeft, marginRight)} so that none overlap, got ${width}`,
    );
  }
  if (!(height >= diagramHeight(sizes))) {
    throw new Error(`layoutNeurons: layers of [${sizes.join(', ')}] neurons need a height of at least ${diagramHeight(sizes)} so that none overlap, got ${height}`);
  }
  const right = width - marginRight;
  const dx = sizes.length > 1 ? (right - marginLeft) / (sizes.length - 1) : 0;
  const tallest = Math.max(...sizes);
  const available = height - 2 * MARGIN_Y;
  return sizes.map((n, l) => {
    const x = marginLeft + l * dx;
    if (n === 1) return [{ x, y: height / 2 }];
    const span = available * Math.min(1, (n - 1) / (tallest - 1) + 0.35);
    const top = height / 2 - span / 2;
    return Array.from({ length: n }, (_, i) => ({ x, y: top + (i * span) / (n - 1) }));
  });
}

/** Line width of a weight: grows with |w| and saturates (tanh), so steps show without rescaling the whole drawing. */
export function synapseWidth(weight: number): number {
  return 1 + 7 * Math.tanh(Math.abs(weight));
}

/** Colour of a weight or bias: its sign. */
export function signColor(value: number): string {
  return value >= 0 ? POSITIVE : NEGATIVE;
}

/** Width of a gradient's line, relative to the largest gradient in the drawing (0 when there is none). */
export function gradientWidth(grad: number, maxAbsGrad: number): number {
  return maxAbsGrad > 0 ? 0.75 + 5 * (Math.abs(grad) / maxAbsGrad) : 0;
}

/** `0.1235`, `-1.234e-5`: four significant digits, for labels and tooltips. */
export function formatNumber(v: number): string {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  return abs >= 1e-3 && abs < 1e4 ? String(Number(v.toPrecision(4))) : v.toExponential(3);
}

/** The point a fraction `t` along the segment, pushed `offset` to its left (perpendicular). */
export function along(a: Point, b: Point, t: number, offset = 0): Point {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length = Math.hypot(dx, dy) || 1;
  return { x: a.x + t * dx + (offset * dy) / length, y: a.y + t * dy - (offset * dx) / length };
}

const f = (v: number) => String(Math.round(v * 100) / 100);
const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The activation's curve inside the right half of a neuron centred at (cx, cy), as nnfigs draws it. */
function activationPath(activation: Activation, cx: number, cy: number): string {
  const x0 = cx + 3;
  const w = NEURON_RADIUS - 8;
  const h = 8;
  const pts: string[] = [];
  for (let i = 0; i <= 12; i++) {
    const u = i / 12;
    const z = (u - 0.5) * 6;
    const v = activation === 'tanh' ? Math.tanh(z) : activation === 'sigmoid' ? 2 / (1 + Math.exp(-z)) - 1 : (u - 0.5) * 2;
    pts.push(`${f(x0 + u * w)},${f(cy - v * h)}`);
  }
  return `M${pts.join('L')}`;
}

/** The network as an SVG document (a string), with data attributes the page and its tests read. */
export function renderNetworkSvg(input: DiagramInput): string {
  const { sizes, activations, synapses, biases, values, names } = input;
  const width = Math.max(input.width, diagramWidth(sizes, input.marginLeft, input.marginRight));
  const height = Math.max(input.height, diagramHeight(sizes));
  const positions = layoutNeurons(sizes, width, height, input.marginLeft, input.marginRight);
  const grads = [...synapses.map((s) => s.grad), ...biases.map((b) => b.grad)].filter((g): g is number => g !== null);
  const maxAbsGrad = grads.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="network diagram">`,
  );
  // Synapses first, under the neurons: the weight's line, then the gradient's dashed line beside it.
  parts.push('<g class="synapses">');
  for (const s of synapses) {
    const a = positions[s.layer][s.from];
    const b = positions[s.layer + 1][s.to];
    const start = along(a, b, 0);
    const tip = `${s.label ?? `${s.param}[${s.to}, ${s.from}]`} = ${formatNumber(s.weight)}${s.grad === null ? '' : `, ∂E/∂w = ${formatNumber(s.grad)} (last step)`}`;
    parts.push(
      `<g class="synapse" data-param="${s.param}" data-index="${s.index}" data-weight="${s.weight}" data-grad="${s.grad ?? ''}">` +
        `<title>${escapeXml(tip)}</title>` +
        `<line x1="${f(start.x)}" y1="${f(start.y)}" x2="${f(b.x)}" y2="${f(b.y)}" stroke="${signColor(s.weight)}" stroke-width="${f(synapseWidth(s.weight))}" stroke-linecap="round" stroke-opacity="0.85"/>`,
    );
    if (s.grad !== null && maxAbsGrad > 0) {
      const offset = synapseWidth(s.weight) / 2 + 3;
      const g0 = along(a, b, 0.18, offset);
      const g1 = along(a, b, 0.82, offset);
      parts.push(
        `<line class="gradient" x1="${f(g0.x)}" y1="${f(g0.y)}" x2="${f(g1.x)}" y2="${f(g1.y)}" stroke="${GRADIENT}" stroke-width="${f(gradientWidth(s.grad, maxAbsGrad))}" stroke-dasharray="4 3"/>`,
      );
    }
    if (s.label) {
      // The notebook puts each weight's name 40 % along its synapse, above it.
      const p = along(a, b, 0.4, 11);
      parts.push(`<text class="weight-label" x="${f(p.x)}" y="${f(p.y)}" text-anchor="middle">${escapeXml(s.label)}</text>`);
    }
    parts.push('</g>');
  }
  parts.push('</g>');

  // The output arrow, as the notebook's last synapse to nowhere.
  const last = positions[positions.length - 1];
  for (const p of last) {
    parts.push(
      `<line class="output-arrow" x1="${f(p.x + NEURON_RADIUS)}" y1="${f(p.y)}" x2="${f(p.x + NEURON_RADIUS + 26)}" y2="${f(p.y)}" stroke="#334155" stroke-width="1.5" marker-end="url(#arrow)"/>`,
    );
  }
  if (input.outputName && last.length === 1) {
    parts.push(`<text class="neuron-name" x="${f(last[0].x + NEURON_RADIUS + 36)}" y="${f(last[0].y + 5)}">${escapeXml(input.outputName)}</text>`);
  }
  parts.push(
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#334155"/></marker></defs>',
  );

  parts.push('<g class="neurons">');
  const biasOf = new Map(biases.map((b) => [`${b.layer}:${b.neuron}`, b]));
  positions.forEach((layer, l) => {
    layer.forEach((p, i) => {
      const value = values?.[l]?.[i];
      const name = names?.[l]?.[i];
      const bias = biasOf.get(`${l}:${i}`);
      const tipParts = [name ?? `layer ${l}, neuron ${i + 1}`];
      if (value !== undefined) tipParts.push(`value ${formatNumber(value)}`);
      if (bias) tipParts.push(`bias ${formatNumber(bias.value)}${bias.grad === null ? '' : `, ∂E/∂b = ${formatNumber(bias.grad)}`}`);
      const attrs = `data-layer="${l}" data-neuron="${i}"${value === undefined ? '' : ` data-value="${value}"`}${bias ? ` data-bias="${bias.value}" data-bias-grad="${bias.grad ?? ''}"` : ''}`;
      parts.push(`<g class="neuron" ${attrs}><title>${escapeXml(tipParts.join(': '))}</title>`);
      if (activations[l] === 'input') {
        parts.push(`<circle cx="${f(p.x)}" cy="${f(p.y)}" r="${INPUT_RADIUS}" fill="#fff" stroke="#334155" stroke-width="1.5"/>`);
      } else {
        // A bias tints the neuron by its sign, stronger as it grows; no bias, white.
        const fill = bias ? signColor(bias.value) : '#fff';
        const opacity = bias ? f(0.08 + 0.5 * Math.tanh(Math.abs(bias.value))) : '1';
        parts.push(
          `<circle cx="${f(p.x)}" cy="${f(p.y)}" r="${NEURON_RADIUS}" fill="#fff" stroke="none"/>` +
            `<circle cx="${f(p.x)}" cy="${f(p.y)}" r="${NEURON_RADIUS}" fill="${fill}" fill-opacity="${opacity}" stroke="#334155" stroke-width="1.5"/>` +
            `<line x1="${f(p.x)}" y1="${f(p.y - NEURON_RADIUS)}" x2="${f(p.x)}" y2="${f(p.y + NEURON_RADIUS)}" stroke="#334155" stroke-width="1"/>` +
            `<text x="${f(p.x - NEURON_RADIUS / 2 + 1)}" y="${f(p.y + 5)}" text-anchor="middle" class="sigma">Σ</text>` +
            `<path d="${activationPath(activations[l], p.x, p.y)}" fill="none" stroke="#334155" stroke-width="1.5"/>`,
        );
        if (bias?.grad != null && maxAbsGrad > 0) {
          parts.push(
            `<circle class="gradient" cx="${f(p.x)}" cy="${f(p.y)}" r="${f(NEURON_RADIUS + 2 + gradientWidth(bias.grad, maxAbsGrad) / 2)}" fill="none" stroke="${GRADIENT}" stroke-width="${f(gradientWidth(bias.grad, maxAbsGrad))}" stroke-dasharray="4 3"/>`,
          );
        }
      }
      const r = activations[l] === 'input' ? INPUT_RADIUS : NEURON_RADIUS;
      if (name) {
        const nx = activations[l] === 'input' ? p.x - r - 8 : p.x;
        const ny = activations[l] === 'input' ? p.y + 5 : i < layer.length / 2 || layer.length === 1 ? p.y - r - 8 : p.y + r + 18;
        const shown = value === undefined ? '' : ` = ${Number(value.toPrecision(3))}`;
        parts.push(`<text class="neuron-name" x="${f(nx)}" y="${f(ny)}" text-anchor="${activations[l] === 'input' ? 'end' : 'middle'}">${escapeXml(name + shown)}</text>`);
      }
      parts.push('</g>');
    });
  });
  parts.push('</g></svg>');
  return parts.join('');
}
