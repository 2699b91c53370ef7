import { describe, expect, it } from 'vitest';
import {
  GRADIENT,
  NEGATIVE,
  NEURON_EXTENT,
  POSITIVE,
  along,
  diagramHeight,
  diagramWidth,
  formatNumber,
  gradientWidth,
  layoutNeurons,
  renderNetworkSvg,
  signColor,
  synapseWidth,
} from '../src/diagram';
import { NOTEBOOK_002, SmallNet, XOR_281 } from '../src/small-nets';

const attributes = (svg: string, selector: RegExp) => [...svg.matchAll(selector)].map((m) => m[1]);

/** Every pair of circles closer than their radii together: [a, b, distance, a.r + b.r]. */
function overlaps(circles: readonly { x: number; y: number; r: number }[]): [number, number, number, number][] {
  const found: [number, number, number, number][] = [];
  circles.forEach((a, i) => {
    circles.slice(i + 1).forEach((b, j) => {
      const distance = Math.hypot(a.x - b.x, a.y - b.y);
      if (distance < a.r + b.r) found.push([i, i + 1 + j, distance, a.r + b.r]);
    });
  });
  return found;
}

describe('layoutNeurons', () => {
  it('places the notebook’s 2-2-2-1 as its figure does: two rows, the output in the middle', () => {
    const layers = layoutNeurons([2, 2, 2, 1], 500, 300);
    const xs = layers.map((layer) => layer[0].x);
    expect(xs[1] - xs[0]).toBeCloseTo(xs[2] - xs[1], 9); // evenly spaced layers
    expect(xs[3] - xs[2]).toBeCloseTo(xs[2] - xs[1], 9);
    for (const layer of layers.slice(0, 3)) {
      expect(layer[0].y).toBeCloseTo(layers[0][0].y, 9); // the same two rows in every layer
      expect(layer[1].y).toBeCloseTo(layers[0][1].y, 9);
    }
    expect(layers[3][0].y).toBe(150);
    expect((layers[0][0].y + layers[0][1].y) / 2).toBe(150);
  });

  it('spans the height with the tallest layer and keeps the others centred and apart', () => {
    const height = diagramHeight([2, 8, 1]);
    const [inputs, hidden, output] = layoutNeurons([2, 8, 1], 500, height);
    const ys = hidden.map((p) => p.y);
    for (let i = 1; i < ys.length; i++) expect(ys[i] - ys[i - 1]).toBeCloseTo(ys[1] - ys[0], 9);
    expect(ys[0]).toBeGreaterThan(0);
    expect(ys[7]).toBeLessThan(height);
    expect(inputs[1].y - inputs[0].y).toBeGreaterThan(2 * (ys[1] - ys[0]));
    expect((inputs[0].y + inputs[1].y) / 2).toBeCloseTo(height / 2, 9);
    expect(output[0].y).toBe(height / 2);
  });

  it('keeps every two neurons, gradient rings included, apart in any layer sizes at diagramWidth × diagramHeight', () => {
    for (const sizes of [[2, 8, 1], [2, 2, 2, 1], [3, 16, 16, 4], [1, 1, 1, 1, 1, 1], [5]]) {
      const points = layoutNeurons(sizes, diagramWidth(sizes, 112, 132), diagramHeight(sizes), 112, 132).flat();
      expect(overlaps(points.map((p) => ({ ...p, r: NEURON_EXTENT })))).toEqual([]);
    }
  });

  it('refuses a height too small for the tallest layer, and sizes that are not neurons', () => {
    expect(diagramHeight([2, 8, 1])).toBeGreaterThan(340); // the height the page asked for when the XOR neurons overlapped
    expect(() => layoutNeurons([2, 8, 1], 540, 340)).toThrow(/layers of \[2, 8, 1\] neurons need a height of at least 462\.5 so that none overlap, got 340/);
    expect(() => layoutNeurons([2, 2, 2, 1], 300, 300, 112, 132)).toThrow(
      /4 layers between margins of 112 and 132 need a width of at least 404\.5 so that none overlap, got 300/,
    );
    expect(() => layoutNeurons([2, 0, 1], 540, 500)).toThrow(/sizes must be .* got \[2, 0, 1\]/);
    expect(() => layoutNeurons([], 540, 500)).toThrow(/got \[\]/);
  });
});

describe('synapse styles', () => {
  it('colours by sign and widens with |w|, saturating', () => {
    expect(signColor(0.3)).toBe(POSITIVE);
    expect(signColor(-0.3)).toBe(NEGATIVE);
    expect(synapseWidth(0)).toBe(1);
    expect(synapseWidth(-0.5)).toBe(synapseWidth(0.5));
    expect(synapseWidth(0.5)).toBeGreaterThan(synapseWidth(0.1));
    expect(synapseWidth(100)).toBeLessThanOrEqual(8);
  });

  it('sizes a gradient against the largest one', () => {
    expect(gradientWidth(-2, 2)).toBe(5.75);
    expect(gradientWidth(1, 2)).toBe(3.25);
    expect(gradientWidth(1, 0)).toBe(0);
  });

  it('formats numbers to four significant digits', () => {
    expect(formatNumber(0.123456)).toBe('0.1235');
    expect(formatNumber(-12.3456)).toBe('-12.35');
    expect(formatNumber(1.5e-6)).toBe('1.500e-6');
    expect(formatNumber(0)).toBe('0');
  });

  it('offsets a point to the left of a segment', () => {
    expect(along({ x: 0, y: 0 }, { x: 10, y: 0 }, 0.5, 2)).toEqual({ x: 5, y: -2 });
  });
});

describe('renderNetworkSvg', () => {
  const draw = (net: SmallNet) =>
    renderNetworkSvg({
      sizes: net.spec.sizes,
      activations: net.activations,
      synapses: net.synapses(),
      biases: net.biases(),
      values: net.neuronValues(),
      names: [['x1', 'x2']],
      width: 500,
      height: 300,
    });

  it('draws a line per weight carrying its value, and no gradient before a step', () => {
    const net = new SmallNet(NOTEBOOK_002);
    const svg = draw(net);
    const weights = attributes(svg, /data-weight="([^"]*)"/g).map(Number);
    expect(weights).toEqual(net.synapses().map((s) => s.weight));
    expect(attributes(svg, /data-grad="([^"]*)"/g)).toEqual(new Array(10).fill(''));
    expect(svg).not.toContain(GRADIENT);
    expect(attributes(svg, /class="weight-label"[^>]*>([^<]*)</g)).toEqual(['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'w9', 'w10']);
    // Inputs are small empty circles, the other neurons Σ and their activation.
    expect(svg.match(/class="sigma"/g)).toHaveLength(5);
    expect(svg).toContain('x1 = ');
  });

  it('after a step, draws each gradient beside its synapse and the new weights', () => {
    const net = new SmallNet(NOTEBOOK_002);
    const before = draw(net);
    net.step();
    const svg = draw(net);
    const grads = attributes(svg, /data-grad="([^"]*)"/g).map(Number);
    expect(grads).toEqual(net.synapses().map((s) => s.grad));
    expect(svg.match(/class="gradient"/g)).toHaveLength(10);
    expect(attributes(svg, /stroke-width="([^"]*)"/g)).not.toEqual(attributes(before, /stroke-width="([^"]*)"/g));
    expect(svg).toContain('∂E/∂w = ');
  });

  it('draws the XOR net’s neurons and their gradient rings apart, growing a size too small for them', () => {
    const net = new SmallNet(XOR_281);
    net.step();
    const svg = renderNetworkSvg({
      sizes: net.spec.sizes,
      activations: net.activations,
      synapses: net.synapses(),
      biases: net.biases(),
      width: 200,
      height: 300,
      marginLeft: 112,
      marginRight: 132,
    });
    expect(svg).toContain(`viewBox="0 0 ${diagramWidth([2, 8, 1], 112, 132)} ${diagramHeight([2, 8, 1])}"`);
    // Each neuron's outermost circle (the gradient's ring, reaching half its stroke further, or the neuron itself).
    const circles = [...svg.matchAll(/<g class="neuron"[^>]*>(.*?)<\/g>/g)].map(([, body]) => {
      const drawn = [...body.matchAll(/<circle[^>]*\/>/g)].map(([tag]) => Object.fromEntries([...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map(([, k, v]) => [k, v])));
      const reach = Math.max(...drawn.map((c) => Number(c.r) + (c.class === 'gradient' ? Number(c['stroke-width']) / 2 : 0)));
      return { x: Number(drawn[0].cx), y: Number(drawn[0].cy), r: reach };
    });
    expect(circles).toHaveLength(2 + 8 + 1);
    expect(Math.max(...circles.map((c) => c.r))).toBeLessThanOrEqual(NEURON_EXTENT + 0.01);
    expect(Math.max(...circles.map((c) => c.r))).toBeGreaterThan(19); // the rings are there
    expect(overlaps(circles)).toEqual([]);
  });

  it('tints each neuron by its bias and rings it with the bias’s gradient', () => {
    const net = new SmallNet(XOR_281);
    net.step();
    const svg = draw(net);
    expect(attributes(svg, /data-bias="([^"]*)"/g).map(Number)).toEqual(net.biases().map((b) => b.value));
    expect(svg.match(/<circle class="gradient"/g)).toHaveLength(9);
    expect(svg.match(/class="synapse"/g)).toHaveLength(24);
  });
});
