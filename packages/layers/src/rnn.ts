import {
  add,
  checkChoice,
  checkNumber,
  checkOptions,
  type DType,
  defaultGenerator,
  describe,
  fillUniform,
  formatShape,
  type Generator,
  gemm,
  less,
  mul,
  type NDArray,
  Parameter,
  ShapeError,
  shapesEqual,
  stack,
  sum,
  transpose,
  ValueError,
  zeros,
} from '@backprop/ndarray';
import { pythonFloat } from './activations';
import { checkArrayArg, checkBoolean, checkDTypeMatch, checkOutputGrad, checkRng, checkSize } from './checks';
import { type BackwardOptions, type ForwardOptions, NeuralLayer } from './layer';
import {
  type CellState,
  elmanCell,
  type GruCache,
  gruCell,
  type HiddenWeights,
  item,
  type LstmCache,
  lstmCell,
  type RecurrentCell,
  type RecurrentMode,
  rows,
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

/** What one direction of one layer keeps from forward for backward (arrays indexed by time step). */
interface DirectionCache<Cache> {
  /** The state each step started from (transposed, [H, N]). */
  previous: CellState[];
  caches: Cache[];
}

/** What one layer keeps: its input ([L, In, N], transposed), each direction's steps, and the dropout mask on its input. */
interface LayerCache<Cache> {
  input: NDArray;
  directions: DirectionCache<Cache>[];
  /** Scales or zeros multiplied into this layer's input (the previous layer's output), when dropout ran. */
  inputMask: NDArray | null;
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
 * step's block and each gate's rows are contiguous views, never copies;
 * the input, the output and the states are transposed once per pass.
 */
export abstract class RecurrentBase<HX extends NDArray | LSTMState, Cache> extends NeuralLayer {
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
  /** h_n (and c_n) of the last forward pass: [D·numLayers, N, H], or [D·numLayers, H] for an unbatched input. */
  finalState?: RecurrentState;
  /** dLoss/d(initial state) after a backward pass whose forward was given `hx`, shaped as `hx`; undefined otherwise. */
  initialStateGrad?: RecurrentState;

  readonly #cell: RecurrentCell<Cache>;
  /** Parameters by layer · D + direction. */
  readonly #weights: DirectionWeights[] = [];
  #layers?: LayerCache<Cache>[];
  /** Geometry of the last forward pass. */
  #pass?: { steps: number; batch: number; unbatched: boolean; hxGiven: boolean; outputShape: number[]; stateShape: number[] };

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
      }
    }
    this.resetParameters(this.rng);
  }

  /** The cell this layer runs at every step. */
  protected abstract createCell(): RecurrentCell<Cache>;

  /** D: 2 when bidirectional, else 1. */
  get directions(): number {
    return this.bidirectional ? 2 : 1;
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
   * unbatched) and leaves h_n (and c_n) in `finalState`.
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
    const stateCount = D * this.numLayers;
    const stateShape = unbatched ? [stateCount, H] : [stateCount, batch, H];
    const initial = this.initialStates(options.hx, stateShape, batch);

    // Every layer's input and output are kept transposed and time-major, [L, features, N].
    const x3 = unbatched ? input.reshape([steps, 1, this.inputSize]) : input;
    let layerInput = transpose(x3, batchFirst ? [1, 2, 0] : [0, 2, 1]);
    let inputMask: NDArray | null = null;
    const layers: LayerCache<Cache>[] = [];
    const finalH: NDArray[] = [];
    const finalC: NDArray[] = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      const output = zeros([steps, D * H, batch], { dtype: this.dtype });
      const directions: DirectionCache<Cache>[] = [];
      for (let direction = 0; direction < D; direction++) {
        const k = layer * D + direction;
        const w = this.#weights[k];
        const hidden = this.hiddenWeights(w);
        // Every step's input projection W_ih·x_t + b_ih in one gemm: [L, G·H, N].
        const projection = gemm(w.weightIh.value, layerInput, { bias: w.biasIh?.value.reshape([G, 1]) });
        const cache: DirectionCache<Cache> = { previous: new Array(steps), caches: new Array(steps) };
        let state = initial[k];
        for (let s = 0; s < steps; s++) {
          const t = direction === 0 ? s : steps - 1 - s;
          const hOut = rows(item(output, t), direction * H, (direction + 1) * H);
          cache.previous[t] = state;
          const { next, cache: stepCache } = this.#cell.forward(item(projection, t), state, hidden, hOut);
          cache.caches[t] = stepCache;
          state = next;
        }
        finalH.push(state.h);
        if (state.c !== null) finalC.push(state.c);
        directions.push(cache);
      }
      layers.push({ input: layerInput, directions, inputMask });
      inputMask = null;
      if (layer < this.numLayers - 1 && this.training && this.dropout > 0) {
        // Drawn in torch's layout [L, N, D·H], used in ours.
        inputMask = transpose(this.dropoutMask([steps, batch, D * H]), [0, 2, 1]);
        layerInput = mul(output, inputMask);
      } else {
        layerInput = output;
      }
    }
    this.#layers = layers;
    const toStateShape = (states: NDArray[]): NDArray => transpose(stack(states, 0), [0, 2, 1]).reshape(stateShape);
    this.finalState = this.#cell.hasCellState ? { h: toStateShape(finalH), c: toStateShape(finalC) } : { h: toStateShape(finalH) };
    this.initialStateGrad = undefined;
    const outputShape = unbatched ? [steps, D * H] : batchFirst ? [batch, steps, D * H] : [steps, batch, D * H];
    this.#pass = { steps, batch, unbatched, hxGiven: options.hx !== undefined, outputShape, stateShape };
    return transpose(layerInput, batchFirst ? [2, 0, 1] : [0, 2, 1]).reshape(outputShape);
  }

  /**
   * Backpropagation through time: given dLoss/dOutput (and, in
   * `finalStateGrad`, dLoss/dh_n and dLoss/dc_n), adds every parameter's
   * gradient, sets `initialStateGrad` when forward was given `hx`, and returns
   * dLoss/dInput.
   */
  override backward(outputGrad: NDArray): NDArray;
  override backward(outputGrad: NDArray, options?: RecurrentBackwardOptions): NDArray | undefined;
  override backward(outputGrad: NDArray, options: RecurrentBackwardOptions = {}): NDArray | undefined {
    const op = `${this.label()}.backward`;
    checkOptions(op, options, ['finalStateGrad', 'inputGrad', 'into']);
    const grad = checkOutputGrad(this.label(), outputGrad, this.#pass?.outputShape, this.dtype);
    const pass = this.#pass!;
    const layers = this.#layers!;
    const { steps, batch, unbatched } = pass;
    const batchFirst = this.batchFirst && !unbatched;
    const H = this.hiddenSize;
    const D = this.directions;
    const G = this.#cell.gates * H;
    const finalGrad = this.finalStateGrads(op, options.finalStateGrad, pass.stateShape, batch);
    const wantInputGrad = options.inputGrad !== false;

    // dLoss/d(layer output), transposed as the layer keeps it: [L, D·H, N].
    let layerGrad = transpose(unbatched ? grad.reshape([steps, 1, D * H]) : grad, batchFirst ? [1, 2, 0] : [0, 2, 1]);
    let inputGrad: NDArray | undefined;
    const initialGrads = new Array<CellState>(D * this.numLayers);
    for (let layer = this.numLayers - 1; layer >= 0; layer--) {
      const { input, directions, inputMask } = layers[layer];
      let dInput: NDArray | undefined;
      for (let direction = 0; direction < D; direction++) {
        const k = layer * D + direction;
        const w = this.#weights[k];
        const hidden = this.hiddenWeights(w);
        const cache = directions[direction];
        // Each step writes its gradients into its own block: no concatenation afterwards.
        const dProjection = zeros([steps, G, batch], { dtype: this.dtype });
        const dHidden = this.#cell.separateHiddenGrad ? zeros([steps, G, batch], { dtype: this.dtype }) : null;
        let state: CellState = { h: finalGrad.h[k], c: finalGrad.c === null ? null : finalGrad.c[k] };
        for (let s = steps - 1; s >= 0; s--) {
          const t = direction === 0 ? s : steps - 1 - s;
          const dh = add(state.h, rows(item(layerGrad, t), direction * H, (direction + 1) * H));
          state = this.#cell.backward(
            cache.caches[t],
            cache.previous[t],
            { h: dh, c: state.c },
            hidden,
            item(dProjection, t),
            dHidden === null ? null : item(dHidden, t),
          );
        }
        initialGrads[k] = state;
        // dW_ih += Σ_t dP_t·x_tᵀ, db_ih, db_hh and dx for all steps at once.
        gemm(dProjection, input, { transB: true, out: w.weightIh.grad, beta: 1 });
        if (w.biasIh !== null && w.biasHh !== null) {
          const dBiasIh = sum(dProjection, [0, 2]);
          add(w.biasIh.grad, dBiasIh, w.biasIh.grad);
          add(w.biasHh.grad, dHidden === null ? dBiasIh : sum(dHidden, [0, 2]), w.biasHh.grad);
        }
        if (layer > 0 || wantInputGrad) {
          dInput =
            dInput === undefined
              ? gemm(w.weightIh.value, dProjection, { transA: true })
              : gemm(w.weightIh.value, dProjection, { transA: true, out: dInput, beta: 1 });
        }
      }
      if (layer > 0) layerGrad = inputMask === null ? dInput! : mul(dInput!, inputMask);
      else inputGrad = dInput;
    }
    if (pass.hxGiven) {
      const toStateShape = (states: NDArray[]): NDArray => transpose(stack(states, 0), [0, 2, 1]).reshape(pass.stateShape);
      const h = toStateShape(initialGrads.map((g) => g.h));
      this.initialStateGrad = this.#cell.hasCellState ? { h, c: toStateShape(initialGrads.map((g) => g.c!)) } : { h };
    }
    if (inputGrad === undefined) return undefined;
    const inputShape = unbatched ? [steps, this.inputSize] : batchFirst ? [batch, steps, this.inputSize] : [steps, batch, this.inputSize];
    return transpose(inputGrad, batchFirst ? [2, 0, 1] : [0, 2, 1]).reshape(inputShape);
  }

  private hiddenWeights(w: DirectionWeights): HiddenWeights {
    const bias = w.biasHh === null ? null : w.biasHh.value.reshape([w.biasHh.value.size, 1]);
    return { weight: w.weightHh.value, weightGrad: w.weightHh.grad, bias };
  }

  /** The initial state of each layer and direction, transposed ([H, N] each), from `hx` or zeros. */
  private initialStates(hx: unknown, stateShape: number[], batch: number): CellState[] {
    const op = this.label();
    const count = this.directions * this.numLayers;
    const lstm = this.#cell.hasCellState;
    const zero = (): NDArray => zeros([this.hiddenSize, batch], { dtype: this.dtype });
    if (hx === undefined) return Array.from({ length: count }, () => ({ h: zero(), c: lstm ? zero() : null }));
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
      return transpose(array.reshape([count, batch, this.hiddenSize]), [0, 2, 1]);
    };
    const h3 = check(lstm ? 'hx.h' : 'hx', h);
    const c3 = lstm ? check('hx.c', c) : null;
    return Array.from({ length: count }, (_, k) => ({ h: item(h3, k), c: c3 === null ? null : item(c3, k) }));
  }

  /** dLoss/dh_n (and dc_n) per layer and direction, transposed ([H, N] each), zeros where not given. */
  private finalStateGrads(
    op: string,
    given: RecurrentBackwardOptions['finalStateGrad'],
    stateShape: number[],
    batch: number,
  ): { h: NDArray[]; c: NDArray[] | null } {
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
    const split = (name: string, value: NDArray | undefined): NDArray[] => {
      if (value === undefined) return Array.from({ length: count }, () => zeros([this.hiddenSize, batch], { dtype: this.dtype }));
      const array = checkArrayArg(op, name, value);
      if (!shapesEqual(array.shape, stateShape)) {
        throw new ShapeError(`${op}: ${name} has shape ${formatShape(array.shape)}, expected the final state's shape ${formatShape(stateShape)}`);
      }
      checkDTypeMatch(op, name, array, this.dtype);
      const transposed = transpose(array.reshape([count, batch, this.hiddenSize]), [0, 2, 1]);
      return Array.from({ length: count }, (_, k) => item(transposed, k));
    };
    return { h: split('finalStateGrad.h', given?.h), c: lstm ? split('finalStateGrad.c', given?.c) : null };
  }

  /**
   * A dropout mask for a layer's output as `Dropout` draws it (torch's CPU
   * `bernoulli_(1 − p)` then `div_(1 − p)`): one float64 uniform per element,
   * kept where u < 1 − p, kept entries scaled by 1 / (1 − p) in the dtype.
   */
  private dropoutMask(shape: readonly number[]): NDArray {
    const mask = zeros(shape, { dtype: this.dtype });
    if (this.dropout === 1) return mask; // torch draws nothing for p = 1
    const keep = 1 - this.dropout;
    const scale = this.dtype === 'float32' ? Math.fround(1 / Math.fround(keep)) : 1 / keep;
    const u = fillUniform(zeros(shape, { dtype: 'float64' }), 0, 1, this.rng);
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
export class RNN extends RecurrentBase<NDArray, NDArray> {
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    const nonlinearity = checkChoice(`RNN(${describe(inputSize)}, ${describe(hiddenSize)})`, 'nonlinearity', orDefault(options?.nonlinearity, 'tanh'), ['tanh', 'relu'] as const);
    super(nonlinearity === 'tanh' ? 'RNN_TANH' : 'RNN_RELU', inputSize, hiddenSize, options, [...RECURRENT_OPTIONS, 'nonlinearity']);
    this.nonlinearity = nonlinearity;
  }

  protected createCell(): RecurrentCell<NDArray> {
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
export class LSTM extends RecurrentBase<LSTMState, LstmCache> {
  constructor(inputSize: number, hiddenSize: number, options: LSTMOptions = {}) {
    const op = `LSTM(${describe(inputSize)}, ${describe(hiddenSize)})`;
    const projSize = options?.projSize;
    if (projSize !== undefined && projSize !== 0) {
      throw new ValueError(`${op}: projSize ${describe(projSize)} is not supported (torch's LSTM projections are not implemented); use projSize: 0`);
    }
    super('LSTM', inputSize, hiddenSize, options, [...RECURRENT_OPTIONS, 'projSize']);
  }

  protected createCell(): RecurrentCell<LstmCache> {
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
export class GRU extends RecurrentBase<NDArray, GruCache> {
  constructor(inputSize: number, hiddenSize: number, options: GRUOptions = {}) {
    super('GRU', inputSize, hiddenSize, options, RECURRENT_OPTIONS);
  }

  protected createCell(): RecurrentCell<GruCache> {
    return gruCell(this.hiddenSize);
  }

  override get typeName(): string {
    return this.namedAs(GRU, 'GRU');
  }
}
