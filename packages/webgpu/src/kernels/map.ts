/**
 * One generator for every elementwise kernel: out[i] = expression of the
 * inputs' elements at i, each input broadcast (numpy rules) to out's shape.
 * An input of out's size is read at i, a one-element input at 0, any other
 * through its broadcast strides, which the kernel receives as parameters.
 */
import { type NDArray, broadcastStrides } from '@backprop/ndarray';
import type { GpuRuntime, Param } from '../runtime';
import type { GpuStorage } from '../storage';
import { MATH } from '../wgsl';
import { decompose, forEach } from './launch';

export interface MapSpec {
  label: string;
  /** Inputs by name; the expression reads each element as that name. */
  inputs: Record<string, NDArray>;
  out: NDArray;
  /** A WGSL expression of the inputs' names (and `params.<name>`), of out's element type. */
  expression: string;
  /** Scalars the expression reads as `params.<name>`. */
  params?: Record<string, Param>;
}

/** Encodes out[i] = expression for every element of out. */
export function map(runtime: GpuRuntime, spec: MapSpec): void {
  const { out } = spec;
  const n = out.size;
  if (n === 0) return;
  const params: Record<string, Param> = { ...spec.params };
  const inputs: Record<string, NDArray> = {};
  const loads: string[] = [];
  /** Per broadcast input, the strides that turn out's coordinates into its offset. */
  const offsets: Record<string, number[]> = {};
  for (const [name, array] of Object.entries(spec.inputs)) {
    // In place (out is this input, element for element): read it through out's binding, not a copy of it.
    if (array.storage === out.storage || (array.size === n && (array.storage as GpuStorage).sameElements(out.storage as GpuStorage))) {
      loads.push(`  let ${name} = out[i];`);
      continue;
    }
    const binding = `in_${name}`;
    inputs[binding] = array;
    let index = 'i';
    if (array.size === 1) index = '0u';
    else if (array.size !== n) {
      index = `${name}_at`;
      offsets[index] = broadcastStrides(array.shape, out.shape);
    }
    loads.push(`  let ${name} = ${binding}[${index}];`);
  }
  const coordinates = Object.keys(offsets).length === 0 ? [] : [decompose('i', 'd', out.shape, offsets, params)];
  forEach(runtime, {
    label: spec.label,
    inputs,
    outputs: { out },
    params,
    n,
    prelude: MATH,
    body: [...coordinates, ...loads, `  out[i] = ${spec.expression};`].join('\n'),
  });
}
