import { type NDArray, Parameter, ValueError, array, ones, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { Linear, NeuralLayer, Sequential, StateDictError } from '../src/index';

/** A user's layer with a learned scale and two buffers, as a BatchNorm-like layer keeps them. */
class Counter extends NeuralLayer {
  scale = new Parameter(ones([2]));
  readonly total = this.registerBuffer('running_total', zeros([2]));
  readonly steps = this.registerBuffer('num_steps', zeros([], { dtype: 'int32' }));
  readonly scratch = this.registerBuffer('scratch', zeros([3]), { persistent: false });
  forward(input: NDArray): NDArray {
    return input;
  }
  backward(outputGrad: NDArray): NDArray {
    return outputGrad;
  }
}

describe('buffers (register_buffer)', () => {
  it('are in the state dict after the parameters of their layer, before the children, as torch orders them', () => {
    const model = new Sequential(new Linear(2, 2), new Counter());
    expect(Object.keys(model.stateDict())).toEqual(['0.weight', '0.bias', '1.scale', '1.running_total', '1.num_steps']);
    expect(model.namedBuffers().map(([name]) => name)).toEqual(['1.running_total', '1.num_steps', '1.scratch']);
    expect(model.parameters()).toHaveLength(3);
  });

  it('load in place with dtype conversion, including an int64-born int32 counter', () => {
    const model = new Sequential(new Counter());
    const counter = model.layers[0] as Counter;
    const state = model.stateDict();
    state['0.running_total'] = array([1.5, -2], { dtype: 'float64' });
    state['0.num_steps'] = array(7, { dtype: 'int32' });
    model.loadStateDict(state);
    expect(Array.from(counter.total.data)).toEqual([1.5, -2]);
    expect(counter.total.dtype).toBe('float32');
    expect(counter.steps.data[0]).toBe(7);
    expect(counter.steps.dtype).toBe('int32');
  });

  it('are reported missing, unexpected or mis-shaped like parameters', () => {
    const model = new Counter();
    const state = model.stateDict();
    delete state.num_steps;
    state.running_total = zeros([3]);
    let error: unknown;
    try {
      model.loadStateDict(state);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictError);
    expect((error as StateDictError).missingKeys).toEqual(['num_steps']);
    expect((error as StateDictError).mismatches[0]).toContain('size mismatch for running_total');
  });

  it('refuse a duplicate name, a non-array and an unknown option', () => {
    class Twice extends NeuralLayer {
      a = this.registerBuffer('a', zeros([1]));
      b = this.registerBuffer('a', zeros([1]));
      forward(x: NDArray) {
        return x;
      }
      backward(g: NDArray) {
        return g;
      }
    }
    expect(() => new Twice()).toThrow("already has a buffer, parameter or child named 'a'");
    class NotArray extends NeuralLayer {
      a = this.registerBuffer('a', [1] as unknown as NDArray);
      forward(x: NDArray) {
        return x;
      }
      backward(g: NDArray) {
        return g;
      }
    }
    expect(() => new NotArray()).toThrow(ValueError);
    class BadOption extends NeuralLayer {
      a = this.registerBuffer('a', zeros([1]), { persist: false } as never);
      forward(x: NDArray) {
        return x;
      }
      backward(g: NDArray) {
        return g;
      }
    }
    expect(() => new BadOption()).toThrow(/persist/);
    class Clash extends NeuralLayer {
      running = this.registerBuffer('w', zeros([1]));
      constructor() {
        super();
        this.registerParameter('w', new Parameter(zeros([1])));
      }
      forward(x: NDArray) {
        return x;
      }
      backward(g: NDArray) {
        return g;
      }
    }
    expect(() => new Clash()).toThrow("'w' is already a buffer of this layer");
  });
});
