/**
 * The machinery every WebGPU kernel shares: a pool of buffers, compiled
 * pipelines cached by their WGSL, and one command encoder that collects
 * dispatches until something needs the queue (a read, a write, or a full
 * batch). A kernel describes one dispatch as a record, {@link KernelSpec}: the
 * arrays it reads and writes by the names its WGSL uses, its scalar
 * parameters, its WGSL body and how many workgroups to launch; `run` declares
 * the bindings, binds the arrays and encodes it.
 */
import { type DType, DTypeError, type NDArray, type TypedArray, ValueError } from '@backprop/ndarray';
import { BYTES, GpuStorage, type PooledBuffer, checkGpuDType, hostArray } from './storage';

// GPUBufferUsage and GPUMapMode by value, so nothing here needs the WebGPU globals installed.
const MAP_READ = 0x0001;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const UNIFORM = 0x0040;
const STORAGE = 0x0080;
const MAP_MODE_READ = 0x0001;

/** The most workgroups one dimension of a dispatch may have (WebGPU's guaranteed limit). */
const MAX_GROUPS_PER_DIMENSION = 65535;
/** Checks left for the next read before their answers are read in the background. */
const CHECKS_PER_ANSWER = 256;
/** Dispatches collected before the encoder is submitted without being asked. */
const BATCH = 64;

/** A scalar parameter of a kernel: its WGSL type and value. */
export type Param = readonly ['u32' | 'i32' | 'f32', number];

/** One dispatch of a kernel. */
export interface KernelSpec {
  /** Names the kernel in error messages. */
  label: string;
  /** Arrays the kernel reads, by the names its WGSL uses (`var<storage, read>`). */
  inputs?: Record<string, NDArray>;
  /** Arrays the kernel writes, and may read (`var<storage, read_write>`). */
  outputs: Record<string, NDArray>;
  /**
   * A binding's WGSL element type where it is not the array's own (`f32` for
   * float32, `i32` for int32): `atomic<u32>` to add into an output atomically.
   */
  elementTypes?: Record<string, string>;
  /** Scalars, as the fields of `params` in the WGSL (`params.n`). */
  params?: Record<string, Param>;
  /**
   * The WGSL after the generated declarations; it defines
   * `@compute @workgroup_size(...) fn main(...)`. `groupIndex(wid, nwg)`
   * (the linear index of a workgroup) is declared for it.
   */
  code: string;
  /** Workgroups to launch: a count (spread over x and y past 65535) or [x, y, z]. */
  workgroups: number | readonly [number, number, number];
}

/** A check that ran on the device found a bad value (reported at the read after it). */
export class DeviceCheckError extends Error {
  override name = 'DeviceCheckError';
}

/** What the buffers of a backend hold right now, in bytes and buffers. */
export interface GpuMemory {
  /** Buffers that back live arrays (or a kernel's scratch). */
  bytesInUse: number;
  buffersInUse: number;
  /** Buffers returned by collected arrays, kept for the next array of their size. */
  bytesPooled: number;
  buffersPooled: number;
}

/** The WGSL scalar an array of `dtype` holds on the GPU. */
export function wgslType(dtype: DType): 'i32' | 'f32' {
  return dtype === 'int32' ? 'i32' : 'f32';
}

/** Splits a count of workgroups over x and y, as each dimension is limited to 65535. */
export function spreadGroups(count: number): [number, number, number] {
  if (count <= MAX_GROUPS_PER_DIMENSION) return [count, 1, 1];
  const y = Math.ceil(count / MAX_GROUPS_PER_DIMENSION);
  if (y > MAX_GROUPS_PER_DIMENSION) throw new ValueError(`webgpu: ${count} workgroups is more than one dispatch can launch`);
  return [MAX_GROUPS_PER_DIMENSION, y, 1];
}

/** Workgroups of `size` invocations that cover `n` items, at least one. */
export function groupsFor(n: number, size: number): number {
  return Math.max(1, Math.ceil(n / size));
}

/** A check's answer on the device (−1, or the index of the first bad value) and the error it makes. */
interface PendingCheck {
  result: GpuStorage;
  message: (index: number) => string;
}

interface Bound {
  name: string;
  array: NDArray;
  storage: GpuStorage;
  write: boolean;
}

export class GpuRuntime {
  private readonly pool = new Map<number, GPUBuffer[]>();
  private readonly pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>();
  private readonly collected: FinalizationRegistry<PooledBuffer>;
  private encoder: GPUCommandEncoder | undefined;
  private batched = 0;
  private uniforms: GPUBuffer[] = [];
  private deviceError: Error | undefined;
  private checks: PendingCheck[] = [];
  /** Answers of earlier batches of checks, read in the background, awaited by the next read. */
  private answers: Promise<string | undefined>[] = [];
  private readonly stats = { bytesInUse: 0, buffersInUse: 0, bytesPooled: 0, buffersPooled: 0 };

  constructor(
    readonly name: string,
    readonly device: GPUDevice,
    /** Where the device came from, kept alive with it. */
    readonly gpu?: GPU,
  ) {
    this.collected = new FinalizationRegistry((pooled) => this.release(pooled));
    device.lost.then((info) => {
      this.deviceError ??= new Error(`webgpu: the device was lost (${info.reason}): ${info.message}; create a new backend`);
    });
    device.addEventListener('uncapturederror', (event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      this.deviceError ??= new Error(`webgpu: the device reported an error: ${error.message}`);
    });
  }

  /** Zero-filled storage for `length` elements of `dtype`, freed into the pool when collected. */
  allocate(dtype: DType, length: number): GpuStorage {
    checkGpuDType('webgpu', dtype);
    const reused = this.pool.get(this.bytesFor(length))?.length ?? 0;
    const pooled = this.acquire(length * BYTES);
    // A new buffer is zero; a reused one is cleared, in order with the work around it.
    if (reused > 0) this.commands().clearBuffer(pooled.buffer);
    const storage = new GpuStorage(this, dtype, length, pooled);
    this.collected.register(storage, pooled);
    return storage;
  }

  memory(): GpuMemory {
    return { ...this.stats };
  }

  /** Destroys the pooled buffers; returns the bytes freed. */
  releasePool(): number {
    const freed = this.stats.bytesPooled;
    // Buffers of the pending batch's scratch may be among them: submit it first.
    this.flush();
    for (const free of this.pool.values()) for (const buffer of free) buffer.destroy();
    this.pool.clear();
    this.stats.bytesPooled = 0;
    this.stats.buffersPooled = 0;
    return freed;
  }

  /** Runs one kernel: binds its arrays (all of this runtime's storage), its parameters, and encodes the dispatch. */
  run(spec: KernelSpec): void {
    const bound: Bound[] = [];
    for (const [name, array] of Object.entries(spec.inputs ?? {})) bound.push({ name, array, storage: this.storageOf(spec.label, name, array), write: false });
    for (const [name, array] of Object.entries(spec.outputs)) bound.push({ name, array, storage: this.storageOf(spec.label, name, array), write: true });
    const paramEntries = Object.entries(spec.params ?? {});

    const declarations = bound.map(
      (b, i) => `@group(0) @binding(${i}) var<storage, ${b.write ? 'read_write' : 'read'}> ${b.name}: array<${spec.elementTypes?.[b.name] ?? wgslType(b.array.dtype)}>;`,
    );
    const fields = paramEntries.length === 0 ? ['unused: u32,'] : paramEntries.map(([name, [type]]) => `${name}: ${type},`);
    const code = [
      ...declarations,
      `struct Params { ${fields.join(' ')} }`,
      `@group(0) @binding(${bound.length}) var<uniform> params: Params;`,
      'fn groupIndex(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + nwg.x * (wid.y + nwg.y * wid.z); }',
      spec.code,
    ].join('\n');
    const { pipeline, layout } = this.pipeline(spec.label, code, bound.map((b) => b.write));

    const encoder = this.commands();
    const scratch: PooledBuffer[] = [];
    const copyBack: [PooledBuffer, GpuStorage][] = [];
    const outputs = bound.filter((b) => b.write).map((b) => b.storage);
    const entries: GPUBindGroupEntry[] = bound.map((b, i) => {
      const { storage } = b;
      if (storage.length === 0) {
        // A binding may not be empty, and two bindings of one buffer may not include a writable one: a scratch word each.
        const word = this.acquire(BYTES);
        scratch.push(word);
        return { binding: i, resource: { buffer: word.buffer } };
      }
      const bytes = storage.length * BYTES;
      const aligned = (storage.offset * BYTES) % this.device.limits.minStorageBufferOffsetAlignment === 0;
      // An input that shares memory with an output is read from a copy: a dispatch may not bind a buffer both ways.
      const aliased = !b.write && outputs.some((o) => o.pooled === storage.pooled);
      if (aligned && !aliased) return { binding: i, resource: { buffer: storage.buffer, offset: storage.offset * BYTES, size: bytes } };
      const copy = this.acquire(bytes);
      scratch.push(copy);
      encoder.copyBufferToBuffer(storage.buffer, storage.offset * BYTES, copy.buffer, 0, bytes);
      if (b.write) copyBack.push([copy, storage]);
      return { binding: i, resource: { buffer: copy.buffer, offset: 0, size: bytes } };
    });
    entries.push({ binding: bound.length, resource: { buffer: this.uniformBuffer(paramEntries) } });

    const pass = encoder.beginComputePass({ label: spec.label });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.device.createBindGroup({ label: spec.label, layout, entries }));
    const [x, y, z] = typeof spec.workgroups === 'number' ? spreadGroups(spec.workgroups) : spec.workgroups;
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    for (const [copy, storage] of copyBack) encoder.copyBufferToBuffer(copy.buffer, 0, storage.buffer, storage.offset * BYTES, storage.length * BYTES);
    // Later work that takes a scratch buffer from the pool is encoded after this dispatch, so it may go back now.
    for (const copy of scratch) this.release(copy);
    if (++this.batched >= BATCH) this.flush();
  }

  /** Copies `length` elements between two storages (a view's range included). */
  copy(from: GpuStorage, to: GpuStorage): void {
    if (from.length === 0) return;
    const bytes = from.length * BYTES;
    const encoder = this.commands();
    if (from.pooled !== to.pooled) {
      encoder.copyBufferToBuffer(from.buffer, from.offset * BYTES, to.buffer, to.offset * BYTES, bytes);
      return;
    }
    // A copy may not read and write one buffer, even between ranges apart: through a scratch buffer.
    const scratch = this.acquire(bytes);
    encoder.copyBufferToBuffer(from.buffer, from.offset * BYTES, scratch.buffer, 0, bytes);
    encoder.copyBufferToBuffer(scratch.buffer, 0, to.buffer, to.offset * BYTES, bytes);
    this.release(scratch);
  }

  /** Submits the dispatches collected so far. */
  flush(): void {
    if (this.encoder === undefined) return;
    this.device.queue.submit([this.encoder.finish()]);
    for (const buffer of this.uniforms) buffer.destroy();
    this.uniforms = [];
    this.encoder = undefined;
    this.batched = 0;
  }

  /**
   * Leaves a check for the next read: `result` (one int32 element, written by
   * a kernel) holds −1, or an index that `message` turns into the error that
   * read rejects with. A GPU cannot answer a check synchronously, so a bad
   * value surfaces at the next `toHost()` or `synchronize()`, as a CUDA
   * device-side assert does in PyTorch.
   */
  deferCheck(result: GpuStorage, message: (index: number) => string): void {
    this.checks.push({ result, message });
    // A loop that reads rarely would keep every answer alive: past a batch of them, they are read in the background.
    if (this.checks.length >= CHECKS_PER_ANSWER) this.answers.push(this.answer(this.takeChecks()));
  }

  /** Waits until the GPU has finished everything submitted; rethrows an error the device reported or a failed check. */
  async synchronize(): Promise<void> {
    await this.read(undefined);
  }

  /**
   * A host copy of a storage's elements (none without one), after every
   * kernel encoded before this call; rejects with the first device error or
   * failed check since the last read, each reported once.
   */
  read(storage: GpuStorage): Promise<TypedArray>;
  read(storage: undefined): Promise<undefined>;
  async read(storage: GpuStorage | undefined): Promise<TypedArray | undefined> {
    const answers = [...this.answers, this.answer(this.takeChecks())];
    this.answers = [];
    const bytes = (storage?.length ?? 0) * BYTES;
    const staging = bytes === 0 ? undefined : this.device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
    if (storage !== undefined && staging !== undefined) this.commands().copyBufferToBuffer(storage.buffer, storage.offset * BYTES, staging, 0, bytes);
    this.flush();
    const out = storage === undefined ? undefined : hostArray(storage.dtype, storage.length);
    try {
      const [failures] = await Promise.all([Promise.all(answers), staging?.mapAsync(MAP_MODE_READ), this.device.queue.onSubmittedWorkDone()]);
      if (out !== undefined && staging !== undefined) new Uint8Array(out.buffer).set(new Uint8Array(staging.getMappedRange()));
      this.throwDeviceError();
      const failure = failures.find((message) => message !== undefined);
      if (failure !== undefined) throw new DeviceCheckError(failure);
    } finally {
      staging?.destroy();
    }
    return out;
  }

  private takeChecks(): PendingCheck[] {
    const checks = this.checks;
    this.checks = [];
    return checks;
  }

  /** Reads the answers of `checks` (in the order of the work): the message of the first that found a value, if any. */
  private async answer(checks: PendingCheck[]): Promise<string | undefined> {
    if (checks.length === 0) return undefined;
    const staging = this.device.createBuffer({ size: checks.length * BYTES, usage: MAP_READ | COPY_DST });
    const encoder = this.commands();
    checks.forEach(({ result }, i) => {
      encoder.copyBufferToBuffer(result.buffer, result.offset * BYTES, staging, i * BYTES, BYTES);
    });
    this.flush();
    try {
      await staging.mapAsync(MAP_MODE_READ);
      const found = new Int32Array(staging.getMappedRange());
      const failed = found.findIndex((index) => index >= 0);
      return failed < 0 ? undefined : checks[failed].message(found[failed]);
    } finally {
      staging.destroy();
    }
  }

  /** Overwrites a storage's elements with host values, after every kernel encoded before this call. */
  write(storage: GpuStorage, values: TypedArray): void {
    if (storage.length === 0) return;
    // queue.writeBuffer runs before anything not yet submitted, so submit first to keep the program's order.
    this.flush();
    if (values instanceof Float64Array) throw new DTypeError('webgpu: float64 values cannot be written to the GPU; convert them to float32 first');
    this.device.queue.writeBuffer(storage.buffer, storage.offset * BYTES, values.buffer, values.byteOffset, storage.length * BYTES);
  }

  /** Throws the first error the device reported since the last one thrown (each is reported once). */
  private throwDeviceError(): void {
    const error = this.deviceError;
    if (error === undefined) return;
    this.deviceError = undefined;
    throw error;
  }

  private storageOf(label: string, name: string, array: NDArray): GpuStorage {
    const storage = array.storage;
    if (storage instanceof GpuStorage && storage.runtime === this) return storage;
    throw new ValueError(`webgpu ${label}: '${name}' does not live on this WebGPU backend (got ${array.dtype} storage of another backend)`);
  }

  private commands(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  /**
   * The pipeline of `code`, compiled once, with its bind group layout written out (storage bindings read-only or
   * read-write as `writes` says, then the uniform `params`): an 'auto' layout would drop a binding the WGSL never reads.
   */
  private pipeline(label: string, code: string, writes: boolean[]): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
    let compiled = this.pipelines.get(code);
    if (compiled === undefined) {
      const COMPUTE = 0x4; // GPUShaderStage.COMPUTE
      const entries: GPUBindGroupLayoutEntry[] = writes.map((write, binding) => ({
        binding,
        visibility: COMPUTE,
        buffer: { type: write ? 'storage' : 'read-only-storage' },
      }));
      entries.push({ binding: writes.length, visibility: COMPUTE, buffer: { type: 'uniform' } });
      const layout = this.device.createBindGroupLayout({ label, entries });
      const module = this.device.createShaderModule({ label, code });
      const pipeline = this.device.createComputePipeline({
        label,
        layout: this.device.createPipelineLayout({ label, bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: 'main' },
      });
      compiled = { pipeline, layout };
      this.pipelines.set(code, compiled);
    }
    return compiled;
  }

  private uniformBuffer(params: [string, Param][]): GPUBuffer {
    const size = Math.max(16, Math.ceil((params.length * 4) / 16) * 16);
    const buffer = this.device.createBuffer({ size, usage: UNIFORM, mappedAtCreation: true });
    const words = new DataView(buffer.getMappedRange());
    params.forEach(([name, [type, value]], i) => {
      if (type === 'f32') words.setFloat32(i * 4, value, true);
      else if (type === 'i32') words.setInt32(i * 4, value, true);
      else if (Number.isInteger(value) && value >= 0 && value < 2 ** 32) words.setUint32(i * 4, value, true);
      else throw new ValueError(`webgpu: parameter '${name}' must be a u32, got ${value}`);
    });
    buffer.unmap();
    this.uniforms.push(buffer);
    return buffer;
  }

  private bytesFor(length: number): number {
    return Math.max(BYTES, length * BYTES);
  }

  private acquire(requested: number): PooledBuffer {
    const bytes = Math.max(BYTES, requested);
    const free = this.pool.get(bytes);
    let buffer = free?.pop();
    if (buffer !== undefined) {
      this.stats.bytesPooled -= bytes;
      this.stats.buffersPooled--;
    } else {
      if (bytes > this.device.limits.maxStorageBufferBindingSize) {
        throw new ValueError(
          `webgpu: an array of ${bytes} bytes is larger than this device binds (maxStorageBufferBindingSize ${this.device.limits.maxStorageBufferBindingSize})`,
        );
      }
      buffer = this.device.createBuffer({ size: bytes, usage: STORAGE | COPY_SRC | COPY_DST });
    }
    this.stats.bytesInUse += bytes;
    this.stats.buffersInUse++;
    return { buffer, bytes };
  }

  private release(pooled: PooledBuffer): void {
    const { buffer, bytes } = pooled;
    let free = this.pool.get(bytes);
    if (free === undefined) {
      free = [];
      this.pool.set(bytes, free);
    }
    free.push(buffer);
    this.stats.bytesInUse -= bytes;
    this.stats.buffersInUse--;
    this.stats.bytesPooled += bytes;
    this.stats.buffersPooled++;
  }
}
