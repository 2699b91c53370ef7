import { readFileSync } from 'node:fs';
import { type NDArray, TorchGenerator, decodeSafetensors, encodeSafetensors, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { Linear, ReLU, Sequential, StateDictError } from '../src/index';
import { type LayerCase, expectClose, loadFixture, toArray } from './helpers';

interface StateDictCase extends LayerCase {
  file: string;
}

const { cases } = loadFixture<{ cases: StateDictCase[] }>('state-dict');

function mlp(dtype: 'float32' | 'float64' = 'float32', seed = 0): Sequential {
  const rng = new TorchGenerator(seed);
  return new Sequential(new Linear(4, 8, { dtype, rng }), new ReLU(), new Linear(8, 3, { dtype, rng }));
}

describe('a PyTorch state_dict saved as safetensors loads as is', () => {
  it.each(cases.map((c) => [c.file, c] as const))('%s', (_, c) => {
    // A plain Uint8Array copy: decodeSafetensors in @backprop/ndarray 0.1.0 calls bytes.slice(),
    // which on a Node Buffer is a view of Node's shared pool, not a copy.
    const bytes = new Uint8Array(readFileSync(new URL(`./fixtures/${c.file}`, import.meta.url)));
    const { tensors } = decodeSafetensors(bytes);
    const model = mlp(c.dtype);
    expect(model.loadStateDict(tensors)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const params = Object.fromEntries(model.namedParameters());
    for (const [name, value] of Object.entries(c.params)) {
      expect(Array.from(params[name].value.data), name).toEqual(value.data);
    }
    expectClose(model.forward(toArray(c.input)), c.output, `${c.file} output`);
    expectClose(model.backward(toArray(c.outputGrad)), c.inputGrad, `${c.file} input grad`);
    for (const [name, grad] of Object.entries(c.paramGrads)) expectClose(params[name].grad, grad, `${c.file} ${name} grad`);
  });
});

describe('stateDict / loadStateDict', () => {
  it('round-trips through safetensors', () => {
    const source = mlp('float64', 1);
    const target = mlp('float64', 2);
    target.loadStateDict(decodeSafetensors(encodeSafetensors(source.stateDict())).tensors);
    const x = toArray({ shape: [2, 4], dtype: 'float64', data: [1, 2, 3, 4, -1, -2, -3, -4] });
    expect(Array.from(target.forward(x).data)).toEqual(Array.from(source.forward(x).data));
  });

  it('returns copies, and loads in place so optimizers keep their references', () => {
    const model = mlp('float32', 3);
    const state = model.stateDict();
    const weight = model.parameters()[0];
    const data = weight.value.data;
    state['0.weight'].data.fill(7);
    expect(weight.value.data[0]).not.toBe(7);
    model.loadStateDict(state);
    expect(weight.value.data).toBe(data);
    expect(model.parameters()[0]).toBe(weight);
    expect(weight.value.data[0]).toBe(7);
  });

  it('converts the dtype as load_state_dict does', () => {
    const model = mlp('float32', 4);
    const state64 = Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, v.astype('float64')]));
    state64['0.bias'].data[0] = 0.1;
    model.loadStateDict(state64);
    expect(model.parameters()[1].value.dtype).toBe('float32');
    expect(model.parameters()[1].value.data[0]).toBe(Math.fround(0.1));
  });

  it('reports missing and unexpected keys together with strict (the default), loading nothing', () => {
    const model = mlp('float32', 5);
    const before = model.stateDict();
    const state = model.stateDict();
    const changed = zeros([8]);
    const bad = { '0.weight': state['0.weight'], '0.bias': changed, '2.wieght': state['2.weight'], extra: zeros([1]) };
    let error: unknown;
    try {
      model.loadStateDict(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictError);
    const e = error as StateDictError;
    expect(e.message).toBe(
      'Sequential(Linear, ReLU, Linear).loadStateDict: error(s) in loading the state dict; nothing was loaded:\n' +
        '  missing key(s): "2.weight", "2.bias"\n' +
        '  unexpected key(s): "2.wieght", "extra"',
    );
    expect(e.missingKeys).toEqual(['2.weight', '2.bias']);
    expect(e.unexpectedKeys).toEqual(['2.wieght', 'extra']);
    expect(Array.from(model.stateDict()['0.bias'].data)).toEqual(Array.from(before['0.bias'].data));
  });

  it('names the key and both shapes on a shape mismatch, even when not strict', () => {
    const model = mlp();
    const state = model.stateDict();
    state['2.weight'] = zeros([3, 10]);
    expect(() => model.loadStateDict(state, { strict: false })).toThrow(
      'size mismatch for 2.weight: copying a value of shape [3, 10] from the state dict, the shape in the layer is [3, 8]',
    );
  });

  it('with strict false, loads what matches and returns the rest', () => {
    const model = mlp('float32', 6);
    const result = model.loadStateDict({ '0.bias': zeros([8]), other: zeros([2]) }, { strict: false });
    expect(result).toEqual({ missingKeys: ['0.weight', '2.weight', '2.bias'], unexpectedKeys: ['other'] });
    expect(model.parameters()[1].value.data.every((v) => v === 0)).toBe(true);
  });

  it('rejects values that are not float arrays, unknown options and non-records', () => {
    const model = new Linear(2, 1);
    expect(() => model.loadStateDict({ weight: [[1, 2]], bias: zeros([1]) } as unknown as Record<string, NDArray>)).toThrow(
      /weight: expected an NDArray, got an array of length 1/,
    );
    const ints = { dtype: 'int64', shape: [1, 2], data: new BigInt64Array(2) };
    expect(() => model.loadStateDict({ weight: ints, bias: zeros([1]) })).toThrow(
      /weight: expected an NDArray, got a int64 tensor of shape \[1, 2\]/,
    );
    expect(() => model.loadStateDict({}, { strict: 'no' } as unknown as { strict: boolean })).toThrow(/strict must be true or false/);
    expect(() => model.loadStateDict({}, { strickt: false } as object)).toThrow(
      "Linear(2, 1).loadStateDict: unknown option 'strickt'; expected one of 'strict'",
    );
    expect(() => model.loadStateDict(null as unknown as Record<string, NDArray>)).toThrow(/expected a record of NDArrays/);
  });
});

