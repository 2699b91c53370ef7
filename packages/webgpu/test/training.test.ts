/** Training steps on the WebGPU backend in Node equal the CPU backend's (the cases are in ./training/cases.ts). */
import { describe, it } from 'vitest';
import { trainingSuite } from './training/cases';
import { webgpu } from './gpu';

trainingSuite(await webgpu(), { describe, it });
