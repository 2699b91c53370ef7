import { type DType, type NDArray, TorchGenerator, randn } from '@backprop/ndarray';
import { afterEach, describe, expect, it } from 'vitest';
import { reusedStoresAllocated, resultStaysInside } from '../src/buffers';
import {
  AvgPool2d,
  Conv2d,
  Dense,
  Dropout,
  Flatten,
  Identity,
  LeakyReLU,
  Linear,
  MaxPool2d,
  type NeuralLayer,
  ReLU,
  Sequential,
  Sigmoid,
  Tanh,
} from '../src/index';

// Inside a Sequential, the arrays passed between layers are reused from step
// to step (src/buffers.ts). These tests check that this changes no result by a
// single bit, never overwrites an array a caller was given, and leaves the
// steady state allocating nothing inside the model.

/** The MNIST MLP of apps/mnist and apps/bench. */
function mlp(dtype: DType, seed: number): Sequential {
  const rng = new TorchGenerator(seed);
  return new Sequential(new Linear(784, 128, { dtype, rng }), new ReLU(), new Linear(128, 10, { dtype, rng }));
}

/**
 * A small CNN with every layer kind: Conv2d with and without bias, pooling,
 * Dropout, Flatten, the activations, Dense, and nested Sequentials, one in the
 * middle and one last that ends in a pass-through (Identity).
 */
function cnn(dtype: DType, seed: number): Sequential {
  const rng = new TorchGenerator(seed);
  return new Sequential(
    new Conv2d(1, 4, 3, { padding: 1, dtype, rng }),
    new LeakyReLU(0.1),
    new MaxPool2d(2),
    new Sequential(new Conv2d(4, 6, 3, { padding: 1, bias: false, dtype, rng }), new Tanh(), new AvgPool2d(2)),
    new Dropout(0.3, { rng: new TorchGenerator(seed + 1) }),
    new Flatten(),
    new Linear(54, 16, { dtype, rng }),
    new Sigmoid(),
    new Dense(16, 12, { activation: 'tanh', dtype, rng }),
    new Sequential(new Linear(12, 5, { dtype, rng }), new Identity()),
  );
}

/** Starts with a pass-through, so the input gradient it returns is a view of the next layer's; one Dense has no bias. */
function passThroughFirst(dtype: DType, seed: number): Sequential {
  const rng = new TorchGenerator(seed);
  return new Sequential(
    new Flatten(),
    new Dense(144, 20, { activation: 'relu', dtype, rng }),
    new Dense(20, 7, { activation: 'sigmoid', bias: false, dtype, rng }),
    new Flatten(),
  );
}

/** The layers a Sequential runs, nested ones expanded, in order. */
function leaves(layer: NeuralLayer): NeuralLayer[] {
  return layer instanceof Sequential ? layer.layers.flatMap(leaves) : [layer];
}

/** The same layers run one by one by hand: each call is a direct call, so nothing is reused. */
function byHand(model: Sequential) {
  const layers = leaves(model);
  return {
    forward(x: NDArray): NDArray {
      for (const layer of layers) x = layer.forward(x);
      return x;
    },
    backward(g: NDArray): NDArray {
      for (let i = layers.length - 1; i >= 0; i--) g = layers[i].backward(g);
      return g;
    },
    backwardParameters(g: NDArray): void {
      for (let i = layers.length - 1; i >= 1; i--) g = layers[i].backward(g);
      layers[0].backwardParameters(g);
    },
  };
}

/** Bit-for-bit equality: dtype, shape and every byte (so −0 ≠ 0 and NaN payloads count). */
function expectBitEqual(actual: NDArray, expected: NDArray, what: string): void {
  expect(actual.dtype, what).toBe(expected.dtype);
  expect(actual.shape, what).toEqual(expected.shape);
  const a = new Uint8Array(actual.data.buffer, actual.data.byteOffset, actual.data.byteLength);
  const b = new Uint8Array(expected.data.buffer, expected.data.byteOffset, expected.data.byteLength);
  const first = a.findIndex((byte, i) => byte !== b[i]);
  expect(first, `${what}: first differing byte`).toBe(-1);
}

/** SGD without momentum, in place, then zero grads: what a step does to the parameters. */
function sgdStep(model: NeuralLayer, lr: number): void {
  for (const p of model.parameters()) {
    const v = p.value.data;
    const g = p.grad.data;
    for (let i = 0; i < v.length; i++) v[i] -= lr * g[i];
  }
  model.zeroGrad();
}

type Builder = (dtype: DType, seed: number) => Sequential;
const MODELS: [string, Builder, (batch: number) => number[]][] = [
  ['MLP 784-128-10', mlp, (b) => [b, 784]],
  ['CNN', cnn, (b) => [b, 1, 12, 12]],
  ['Sequential(Flatten, Dense, Dense, Flatten)', passThroughFirst, (b) => [b, 1, 12, 12]],
];

afterEach(() => {
  // Every test must leave the flag as it found it.
  expect(resultStaysInside()).toBe(false);
});

describe('reuse inside Sequential', () => {
  for (const [name, build, inputShape] of MODELS) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${name} (${dtype}) trains bit for bit as its layers run one by one by hand, over batches 64, 64, 7, 64`, () => {
        const model = build(dtype, 3);
        const reference = build(dtype, 3);
        const hand = byHand(reference);
        const data = new TorchGenerator(11);
        const returned: { array: NDArray; copy: NDArray; what: string }[] = [];
        const batches = [64, 64, 7, 64, 64];
        batches.forEach((batch, step) => {
          const x = randn(inputShape(batch), { dtype, rng: data });
          const out = model.forward(x);
          const expectedOut = hand.forward(x);
          expectBitEqual(out, expectedOut, `step ${step} output`);
          returned.push({ array: out, copy: out.clone(), what: `step ${step} output` });
          const g = randn(out.shape, { dtype, rng: data });
          // Odd steps use backwardParameters, as a training loop does; even ones backward.
          if (step % 2 === 1) {
            model.backwardParameters(g);
            hand.backwardParameters(g.clone());
          } else {
            const dx = model.backward(g);
            const expectedDx = hand.backward(g.clone());
            expectBitEqual(dx, expectedDx, `step ${step} input gradient`);
            expect(dx.data.buffer, 'a returned gradient is not the input array').not.toBe(x.data.buffer);
            returned.push({ array: dx, copy: dx.clone(), what: `step ${step} input gradient` });
          }
          const params = model.namedParameters();
          const expectedParams = reference.namedParameters();
          expect(params.map(([n]) => n)).toEqual(expectedParams.map(([n]) => n));
          for (const [i, [n, p]] of params.entries()) expectBitEqual(p.grad, expectedParams[i][1].grad, `step ${step} ${n}.grad`);
          sgdStep(model, 0.05);
          sgdStep(reference, 0.05);
          for (const [i, [n, p]] of params.entries()) expectBitEqual(p.value, expectedParams[i][1].value, `step ${step} ${n}`);
        });
        // Nothing a caller was given was overwritten by a later step, and no two share memory.
        for (const { array, copy, what } of returned) expectBitEqual(array, copy, `${what}, after every step`);
        const stores = new Set(returned.map(({ array }) => array.data.buffer));
        expect(stores.size).toBe(returned.length);
      });
    }
  }

  it('gives the same results in eval mode (Dropout passes its input through)', () => {
    const model = cnn('float32', 5).eval();
    const reference = cnn('float32', 5).eval();
    const hand = byHand(reference);
    const data = new TorchGenerator(2);
    for (const batch of [8, 3, 8]) {
      const x = randn([batch, 1, 12, 12], { rng: data });
      expectBitEqual(model.forward(x), hand.forward(x), `batch ${batch} output`);
      const g = randn([batch, 5], { rng: data });
      expectBitEqual(model.backward(g), hand.backward(g), `batch ${batch} input gradient`);
    }
  });
});

describe('arrays handed to a caller are never overwritten', () => {
  it('forward and backward return a new array on every call', () => {
    const model = cnn('float64', 1);
    const data = new TorchGenerator(4);
    const x1 = randn([4, 1, 12, 12], { dtype: 'float64', rng: data });
    const x2 = randn([4, 1, 12, 12], { dtype: 'float64', rng: data });
    const y1 = model.forward(x1);
    const copy1 = y1.clone();
    const dx1 = model.backward(randn([4, 5], { dtype: 'float64', rng: data }));
    const dxCopy1 = dx1.clone();
    const y2 = model.forward(x2);
    const dx2 = model.backward(randn([4, 5], { dtype: 'float64', rng: data }));
    expect(y2.data.buffer).not.toBe(y1.data.buffer);
    expect(dx2.data.buffer).not.toBe(dx1.data.buffer);
    expectBitEqual(y1, copy1, 'first output');
    expectBitEqual(dx1, dxCopy1, 'first input gradient');
  });

  it('a direct call to a layer that sits in a Sequential returns a new array every time', () => {
    const model = cnn('float32', 2);
    const all = leaves(model);
    const data = new TorchGenerator(6);
    const x = randn([2, 1, 12, 12], { rng: data });
    model.forward(x);
    model.backward(randn([2, 5], { rng: data }));
    // Feed each layer the input it saw inside the model, twice, directly.
    let input = x;
    for (const layer of all) {
      const a = layer.forward(input);
      const aCopy = a.clone();
      const ga = layer.backward(randn(a.shape, { rng: data }));
      const gaCopy = ga.clone();
      const b = layer.forward(input);
      const gb = layer.backward(randn(b.shape, { rng: data }));
      model.forward(x); // the Sequential reuses its buffers in between
      model.backward(randn([2, 5], { rng: data }));
      const passThrough = layer instanceof Identity || layer instanceof Flatten;
      if (!passThrough) {
        expect(b.data.buffer, `${layer} forward`).not.toBe(a.data.buffer);
        expect(gb.data.buffer, `${layer} backward`).not.toBe(ga.data.buffer);
      }
      expectBitEqual(a, aCopy, `${layer} first output`);
      expectBitEqual(ga, gaCopy, `${layer} first input gradient`);
      input = a;
    }
  });

  it('a nested Sequential reuses its last output only when its container hands it on', () => {
    const data = new TorchGenerator(8);
    const x = randn([16, 784], { rng: data });
    // Inner last in the outer: its result is the outer's result, so it must be new every time.
    const rng = new TorchGenerator(1);
    const innerLast = new Sequential(new Linear(784, 32, { rng }), new ReLU());
    const outer = new Sequential(new Identity(), innerLast);
    const y1 = outer.forward(x);
    const copy = y1.clone();
    const y2 = outer.forward(x);
    expect(y2.data.buffer).not.toBe(y1.data.buffer);
    expectBitEqual(y1, copy, 'first output of Sequential(Identity, Sequential(Linear, ReLU))');
    // Used on its own, the same inner Sequential returns new arrays too.
    const z1 = innerLast.forward(x);
    const z2 = innerLast.forward(x);
    expect(z2.data.buffer).not.toBe(z1.data.buffer);
    expectBitEqual(z1, copy, 'inner Sequential called directly');

    // Inner first: its ReLU output feeds the outer's Linear, so it is reused.
    const inner = new Sequential(new Linear(784, 32, { rng }), new ReLU());
    const model = new Sequential(inner, new Linear(32, 10, { rng }));
    model.forward(x);
    const counts = countTypedArrays(() => model.forward(x));
    expect(counts.owning, 'only the output is new').toBe(1);
  });

  it('a layer error inside a Sequential leaves later direct calls unaffected', () => {
    const relu = new ReLU();
    // The third layer throws while the flag is set for it (its output would feed the fourth).
    const model = new Sequential(new Linear(4, 3), relu, new Linear(5, 2), new Tanh());
    const x = randn([2, 4]);
    expect(() => model.forward(x)).toThrow(/Linear\(5, 2\)/);
    expect(resultStaysInside()).toBe(false);
    const a = relu.forward(x);
    const b = relu.forward(x);
    expect(b.data.buffer).not.toBe(a.data.buffer);
    expect(() => model.backward(randn([3, 3]))).toThrow();
    expect(resultStaysInside()).toBe(false);
  });
});

describe('reuse is off where a layer may keep what it is given', () => {
  class Recorder extends Identity {
    readonly seen: NDArray[] = [];
    override forward(input: NDArray): NDArray {
      this.seen.push(input);
      return super.forward(input);
    }
  }

  it("a user's subclass in the model sees new arrays every step", () => {
    const recorder = new Recorder();
    const rng = new TorchGenerator(0);
    const model = new Sequential(new Linear(6, 4, { rng }), new Tanh(), recorder, new Linear(4, 2, { rng }));
    const data = new TorchGenerator(1);
    const copies: NDArray[] = [];
    for (let step = 0; step < 3; step++) {
      model.forward(randn([3, 6], { rng: data }));
      copies.push(recorder.seen[step].clone());
    }
    for (const [step, input] of recorder.seen.entries()) expectBitEqual(input, copies[step], `input recorded at step ${step}`);
  });

  it('a layer whose forward was replaced on the instance (a hook) sees new arrays every step', () => {
    const rng = new TorchGenerator(0);
    const tanh = new Tanh();
    const model = new Sequential(new Linear(6, 4, { rng }), tanh, new Linear(4, 2, { rng }));
    const seen: NDArray[] = [];
    const forward = tanh.forward;
    tanh.forward = (x: NDArray) => {
      const y = forward.call(tanh, x);
      seen.push(y);
      return y;
    };
    const data = new TorchGenerator(1);
    const copies: NDArray[] = [];
    for (let step = 0; step < 3; step++) {
      model.forward(randn([3, 6], { rng: data }));
      copies.push(seen[step].clone());
    }
    for (const [step, y] of seen.entries()) expectBitEqual(y, copies[step], `output recorded at step ${step}`);
  });
});

/**
 * Counts the typed arrays created while `run` runs, by standing in for the
 * global Float32Array and Float64Array constructors and for their prototypes'
 * `constructor` (which `slice`, `map` and `subarray` create through):
 * `owning` ones get new memory (a length or a copy), `views` wrap an existing
 * ArrayBuffer.
 */
function countTypedArrays(run: () => void): { owning: number; owningBytes: number; views: number } {
  const counts = { owning: 0, owningBytes: 0, views: 0 };
  const originals = { Float32Array, Float64Array };
  const wrap = <T extends typeof Float32Array | typeof Float64Array>(ctor: T): T =>
    new Proxy(ctor, {
      construct(target, args) {
        const array = Reflect.construct(target, args) as Float32Array | Float64Array;
        if (args[0] instanceof ArrayBuffer || args[0] instanceof SharedArrayBuffer) counts.views++;
        else {
          counts.owning++;
          counts.owningBytes += array.byteLength;
        }
        return array;
      },
    });
  const f32 = wrap(originals.Float32Array);
  const f64 = wrap(originals.Float64Array);
  globalThis.Float32Array = f32;
  globalThis.Float64Array = f64;
  originals.Float32Array.prototype.constructor = f32;
  originals.Float64Array.prototype.constructor = f64;
  try {
    run();
  } finally {
    globalThis.Float32Array = originals.Float32Array;
    globalThis.Float64Array = originals.Float64Array;
    originals.Float32Array.prototype.constructor = originals.Float32Array;
    originals.Float64Array.prototype.constructor = originals.Float64Array;
  }
  return counts;
}

describe('the steady state allocates nothing inside the model', () => {
  it('the MLP reuses exactly its four inner arrays: two activations, two input gradients', () => {
    const model = mlp('float32', 1);
    const x = randn([64, 784]);
    const g = randn([64, 10]);
    const before = reusedStoresAllocated();
    model.forward(x);
    // Linear(784, 128) output, ReLU output; the logits are new for the caller.
    expect(reusedStoresAllocated() - before).toBe(2);
    model.backwardParameters(g);
    // Linear(128, 10) and ReLU input gradients; Linear(784, 128) computes none.
    expect(reusedStoresAllocated() - before).toBe(4);
    model.forward(x);
    model.backward(g);
    // backward returns Linear(784, 128)'s input gradient to the caller: new, not reused.
    expect(reusedStoresAllocated() - before).toBe(4);
  });

  it('the counter sees typed arrays that layers allocate (a direct call allocates its output)', () => {
    const relu = new ReLU();
    const x = randn([4, 4]);
    expect(countTypedArrays(() => relu.forward(x)).owning).toBe(1);
  });

  it("backwardParameters lets a first layer without parameters reuse the gradient it drops", () => {
    const model = new Sequential(new Tanh(), new Linear(8, 3));
    const x = randn([5, 8]);
    const g = randn([5, 3]);
    model.forward(x);
    model.backwardParameters(g);
    const counts = countTypedArrays(() => {
      model.forward(x);
      model.backwardParameters(g);
    });
    expect(counts.owning, 'only the output is new').toBe(1);
  });

  for (const [name, build, inputShape] of MODELS) {
    it(`${name}: after warm-up a training step allocates only the output it returns`, () => {
      const model = build('float32', 7);
      const data = new TorchGenerator(3);
      const x = randn(inputShape(64), { rng: data });
      const small = randn(inputShape(7), { rng: data });
      const out = model.forward(x);
      // Made before counting: in a real loop the loss allocates this gradient.
      const g = randn(out.shape, { rng: data });
      const gSmall = randn(model.forward(small).shape, { rng: data });
      const step = (input: NDArray, grad: NDArray) => {
        model.forward(input);
        model.backwardParameters(grad);
        sgdStep(model, 0.01);
      };
      // Warm-up: one step at each batch size, so every buffer has reached its size.
      step(x, g);
      step(small, gSmall);
      step(x, g);
      const stores = reusedStoresAllocated();
      const steps = 5;
      const counts = countTypedArrays(() => {
        for (let i = 0; i < steps; i++) step(x, g);
      });
      expect(counts.owning, 'one new array per step: the output').toBe(steps);
      expect(counts.owningBytes).toBe(steps * out.data.byteLength);
      expect(reusedStoresAllocated(), 'no buffer grew').toBe(stores);
      // A smaller batch in between reuses the same buffers (views of them) too.
      step(small, gSmall);
      step(x, g);
      expect(reusedStoresAllocated()).toBe(stores);
      // With backward instead, the returned input gradient is new as well (after
      // one warm-up call: the first Conv2d's column-gradient scratch is made then).
      model.forward(x);
      model.backward(g);
      const withBackward = countTypedArrays(() => {
        for (let i = 0; i < steps; i++) {
          model.forward(x);
          model.backward(g);
        }
      });
      expect(withBackward.owning).toBe(2 * steps);
      expect(withBackward.owningBytes).toBe(steps * (out.data.byteLength + x.data.byteLength));
    });
  }
});
