import type { TypedArray } from '../dtype';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum';
export type UnaryOp =
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'abs'
  | 'tanh'
  | 'sigmoid'
  | 'relu'
  | 'square'
  | 'sign';
export type ReduceOp = 'sum' | 'max' | 'min';

/**
 * The hot loops every package runs, over raw typed arrays. Callers have checked
 * shapes and dtypes already: a backend only computes. A faster backend (WASM
 * SIMD, threads) implements this interface and is installed with `setBackend`.
 */
export interface Backend {
  readonly name: string;

  /**
   * C = op(A)·op(B) (or C += op(A)·op(B) when `accumulate`), row-major,
   * op(A) m×k, op(B) k×n, C m×n.
   * A is stored m×k, or k×m when `transA`; B is k×n, or n×k when `transB`.
   */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: TypedArray,
    aOffset: number,
    b: TypedArray,
    bOffset: number,
    c: TypedArray,
    cOffset: number,
    accumulate: boolean,
  ): void;

  /** out[i] = a[...] op b[...] over `shape`, each operand read through its (broadcast) strides. */
  binary(
    op: BinaryOp,
    shape: readonly number[],
    a: TypedArray,
    aStrides: readonly number[],
    b: TypedArray,
    bStrides: readonly number[],
    out: TypedArray,
  ): void;

  /** out[i] = f(a[i]) over contiguous arrays of the same length (out may be a). */
  unary(op: UnaryOp, a: TypedArray, out: TypedArray): void;

  /**
   * ReLU's backward pass from its output: out[i] = output[i] > 0 ? grad[i] : 0
   * (torch's `threshold_backward(grad, output, 0)`), over contiguous arrays of
   * one length and dtype (out may be grad).
   */
  reluBackward(grad: TypedArray, output: TypedArray, out: TypedArray): void;

  /** out[i] = min(max(a[i], lo), hi). */
  clip(a: TypedArray, lo: number, hi: number, out: TypedArray): void;

  /**
   * Reduces the middle axis of `a` viewed as [outer, axis, inner] into out [outer, inner].
   */
  reduce(
    op: ReduceOp,
    a: TypedArray,
    outer: number,
    axis: number,
    inner: number,
    out: TypedArray,
  ): void;

  /** Index of the first maximum along the middle axis of [outer, axis, inner]. */
  argReduce(
    op: 'argmax' | 'argmin',
    a: TypedArray,
    outer: number,
    axis: number,
    inner: number,
    out: Int32Array,
  ): void;
}
