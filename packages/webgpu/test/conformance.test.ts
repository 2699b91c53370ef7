/**
 * The conformance suite of @backprop/ndarray, every kernel's cases, run on
 * the WebGPU backend in Node (Dawn from the `webgpu` package). The GPU
 * computes in float32 only and rounds its built-in functions within a few
 * units in the last place, so results are held to 2⁻¹⁹·(1 + |expected|)
 * (absolute below 1, relative above) where the host backends are held to the
 * bit (test/accuracy.test.ts checks the small tails relatively); subnormals and infinities inside
 * built-in functions are the hardware's, so random inputs skip them (NaN
 * propagation is still checked where the cases spell it out).
 */
import { conformanceSuite } from '@backprop/ndarray/test';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { GPU_CONFORMANCE } from '../src/index';
import { webgpu } from './gpu';

const backend = await webgpu();

describe('every kernel on the webgpu backend', () => conformanceSuite(backend, { describe, it, beforeAll, afterAll }, GPU_CONFORMANCE));
