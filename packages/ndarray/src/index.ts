export { NDArray, isNDArray, type NestedArray } from './ndarray';
export { type DType, type FloatDType, type TypedArray, type FloatArray, DTYPES } from './dtype';
export type { DeviceStorage, Storage } from './storage';
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
  equal,
  notEqual,
  less,
  lessEqual,
  greater,
  greaterEqual,
  where,
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
  leakyRelu,
  clip,
  reluBackward,
  tanhBackward,
  sigmoidBackward,
  leakyReluBackward,
  copyInto,
} from './ops/elementwise';
export type { Operand } from './ops/operand';
export { matmul, gemm, type GemmOptions } from './ops/matmul';
export {
  sum,
  mean,
  max,
  min,
  argmax,
  argmin,
  logSumExp,
  variance,
  vectorNorm,
  type Axis,
  type VarianceOptions,
} from './ops/reduce';
export {
  softmax,
  logSoftmax,
  softmaxBackward,
  logSoftmaxBackward,
  layerNorm,
  layerNormBackward,
  type LayerNormResult,
} from './ops/normalize';
export {
  conv2dGeometry,
  convOutputSize,
  im2col,
  col2im,
  pool2dGeometry,
  poolOutputSize,
  poolOutputShape,
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  type Conv2dWindow,
  type Pool2dWindow,
} from './ops/conv';
export { nllLoss, nllLossBackward, type NllLossOptions } from './ops/nll';
export { fillUniform, fillNormal } from './ops/random';
export { sgdStep, adamStep, rmspropStep, adagradStep } from './ops/optimizers';
export {
  reshape,
  flatten,
  transpose,
  permute,
  expandDims,
  squeeze,
  slice,
  take,
  indexAdd,
  gather,
  scatterAdd,
  index,
  concat,
  stack,
} from './ops/transform';
export { allclose, maxAbsDiff, type CloseOptions } from './ops/compare';
export { checkFinite, checkRange, checkSameShape, firstNonFinite, firstOutside, unravelIndex } from './validate';
export { Parameter } from './parameter';
export { Slot } from './slot';
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
  type Backend,
  type Kernels,
  type KernelArgs,
  type KernelName,
  type GemmProblem,
  type GemmActivation,
  type Conv2dGeometry,
  type Pool2dGeometry,
  type AvgPoolDivisor,
  KernelError,
  getBackend,
  setBackend,
  registerBackend,
  registerKernel,
  findBackend,
  listBackends,
  jsBackend,
  typescriptKernels,
  wasmBackend,
  createWasmBackend,
  getNumThreads,
  setNumThreads,
  type WasmBackendOptions,
} from './kernels/index';
export type {
  AdagradStepArgs,
  AdamStepArgs,
  RmspropStepArgs,
  SgdStepArgs,
} from './kernels/types';
