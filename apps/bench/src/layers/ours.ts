import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BackwardOptions, ForwardOptions, NeuralLayer } from '@backprop/layers';
import { NDArray, TorchGenerator, randn } from '@backprop/ndarray';
import { type CallTiming, forceGc, now, timePerCall } from '../stats';
import type { LayerCase, LayerClass } from './cases';

/** Float64 sums of a first pass, [Σ v, Σ |v|] each: both sides report them, so the bench can check they computed the same thing. */
export interface PassSums {
  output: [number, number];
  /** Absent for integer inputs (Embedding's indices). */
  inputGrad?: [number, number];
  /** Over every parameter's gradient. */
  parameterGrads: [number, number];
}

/** One side's measurement of one case. */
export interface SideTiming extends CallTiming {
  sums: PassSums;
}

/** Where the layer classes come from: a class by name, or the reason there is none. */
export interface LayerSource {
  description: string;
  find(className: string): LayerClass | string;
}

type Exports = Record<string, unknown>;
const isClass = (value: unknown): value is LayerClass => typeof value === 'function';

/** The built package, as every app imports it: what `index.ts` exports. */
export async function distSource(): Promise<LayerSource> {
  const mod = (await import('@backprop/layers')) as Exports;
  return {
    description: '@backprop/layers from its built dist',
    find: (className) =>
      isClass(mod[className])
        ? mod[className]
        : `@backprop/layers does not export ${className} (not landed yet, not in index.ts, or its dist not rebuilt)`,
  };
}

/**
 * Every module of `packages/layers/src`, imported through tsx: the working
 * tree's layers, exported from index.ts or not yet, without a build. A file
 * that does not import (being edited) is named in the reason of a class it
 * might have held.
 */
export async function sourceSource(srcDir: string): Promise<LayerSource> {
  const modules: Exports[] = [];
  const failed: string[] = [];
  for (const file of readdirSync(srcDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort()) {
    try {
      modules.push((await import(pathToFileURL(join(srcDir, file)).href)) as Exports);
    } catch (error) {
      failed.push(`${file} (${(error as Error).message.replace(/\s+/g, ' ').slice(0, 160)})`);
    }
  }
  return {
    description: `the sources in ${srcDir} (through tsx, unbuilt)`,
    find(className) {
      const found = modules.find((m) => isClass(m[className]));
      if (found) return found[className] as LayerClass;
      return `no module of packages/layers/src exports ${className}${failed.length > 0 ? `; these did not import: ${failed.join(', ')}` : ''}`;
    },
  };
}

/** The indices (31·i + 7) mod high, int32, in the given shape: the same on both sides, no generator involved. */
export function benchIndices(shape: readonly number[], high: number): NDArray {
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Int32Array(count);
  for (let i = 0; i < count; i++) data[i] = (i * 31 + 7) % high;
  return new NDArray(data, shape);
}

function sumsOf(a: NDArray): [number, number] {
  const d = a.data;
  let s = 0;
  let abs = 0;
  for (let i = 0; i < d.length; i++) {
    s += d[i];
    abs += Math.abs(d[i]);
  }
  return [s, abs];
}

/**
 * Times our forward + backward of one case: the layer built from
 * `TorchGenerator(seed)`, then the input and the output gradient drawn from
 * it (what torch_layers.py draws after `torch.manual_seed(seed)`); one call is
 * `y = layer.forward(x); layer.backward(g)` (the input gradient and every
 * parameter's, added into `grad` as in training), returning new arrays as a
 * user's call does. The first pass's sums are kept for the check; that pass
 * is the first warm-up call.
 */
export function timeOursCase(c: LayerCase, Cls: LayerClass): SideTiming {
  const rng = new TorchGenerator(c.seed);
  const layer: NeuralLayer = c.make(Cls, rng);
  if (c.train) layer.train();
  else layer.eval();
  const indices = c.input.indices !== undefined;
  const x = indices ? benchIndices(c.input.shape, c.input.indices!) : randn(c.input.shape, { rng });
  const forwardOptions = (c.call === 'causal-self-attention' ? { isCausal: true } : undefined) as ForwardOptions | undefined;
  // Integer indices have no gradient: torch computes none either.
  const backwardOptions: BackwardOptions | undefined = indices ? { inputGrad: false } : undefined;

  const t = now();
  const y = layer.forward(x, forwardOptions);
  const g = randn(y.shape, { rng });
  const dx = layer.backward(g, backwardOptions);
  const firstMs = now() - t;
  const grads = layer.parameters().map((p) => sumsOf(p.grad));
  const sums: PassSums = {
    output: sumsOf(y),
    parameterGrads: [grads.reduce((s, v) => s + v[0], 0), grads.reduce((s, v) => s + v[1], 0)],
  };
  if (dx) sums.inputGrad = sumsOf(dx);

  forceGc();
  // The checked pass is the first warm-up call.
  const timing = timePerCall(
    () => {
      layer.forward(x, forwardOptions);
      layer.backward(g, backwardOptions);
    },
    c.plan,
    { calls: 1, ms: firstMs },
  );
  return { ...timing, sums };
}
