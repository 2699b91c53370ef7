/**
 * The one launcher of the kernels that visit elements independently
 * (elementwise maps, optimizer updates, gathers, convolution unfolding and
 * pooling): a body of WGSL run for every i < n, 256 invocations to a
 * workgroup, each taking 4 elements 256 apart so that neighbouring
 * invocations touch neighbouring memory.
 */
import type { NDArray } from '@backprop/ndarray';
import { type GpuRuntime, type Param, groupsFor } from '../runtime';

const GROUP = 256;
const ITEMS = 4;

/** One launch: the arrays and scalars as `GpuRuntime.run` takes them, the count and the body. */
export interface ForEachSpec {
  label: string;
  inputs?: Record<string, NDArray>;
  outputs: Record<string, NDArray>;
  elementTypes?: Record<string, string>;
  params?: Record<string, Param>;
  /** Elements to visit: the body runs for i = 0 … n − 1. */
  n: number;
  /** WGSL statements for element `i` (a u32). */
  body: string;
  /** WGSL declared before `main` (functions the body calls). */
  prelude?: string;
}

/**
 * Runs `body` for every i < n: a workgroup of 256 invocations covers 1024
 * consecutive elements, each invocation four of them 256 apart, so that
 * neighbouring invocations touch neighbouring elements.
 */
export function forEach(gpu: GpuRuntime, spec: ForEachSpec): void {
  const { n } = spec;
  if (n === 0) return;
  const code = `${spec.prelude ?? ''}
@compute @workgroup_size(${GROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let first = groupIndex(wid, nwg) * ${GROUP * ITEMS}u + lid;
  for (var item = 0u; item < ${ITEMS}u; item++) {
    let i = first + item * ${GROUP}u;
    if (i >= params.n) { return; }
${spec.body}
  }
}`;
  gpu.run({
    label: spec.label,
    inputs: spec.inputs,
    outputs: spec.outputs,
    elementTypes: spec.elementTypes,
    params: { n: ['u32', n], ...spec.params },
    code,
    workgroups: groupsFor(n, GROUP * ITEMS),
  });
}

/**
 * WGSL that splits `index` into coordinates over `sizes` (the last fastest)
 * and adds coordinate·stride of each dimension to each named offset, sizes
 * and strides passed as parameters `<prefix><d>` and `<offset><d>`.
 */
export function decompose(
  index: string,
  prefix: string,
  sizes: readonly number[],
  offsets: Record<string, readonly number[]>,
  params: Record<string, Param>,
): string {
  const lines = [`  var ${prefix}rest = ${index};`];
  for (const name of Object.keys(offsets)) lines.push(`  var ${name} = 0u;`);
  for (let d = sizes.length - 1; d >= 0; d--) {
    params[`${prefix}${d}`] = ['u32', sizes[d]];
    lines.push(`  let ${prefix}c${d} = ${prefix}rest % params.${prefix}${d};`, `  ${prefix}rest = ${prefix}rest / params.${prefix}${d};`);
    for (const [name, strides] of Object.entries(offsets)) {
      if (strides[d] === 0) continue;
      params[`${name}${d}`] = ['u32', strides[d]];
      lines.push(`  ${name} += ${prefix}c${d} * params.${name}${d};`);
    }
  }
  return lines.join('\n');
}
