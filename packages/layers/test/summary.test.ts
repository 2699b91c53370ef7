import { type NDArray, Parameter, ShapeError, TorchGenerator, ValueError, add, ones, randn } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import {
  Conv2d,
  Dropout,
  Flatten,
  Linear,
  MaxPool2d,
  NeuralLayer,
  ReLU,
  Sequential,
  Tanh,
  summarize,
  summary,
} from '../src/index';

const rng = () => new TorchGenerator(0);

const mlp = () => new Sequential(new Linear(784, 128, { rng: rng() }), new ReLU(), new Linear(128, 10, { rng: rng() }));

const cnn = () => {
  const g = rng();
  return new Sequential(
    new Conv2d(1, 8, 3, { padding: 1, rng: g }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(8, 16, 3, { padding: 1, rng: g }),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(16 * 7 * 7, 10, { rng: g }),
  );
};

const nested = () => new Sequential(new Sequential(new Linear(4, 8, { rng: rng() }), new Tanh()), new Linear(8, 3, { bias: false, rng: rng() }));

// The references below were printed by PyTorch 1.13 (Debian's python3-torch): forward hooks on every
// module of the same torch.nn models, run on torch.zeros(input_size), recording
// (type, list(output.shape), sum(p.numel() for p in module.parameters(recurse=False))), and
// sum(p.numel() for p in model.parameters()) for the total. The root's row comes first here, last in torch's hook order.
const TORCH = {
  mlp: {
    total: 101_770,
    rows: [
      ['Sequential', [1, 10], 0],
      ['Linear', [1, 128], 100_480],
      ['ReLU', [1, 128], 0],
      ['Linear', [1, 10], 1_290],
    ],
  },
  cnn: {
    total: 9_098,
    rows: [
      ['Sequential', [1, 10], 0],
      ['Conv2d', [1, 8, 28, 28], 80],
      ['ReLU', [1, 8, 28, 28], 0],
      ['MaxPool2d', [1, 8, 14, 14], 0],
      ['Conv2d', [1, 16, 14, 14], 1_168],
      ['ReLU', [1, 16, 14, 14], 0],
      ['MaxPool2d', [1, 16, 7, 7], 0],
      ['Flatten', [1, 784], 0],
      ['Linear', [1, 10], 7_850],
    ],
  },
  nested: {
    total: 64,
    rows: [
      ['Sequential', [2, 3], 0],
      ['Sequential', [2, 8], 0],
      ['Linear', [2, 8], 40],
      ['Tanh', [2, 8], 0],
      ['Linear', [2, 3], 24],
    ],
  },
} as const;

describe('summarize against torch', () => {
  it.each([
    ['mlp', mlp, [1, 784]],
    ['cnn', cnn, [1, 1, 28, 28]],
    ['nested', nested, [2, 4]],
  ] as const)('%s: every output shape and parameter count is torch’s', (name, build, inputShape) => {
    const model = build();
    const s = summarize(model, inputShape);
    const expected = TORCH[name];
    expect(s.rows.map((r) => [r.type, r.outputShape, r.params])).toEqual(expected.rows);
    expect(s.totalParams).toBe(expected.total);
    expect(s.trainableParams).toBe(expected.total);
    expect(s.nonTrainableParams).toBe(0);
    expect(s.paramBytes).toBe(4 * expected.total);
    expect(s.inputShape).toEqual(inputShape);
    expect(s.outputShape).toEqual(expected.rows[0][1]);
    expect(s.dtype).toBe('float32');
    // The rows' counts add up to the total when every layer is listed.
    expect(s.rows.reduce((n, r) => n + r.params, 0)).toBe(expected.total);
  });

  it('names rows as namedParameters does and numbers them per depth as torchinfo', () => {
    const s = summarize(nested(), [2, 4]);
    expect(s.rows.map((r) => [r.name, r.depth, r.index, r.container, r.layer])).toEqual([
      ['', 0, 0, true, 'Sequential'],
      ['0', 1, 1, true, 'Sequential'],
      ['0.0', 2, 1, false, 'Linear(in_features=4, out_features=8, bias=True)'],
      ['0.1', 2, 2, false, 'Tanh()'],
      ['1', 1, 2, false, 'Linear(in_features=8, out_features=3, bias=False)'],
    ]);
  });
});

describe('summary', () => {
  it('prints the MLP as torchinfo lays it out', () => {
    const rule = '='.repeat(90);
    expect(summary(mlp(), [1, 784])).toBe(
      [
        rule,
        'Layer (type:depth-idx)                   Output Shape              Param #',
        rule,
        'Sequential                               [1, 10]                   --',
        '├─Linear: 1-1                            [1, 128]                  100,480',
        '├─ReLU: 1-2                              [1, 128]                  --',
        '├─Linear: 1-3                            [1, 10]                   1,290',
        rule,
        'Total params: 101,770',
        'Trainable params: 101,770',
        'Non-trainable params: 0',
        'Params size (MB): 0.41',
        rule,
      ].join('\n'),
    );
  });

  it('draws nested layers as a tree and collapses them below depth', () => {
    const table = summary(nested(), [2, 4]);
    expect(table.split('\n').slice(3, 8)).toEqual([
      'Sequential                               [2, 3]                    --',
      '├─Sequential: 1-1                        [2, 8]                    --',
      '│    └─Linear: 2-1                       [2, 8]                    40',
      '│    └─Tanh: 2-2                         [2, 8]                    --',
      '├─Linear: 1-2                            [2, 3]                    24',
    ]);
    const shallow = summarize(nested(), [2, 4], { depth: 1 });
    expect(shallow.rows.map((r) => [r.type, r.params])).toEqual([
      ['Sequential', 0],
      ['Sequential', 40],
      ['Linear', 24],
    ]);
    expect(summarize(nested(), [2, 4], { depth: 0 }).rows.map((r) => r.params)).toEqual([64]);
  });

  it('widens a column for a long output shape', () => {
    const shape = new Array(16).fill(1);
    const lines = summary(new Sequential(new ReLU()), shape).split('\n');
    const text = `[${shape.join(', ')}]`;
    expect(text.length).toBeGreaterThan(25);
    const row = lines.find((l) => l.startsWith('├─ReLU'))!;
    // The shape and the "--" after it stay apart.
    expect(row).toBe(`${'├─ReLU: 1-1'.padEnd(40)} ${text} --`);
    expect(lines[0]).toBe('='.repeat(40 + text.length + 25));
  });

  it('takes the dtype of the parameters: float64 counts 8 bytes each', () => {
    const model = new Sequential(new Linear(3, 2, { dtype: 'float64', rng: rng() }));
    const s = summarize(model, [5, 3]);
    expect(s.dtype).toBe('float64');
    expect(s.paramBytes).toBe(8 * 8);
    expect(summarize(new Sequential(new ReLU()), [2, 2], { dtype: 'float64' }).dtype).toBe('float64');
    expect(summarize(new Sequential(new ReLU()), [2, 2]).dtype).toBe('float32');
  });

  it('counts a layer’s own parameters on its row and each shared parameter once in the total', () => {
    class Scaled extends NeuralLayer {
      readonly scale = new Parameter(ones([3]), 'scale');
      readonly inner: Linear;
      constructor(shared?: Parameter) {
        super();
        this.inner = new Linear(3, 3, { rng: rng() });
        this.registerParameter('scale', this.scale);
        if (shared) this.registerParameter('tied', shared);
        this.registerLayer('inner', this.inner);
      }
      forward(input: NDArray): NDArray {
        return this.inner.forward(add(input, this.scale.value));
      }
      backward(outputGrad: NDArray): NDArray {
        return this.inner.backward(outputGrad);
      }
    }
    const first = new Scaled();
    const second = new Scaled(first.scale);
    const model = new Sequential(first, second);
    const s = summarize(model, [1, 3]);
    expect(s.rows.map((r) => [r.name, r.type, r.params])).toEqual([
      ['', 'Sequential', 0],
      ['0', 'Scaled', 3],
      ['0.inner', 'Linear', 12],
      ['1', 'Scaled', 6],
      ['1.inner', 'Linear', 12],
    ]);
    // torch's sum(p.numel() for p in model.parameters()) counts the tied parameter once.
    expect(s.totalParams).toBe(model.parameters().reduce((n, p) => n + p.size, 0));
    expect(s.totalParams).toBe(3 + 12 + 3 + 12);
  });
});

describe('summary leaves the model as it was', () => {
  it('restores every training flag, leaves parameters and gradients alone, and draws no dropout mask', () => {
    // Two identical models from two generators with one seed; only the first gets a summary.
    const setup = () => {
      const g = new TorchGenerator(7);
      const model = new Sequential(new Linear(4, 6, { rng: g }), new Dropout(0.5, { rng: g }), new Sequential(new ReLU(), new Linear(6, 2, { rng: g })));
      model.layers[2].eval(); // mixed modes: restored one by one, not by one train(mode)
      model.forward(randn([3, 4], { rng: g }));
      model.backward(ones([3, 2]));
      return { g, model };
    };
    const { g, model } = setup();
    const twin = setup();
    const values = model.parameters().map((p) => p.value.clone().data);
    const grads = model.parameters().map((p) => p.grad.clone().data);
    const all = [model, ...model.layers, ...(model.layers[2] as Sequential).layers];
    const modes = all.map((l) => l.training);
    expect(modes).toContain(false);
    expect(modes).toContain(true);

    summary(model, [3, 4]);

    expect(all.map((l) => l.training)).toEqual(modes);
    for (const layer of all) expect(Object.hasOwn(layer, 'forward')).toBe(false);
    model.parameters().forEach((p, i) => {
      expect(p.value.data).toEqual(values[i]);
      expect(p.grad.data).toEqual(grads[i]);
    });
    // The generator is where the twin's is: the summary drew no dropout mask.
    const next = new Float64Array(5);
    const expected = new Float64Array(5);
    g.uniform(next, 0, 1);
    twin.g.uniform(expected, 0, 1);
    expect(next).toEqual(expected);
    // Whereas a training-mode forward would have drawn one.
    model.forward(randn([3, 4], { rng: new TorchGenerator(1) }));
    g.uniform(next, 0, 1);
    twin.g.uniform(expected, 0, 1);
    expect(next).not.toEqual(expected);
  });

  it('keeps a forward the caller put on an instance', () => {
    const relu = new ReLU();
    const patched = (x: NDArray) => x;
    relu.forward = patched;
    const s = summarize(new Sequential(relu), [2, 2]);
    expect(s.rows[1].outputShape).toEqual([2, 2]);
    expect(relu.forward).toBe(patched);
  });
});

describe('summary rejects bad input', () => {
  it('names what it got when the model is not a layer', () => {
    expect(() => summary({} as NeuralLayer, [1, 4])).toThrow(ValueError);
    expect(() => summary({} as NeuralLayer, [1, 4])).toThrow(/summary: model must be a NeuralLayer .*got an object with keys \[\]/);
    expect(() => summary(null as unknown as NeuralLayer, [1, 4])).toThrow(/got null/);
  });

  it.each([
    [[], /got \[\]/],
    [[0, 784], /got \[0, 784\]/],
    [[1, 2.5], /got \[1, 2\.5\]/],
    ['1, 784', /got '1, 784'/],
    [undefined, /got undefined/],
  ])('rejects inputShape %j', (shape, message) => {
    expect(() => summary(mlp(), shape as unknown as number[])).toThrow(ValueError);
    expect(() => summary(mlp(), shape as unknown as number[])).toThrow(/summary: inputShape must be a non-empty array of positive integers/);
    expect(() => summary(mlp(), shape as unknown as number[])).toThrow(message);
  });

  it('rejects unknown options and bad values', () => {
    expect(() => summary(mlp(), [1, 784], { depht: 2 } as never)).toThrow(/summary: unknown option 'depht'/);
    expect(() => summary(mlp(), [1, 784], { depth: -1 })).toThrow(/summary: depth must be an integer >= 0, got -1/);
    expect(() => summary(mlp(), [1, 784], { dtype: 'int8' as never })).toThrow(/summary: dtype must be one of 'float32', 'float64', got 'int8'/);
  });

  it('passes on the layer’s own error for an input it rejects, and restores the model', () => {
    const model = mlp();
    model.eval();
    model.layers[1].train();
    expect(() => summary(model, [1, 783])).toThrow(ShapeError);
    expect(() => summary(model, [1, 783])).toThrow('Linear(784, 128): expected an input whose last dimension is 784 (shape [*, 784]), got [1, 783]');
    expect(model.layers.map((l) => l.training)).toEqual([false, true, false]);
    expect(model.training).toBe(false);
    for (const layer of [model, ...model.layers]) expect(Object.hasOwn(layer, 'forward')).toBe(false);
  });
});
