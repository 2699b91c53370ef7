import { type NDArray, TorchGenerator, ValueError, add, array, matmul, mean, mul, randn, square, sub, transpose, zeros } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { DivergedError, type LossFunction, type StepOptimizer, type TrainableModel, trainStep } from '../src/index';

/** y = x·W, written out: what a NeuralLayer does, without this package depending on @backprop/layers. */
class TinyLinear implements TrainableModel {
  weight: NDArray;
  grad: NDArray;
  backwardCalls: ({ inputGrad?: boolean } | undefined)[] = [];
  private input: NDArray | undefined;
  constructor(rng: TorchGenerator) {
    this.weight = randn([3, 1], { rng });
    this.grad = zeros([3, 1]);
  }
  forward(x: NDArray): NDArray {
    this.input = x;
    return matmul(x, this.weight);
  }
  backward(outputGrad: NDArray, options?: { inputGrad?: boolean }): NDArray | undefined {
    this.backwardCalls.push(options);
    this.grad = add(this.grad, matmul(transpose(this.input!), outputGrad));
    return options?.inputGrad === false ? undefined : matmul(outputGrad, transpose(this.weight));
  }
}

/** Mean squared error: forward returns a number, backward dLoss/dPrediction. */
class Mse implements LossFunction<NDArray> {
  private diff: NDArray | undefined;
  forward(prediction: NDArray, target: NDArray): number {
    this.diff = sub(prediction, target);
    return mean(square(this.diff)).item();
  }
  backward(): NDArray {
    return mul(this.diff!, 2 / this.diff!.size);
  }
}

/** Plain SGD over the one weight, refusing a non-finite gradient with a ValueError as @backprop/optimizers does. */
class Sgd implements StepOptimizer {
  steps = 0;
  constructor(
    private readonly model: TinyLinear,
    readonly lr: number,
  ) {}
  step(): void {
    this.steps++;
    if (!this.model.grad.data.every(Number.isFinite)) throw new ValueError(`Sgd.step: step ${this.steps}: the grad holds NaN`);
    this.model.weight = sub(this.model.weight, mul(this.model.grad, this.lr));
  }
  zeroGrad(): void {
    this.model.grad = zeros([3, 1]);
  }
}

function problem(seed = 0) {
  const rng = new TorchGenerator(seed);
  const x = randn([16, 3], { rng });
  const y = matmul(x, array([[1], [-2], [0.5]]));
  const model = new TinyLinear(rng);
  return { x, y, model, lossFn: new Mse(), optimizer: new Sgd(model, 0.1) };
}

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected it to throw');
}

describe('trainStep', () => {
  it('runs forward → loss → backward(grad, { inputGrad: false }) → step → zeroGrad, and the loss falls', () => {
    const { x, y, model, lossFn, optimizer } = problem();
    const losses: number[] = [];
    for (let step = 1; step <= 30; step++) {
      const { loss, output } = trainStep(model, lossFn, optimizer, x, y, { epoch: 1, step });
      expect(output.shape).toEqual([16, 1]);
      losses.push(loss);
    }
    expect(losses.at(-1)!).toBeLessThan(losses[0] / 100);
    expect(model.backwardCalls).toHaveLength(30);
    expect(model.backwardCalls.every((options) => options?.inputGrad === false)).toBe(true);
    expect(optimizer.steps).toBe(30);
    expect(Array.from(model.grad.data)).toEqual([0, 0, 0]); // zeroGrad ran last
  });

  it('works the same with a model whose backward takes the gradient alone (computing the input gradient it is not asked for)', () => {
    const a = problem(1);
    const b = problem(1);
    const oneArgument = {
      forward: (x: NDArray) => b.model.forward(x),
      backward: (g: NDArray) => b.model.backward(g),
    };
    for (let step = 1; step <= 5; step++) {
      const one = trainStep(a.model, a.lossFn, a.optimizer, a.x, a.y, { epoch: 1, step });
      const two = trainStep(oneArgument, b.lossFn, b.optimizer, b.x, b.y, { epoch: 1, step });
      expect(two.loss).toBe(one.loss);
    }
    expect(Array.from(b.model.weight.data)).toEqual(Array.from(a.model.weight.data));
  });

  it('stops with a DivergedError naming the epoch and step when the output is not finite', () => {
    const { x, y, lossFn, optimizer } = problem();
    const model = { forward: (input: NDArray) => mul(input, Number.POSITIVE_INFINITY), backward: () => undefined };
    const error = caught(() => trainStep(model, lossFn, optimizer, x, y, { epoch: 3, step: 7, lrName: '--lr' }));
    expect(error).toBeInstanceOf(DivergedError);
    expect(error.message).toMatch(
      /^training diverged at epoch 3, step 7: the model's output is (-?Infinity|NaN) at index 0 of the batch \(learning rate 0\.1\); try a smaller --lr$/,
    );
    expect((error as DivergedError).epoch).toBe(3);
    expect((error as DivergedError).step).toBe(7);
    expect(error.name).toBe('DivergedError');
  });

  it('stops when the loss is not finite, before any backward', () => {
    const { x, y, model, optimizer } = problem();
    const lossFn = { forward: () => Number.NaN, backward: () => zeros([16, 1]) };
    const error = caught(() => trainStep(model, lossFn, optimizer, x, y, { epoch: 1, step: 2 }));
    expect(error.message).toBe('training diverged at epoch 1, step 2: the loss is NaN; try a smaller learning rate');
    expect(model.backwardCalls).toHaveLength(0);
  });

  it("refuses a loss with reduction 'none' (it returns every term, not one number), before any backward", () => {
    const { x, y, model, optimizer } = problem();
    const lossFn = { forward: () => zeros([16, 1]), backward: () => zeros([16, 1]) } as unknown as LossFunction<NDArray>;
    expect(() => trainStep(model, lossFn, optimizer, x, y, { epoch: 1, step: 2 })).toThrow(
      /the loss returned .* expected one number; a loss with reduction 'none' returns every term: use 'mean' or 'sum' here/,
    );
    expect(model.backwardCalls).toHaveLength(0);
  });

  it("turns the optimizer's refusal of a non-finite gradient into a DivergedError with its message; other errors pass through", () => {
    const { x, y, model, optimizer } = problem();
    const poisoned = { forward: (p: NDArray, t: NDArray) => new Mse().forward(p, t), backward: () => mul(zeros([16, 1]), Number.NaN) };
    const error = caught(() => trainStep(model, poisoned, optimizer, x, y, { epoch: 2, step: 1 }));
    expect(error).toBeInstanceOf(DivergedError);
    expect(error.message).toBe('training diverged at epoch 2, step 1: Sgd.step: step 1: the grad holds NaN');
    const broken = {
      step: () => {
        throw new TypeError('out of memory');
      },
      zeroGrad: () => {},
      lr: 1,
    };
    const other = caught(() => trainStep(model, new Mse(), broken, x, y, { epoch: 1, step: 1 }));
    expect(other).toBeInstanceOf(TypeError);
    expect(other.message).toBe('out of memory');
  });

  it('rejects what is not a model, a loss, an optimizer or a position', () => {
    const { x, y, model, lossFn, optimizer } = problem();
    const at = { epoch: 1, step: 1 };
    expect(() => trainStep({ forward: model.forward } as never, lossFn, optimizer, x, y, at)).toThrow(
      /^trainStep: model must have forward\(\) and backward\(\), got an object with keys \["forward"\]$/,
    );
    expect(() => trainStep(model, null as never, optimizer, x, y, at)).toThrow('trainStep: lossFn must have forward() and backward(), got null');
    expect(() => trainStep(model, lossFn, {} as never, x, y, at)).toThrow('trainStep: optimizer must have step() and zeroGrad(), got an object with keys []');
    expect(() => trainStep(model, lossFn, optimizer, [[1, 2, 3]] as never, y, at)).toThrow('trainStep: x must be an NDArray (a batch of inputs), got an array of length 1');
    expect(() => trainStep(model, lossFn, optimizer, x, y, { epoch: 1, step: 0 })).toThrow('trainStep: step must be >= 1, got 0');
    expect(() => trainStep(model, lossFn, optimizer, x, y, { epoch: Number.NaN, step: 1 })).toThrow('trainStep: epoch must be a finite number, got NaN');
    expect(() => trainStep(model, lossFn, optimizer, x, y, { epoch: 1, step: 1, batch: 3 } as never)).toThrow(
      "trainStep: unknown option 'batch'; expected one of 'epoch', 'step', 'lrName'",
    );
    expect(() => trainStep(model, lossFn, optimizer, x, y, { epoch: 1, step: 1, lrName: 5 } as never)).toThrow('trainStep: lrName must be a string, got 5');
    expect(() => trainStep(model, lossFn, optimizer, x, y, undefined as never)).toThrow('trainStep: position must be { epoch, step }, got undefined');
  });
});
