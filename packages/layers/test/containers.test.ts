import { type NDArray, ShapeError, TorchGenerator, ValueError, add, randn } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { Linear, ModuleDict, ModuleList, NeuralLayer, ReLU, Residual, Sequential, Tanh, gradcheck } from '../src/index';

const f64 = (rng: TorchGenerator) => ({ dtype: 'float64' as const, rng });

/** A user's layer that owns a ModuleList and a ModuleDict and wires them with a skip connection. */
class TwoHeads extends NeuralLayer {
  readonly trunk: ModuleList;
  readonly heads: ModuleDict;
  #h?: NDArray;
  constructor(rng: TorchGenerator) {
    super();
    this.trunk = new ModuleList([new Linear(3, 3, f64(rng)), new Tanh()]);
    this.heads = new ModuleDict({ a: new Linear(3, 2, f64(rng)), b: new Linear(3, 2, f64(rng)) });
  }
  forward(x: NDArray): NDArray {
    let h = x;
    for (const layer of this.trunk) h = layer.forward(h);
    this.#h = h;
    return add(this.heads.get('a').forward(h), this.heads.get('b').forward(h));
  }
  backward(g: NDArray): NDArray {
    let gh = add(this.heads.get('a').backward(g), this.heads.get('b').backward(g));
    for (const layer of [...this.trunk].reverse()) gh = layer.backward(gh);
    expect(this.#h).toBeDefined();
    return gh;
  }
}

describe('ModuleList, ModuleDict', () => {
  it('name children as torch does, in the state dict and in print', () => {
    const model = new TwoHeads(new TorchGenerator(0));
    expect(Object.keys(model.stateDict())).toEqual([
      'trunk.0.weight',
      'trunk.0.bias',
      'heads.a.weight',
      'heads.a.bias',
      'heads.b.weight',
      'heads.b.bias',
    ]);
    expect(String(model.trunk)).toBe(
      'ModuleList(\n  (0): Linear(in_features=3, out_features=3, bias=True)\n  (1): Tanh()\n)',
    );
    expect(String(model.heads)).toBe(
      'ModuleDict(\n  (a): Linear(in_features=3, out_features=2, bias=True)\n  (b): Linear(in_features=3, out_features=2, bias=True)\n)',
    );
    expect(model.trunk.length).toBe(2);
    expect(model.trunk.at(-1)).toBeInstanceOf(Tanh);
    expect([...model.heads.keys()]).toEqual(['a', 'b']);
  });

  it('give a layer wired by hand exact gradients (gradcheck)', () => {
    const rng = new TorchGenerator(1);
    const model = new TwoHeads(rng);
    const result = gradcheck(model, randn([4, 3], { dtype: 'float64', rng }));
    expect(result.ok, JSON.stringify(result.worst)).toBe(true);
    expect(result.checked).toBe(4 * 3 + 3 * 3 + 3 + 2 * (3 * 2 + 2));
  });

  it('refuse to run, a repeated instance, a bad index and an unknown key, with clear errors', () => {
    const list = new ModuleList([new ReLU()]);
    expect(() => list.forward()).toThrow(/container of layers and has no forward/);
    const relu = new ReLU();
    expect(() => new ModuleList([relu, relu])).toThrow(/already in the container/);
    expect(() => list.at(1)).toThrow('ModuleList.at: index 1 is out of range for a list of 1 layer(s)');
    expect(() => new ModuleList([3 as never])).toThrow(ValueError);
    const dict = new ModuleDict({ a: new ReLU() });
    expect(() => dict.get('b')).toThrow(/no layer named 'b'; the keys are a/);
    expect(() => dict.set('a', new ReLU())).toThrow(/already taken/);
    expect(() => dict.set('a.b' as string, new Tanh())).toThrow(/without '\.'/);
    expect(dict.has('a.b')).toBe(false);
    expect(dict.size).toBe(1);
    for (const key of ['get', 'size', 'training', 'constructor']) {
      expect(() => new ModuleDict({ [key]: new ReLU() })).toThrow(`the key '${key}' is a property of ModuleDict itself`);
    }
  });
});

describe('Residual', () => {
  it('is x + block(x) with the gradient of both paths (gradcheck, inside a Sequential)', () => {
    const rng = new TorchGenerator(2);
    const model = new Sequential(
      new Linear(3, 4, f64(rng)),
      new Residual(new Sequential(new Linear(4, 4, f64(rng)), new Tanh())),
    );
    expect(Object.keys(model.stateDict())).toEqual(['0.weight', '0.bias', '1.block.0.weight', '1.block.0.bias']);
    const x = randn([5, 3], { dtype: 'float64', rng });
    const residual = model.layers[1] as Residual;
    const h = (model.layers[0] as Linear).forward(x);
    const expected = add(h, residual.block.forward(h));
    const y = model.forward(x);
    expect(Array.from(y.data)).toEqual(Array.from(expected.data));
    const result = gradcheck(model, x);
    expect(result.ok, JSON.stringify(result.worst)).toBe(true);
    expect(result.checked).toBe(5 * 3 + 4 * 3 + 4 + 4 * 4 + 4);
  });

  it('still fills the block gradients with { inputGrad: false }', () => {
    const rng = new TorchGenerator(3);
    const residual = new Residual(new Linear(2, 2, f64(rng)));
    residual.forward(randn([3, 2], { dtype: 'float64', rng }));
    expect(residual.backward(randn([3, 2], { dtype: 'float64', rng }), { inputGrad: false })).toBeUndefined();
    expect(Array.from((residual.block as Linear).weight.grad.data).some((v) => v !== 0)).toBe(true);
  });

  it('refuses a block that changes the shape', () => {
    const residual = new Residual(new Linear(2, 3));
    expect(() => residual.forward(randn([1, 2]))).toThrow(ShapeError);
    expect(() => residual.forward(randn([1, 2]))).toThrow(
      'Residual(Linear): the block maps an input of shape [1, 2] to [1, 3]; a residual connection needs the same shape',
    );
  });
});
