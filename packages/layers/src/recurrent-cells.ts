/**
 * The cells of the recurrent layers (internal): one time step of an Elman RNN,
 * an LSTM or a GRU, forward and backward, for a batch of N sequences, written
 * in `@backprop/ndarray` ops, as `aten/src/ATen/native/RNN.cpp`'s cells.
 *
 * The layer (`rnn.ts`) keeps every state transposed, [H, N] (a column per
 * sequence), so that a step's gates are row blocks of one [G·H, N] array,
 * each contiguous: the cells read and write them through views (`narrow`, on
 * any backend), never copying a gate out. The layer computes the input
 * projection of every step at once (W_ih·x + b_ih, one gemm per layer and
 * direction) and hands each step its [G·H, N] block; the cell adds the hidden
 * projection W_hh·h + b_hh (one gemm) and applies the gates in torch's order.
 *
 * A cell allocates nothing: every array it writes is a view of the layer's
 * buffers for the whole sequence ({@link CellStep}) or of its backward
 * scratch ({@link CellGrads}), which the layer reuses from pass to pass.
 */
import {
  add,
  copyInto,
  gemm,
  mul,
  type NDArray,
  narrow,
  reluBackward,
  sigmoid,
  sigmoidBackward,
  sub,
  tanh,
  tanhBackward,
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
 * One step's arrays: views, at step t, of the layer's buffers for the whole
 * sequence of one layer and direction. Forward writes them; backward reads
 * them (they are what backward needs of the step).
 */
export interface CellStep {
  /** [G·H, N]: W_ih·x_t + b_ih when forward starts; the gates after their activations when it ends (the RNN leaves it). */
  gates: NDArray;
  /** [S, N], S the cell's `savedRows`: what else backward needs (the LSTM's c′ and tanh(c′), the GRU's W_hh·h + b_hh). */
  saved: NDArray;
  /** [H, N]: the new h, a view of the layer's output. */
  h: NDArray;
}

/** Where a step's backward writes. */
export interface CellGrads {
  /** [G·H, N]: dLoss/dp for the step's p = W_ih·x_t + b_ih, overwritten. */
  gates: NDArray;
  /** [G·H, N]: dLoss/d(W_hh·h + b_hh), overwritten, for a cell whose `separateHiddenGrad`; null otherwise. */
  hidden: NDArray | null;
  /** [H, N] scratch. */
  scratch: NDArray;
}

/**
 * One kind of recurrent cell.
 *
 * `forward` reads the previous state and the step's input projection
 * (`step.gates`) and writes the step's gates, saved arrays and new h;
 * `state(step)` is the state after it (views of the step).
 *
 * `backward` receives dLoss/d(state after the step) in `grad` ([H, N] each),
 * writes dLoss/dp into `grads.gates` (and, for a cell whose hidden
 * projection's gradient differs from it, the GRU's, dLoss/d(W_hh·h + b_hh)
 * into `grads.hidden`), adds dW_hh into `weights.weightGrad` (gemm with
 * beta = 1), and overwrites `grad` with dLoss/d(previous state).
 */
export interface RecurrentCell {
  /** Gates per hidden unit: 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n). */
  readonly gates: number;
  /** Rows per step the cell saves for backward besides its gates: 0 (RNN), 2·H (LSTM: c′, tanh c′), 3·H (GRU: W_hh·h + b_hh). */
  readonly savedRows: number;
  /** Whether the state has a cell state c (LSTM). */
  readonly hasCellState: boolean;
  /** Whether dLoss/d(W_hh·h + b_hh) differs from dLoss/dp (the GRU's r ⊙ (W_hn·h + b_hn)). */
  readonly separateHiddenGrad: boolean;
  state(step: CellStep): CellState;
  forward(step: CellStep, previous: CellState, weights: HiddenWeights): void;
  backward(step: CellStep, previous: CellState, grad: CellState, weights: HiddenWeights, grads: CellGrads): void;
}

/**
 * dW_hh += d·h_prevᵀ and dh_prev = W_hhᵀ·d, added onto `dh` (`accumulate`) or
 * overwriting it, for d = dLoss/d(W_hh·h + b_hh) [G·H, N].
 */
function hiddenBackward(grad: NDArray, previous: NDArray, weights: HiddenWeights, dh: NDArray, accumulate: boolean): void {
  gemm(grad, previous, { transB: true, out: weights.weightGrad, beta: 1 });
  gemm(weights.weight, grad, { transA: true, out: dh, beta: accumulate ? 1 : 0 });
}

/** h′ = act(p + W_hh·h + b_hh), act tanh or relu, as `torch.nn.RNN`. */
export function elmanCell(nonlinearity: 'tanh' | 'relu'): RecurrentCell {
  return {
    gates: 1,
    savedRows: 0,
    hasCellState: false,
    separateHiddenGrad: false,
    state: (step) => ({ h: step.h, c: null }),
    forward({ gates, h }, previous, weights) {
      copyInto(h, gates);
      gemm(weights.weight, previous.h, { bias: weights.bias ?? undefined, out: h, beta: 1, activation: nonlinearity });
    },
    backward({ h }, previous, grad, weights, grads) {
      // relu′(0) = 0 and tanh′ = 1 − h², both read off the output, as torch.
      if (nonlinearity === 'tanh') tanhBackward(grad.h, h, grads.gates);
      else reluBackward(grad.h, h, grads.gates);
      hiddenBackward(grads.gates, previous.h, weights, grad.h, false);
    },
  };
}

/**
 * torch's LSTM step: gates = p + W_hh·h + b_hh, split as i, f, g, o;
 * i, f, o = σ(·), g = tanh(·); c′ = f ⊙ c + i ⊙ g; h′ = o ⊙ tanh(c′).
 * Saves c′ and tanh(c′), stacked.
 */
export function lstmCell(hidden: number): RecurrentCell {
  const H = hidden;
  /** Gate k's rows of a [4H, N] block (or the saved array's k-th [H, N] part). */
  const part = (a: NDArray, k: number): NDArray => narrow(a, k * H, H);
  return {
    gates: 4,
    savedRows: 2 * H,
    hasCellState: true,
    separateHiddenGrad: false,
    state: (step) => ({ h: step.h, c: part(step.saved, 0) }),
    forward({ gates, saved, h }, previous, weights) {
      gemm(weights.weight, previous.h, { bias: weights.bias ?? undefined, out: gates, beta: 1 });
      const i = sigmoid(part(gates, 0), part(gates, 0));
      const f = sigmoid(part(gates, 1), part(gates, 1));
      const g = tanh(part(gates, 2), part(gates, 2));
      const o = sigmoid(part(gates, 3), part(gates, 3));
      const c = part(saved, 0);
      const tanhC = part(saved, 1);
      mul(f, previous.c!, c);
      add(c, mul(i, g, tanhC), c); // tanhC holds i ⊙ g until it is computed
      tanh(c, tanhC);
      mul(o, tanhC, h);
    },
    backward({ gates, saved }, previous, grad, weights, grads) {
      const dh = grad.h;
      const dC = grad.c!;
      const tanhC = part(saved, 1);
      const dO = part(grads.gates, 3);
      sigmoidBackward(mul(dh, tanhC, dO), part(gates, 3), dO);
      // dc = dc′ (from the next step, or c_n's gradient) + dh′ ⊙ o ⊙ (1 − tanh²c′).
      add(tanhBackward(mul(dh, part(gates, 3), grads.scratch), tanhC, grads.scratch), dC, dC);
      const [i, f, g] = [part(gates, 0), part(gates, 1), part(gates, 2)];
      const [dI, dF, dG] = [part(grads.gates, 0), part(grads.gates, 1), part(grads.gates, 2)];
      sigmoidBackward(mul(dC, g, dI), i, dI);
      sigmoidBackward(mul(dC, previous.c!, dF), f, dF);
      tanhBackward(mul(dC, i, dG), g, dG);
      mul(dC, f, dC); // dc_prev
      hiddenBackward(grads.gates, previous.h, weights, dh, false);
    },
  };
}

/**
 * torch's GRU step: r = σ(p_r + h_r), z = σ(p_z + h_z),
 * n = tanh(p_n + r ⊙ (W_hn·h + b_hn)), h′ = (h − n) ⊙ z + n (= (1 − z) ⊙ n + z ⊙ h),
 * where p_· are the rows of p and h_· those of W_hh·h + b_hh, which it saves.
 */
export function gruCell(hidden: number): RecurrentCell {
  const H = hidden;
  const part = (a: NDArray, k: number): NDArray => narrow(a, k * H, H);
  return {
    gates: 3,
    savedRows: 3 * H,
    hasCellState: false,
    separateHiddenGrad: true,
    state: (step) => ({ h: step.h, c: null }),
    forward({ gates, saved: hh, h }, previous, weights) {
      gemm(weights.weight, previous.h, { bias: weights.bias ?? undefined, out: hh });
      const rz = narrow(gates, 0, 2 * H);
      sigmoid(add(rz, narrow(hh, 0, 2 * H), rz), rz);
      const [r, z, n] = [part(gates, 0), part(gates, 1), part(gates, 2)];
      tanh(add(n, mul(r, part(hh, 2), h), n), n); // h holds r ⊙ hn until h′ is computed
      mul(sub(previous.h, n, h), z, h);
      add(h, n, h);
    },
    backward({ gates, saved: hh }, previous, grad, weights, grads) {
      const dh = grad.h;
      const [r, z, n] = [part(gates, 0), part(gates, 1), part(gates, 2)];
      const [dR, dZ, dN] = [part(grads.gates, 0), part(grads.gates, 1), part(grads.gates, 2)];
      const scratch = grads.scratch;
      tanhBackward(mul(dh, sub(1, z, scratch), dN), n, dN); // dLoss/d(p_n + r ⊙ hn)
      sigmoidBackward(mul(dh, sub(previous.h, n, scratch), dZ), z, dZ);
      sigmoidBackward(mul(dN, part(hh, 2), dR), r, dR);
      const dHidden = grads.hidden!;
      copyInto(narrow(dHidden, 0, 2 * H), narrow(grads.gates, 0, 2 * H));
      mul(dN, r, part(dHidden, 2));
      // dh_prev = dh′ ⊙ z (the direct path) + W_hhᵀ·d(hh).
      mul(dh, z, dh);
      hiddenBackward(dHidden, previous.h, weights, dh, true);
    },
  };
}
