import { type NDArray, Parameter, TorchGenerator, add, mul, ones, randn, sum } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { Linear, NeuralLayer, ReLU, Sequential, gradcheck } from '../src/index';

/** y = x·scale + shift, with both parameters only assigned to properties (no registerParameter). */
class Affine extends NeuralLayer {
  scale = new Parameter(randn([3], { dtype: 'float64', rng: new TorchGenerator(1) }));
  shift = new Parameter(randn([3], { dtype: 'float64', rng: new TorchGenerator(2) }));
  #input?: NDArray;
  forward(input: NDArray): NDArray {
    this.#input = input;
    return add(mul(input, this.scale.value), this.shift.value);
  }
  backward(outputGrad: NDArray): NDArray {
    add(this.scale.grad, sum(mul(outputGrad, this.#input!), 0), this.scale.grad);
    add(this.shift.grad, sum(outputGrad, 0), this.shift.grad);
    return mul(outputGrad, this.scale.value);
  }
}

describe('parameters and children found without ceremony', () => {
  it('a Parameter assigned to a property is a parameter, named by the property', () => {
    const layer = new Affine();
    expect(layer.namedParameters().map(([name]) => name)).toEqual(['scale', 'shift']);
    expect(Object.keys(layer.stateDict())).toEqual(['scale', 'shift']);
    layer.scale.grad.fill(5);
    layer.zeroGrad();
    expect(Array.from(layer.scale.grad.data)).toEqual([0, 0, 0]);
  });

  it('gradcheck sees a parameter that was only assigned, so a forgotten gradient fails it', () => {
    class ForgetsShift extends Affine {
      override backward(outputGrad: NDArray): NDArray {
        add(this.scale.grad, sum(mul(outputGrad, this.input()), 0), this.scale.grad);
        return mul(outputGrad, this.scale.value); // shift's gradient is never added
      }
      private input(): NDArray {
        return this.lastInput!;
      }
      lastInput?: NDArray;
      override forward(input: NDArray): NDArray {
        this.lastInput = input;
        return super.forward(input);
      }
    }
    const x = randn([4, 3], { dtype: 'float64', rng: new TorchGenerator(3) });
    expect(gradcheck(new Affine(), x).ok).toBe(true);
    const broken = gradcheck(new ForgetsShift(), x);
    expect(broken.ok).toBe(false);
    expect(broken.worst?.what).toBe('shift');
  });

  it('layers assigned to properties are children, in assignment order; arrays of them are named as a ModuleList', () => {
    class Block extends NeuralLayer {
      fc = new Linear(4, 4, { rng: new TorchGenerator(0) });
      act = new ReLU();
      heads = [new Linear(4, 2, { rng: new TorchGenerator(1) }), new Linear(4, 1, { rng: new TorchGenerator(2) })];
      gain = new Parameter(ones([1]));
      forward(input: NDArray): NDArray {
        return this.act.forward(this.fc.forward(input));
      }
      backward(outputGrad: NDArray): NDArray {
        return this.fc.backward(this.act.backward(outputGrad));
      }
    }
    const block = new Block();
    expect(block.namedChildren().map(([name]) => name)).toEqual(['fc', 'act', 'heads.0', 'heads.1']);
    // torch's order: own parameters first, then each child's.
    expect(Object.keys(block.stateDict())).toEqual(['gain', 'fc.weight', 'fc.bias', 'heads.0.weight', 'heads.0.bias', 'heads.1.weight', 'heads.1.bias']);
    const model = new Sequential(block, new Linear(4, 2));
    expect(model.namedParameters().map(([name]) => name)).toEqual([
      '0.gain',
      '0.fc.weight',
      '0.fc.bias',
      '0.heads.0.weight',
      '0.heads.0.bias',
      '0.heads.1.weight',
      '0.heads.1.bias',
      '1.weight',
      '1.bias',
    ]);
    expect(model.parameters()[1].name).toBe('0.fc.weight');
    model.eval();
    expect(block.fc.training).toBe(false);
    expect((model as unknown as Record<number, NeuralLayer>)[0]).toBe(block); // model[0], as torch's indexing
  });

  it('a parameter shared by two properties is listed once by parameters() and under both names by stateDict()', () => {
    class Tied extends NeuralLayer {
      encoder = new Linear(3, 3, { bias: false });
      decoderWeight = this.encoder.weight;
      forward(input: NDArray): NDArray {
        return input;
      }
      backward(outputGrad: NDArray): NDArray {
        return outputGrad;
      }
    }
    const tied = new Tied();
    expect(tied.parameters()).toHaveLength(1);
    expect(Object.keys(tied.stateDict())).toEqual(['decoderWeight', 'encoder.weight']);
  });

  it('a child that points back up the tree is refused with a clear error', () => {
    class Loop extends NeuralLayer {
      self?: NeuralLayer;
      forward(input: NDArray): NDArray {
        return input;
      }
      backward(outputGrad: NDArray): NDArray {
        return outputGrad;
      }
    }
    const loop = new Loop();
    loop.self = new Sequential(loop);
    expect(() => loop.parameters()).toThrow(/contains itself/);
  });
});
