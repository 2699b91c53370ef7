import { DTypeError, type NDArray, Parameter, TorchGenerator, ValueError, array, mul, randn, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { type Differentiable, Linear, type NeuralLayer, Tanh, gradcheck } from '../src/index';

/** A Linear whose weight gradient is off by a factor: gradcheck must catch it. */
class WrongWeightGrad extends Linear {
  override backward(outputGrad: NDArray): NDArray {
    const before = this.weight.grad.clone();
    const dx = super.backward(outputGrad);
    for (let i = 0; i < this.weight.grad.size; i++) {
      this.weight.grad.data[i] = before.data[i] + 1.01 * (this.weight.grad.data[i] - before.data[i]);
    }
    return dx;
  }
}

describe('gradcheck', () => {
  it('passes a correct layer and reports what it compared', () => {
    const rng = new TorchGenerator(0);
    const result = gradcheck(new Linear(3, 2, { dtype: 'float64', rng }), randn([4, 3], { dtype: 'float64', rng }));
    expect(result.ok).toBe(true);
    expect(result.checked).toBe(12 + 6 + 2);
    expect(result.maxRelError).toBeLessThan(1e-8);
    expect(result.worst).not.toBeNull();
  });

  it('catches a wrong parameter gradient and says where', () => {
    const rng = new TorchGenerator(1);
    const result = gradcheck(new WrongWeightGrad(3, 2, { dtype: 'float64', rng }), randn([4, 3], { dtype: 'float64', rng }));
    expect(result.ok).toBe(false);
    expect(result.worst!.what).toBe('weight');
    expect(result.worst!.index).toHaveLength(2);
    expect(result.maxRelError).toBeGreaterThan(1e-4);
  });

  it('catches a wrong input gradient', () => {
    const wrong: Differentiable = {
      forward: (x) => mul(x, x),
      backward: (g) => g, // should be 2·x·g
    };
    const result = gradcheck(wrong, array([1, 2, 3], { dtype: 'float64' }));
    expect(result.ok).toBe(false);
    expect(result.worst).toEqual({ what: 'input', index: [2], analytic: expect.any(Number), numeric: expect.any(Number) });
    // numeric = 2·x·R and analytic = R at the worst entry, x = 3.
    expect(result.worst!.numeric / result.worst!.analytic).toBeCloseTo(6, 6);
  });

  it('checks a plain object with parameters(), naming them by Parameter.name', () => {
    const scale = new Parameter(array([1.5], { dtype: 'float64' }), 'scale');
    let input: NDArray | undefined;
    const layer: Differentiable = {
      forward: (x) => {
        input = x;
        return mul(x, scale.value);
      },
      backward: (g) => {
        let s = 0;
        for (let i = 0; i < g.size; i++) s += g.data[i] * input!.data[i];
        scale.grad.data[0] += s;
        return mul(g, scale.value);
      },
      parameters: () => [scale],
    };
    const result = gradcheck(layer, randn([5], { dtype: 'float64', rng: new TorchGenerator(2) }));
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.checked).toBe(6);
  });

  it('leaves the layer as it was: values, gradients and the forward cache', () => {
    const rng = new TorchGenerator(3);
    const layer = new Linear(3, 2, { dtype: 'float64', rng });
    const x = randn([4, 3], { dtype: 'float64', rng });
    const g = randn([4, 2], { dtype: 'float64', rng });
    layer.forward(x);
    layer.backward(g);
    const weight = Array.from(layer.weight.value.data);
    const grad = Array.from(layer.weight.grad.data);
    const xCopy = Array.from(x.data);
    gradcheck(layer, x);
    expect(Array.from(layer.weight.value.data)).toEqual(weight);
    expect(Array.from(layer.weight.grad.data)).toEqual(grad);
    expect(Array.from(x.data)).toEqual(xCopy);
    layer.zeroGrad();
    layer.backward(g);
    expect(layer.weight.grad.shape).toEqual([2, 3]);
  });

  it('reports a NaN gradient as not ok', () => {
    const nan: Differentiable = { forward: (x) => x, backward: (g) => mul(g, Number.NaN) };
    const result = gradcheck(nan, array([1, 2], { dtype: 'float64' }));
    expect(result.ok).toBe(false);
    expect(result.maxRelError).toBeNaN();
  });

  it('requires float64 and valid options', () => {
    expect(() => gradcheck(new Tanh(), zeros([2]))).toThrow(DTypeError);
    expect(() => gradcheck(new Tanh(), zeros([2]))).toThrow(
      "gradcheck: input has dtype float32; finite differences need float64 (convert with .astype('float64'))",
    );
    expect(() => gradcheck(new Linear(2, 2), zeros([1, 2], { dtype: 'float64' }))).toThrow(
      "gradcheck: parameter 'weight' has dtype float32; finite differences need float64 (create the layer with { dtype: 'float64' })",
    );
    expect(() => gradcheck(new Tanh(), zeros([2], { dtype: 'float64' }), { epsilon: 1e-3 } as object)).toThrow(
      "gradcheck: unknown option 'epsilon'; expected one of 'eps', 'tolerance', 'rng'",
    );
    expect(() => gradcheck(new Tanh(), zeros([2], { dtype: 'float64' }), { eps: 0 })).toThrow(/eps must be > 0, got 0/);
    expect(() => gradcheck({} as NeuralLayer, zeros([2], { dtype: 'float64' }))).toThrow(ValueError);
  });
});
