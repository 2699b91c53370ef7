export type { Generator } from './generator';
export { NumpyRandomState } from './numpy';
export { TorchGenerator, defaultGenerator, manualSeed, randperm } from './torch';
