import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NOTEBOOK_002, SmallNet, XOR_281 } from '../src/small-nets';

interface Tensor {
  shape: number[];
  data: number[];
}
/** The PyTorch reference of seed notebook 002 that apps/seeds checks (tools/torch-fixtures/seeds.py). */
const notebook = (
  JSON.parse(readFileSync(new URL('../../seeds/fixtures/notebooks.json', import.meta.url), 'utf8')) as Record<
    string,
    { state: Record<string, Tensor>; x: Tensor; y_true: Tensor; y_pred: Tensor; error: number; grads: Record<string, Tensor> }
  >
)['002'];

describe('the 2-2-2-1 network is seed notebook 002’s', () => {
  it('has torch.manual_seed(0)’s weights, x and y_true, bit for bit', () => {
    const net = new SmallNet(NOTEBOOK_002);
    const state = net.model.stateDict();
    expect(Object.keys(state)).toEqual(Object.keys(notebook.state));
    for (const [name, t] of Object.entries(notebook.state)) expect(Array.from(state[name].data)).toEqual(t.data);
    expect(Array.from(net.inputs.data)).toEqual(notebook.x.data);
    expect(Array.from(net.targets.data)).toEqual(notebook.y_true.data);
  });

  it('steps with torch’s loss and gradients, then w ← w − 0.1·∂E/∂w', () => {
    const net = new SmallNet(NOTEBOOK_002);
    const before = net.synapses();
    expect(before.every((s) => s.grad === null)).toBe(true);
    expect(net.predictions()[0]).toBeCloseTo(notebook.y_pred.data[0], 6);
    const { loss, lossAfter } = net.step();
    expect(loss).toBeCloseTo(notebook.error, 6);
    expect(lossAfter).toBeLessThan(loss);
    const after = net.synapses();
    for (const [i, s] of after.entries()) {
      const torchGrad = notebook.grads[s.param].data[s.index];
      expect(s.grad).toBeCloseTo(torchGrad, 6);
      expect(s.weight).toBeCloseTo(before[i].weight - 0.1 * s.grad!, 7);
    }
    expect(net.steps).toBe(1);
    expect(net.losses).toEqual([loss]);
  });

  it('names the weights as the notebook does: w1 = W0[0, 0], w2 = W0[1, 0], w3 = W0[0, 1], … w10 = W4[0, 1]', () => {
    const synapses = new SmallNet(NOTEBOOK_002).synapses();
    const byLabel = Object.fromEntries(synapses.map((s) => [s.label, [s.param, s.to, s.from]]));
    expect(byLabel).toEqual({
      w1: ['0.weight', 0, 0],
      w2: ['0.weight', 1, 0],
      w3: ['0.weight', 0, 1],
      w4: ['0.weight', 1, 1],
      w5: ['2.weight', 0, 0],
      w6: ['2.weight', 1, 0],
      w7: ['2.weight', 0, 1],
      w8: ['2.weight', 1, 1],
      w9: ['4.weight', 0, 0],
      w10: ['4.weight', 0, 1],
    });
  });

  it('reports each neuron’s value: the notebook’s y1 … y4 and y', () => {
    const net = new SmallNet(NOTEBOOK_002);
    const [x, h1, h2, [y]] = net.neuronValues();
    const w = (name: string) => net.synapses().find((s) => s.label === name)!.weight;
    const [x1, x2] = x;
    const y1 = Math.tanh(w('w1') * x1 + w('w3') * x2);
    const y2 = Math.tanh(w('w2') * x1 + w('w4') * x2);
    expect(h1[0]).toBeCloseTo(y1, 6);
    expect(h1[1]).toBeCloseTo(y2, 6);
    const y3 = Math.tanh(w('w5') * y1 + w('w7') * y2);
    const y4 = Math.tanh(w('w6') * y1 + w('w8') * y2);
    expect(h2).toEqual([expect.closeTo(y3, 6), expect.closeTo(y4, 6)]);
    expect(y).toBeCloseTo(w('w9') * y3 + w('w10') * y4, 6);
    expect(net.biases()).toEqual([]);
    expect(net.activations).toEqual(['input', 'tanh', 'tanh', 'identity']);
  });
});

describe('the 2-8-1 XOR network', () => {
  it('learns XOR with plain SGD: every point on the right side of 0.5 within 60 steps', () => {
    const net = new SmallNet(XOR_281);
    expect(net.samples).toBe(4);
    expect(net.synapses()).toHaveLength(2 * 8 + 8);
    expect(net.biases()).toHaveLength(8 + 1);
    const first = net.loss();
    expect(first).toBeCloseTo(Math.log(2), 1); // an untrained sigmoid says about 0.5 everywhere
    for (let i = 0; i < 60; i++) net.step();
    const predictions = net.predictions();
    expect(predictions.map((p) => Math.round(p))).toEqual([0, 1, 1, 0]);
    for (let i = 0; i < 40; i++) net.step();
    expect(net.loss()).toBeLessThan(first / 4);
    expect(net.losses).toHaveLength(100);
    expect(net.biases().every((b) => b.grad !== null && Number.isFinite(b.grad))).toBe(true);
    expect(net.activations).toEqual(['input', 'tanh', 'sigmoid']);
  });

  it('shows the neuron values of the sample asked for', () => {
    const net = new SmallNet(XOR_281);
    expect(net.neuronValues(2)[0]).toEqual([1, 0]);
    expect(net.neuronValues(3)[2][0]).toBeCloseTo(net.predictions()[3], 6);
    expect(() => net.neuronValues(4)).toThrow(/sample must be an integer in \[0, 4\), got 4/);
  });

  it('starts again from the same weights: the seed fixes everything', () => {
    const a = new SmallNet(XOR_281);
    a.step();
    const b = new SmallNet(XOR_281);
    b.step();
    expect(b.synapses()).toEqual(a.synapses());
    expect(() => new SmallNet({ ...XOR_281, sizes: [2] })).toThrow(/sizes must be two or more positive integers/);
  });
});
