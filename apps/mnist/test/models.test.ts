import { randn, TorchGenerator } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { ARCHITECTURE_LIMITS, ArchitectureError, buildModel, cnnArchitecture, mlpArchitecture, parseArchitecture, stateDictShapes } from '../src/models';

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
    expect(bad({ inputShape: [] })).toThrow(/'inputShape' must be an array of 1 to 4 integers from 1 to 65536, got \[\]/);
    expect(bad({ layers: [] })).toThrow(/'layers' must be an array of 1 to 256 layers, got 0 layers/);
    expect(bad({ layers: [{ type: 'Conv3d' }] })).toThrow(/layers\[0\]\.type is "Conv3d"; expected one of Linear, ReLU/);
    expect(bad({ layers: [{ type: 'Linear', inFeatures: 784 }] })).toThrow(/layers\[0\] \(Linear\) is missing 'outFeatures'/);
    expect(bad({ layers: [{ type: 'Linear', inFeatures: 784, outFeatures: -1 }] })).toThrow(
      /layers\[0\] \(Linear\)\.outFeatures is -1; expected an integer from 1 to 65536/,
    );
    expect(bad({ layers: [{ type: 'ReLU', inplace: true }] })).toThrow(/layers\[0\] \(ReLU\) has unknown key 'inplace'/);
    expect(bad({ layers: [{ type: 'Dropout', p: 1 }] })).toThrow(/\.p is 1; expected a number in \[0, 1\)/);
  });

  it('holds an architecture to sane bounds, so a file cannot ask for an absurd model', () => {
    const good = mlpArchitecture();
    const bad = (change: object) => () => parseArchitecture({ ...good, ...change });
    const deep = Array.from({ length: 100_000 }, () => ({ type: 'ReLU' }));
    expect(bad({ layers: deep })).toThrow(/'layers' must be an array of 1 to 256 layers, got 100000 layers/);
    expect(bad({ layers: [{ type: 'Linear', inFeatures: 784, outFeatures: 1e6 }] })).toThrow(
      /layers\[0\] \(Linear\)\.outFeatures is 1000000; expected an integer from 1 to 65536/,
    );
    expect(bad({ inputShape: [1, 1, 1, 1, 784] })).toThrow(/'inputShape' must be an array of 1 to 4 integers/);
    expect(bad({ name: 'x'.repeat(ARCHITECTURE_LIMITS.nameLength + 1) })).toThrow(/'name' must be a string of at most 100 characters/);
    expect(parseArchitecture({ ...good, layers: Array.from({ length: 256 }, () => ({ type: 'ReLU' })) }).layers).toHaveLength(256);
  });

  it('stateDictShapes gives the names and shapes the built model holds, without building it', () => {
    const custom = {
      name: 'custom',
      inputShape: [1, 28, 28],
      layers: [
        { type: 'Conv2d', inChannels: 1, outChannels: 4, kernelSize: 5, stride: 2 },
        { type: 'ReLU' },
        { type: 'Flatten' },
        { type: 'Dropout', p: 0.1 },
        { type: 'Linear', inFeatures: 576, outFeatures: 10 },
      ],
    } as const;
    for (const architecture of [mlpArchitecture(), cnnArchitecture(), parseArchitecture(custom)]) {
      expect(stateDictShapes(architecture), architecture.name).toEqual(shapes(buildModel(architecture, new TorchGenerator(0)).stateDict()));
    }
  });
});
