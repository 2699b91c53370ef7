import {
  add,
  checkChoice,
  checkNumber,
  checkOptions,
  type DType,
  defaultGenerator,
  describe,
  accumulatorDType,
  fillUniform,
  formatShape,
  type Generator,
  gemm,
  less,
  mul,
  type NDArray,
  narrow,
  Parameter,
  ShapeError,
  Slot,
  shapesEqual,
  stack,
  sum,
  transpose,
  ValueError,
  zeros,
} from '@backprop/ndarray';
import { pythonFloat } from './python-repr';
import { checkArrayArg, checkBoolean, checkDTypeMatch, checkOutputGrad, checkRng, checkSize } from './checks';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';
import {
  type CellState,
  type CellStep,
  elmanCell,
  gruCell,
  type HiddenWeights,
  lstmCell,
  type RecurrentCell,
  type RecurrentMode,
} from './recurrent-cells';

export type { RecurrentMode } from './recurrent-cells';

/** Options shared by {@link RNN}, {@link LSTM} and {@link GRU}, as torch's `RNNBase` arguments. */
export interface RecurrentOptions {
  /** Stacked layers (default 1): layer k > 0 reads layer k − 1's output sequence. */
  numLayers?: number;
  /** Learn the biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** Input and output are [N, L, ·] instead of [L, N, ·] (default false); the states stay [D·numLayers, N, H]. */
  batchFirst?: boolean;
  /** Dropout probability on each layer's output but the last's, in training mode only (default 0). */
  dropout?: number;
  /** Run a second, reversed direction in every layer and concatenate (default false). */
  bidirectional?: boolean;
  /** Parameter dtype, float32 by default as in PyTorch. */
  dtype?: DType;
  /** Generator for the initial weights and the dropout masks; the global one that `manualSeed` seeds by default. */
  rng?: Generator;
}

/** Options of {@link RNN}. */
export interface RNNOptions extends RecurrentOptions {
  /** 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}

/** Options of {@link LSTM}. */
export interface LSTMOptions extends RecurrentOptions {
  /** torch's LSTM projections: only 0 (none) is supported. */
  projSize?: number;
}

/** Options of {@link GRU}. */
export type GRUOptions = RecurrentOptions;

/** An LSTM's state: h and the cell state c, each [D·numLayers, N, H] (or [D·numLayers, H] unbatched). */
export interface LSTMState {
  h: NDArray;
  c: NDArray;
}

/** The states after the last step, as torch's `h_n` (and the LSTM's `c_n`). */
export interface RecurrentState {
  h: NDArray;
  c?: NDArray;
}

/** Options of a recurrent layer's `forward`. */
export interface RecurrentForwardOptions<HX> extends ForwardOptions {
  /** The initial state h_0 (an LSTM's `{ h, c }`); zeros when absent, as torch's `hx=None`. */
  hx?: HX;
}

/** Options of a recurrent layer's `backward`. */
export interface RecurrentBackwardOptions extends BackwardOptions {
  /**
   * dLoss/d(final state) for a loss on `finalState` (h_n, and the LSTM's c_n),
   * of `finalState`'s shapes; each part may be absent (zero).
   */
  finalStateGrad?: { h?: NDArray; c?: NDArray };
}

/** An option's value, or its default when absent (undefined only: null is an error the checks report). */
function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

const RECURRENT_OPTIONS = ['numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional', 'dtype', 'rng'] as const;

/** The parameters of one layer and direction (biases null without `bias`). */
interface DirectionWeights {
  weightIh: Parameter;
  weightHh: Parameter;
  biasIh: Parameter | null;
  biasHh: Parameter | null;
}

/**
 * What a forward pass keeps for backward: arrays on the layer's slots (see
 * {@link RecurrentBase}), transposed and time-major, [L, ·, N].
 */
interface Pass {
  steps: number;
  batch: number;
  unbatched: boolean;
  hxGiven: boolean;
  outputShape: number[];
  stateShape: number[];
  /** Each layer's input [L, in, N]: the sequence, or the previous layer's output after dropout. */
  inputs: NDArray[];
  /** Each layer's output [L, D·H, N]: the h of every step, the reverse direction's in rows H..2H. */
  outputs: NDArray[];
  /** The dropout mask multiplied into each layer's input, or null where none ran. */
  masks: (NDArray | null)[];
  /** Per layer · D + direction: the gates after their activations [L, G·H, N], and the cell's saved arrays [L, S, N]. */
  gates: NDArray[];
  saved: NDArray[];
  /** h_0 and the LSTM's c_0 of every layer and direction, [D·numLayers, H, N]. */
  initial: { h: NDArray; c: NDArray | null };
}

/** Item `i` of the first axis as a view (shape `a.shape.slice(1)`), on any backend. */
function item(a: NDArray, i: number): NDArray {
  return narrow(a, i, 1).reshape(a.shape.slice(1));
}

/** h_n-shaped [D·numLayers, N, H] (or unbatched) array from per-direction [H, N] states: a new array. */
function toStateShape(states: NDArray[], stateShape: number[]): NDArray {
  return transpose(stack(states, 0), [0, 2, 1]).reshape(stateShape);
}

/**
 * The shared machinery of {@link RNN}, {@link LSTM} and {@link GRU}, as
 * torch's `RNNBase`: the parameters `weight_ih_l{k}`, `weight_hh_l{k}`,
 * `bias_ih_l{k}`, `bias_hh_l{k}` (and `_reverse`) in torch's order, its
 * initialisation, the layer and direction loops, dropout between layers, and
 * backpropagation through time. Each subclass supplies its cell.
 *
 * Per layer and direction, forward computes every step's input projection
 * W_ih·x_t + b_ih in one gemm, then one gemm per step for the hidden
 * projection; backward adds dW_hh per step (gemm with beta = 1) and dW_ih,
 * dx for all steps in one gemm each. Sequences and states are kept
 * transposed and time-major ([L, features, N], states [H, N]), so each
 * step's block and each gate's rows are contiguous views (`narrow`), never
 * copies; the input, the output and the states are transposed once per pass.
 *
 * Every array a pass needs lives on the layer's own slots, reused by the
 * next pass (memory is allocated when a pass is larger than every one
 * before), so a steady training step allocates only what it returns: the
 * output and the input gradient (none where the caller offers `into`).
 * `finalState` and `initialStateGrad` are built when read.
 */
export abstract class RecurrentBase<HX extends NDArray | LSTMState> extends NeuralLayer {
  readonly mode: RecurrentMode;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  readonly dtype: DType;
  /** Where the dropout masks come from (and where the initial weights came from). */
  readonly rng: Generator;

  readonly #cell: RecurrentCell;
  /** Parameters by layer · D + direction. */
  readonly #weights: DirectionWeights[] = [];
  /** The last forward pass. */
  #pass?: Pass;
  /** dLoss/d(initial state) [D·numLayers, H, N] after a backward pass since the last forward (on the layer's slots). */
  #stateGrad?: { h: NDArray; c: NDArray | null };
  #finalState?: RecurrentState;
  #initialStateGrad?: RecurrentState;
  /** Where the arrays of a pass live, reused by the next one. */
  readonly #slots = {
    /** Forward: the input transposed [L, I, N], h_0 and c_0 [D·numLayers, H, N]. */
    input: new Slot(),
    initialH: new Slot(),
    initialC: new Slot(),
    /** Per layer: its output, and the dropout mask on its output (drawn [L, N, D·H], its uniforms, transposed) and the masked output. */
    layers: [] as { output: Slot; drawn: Slot; uniforms: Slot; mask: Slot; masked: Slot }[],
    /** Per layer and direction: the gates and the cell's saved arrays. */
    directions: [] as { gates: Slot; saved: Slot }[],
    /** Backward: dLoss/d(layer output) of alternate layers, dLoss/dInput transposed, dLoss/d(state) [D·numLayers, H, N]. */
    layerGrads: [new Slot(), new Slot()],
    inputGrad: new Slot(),
    stateGradH: new Slot(),
    stateGradC: new Slot(),
    /** One direction's dLoss/dp and dLoss/d(W_hh·h + b_hh) [L, G·H, N], a step's scratch [H, N], a bias gradient [G·H]. */
    gateGrads: new Slot(),
    hiddenGrads: new Slot(),
    scratch: new Slot(),
    biasSum: new Slot(),
  };

  protected constructor(
    mode: RecurrentMode,
    inputSize: number,
    hiddenSize: number,
    given: RecurrentOptions | undefined,
    known: readonly string[],
  ) {
    super();
    const options = given ?? {};
    const op = `${mode === 'LSTM' || mode === 'GRU' ? mode : 'RNN'}(${describe(inputSize)}, ${describe(hiddenSize)})`;
    checkOptions(op, options, known);
    this.mode = mode;
    this.inputSize = checkSize(op, 'inputSize', inputSize);
    this.hiddenSize = checkSize(op, 'hiddenSize', hiddenSize);
    this.numLayers = checkSize(op, 'numLayers', orDefault(options.numLayers, 1));
    this.bias = checkBoolean(op, 'bias', orDefault(options.bias, true));
    this.batchFirst = checkBoolean(op, 'batchFirst', orDefault(options.batchFirst, false));
    this.dropout = checkNumber(op, 'dropout (the probability of zeroing an element)', orDefault(options.dropout, 0), { min: 0, max: 1 });
    this.bidirectional = checkBoolean(op, 'bidirectional', orDefault(options.bidirectional, false));
    this.dtype = checkChoice(op, 'dtype', orDefault(options.dtype, 'float32'), ['float32', 'float64'] as const);
    this.rng = checkRng(op, options.rng);
    this.#cell = this.createCell();
    const gateRows = this.#cell.gates * this.hiddenSize;
    const dtype = this.dtype;
    for (let layer = 0; layer < this.numLayers; layer++) {
      this.#slots.layers.push({ output: new Slot(), drawn: new Slot(), uniforms: new Slot(), mask: new Slot(), masked: new Slot() });
      for (let direction = 0; direction < this.directions; direction++) {
        const suffix = `_l${layer}${direction === 1 ? '_reverse' : ''}`;
        const layerInput = layer === 0 ? this.inputSize : this.hiddenSize * this.directions;
        const make = (name: string, shape: number[]): Parameter => {
          const parameter = new Parameter(zeros(shape, { dtype }), name + suffix);
          this.registerParameter(name + suffix, parameter);
          return parameter;
        };
        const weightIh = make('weight_ih', [gateRows, layerInput]);
        const weightHh = make('weight_hh', [gateRows, this.hiddenSize]);
        const biasIh = this.bias ? make('bias_ih', [gateRows]) : null;
        const biasHh = this.bias ? make('bias_hh', [gateRows]) : null;
        this.#weights.push({ weightIh, weightHh, biasIh, biasHh });
        this.#slots.directions.push({ gates: new Slot(), saved: new Slot() });
      }
    }
    this.resetParameters(this.rng);
  }

  /** The cell this layer runs at every step. */
  protected abstract createCell(): RecurrentCell;

  /** D: 2 when bidirectional, else 1. */
  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  /**
   * h_n (and c_n) of the last forward pass: [D·numLayers, N, H], or
   * [D·numLayers, H] for an unbatched input; undefined before the first.
   * Built when first read after a pass (a step that never reads it does not
   * pay for it); new arrays, which later passes leave alone.
   */
  get finalState(): RecurrentState | undefined {
    const pass = this.#pass;
    if (pass === undefined || this.#finalState !== undefined) return this.#finalState;
    // Each direction's last step: L − 1 forwards, 0 in reverse.
    const last = this.#weights.map((_, k) => this.#cell.state(this.#step(pass, k, k % this.directions === 0 ? pass.steps - 1 : 0)));
    const h = toStateShape(last.map((s) => s.h), pass.stateShape);
    this.#finalState = this.#cell.hasCellState ? { h, c: toStateShape(last.map((s) => s.c!), pass.stateShape) } : { h };
    return this.#finalState;
  }

  /**
   * dLoss/d(initial state) after a backward pass whose forward was given
   * `hx`, shaped as `hx`; undefined otherwise. Built when first read after a
   * backward pass; new arrays.
   */
  get initialStateGrad(): RecurrentState | undefined {
    const pass = this.#pass;
    const grad = this.#stateGrad;
    if (pass === undefined || !pass.hxGiven || grad === undefined || this.#initialStateGrad !== undefined) return this.#initialStateGrad;
    const transposed = (g: NDArray): NDArray => transpose(g, [0, 2, 1]).reshape(pass.stateShape);
    this.#initialStateGrad = grad.c === null ? { h: transposed(grad.h) } : { h: transposed(grad.h), c: transposed(grad.c) };
    return this.#initialStateGrad;
  }

  /**
   * Draws fresh initial values, as torch's `reset_parameters`: every weight
   * and bias from U(−1/√hiddenSize, 1/√hiddenSize), in the state dict's order.
   */
  resetParameters(rng: Generator = defaultGenerator): void {
    const stdv = 1.0 / Math.sqrt(this.hiddenSize);
    for (const parameter of this.parameters()) fillUniform(parameter.value, -stdv, stdv, rng);
  }

  override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.numLayers !== 1) s += `, num_layers=${this.numLayers}`;
    if (!this.bias) s += ', bias=False';
    if (this.batchFirst) s += ', batch_first=True';
    if (this.dropout !== 0) s += `, dropout=${pythonFloat(this.dropout)}`;
    if (this.bidirectional) s += ', bidirectional=True';
    return s;
  }

  protected override label(): string {
    return `${this.typeName}(${this.inputSize}, ${this.hiddenSize})`;
  }

  /**
   * Runs the sequence through every layer and direction; returns the last
   * layer's outputs [L, N, D·H] ([N, L, D·H] with `batchFirst`, [L, D·H]
   * unbatched), into the caller's slot when given one, and leaves h_n (and
   * c_n) in `finalState`.
   */
  forward(input: NDArray, options: RecurrentForwardOptions<HX> = {}): NDArray {
    const op = this.label();
    checkOptions(op, options, ['hx', 'into']);
    checkArrayArg(op, 'input', input);
    checkDTypeMatch(op, 'input', input, this.dtype);
    const layout = this.batchFirst ? `[N, L, ${this.inputSize}]` : `[L, N, ${this.inputSize}]`;
    if ((input.ndim !== 2 && input.ndim !== 3) || input.shape[input.ndim - 1] !== this.inputSize) {
      throw new ShapeError(
        `${op}: expected an input of shape ${layout} (batchFirst: ${this.batchFirst}) or [L, ${this.inputSize}] unbatched, got ${formatShape(input.shape)}`,
      );
    }
    const unbatched = input.ndim === 2;
    const batchFirst = this.batchFirst && !unbatched;
    const steps = input.shape[batchFirst ? 1 : 0];
    const batch = unbatched ? 1 : input.shape[batchFirst ? 0 : 1];
    if (steps === 0) throw new ShapeError(`${op}: expected a sequence of at least one step, got input of shape ${formatShape(input.shape)}`);
    const H = this.hiddenSize;
    const D = this.directions;
    const G = this.#cell.gates * H;
    const dtype = this.dtype;
    const slots = this.#slots;
    const stateCount = D * this.numLayers;
    const stateShape = unbatched ? [stateCount, H] : [stateCount, batch, H];
    // Checked before anything is written: a rejected call leaves the last pass intact.
    const initial = this.initialStates(options.hx, stateShape, batch);
    const outputShape = unbatched ? [steps, D * H] : batchFirst ? [batch, steps, D * H] : [steps, batch, D * H];
    const pass: Pass = {
      steps,
      batch,
      unbatched,
      hxGiven: options.hx !== undefined,
      outputShape,
      stateShape,
      inputs: [],
      outputs: [],
      masks: [],
      gates: [],
      saved: [],
      initial,
    };

    // Every layer's input and output are kept transposed and time-major, [L, features, N].
    const x3 = unbatched ? input.reshape([steps, 1, this.inputSize]) : input;
    let layerInput = transpose(x3, batchFirst ? [1, 2, 0] : [0, 2, 1], slots.input.take([steps, this.inputSize, batch], dtype));
    let inputMask: NDArray | null = null;
    for (let layer = 0; layer < this.numLayers; layer++) {
      const output = slots.layers[layer].output.take([steps, D * H, batch], dtype);
      pass.inputs.push(layerInput);
      pass.outputs.push(output);
      pass.masks.push(inputMask);
      for (let direction = 0; direction < D; direction++) {
        const k = layer * D + direction;
        const w = this.#weights[k];
        const hidden = this.hiddenWeights(w);
        // Every step's input projection W_ih·x_t + b_ih in one gemm: [L, G·H, N].
        const gates = slots.directions[k].gates.take([steps, G, batch], dtype);
        gemm(w.weightIh.value, layerInput, { bias: w.biasIh?.value.reshape([G, 1]), out: gates });
        pass.gates.push(gates);
        pass.saved.push(slots.directions[k].saved.take([steps, this.#cell.savedRows, batch], dtype));
        let state: CellState = { h: item(initial.h, k), c: initial.c === null ? null : item(initial.c, k) };
        for (let s = 0; s < steps; s++) {
          const step = this.#step(pass, k, direction === 0 ? s : steps - 1 - s);
          this.#cell.forward(step, state, hidden);
          state = this.#cell.state(step);
        }
      }
      inputMask = null;
      if (layer < this.numLayers - 1 && this.training && this.dropout > 0) {
        const layerSlots = slots.layers[layer];
        // Drawn in torch's layout [L, N, D·H], used in ours.
        inputMask = transpose(this.dropoutMask([steps, batch, D * H], layerSlots), [0, 2, 1], layerSlots.mask.take([steps, D * H, batch], dtype));
        layerInput = mul(output, inputMask, layerSlots.masked.take([steps, D * H, batch], dtype));
      } else {
        layerInput = output;
      }
    }
    this.#pass = pass;
    this.#stateGrad = undefined;
    this.#finalState = undefined;
    this.#initialStateGrad = undefined;
    const result = this.output(options, outputShape, dtype);
    transpose(layerInput, batchFirst ? [2, 0, 1] : [0, 2, 1], result.reshape(batchFirst ? [batch, steps, D * H] : [steps, batch, D * H]));
    return result;
  }

  /**
   * Backpropagation through time: given dLoss/dOutput (and, in
   * `finalStateGrad`, dLoss/dh_n and dLoss/dc_n), adds every parameter's
   * gradient, makes `initialStateGrad` available when forward was given
   * `hx`, and returns dLoss/dInput (into the caller's slot when given one).
   */
  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: RecurrentBackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options: RecurrentBackwardOptions = {}): NDArray | undefined {
    const op = `${this.label()}.backward`;
    checkOptions(op, options, ['finalStateGrad', 'inputGrad', 'into']);
    const grad = checkOutputGrad(this.label(), outputGrad, this.#pass?.outputShape, this.dtype);
    const pass = this.#pass!;
    const { steps, batch, unbatched } = pass;
    const batchFirst = this.batchFirst && !unbatched;
    const H = this.hiddenSize;
    const D = this.directions;
    const G = this.#cell.gates * H;
    const dtype = this.dtype;
    const slots = this.#slots;
    // dLoss/d(state) of every layer and direction, [D·numLayers, H, N]: dh_n (and dc_n) now, dh_0 (and dc_0) at the end.
    const stateGrad = this.finalStateGrads(op, options.finalStateGrad, pass.stateShape, batch);
    const wantInputGrad = options.inputGrad !== false;

    // dLoss/d(layer output), transposed as the layer keeps it: [L, D·H, N].
    const grad3 = unbatched ? grad.reshape([steps, 1, D * H]) : grad;
    let layerGrad = transpose(grad3, batchFirst ? [1, 2, 0] : [0, 2, 1], slots.layerGrads[(this.numLayers - 1) % 2].take([steps, D * H, batch], dtype));
    const gateGrads = slots.gateGrads.take([steps, G, batch], dtype);
    const hiddenGrads = this.#cell.separateHiddenGrad ? slots.hiddenGrads.take([steps, G, batch], dtype) : null;
    const scratch = slots.scratch.take([H, batch], dtype);
    let inputGrad: NDArray | undefined;
    for (let layer = this.numLayers - 1; layer >= 0; layer--) {
      const input = pass.inputs[layer];
      // dLoss/d(this layer's input): the layer below's layerGrad, or the input gradient.
      const dInput =
        layer > 0
          ? slots.layerGrads[(layer - 1) % 2].take([steps, D * H, batch], dtype)
          : wantInputGrad
            ? slots.inputGrad.take([steps, this.inputSize, batch], dtype)
            : undefined;
      for (let direction = 0; direction < D; direction++) {
        const k = layer * D + direction;
        const w = this.#weights[k];
        const hidden = this.hiddenWeights(w);
        const state: CellState = { h: item(stateGrad.h, k), c: stateGrad.c === null ? null : item(stateGrad.c, k) };
        // Each step writes its gradients into its own block: no concatenation afterwards.
        for (let s = steps - 1; s >= 0; s--) {
          const t = direction === 0 ? s : steps - 1 - s;
          add(state.h, narrow(item(layerGrad, t), direction * H, H), state.h);
          const grads = { gates: item(gateGrads, t), hidden: hiddenGrads === null ? null : item(hiddenGrads, t), scratch };
          this.#cell.backward(this.#step(pass, k, t), this.#stateBefore(pass, k, t), state, hidden, grads);
        }
        // dW_ih += Σ_t dP_t·x_tᵀ, db_ih, db_hh and dx for all steps at once.
        gemm(gateGrads, input, { transB: true, out: w.weightIh.grad, beta: 1 });
        if (w.biasIh !== null && w.biasHh !== null) {
          const dBiasIh = sum(gateGrads, [0, 2], false, slots.biasSum.take([G], dtype));
          add(w.biasIh.grad, dBiasIh, w.biasIh.grad);
          const dBiasHh = hiddenGrads === null ? dBiasIh : sum(hiddenGrads, [0, 2], false, slots.biasSum.take([G], dtype));
          add(w.biasHh.grad, dBiasHh, w.biasHh.grad);
        }
        if (dInput !== undefined) gemm(w.weightIh.value, gateGrads, { transA: true, out: dInput, beta: direction === 0 ? 0 : 1 });
      }
      const mask = pass.masks[layer];
      if (layer > 0) layerGrad = mask === null ? dInput! : mul(dInput!, mask, dInput);
      else inputGrad = dInput;
    }
    this.#stateGrad = stateGrad;
    this.#initialStateGrad = undefined;
    if (inputGrad === undefined) return undefined;
    const inputShape = unbatched ? [steps, this.inputSize] : batchFirst ? [batch, steps, this.inputSize] : [steps, batch, this.inputSize];
    const result = this.output(options, inputShape, dtype);
    transpose(inputGrad, batchFirst ? [2, 0, 1] : [0, 2, 1], result.reshape(batchFirst ? [batch, steps, this.inputSize] : [steps, batch, this.inputSize]));
    return result;
  }

  /** Step t of layer and direction k: views of the pass's arrays at that step. */
  #step(pass: Pass, k: number, t: number): CellStep {
    const direction = k % this.directions;
    const layer = (k - direction) / this.directions;
    const H = this.hiddenSize;
    return { gates: item(pass.gates[k], t), saved: item(pass.saved[k], t), h: narrow(item(pass.outputs[layer], t), direction * H, H) };
  }

  /** The state step t of layer and direction k started from: the step before's (t − 1, or t + 1 in reverse), or h_0 (and c_0). */
  #stateBefore(pass: Pass, k: number, t: number): CellState {
    const before = k % this.directions === 0 ? t - 1 : t + 1;
    if (before < 0 || before >= pass.steps) {
      return { h: item(pass.initial.h, k), c: pass.initial.c === null ? null : item(pass.initial.c, k) };
    }
    return this.#cell.state(this.#step(pass, k, before));
  }

  private hiddenWeights(w: DirectionWeights): HiddenWeights {
    const bias = w.biasHh === null ? null : w.biasHh.value.reshape([w.biasHh.value.size, 1]);
    return { weight: w.weightHh.value, weightGrad: w.weightHh.grad, bias };
  }

  /** The initial state of every layer and direction, transposed ([D·numLayers, H, N] each), from `hx` or zeros, on the layer's slots. */
  private initialStates(hx: unknown, stateShape: number[], batch: number): Pass['initial'] {
    const op = this.label();
    const count = this.directions * this.numLayers;
    const lstm = this.#cell.hasCellState;
    const shape = [count, this.hiddenSize, batch];
    const slots = this.#slots;
    if (hx === undefined) {
      return { h: slots.initialH.take(shape, this.dtype).fill(0), c: lstm ? slots.initialC.take(shape, this.dtype).fill(0) : null };
    }
    let h: unknown = hx;
    let c: unknown = null;
    if (lstm) {
      if (hx === null || typeof hx !== 'object' || !('h' in hx) || !('c' in hx)) {
        throw new ValueError(`${op}: hx must be { h, c }, two arrays of shape ${formatShape(stateShape)}, got ${describe(hx)}`);
      }
      h = (hx as LSTMState).h;
      c = (hx as LSTMState).c;
    }
    const check = (name: string, value: unknown): NDArray => {
      const array = checkArrayArg(op, name, value);
      if (!shapesEqual(array.shape, stateShape)) {
        throw new ShapeError(
          `${op}: ${name} has shape ${formatShape(array.shape)}, expected ${formatShape(stateShape)} ` +
            `([D·numLayers${stateShape.length === 3 ? ', N' : ''}, hiddenSize] for this input)`,
        );
      }
      checkDTypeMatch(op, name, array, this.dtype);
      return array.reshape([count, batch, this.hiddenSize]);
    };
    const h3 = check(lstm ? 'hx.h' : 'hx', h);
    const c3 = lstm ? check('hx.c', c) : null;
    return {
      h: transpose(h3, [0, 2, 1], slots.initialH.take(shape, this.dtype)),
      c: c3 === null ? null : transpose(c3, [0, 2, 1], slots.initialC.take(shape, this.dtype)),
    };
  }

  /** dLoss/dh_n (and dc_n) of every layer and direction, transposed ([D·numLayers, H, N] each), zeros where not given, on the layer's slots. */
  private finalStateGrads(
    op: string,
    given: RecurrentBackwardOptions['finalStateGrad'],
    stateShape: number[],
    batch: number,
  ): { h: NDArray; c: NDArray | null } {
    const count = this.directions * this.numLayers;
    const lstm = this.#cell.hasCellState;
    if (given !== undefined && (given === null || typeof given !== 'object')) {
      throw new ValueError(`${op}: finalStateGrad must be { h?, c? }, got ${describe(given)}`);
    }
    if (given !== undefined) {
      checkOptions(`${op} finalStateGrad`, given, ['h', 'c']);
      if (!lstm && given.c !== undefined) {
        throw new ValueError(`${op}: finalStateGrad.c is the gradient of an LSTM's cell state; ${this.typeName} has none (give only h)`);
      }
    }
    const check = (name: string, value: NDArray | undefined): NDArray | undefined => {
      if (value === undefined) return undefined;
      const array = checkArrayArg(op, name, value);
      if (!shapesEqual(array.shape, stateShape)) {
        throw new ShapeError(`${op}: ${name} has shape ${formatShape(array.shape)}, expected the final state's shape ${formatShape(stateShape)}`);
      }
      checkDTypeMatch(op, name, array, this.dtype);
      return array.reshape([count, batch, this.hiddenSize]);
    };
    // Both checked before either is written.
    const h = check('finalStateGrad.h', given?.h);
    const c = lstm ? check('finalStateGrad.c', given?.c) : undefined;
    const shape = [count, this.hiddenSize, batch];
    const place = (value: NDArray | undefined, slot: Slot): NDArray =>
      value === undefined ? slot.take(shape, this.dtype).fill(0) : transpose(value, [0, 2, 1], slot.take(shape, this.dtype));
    return { h: place(h, this.#slots.stateGradH), c: lstm ? place(c, this.#slots.stateGradC) : null };
  }

  /**
   * A dropout mask for a layer's output as `Dropout` draws it (torch's CPU
   * `bernoulli_(1 − p)` then `div_(1 − p)`): one float64 uniform per element,
   * kept where u < 1 − p, kept entries scaled by 1 / (1 − p) in the dtype.
   */
  private dropoutMask(shape: readonly number[], slots: { drawn: Slot; uniforms: Slot }): NDArray {
    const mask = slots.drawn.take(shape, this.dtype);
    if (this.dropout === 1) return mask.fill(0); // torch draws nothing for p = 1
    const keep = 1 - this.dropout;
    const scale = this.dtype === 'float32' ? Math.fround(1 / Math.fround(keep)) : 1 / keep;
    // Double uniforms, as torch draws; float32 ones on a backend without float64 (another mask for a seed).
    const u = fillUniform(slots.uniforms.take(shape, accumulatorDType(this.dtype)), 0, 1, this.rng);
    less(u, keep, mask);
    return mul(mask, scale, mask);
  }
}

/**
 * An Elman RNN, as `torch.nn.RNN(inputSize, hiddenSize, { numLayers,
 * nonlinearity, bias, batchFirst, dropout, bidirectional })`:
 * h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh), act tanh (default) or relu.
 *
 * Input [L, N, inputSize] ([N, L, inputSize] with `batchFirst`, or [L, inputSize]
 * unbatched); output [L, N, D·hiddenSize] (D = 2 when bidirectional), the last
 * layer's h_t at every step, the reverse direction's in the second half.
 * `forward(x, { hx: h0 })` starts from h0 [D·numLayers, N, hiddenSize] (zeros
 * by default); `finalState.h` is h_n. `weight_ih_l{k}` is [hiddenSize, in],
 * `weight_hh_l{k}` [hiddenSize, hiddenSize]; all drawn from
 * U(−1/√hiddenSize, 1/√hiddenSize) as torch, bit for bit for the same seed.
 *
 * @example
 * const rnn = new RNN(10, 20, { numLayers: 2 });
 * const out = rnn.forward(randn([5, 3, 10]));          // [5, 3, 20]
 * const h = rnn.finalState!.h;                         // [2, 3, 20]
 * const dx = rnn.backward(onesLike(out), { finalStateGrad: { h: onesLike(h) } });
 */
export class RNN extends RecurrentBase<NDArray> {
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    const nonlinearity = checkChoice(`RNN(${describe(inputSize)}, ${describe(hiddenSize)})`, 'nonlinearity', orDefault(options?.nonlinearity, 'tanh'), ['tanh', 'relu'] as const);
    super(nonlinearity === 'tanh' ? 'RNN_TANH' : 'RNN_RELU', inputSize, hiddenSize, options, [...RECURRENT_OPTIONS, 'nonlinearity']);
    this.nonlinearity = nonlinearity;
  }

  protected createCell(): RecurrentCell {
    return elmanCell(this.mode === 'RNN_RELU' ? 'relu' : 'tanh');
  }

  override get typeName(): string {
    return this.namedAs(RNN, 'RNN');
  }
}

/**
 * A long short-term memory network, as `torch.nn.LSTM(inputSize, hiddenSize,
 * { numLayers, bias, batchFirst, dropout, bidirectional })`. Per step, with
 * the gates stacked i, f, g, o in `weight_ih_l{k}` [4·hiddenSize, in] and
 * `weight_hh_l{k}` [4·hiddenSize, hiddenSize]:
 * i, f, o = σ(x·W_iᵀ + b_i + h·W_hᵀ + b_h), g = tanh(…), c′ = f ⊙ c + i ⊙ g,
 * h′ = o ⊙ tanh(c′).
 *
 * Shapes as {@link RNN}; the state is `{ h, c }`: `forward(x, { hx: { h: h0, c: c0 } })`,
 * `finalState` = `{ h: h_n, c: c_n }`, `backward(g, { finalStateGrad: { h, c } })`.
 * torch's `proj_size` is not supported.
 *
 * @example
 * const lstm = new LSTM(4, 3, { numLayers: 2, batchFirst: true, bidirectional: true });
 * String(lstm);                                  // 'LSTM(4, 3, num_layers=2, batch_first=True, bidirectional=True)'
 * const out = lstm.forward(randn([8, 5, 4]));    // [8, 5, 6]
 * const { h, c } = lstm.finalState!;             // [4, 8, 3] each
 */
export class LSTM extends RecurrentBase<LSTMState> {
  constructor(inputSize: number, hiddenSize: number, options: LSTMOptions = {}) {
    const op = `LSTM(${describe(inputSize)}, ${describe(hiddenSize)})`;
    const projSize = options?.projSize;
    if (projSize !== undefined && projSize !== 0) {
      throw new ValueError(`${op}: projSize ${describe(projSize)} is not supported (torch's LSTM projections are not implemented); use projSize: 0`);
    }
    super('LSTM', inputSize, hiddenSize, options, [...RECURRENT_OPTIONS, 'projSize']);
  }

  protected createCell(): RecurrentCell {
    return lstmCell(this.hiddenSize);
  }

  override get typeName(): string {
    return this.namedAs(LSTM, 'LSTM');
  }
}

/**
 * A gated recurrent unit network, as `torch.nn.GRU(inputSize, hiddenSize,
 * { numLayers, bias, batchFirst, dropout, bidirectional })`. Per step, with the
 * gates stacked r, z, n in `weight_ih_l{k}` [3·hiddenSize, in] and
 * `weight_hh_l{k}` [3·hiddenSize, hiddenSize]:
 * r = σ(W_ir·x + b_ir + W_hr·h + b_hr), z = σ(W_iz·x + b_iz + W_hz·h + b_hz),
 * n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)), h′ = (1 − z) ⊙ n + z ⊙ h.
 *
 * Shapes and state as {@link RNN}.
 *
 * @example
 * const gru = new GRU(10, 20);
 * const out = gru.forward(randn([5, 3, 10]), { hx: zeros([1, 3, 20]) });   // [5, 3, 20]
 */
export class GRU extends RecurrentBase<NDArray> {
  constructor(inputSize: number, hiddenSize: number, options: GRUOptions = {}) {
    super('GRU', inputSize, hiddenSize, options, RECURRENT_OPTIONS);
  }

  protected createCell(): RecurrentCell {
    return gruCell(this.hiddenSize);
  }

  override get typeName(): string {
    return this.namedAs(GRU, 'GRU');
  }
}
