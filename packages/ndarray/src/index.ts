export { NDArray, isNDArray, type NestedArray } from './ndarray';
export { type DType, type TypedArray, DTYPES } from './dtype';
export {
  ShapeError,
  DTypeError,
  ValueError,
  formatShape,
  checkOptions,
  checkBoolean,
  checkChoice,
  checkNumber,
  describe,
} from './errors';
export { broadcastShapes, sizeOf, shapesEqual, type Shape } from './shape';
export {
  array,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  fullLike,
  arange,
  linspace,
  eye,
  rand,
  randn,
  uniform,
  type ArrayOptions,
  type DTypeOptions,
  type RandomOptions,
} from './creation';
export {
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  neg,
  exp,
  log,
  sqrt,
  abs,
  square,
  sign,
  tanh,
  sigmoid,
  relu,
  reluBackward,
  clip,
} from './ops/elementwise';
export type { Operand } from './ops/operand';
export { matmul, gemm, type GemmOptions } from './ops/matmul';
export { sum, mean, max, min, argmax, argmin, logSumExp, type Axis } from './ops/reduce';
export {
  reshape,
  flatten,
  transpose,
  permute,
  expandDims,
  squeeze,
  slice,
  take,
  index,
  concat,
  stack,
} from './ops/transform';
export { allclose, maxAbsDiff, type CloseOptions } from './ops/compare';
export { checkFinite, checkSameShape, unravelIndex } from './validate';
export { Parameter } from './parameter';
export { fma, fmaf } from './fma';
export {
  encodeSafetensors,
  decodeSafetensors,
  SafetensorsError,
  type IntTensor,
  type Tensor,
  type DecodedSafetensors,
} from './safetensors';
export {
  type Generator,
  TorchGenerator,
  NumpyRandomState,
  defaultGenerator,
  manualSeed,
  randperm,
} from './random/index';
export {
  getBackend,
  setBackend,
  jsBackend,
  wasmBackend,
  createWasmBackend,
  getNumThreads,
  setNumThreads,
  type WasmBackendOptions,
  type Backend, type BinaryOp, type UnaryOp, type ReduceOp } from './kernels/index';
