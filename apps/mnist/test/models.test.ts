import { randn, TorchGenerator } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { ArchitectureError, buildModel, cnnArchitecture, mlpArchitecture, parseArchitecture } from '../src/models';

const shapes = (record: Record<string, { shape: readonly number[] }>) =>
  Object.fromEntries(Object.entries(record).map(([k, v]) => [k, [...v.shape]]));

describe('models', () => {
  it('the MLP has PyTorch state_dict names and shapes', () => {
    const model = buildModel(mlpArchitecture(), new TorchGenerator(0));
    expect(shapes(model.stateDict())).toEqual({
      '0.weight': [128, 784],
      '0.bias': [128],
      '2.weight': [10, 128],
      '2.bias': [10],
    });
    expect(model.forward(randn([3, 784], { rng: new TorchGenerator(1) })).shape).toEqual([3, 10]);
  });

  it('the CNN is conv-relu-pool twice then Linear(16·7·7, 10), with torch names', () => {
    const model = buildModel(cnnArchitecture(), new TorchGenerator(0));
    // torch's print(model): one child a line, numbered as the state-dict keys.
    expect(model.toString()).toMatch(
      /^Sequential\(\n {2}\(0\): Conv2d\(1, 8, .*\(2\): MaxPool2d.*\(3\): Conv2d\(8, 16, .*\(6\): Flatten.*\(7\): Linear\(in_features=784, out_features=10, bias=True\)\n\)$/s,
    );
    expect(shapes(model.stateDict())).toEqual({
      '0.weight': [8, 1, 3, 3],
      '0.bias': [8],
      '3.weight': [16, 8, 3, 3],
      '3.bias': [16],
      '7.weight': [10, 784],
      '7.bias': [10],
    });
    const x = randn([2, 1, 28, 28], { rng: new TorchGenerator(1) });
    const out = model.forward(x);
    expect(out.shape).toEqual([2, 10]);
    expect(model.backward(randn([2, 10], { rng: new TorchGenerator(2) })).shape).toEqual([2, 1, 28, 28]);
  });

  it('initialises from the generator it is given: same seed, same weights', () => {
    const a = buildModel(cnnArchitecture(), new TorchGenerator(5)).stateDict();
    const b = buildModel(cnnArchitecture(), new TorchGenerator(5)).stateDict();
    const c = buildModel(cnnArchitecture(), new TorchGenerator(6)).stateDict();
    expect(Array.from(a['3.weight'].data)).toEqual(Array.from(b['3.weight'].data));
    expect(Array.from(a['3.weight'].data)).not.toEqual(Array.from(c['3.weight'].data));
  });

  it('builds dropout and average pooling from a description too', () => {
    const model = buildModel(
      {
        name: 'custom',
        inputShape: [1, 28, 28],
        layers: [
          { type: 'AvgPool2d', kernelSize: 2 },
          { type: 'Flatten' },
          { type: 'Dropout', p: 0.25 },
          { type: 'Linear', inFeatures: 196, outFeatures: 10 },
        ],
      },
      new TorchGenerator(0),
    );
    expect(model.forward(randn([2, 1, 28, 28])).shape).toEqual([2, 10]);
  });

  it('rejects a bad architecture, naming the problem', () => {
    const good = mlpArchitecture();
    const bad = (change: object) => () => parseArchitecture({ ...good, ...change });
    expect(() => parseArchitecture('mlp')).toThrow(ArchitectureError);
    expect(bad({ inputShape: [] })).toThrow(/'inputShape' must be a non-empty array of positive integers, got \[\]/);
    expect(bad({ layers: [] })).toThrow(/'layers' must be a non-empty array/);
    expect(bad({ layers: [{ type: 'Conv3d' }] })).toThrow(/layers\[0\]\.type is "Conv3d"; expected one of Linear, ReLU/);
    expect(bad({ layers: [{ type: 'Linear', inFeatures: 784 }] })).toThrow(/layers\[0\] \(Linear\) is missing 'outFeatures'/);
    expect(bad({ layers: [{ type: 'Linear', inFeatures: 784, outFeatures: -1 }] })).toThrow(
      /layers\[0\] \(Linear\)\.outFeatures is -1; expected a positive integer/,
    );
    expect(bad({ layers: [{ type: 'ReLU', inplace: true }] })).toThrow(/layers\[0\] \(ReLU\) has unknown key 'inplace'/);
    expect(bad({ layers: [{ type: 'Dropout', p: 1 }] })).toThrow(/\.p is 1; expected a number in \[0, 1\)/);
  });
});
