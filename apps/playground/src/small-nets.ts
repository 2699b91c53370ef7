/**
 * The two small networks the page draws and steps by hand: the 2-2-2-1 tanh
 * network of seed notebook 002 (and apps/seeds' n002.ts), and a 2-8-1
 * network learning XOR. Each step is the PyTorch loop written out (forward,
 * loss, backward, optimizer step), with the gradients kept so the drawing
 * can show what moved each weight.
 */
import { Linear, type NeuralLayer, Sequential, Sigmoid, Tanh } from '@backprop/layers';
import { BCELoss, type Loss, MSELoss } from '@backprop/losses';
import { type NDArray, TorchGenerator, array, randn } from '@backprop/ndarray';
import { SGD } from '@backprop/optimizers';

/** The function a neuron applies after its weighted sum, as the notebook's figures draw it. */
export type Activation = 'input' | 'tanh' | 'sigmoid' | 'identity';

/** One weight of the drawing: the synapse from neuron `from` of layer `layer` to neuron `to` of layer `layer + 1`. */
export interface Synapse {
  /** The weight's name in the state dict, `'0.weight'`, and its flat index there (`to · fanIn + from`, torch's [out, in]). */
  param: string;
  index: number;
  layer: number;
  from: number;
  to: number;
  weight: number;
  /** dE/dw of the last step (before its update), or null before the first step. */
  grad: number | null;
  /** The notebook's name (`w1` … `w10`) where the network has one. */
  label: string | null;
}

/** A neuron's bias, drawn as the neuron's fill. */
export interface Bias {
  param: string;
  layer: number;
  neuron: number;
  value: number;
  grad: number | null;
}

/** What {@link SmallNet.step} did. */
export interface StepResult {
  /** The loss of the step's forward pass, before its update. */
  loss: number;
  /** The loss with the updated weights. */
  lossAfter: number;
}

/** How a small network is set up. */
export interface SmallNetSpec {
  title: string;
  /** Layer sizes, input first: `[2, 2, 2, 1]`. */
  sizes: number[];
  hidden: 'tanh';
  output: 'identity' | 'sigmoid';
  bias: boolean;
  loss: 'mse' | 'bce';
  lr: number;
  momentum: number;
  seed: number;
  /** Name the weights `w1, w2, …` in the notebook's order (down each column of `weight`, layer by layer). */
  notebookLabels: boolean;
  /** The training data: built from the generator after the weights, so one seed fixes everything. */
  data(rng: TorchGenerator): { inputs: NDArray; targets: NDArray };
}

/**
 * Seed notebook 002: `nn.Sequential(Linear(2, 2, bias=False), Tanh(),
 * Linear(2, 2, bias=False), Tanh(), Linear(2, 1, bias=False))`, one sample
 * `x = randn(2)`, `y_true = randn(1)`, MSE. The notebook drew them unseeded;
 * `TorchGenerator(0)` here (weights, then x, then y_true, in the notebook's
 * cell order) gives what `torch.manual_seed(0)` does, as apps/seeds checks.
 * The notebook computes one backward pass and no update; the page's step
 * adds plain SGD with lr 0.1.
 */
export const NOTEBOOK_002: SmallNetSpec = {
  title: '2-2-2-1 tanh network (seed notebook 002)',
  sizes: [2, 2, 2, 1],
  hidden: 'tanh',
  output: 'identity',
  bias: false,
  loss: 'mse',
  lr: 0.1,
  momentum: 0,
  seed: 0,
  notebookLabels: true,
  data: (rng) => ({ inputs: randn([2], { rng }), targets: randn([1], { rng }) }),
};

/**
 * XOR, the classic problem a network without a hidden layer cannot solve:
 * 2 inputs, 8 tanh hidden neurons, a sigmoid output, binary cross-entropy
 * over the four points, plain SGD (the notebook's w ← w − ε·∂E/∂w) with
 * lr 1. From seed 1 the loss sits near ln 2 for a few dozen steps, then
 * falls: all four points are on the right side of 0.5 after 51 steps.
 */
export const XOR_281: SmallNetSpec = {
  title: '2-8-1 network learning XOR',
  sizes: [2, 8, 1],
  hidden: 'tanh',
  output: 'sigmoid',
  bias: true,
  loss: 'bce',
  lr: 1,
  momentum: 0,
  seed: 1,
  notebookLabels: false,
  data: () => ({
    inputs: array([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]),
    targets: array([[0], [1], [1], [0]]),
  }),
};

/** A small network, its data, loss and optimizer, stepped one update at a time. */
export class SmallNet {
  readonly spec: SmallNetSpec;
  readonly model: Sequential;
  readonly linears: Linear[];
  readonly inputs: NDArray;
  readonly targets: NDArray;
  readonly losses: number[] = [];
  private readonly lossFn: Loss;
  private readonly optimizer: SGD;
  /** dE/dparameter of the last step, by parameter name. */
  private grads: Map<string, Float32Array> | null = null;

  constructor(spec: SmallNetSpec) {
    if (spec.sizes.length < 2 || !spec.sizes.every((n) => Number.isInteger(n) && n > 0)) {
      throw new RangeError(`SmallNet: sizes must be two or more positive integers, got [${spec.sizes.join(', ')}]`);
    }
    this.spec = spec;
    const rng = new TorchGenerator(spec.seed);
    const layers: NeuralLayer[] = [];
    this.linears = [];
    for (let l = 0; l + 1 < spec.sizes.length; l++) {
      const linear = new Linear(spec.sizes[l], spec.sizes[l + 1], { bias: spec.bias, rng });
      this.linears.push(linear);
      layers.push(linear);
      const last = l + 2 === spec.sizes.length;
      if (!last) layers.push(new Tanh());
      else if (spec.output === 'sigmoid') layers.push(new Sigmoid());
    }
    this.model = new Sequential(...layers);
    const { inputs, targets } = spec.data(rng);
    this.inputs = inputs;
    this.targets = targets;
    this.lossFn = spec.loss === 'mse' ? new MSELoss() : new BCELoss();
    this.optimizer = new SGD(this.model.parameters(), { lr: spec.lr, momentum: spec.momentum });
  }

  /** Steps taken. */
  get steps(): number {
    return this.losses.length;
  }

  /** The activation of each layer's neurons, input first. */
  get activations(): Activation[] {
    return this.spec.sizes.map((_, l) => (l === 0 ? 'input' : l + 1 === this.spec.sizes.length ? this.spec.output : this.spec.hidden));
  }

  /** Samples in the data (1 for the notebook's single x). */
  get samples(): number {
    return this.inputs.ndim === 1 ? 1 : this.inputs.shape[0];
  }

  /**
   * One training step, PyTorch's loop written out: zero the grads, forward
   * the whole data, the loss, backward (every grad filled), keep a copy of
   * the grads for the drawing, then the optimizer's update.
   */
  step(): StepResult {
    this.model.zeroGrad();
    const loss = this.lossFn.forward(this.model.forward(this.inputs), this.targets);
    this.model.backward(this.lossFn.backward(), { inputGrad: false });
    this.grads = new Map(this.model.namedParameters().map(([name, p]) => [name, Float32Array.from(p.grad.data)]));
    this.optimizer.step();
    this.losses.push(loss);
    return { loss, lossAfter: this.loss() };
  }

  /** The loss with the current weights (a forward pass; no gradient). */
  loss(): number {
    return this.lossFn.forward(this.model.forward(this.inputs), this.targets);
  }

  /** The network's output for each sample, with the current weights. */
  predictions(): number[] {
    return Array.from(this.model.forward(this.inputs).data);
  }

  /**
   * Every neuron's value for one sample, layer by layer (input first): the
   * notebook's x1, x2, then y1, y2, y3, y4, then y.
   */
  neuronValues(sample = 0): number[][] {
    if (!Number.isInteger(sample) || sample < 0 || sample >= this.samples) {
      throw new RangeError(`SmallNet.neuronValues: sample must be an integer in [0, ${this.samples}), got ${sample}`);
    }
    const width = this.spec.sizes[0];
    let x = this.inputs.ndim === 1 ? this.inputs : array(Array.from(this.inputs.data.subarray(sample * width, (sample + 1) * width)));
    const values: number[][] = [Array.from(x.data)];
    const layers = this.model.layers;
    for (let i = 0; i < layers.length; i++) {
      x = layers[i].forward(x);
      // A neuron's value is its output after the activation: record before the next Linear and at the end.
      if (i + 1 === layers.length || layers[i + 1] instanceof Linear) values.push(Array.from(x.data));
    }
    return values;
  }

  /** Every weight as a synapse of the drawing, layer by layer, with its gradient from the last step. */
  synapses(): Synapse[] {
    const out: Synapse[] = [];
    let numbered = 0;
    this.linears.forEach((linear, l) => {
      const param = linear.weight.name; // '0.weight', '2.weight': Sequential names it
      const grad = this.grads?.get(param) ?? null;
      const { inFeatures, outFeatures } = linear;
      const w = linear.weight.value.data;
      for (let from = 0; from < inFeatures; from++) {
        for (let to = 0; to < outFeatures; to++) {
          const index = to * inFeatures + from;
          // The notebook numbers down each column of the weight: w1 = W[0, 0], w2 = W[1, 0], w3 = W[0, 1], …
          const label = this.spec.notebookLabels ? `w${numbered + from * outFeatures + to + 1}` : null;
          out.push({ param, index, layer: l, from, to, weight: w[index], grad: grad ? grad[index] : null, label });
        }
      }
      numbered += inFeatures * outFeatures;
    });
    return out;
  }

  /** Every bias (none for the notebook's network), with its gradient from the last step. */
  biases(): Bias[] {
    const out: Bias[] = [];
    this.linears.forEach((linear, l) => {
      if (!linear.bias) return;
      const param = linear.bias.name;
      const grad = this.grads?.get(param) ?? null;
      linear.bias.value.data.forEach((value, neuron) => {
        out.push({ param, layer: l + 1, neuron, value, grad: grad ? grad[neuron] : null });
      });
    });
    return out;
  }
}
