/**
 * The cells of the recurrent layers (internal): one time step of an Elman RNN,
 * an LSTM or a GRU, forward and backward, for a batch of N sequences, written
 * in `@backprop/ndarray` ops, as `aten/src/ATen/native/RNN.cpp`'s cells.
 *
 * The layer (`rnn.ts`) keeps every state transposed, [H, N] (a column per
 * sequence), so that a step's gates are row blocks of one [G·H, N] array,
 * each contiguous: the cells read and write them through views ({@link rows}),
 * never copying a gate out. The layer computes the input projection of every
 * step at once (W_ih·x + b_ih, one gemm per layer and direction) and hands each
 * step its [G·H, N] block; the cell adds the hidden projection W_hh·h + b_hh
 * (one gemm) and applies the gates in torch's order.
 */
import {
  add,
  copyInto,
  formatShape,
  gemm,
  mul,
  NDArray,
  reluBackward,
  sigmoid,
  sigmoidBackward,
  sub,
  tanh,
  tanhBackward,
  ValueError,
} from '@backprop/ndarray';

/** torch's `mode` of an `RNNBase`: which cell the layer runs. */
export type RecurrentMode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

/** The state between steps, transposed: h [H, N], and the LSTM's cell state c [H, N] (null for RNN and GRU). */
export interface CellState {
  h: NDArray;
  c: NDArray | null;
}

/** The hidden-to-hidden weights of one layer and direction, with their gradient. */
export interface HiddenWeights {
  /** weight_hh [G·H, H]. */
  weight: NDArray;
  weightGrad: NDArray;
  /** bias_hh as a column [G·H, 1], or null without biases. */
  bias: NDArray | null;
}

/**
 * One kind of recurrent cell.
 *
 * `forward` receives this step's input projection `p` = W_ih·x_t + b_ih
 * ([G·H, N], the layer's own block, which the cell may overwrite) and the
 * previous state; it writes the new h into `hOut` ([H, N]) and returns the
 * next state (whose `h` is `hOut`) and what backward needs.
 *
 * `backward` receives dLoss/d(next state), writes dLoss/dp into `inputGrad`
 * ([G·H, N], overwritten), and, for a cell whose hidden projection's gradient
 * differs from it (the GRU: `separateHiddenGrad`), dLoss/d(W_hh·h + b_hh) into
 * `hiddenGrad`; adds dW_hh into `weights.weightGrad` (gemm with beta = 1) and
 * returns dLoss/d(previous state).
 */
export interface RecurrentCell<Cache> {
  /** Gates per hidden unit: 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n). */
  readonly gates: number;
  /** Whether the state has a cell state c (LSTM). */
  readonly hasCellState: boolean;
  /** Whether dLoss/d(W_hh·h + b_hh) differs from dLoss/dp (the GRU's r ⊙ (W_hn·h + b_hn)). */
  readonly separateHiddenGrad: boolean;
  forward(p: NDArray, previous: CellState, weights: HiddenWeights, hOut: NDArray): { next: CellState; cache: Cache };
  backward(
    cache: Cache,
    previous: CellState,
    nextGrad: CellState,
    weights: HiddenWeights,
    inputGrad: NDArray,
    hiddenGrad: NDArray | null,
  ): CellState;
}

/**
 * Rows [start, end) of a contiguous array whose first axis is rows (any rank,
 * `a.shape[0]` rows), as a view: writes through it reach `a`. Host memory
 * only, since a view is a window on the host typed array.
 */
export function rows(a: NDArray, start: number, end: number): NDArray {
  const storage = a.storage;
  if (!ArrayBuffer.isView(storage)) {
    throw new ValueError(
      `recurrent layers: a view of rows ${start}..${end} of ${formatShape(a.shape)} needs host memory; this backend keeps arrays on a device`,
    );
  }
  const rowSize = a.shape[0] === 0 ? 0 : a.size / a.shape[0];
  const view = (storage as Float32Array | Float64Array).subarray(start * rowSize, end * rowSize);
  return new NDArray(view, [end - start, ...a.shape.slice(1)]);
}

/** Item `i` of the first axis as a view (shape `a.shape.slice(1)`), for `a` of rank ≥ 2. */
export function item(a: NDArray, i: number): NDArray {
  return rows(a, i, i + 1).reshape(a.shape.slice(1));
}

/** dh_prev = W_hhᵀ·d (+ `into`'s value) and dW_hh += d·h_prevᵀ, for d = dLoss/d(W_hh·h + b_hh) [G·H, N]. */
function hiddenBackward(grad: NDArray, previous: NDArray, weights: HiddenWeights, into?: NDArray): NDArray {
  gemm(grad, previous, { transB: true, out: weights.weightGrad, beta: 1 });
  return into === undefined
    ? gemm(weights.weight, grad, { transA: true })
    : gemm(weights.weight, grad, { transA: true, out: into, beta: 1 });
}

/** h′ = act(p + W_hh·h + b_hh), act tanh or relu, as `torch.nn.RNN`. */
export function elmanCell(nonlinearity: 'tanh' | 'relu'): RecurrentCell<NDArray> {
  return {
    gates: 1,
    hasCellState: false,
    separateHiddenGrad: false,
    forward(p, previous, weights, hOut) {
      copyInto(hOut, p);
      gemm(weights.weight, previous.h, { bias: weights.bias ?? undefined, out: hOut, beta: 1, activation: nonlinearity });
      return { next: { h: hOut, c: null }, cache: hOut };
    },
    backward(h, previous, nextGrad, weights, inputGrad) {
      // relu′(0) = 0 and tanh′ = 1 − h², both read off the output, as torch.
      if (nonlinearity === 'tanh') tanhBackward(nextGrad.h, h, inputGrad);
      else reluBackward(nextGrad.h, h, inputGrad);
      return { h: hiddenBackward(inputGrad, previous.h, weights), c: null };
    },
  };
}

/** The LSTM step's activations (views of its gate block), and tanh of the new cell state. */
export interface LstmCache {
  i: NDArray;
  f: NDArray;
  g: NDArray;
  o: NDArray;
  tanhC: NDArray;
}

/**
 * torch's LSTM step: gates = p + W_hh·h + b_hh, split as i, f, g, o;
 * i, f, o = σ(·), g = tanh(·); c′ = f ⊙ c + i ⊙ g; h′ = o ⊙ tanh(c′).
 */
export function lstmCell(hidden: number): RecurrentCell<LstmCache> {
  const H = hidden;
  return {
    gates: 4,
    hasCellState: true,
    separateHiddenGrad: false,
    forward(p, previous, weights, hOut) {
      gemm(weights.weight, previous.h, { bias: weights.bias ?? undefined, out: p, beta: 1 });
      const i = sigmoid(rows(p, 0, H), rows(p, 0, H));
      const f = sigmoid(rows(p, H, 2 * H), rows(p, H, 2 * H));
      const g = tanh(rows(p, 2 * H, 3 * H), rows(p, 2 * H, 3 * H));
      const o = sigmoid(rows(p, 3 * H, 4 * H), rows(p, 3 * H, 4 * H));
      const c = mul(f, previous.c!);
      add(c, mul(i, g), c);
      const tanhC = tanh(c);
      const h = mul(o, tanhC, hOut);
      return { next: { h, c }, cache: { i, f, g, o, tanhC } };
    },
    backward({ i, f, g, o, tanhC }, previous, nextGrad, weights, inputGrad) {
      const dh = nextGrad.h;
      const dI = rows(inputGrad, 0, H);
      const dF = rows(inputGrad, H, 2 * H);
      const dG = rows(inputGrad, 2 * H, 3 * H);
      const dO = rows(inputGrad, 3 * H, 4 * H);
      sigmoidBackward(mul(dh, tanhC, dO), o, dO);
      // dc = dc′ (from the next step, or c_n's gradient) + dh′ ⊙ o ⊙ (1 − tanh²c′).
      const dC = tanhBackward(mul(dh, o), tanhC);
      if (nextGrad.c !== null) add(dC, nextGrad.c, dC);
      sigmoidBackward(mul(dC, g, dI), i, dI);
      sigmoidBackward(mul(dC, previous.c!, dF), f, dF);
      tanhBackward(mul(dC, i, dG), g, dG);
      const dCPrevious = mul(dC, f, dC);
      return { h: hiddenBackward(inputGrad, previous.h, weights), c: dCPrevious };
    },
  };
}

/** The GRU step's gates r, z, n (views of its gate block) and the hidden projection's n rows W_hn·h + b_hn. */
export interface GruCache {
  r: NDArray;
  z: NDArray;
  n: NDArray;
  hn: NDArray;
}

/**
 * torch's GRU step: r = σ(p_r + h_r), z = σ(p_z + h_z),
 * n = tanh(p_n + r ⊙ (W_hn·h + b_hn)), h′ = (h − n) ⊙ z + n (= (1 − z) ⊙ n + z ⊙ h),
 * where p_· are the rows of p and h_· those of W_hh·h + b_hh.
 */
export function gruCell(hidden: number): RecurrentCell<GruCache> {
  const H = hidden;
  return {
    gates: 3,
    hasCellState: false,
    separateHiddenGrad: true,
    forward(p, previous, weights, hOut) {
      const hh = gemm(weights.weight, previous.h, { bias: weights.bias ?? undefined });
      const rz = rows(p, 0, 2 * H);
      sigmoid(add(rz, rows(hh, 0, 2 * H), rz), rz);
      const r = rows(p, 0, H);
      const z = rows(p, H, 2 * H);
      const n = rows(p, 2 * H, 3 * H);
      const hn = rows(hh, 2 * H, 3 * H);
      tanh(add(n, mul(r, hn), n), n);
      const h = mul(sub(previous.h, n, hOut), z, hOut);
      add(h, n, h);
      return { next: { h, c: null }, cache: { r, z, n, hn } };
    },
    backward({ r, z, n, hn }, previous, nextGrad, weights, inputGrad, hiddenGrad) {
      const dh = nextGrad.h;
      const dR = rows(inputGrad, 0, H);
      const dZ = rows(inputGrad, H, 2 * H);
      const dN = rows(inputGrad, 2 * H, 3 * H);
      tanhBackward(mul(dh, sub(1, z), dN), n, dN); // dLoss/d(p_n + r ⊙ hn)
      sigmoidBackward(mul(dh, sub(previous.h, n), dZ), z, dZ);
      sigmoidBackward(mul(dN, hn, dR), r, dR);
      const hiddenRows = hiddenGrad!;
      copyInto(rows(hiddenRows, 0, 2 * H), rows(inputGrad, 0, 2 * H));
      mul(dN, r, rows(hiddenRows, 2 * H, 3 * H));
      // dh_prev = dh′ ⊙ z (the direct path) + W_hhᵀ·d(hh).
      return { h: hiddenBackward(hiddenRows, previous.h, weights, mul(dh, z)), c: null };
    },
  };
}

