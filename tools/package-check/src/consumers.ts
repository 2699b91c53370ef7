/**
 * What a user's code does with each package, as small programs: typed
 * consumers for `tsc`, and a training run for ESM and CJS.
 */

/**
 * A TypeScript consumer per package. Each uses the types for real and holds one
 * `@ts-expect-error`, so a package whose types failed to load (everything `any`)
 * fails the check instead of passing it.
 */
export const typedConsumers: Record<string, string> = {
  '@backprop/ndarray': `import { type DType, type NDArray, Parameter, array, matmul } from '@backprop/ndarray';

const dtype: DType = 'float64';
const product: NDArray = matmul(array([[1, 2]], { dtype }), array([[3], [4]], { dtype }));
const weight = new Parameter(product, 'weight');
export const gradShape: readonly number[] = weight.grad.shape;
// @ts-expect-error: float16 is not a dtype of this package
export const wrong: DType = 'float16';
`,
  '@backprop/layers': `import { decodeSafetensors, encodeSafetensors, zeros } from '@backprop/ndarray';
import { Linear, type NeuralLayer, ReLU, Sequential } from '@backprop/layers';

const model: NeuralLayer = new Sequential(new Linear(4, 8, { bias: true }), new ReLU(), new Linear(8, 1));
export const shape: readonly number[] = model.forward(zeros([2, 4])).shape;
// A decoded tensor goes straight into a layer, unnarrowed, under strict.
const { tensors } = decodeSafetensors(encodeSafetensors({ x: zeros([2, 4]), ...model.stateDict() }));
export const decoded: readonly number[] = model.forward(tensors['x']).shape;
model.loadStateDict(tensors, { strict: false });
export const names: string[] = model.parameters().map((p) => p.name);
// @ts-expect-error: Linear has no option "biass"
export const wrong = new Linear(4, 8, { biass: true });
`,
  '@backprop/losses': `import { array } from '@backprop/ndarray';
import { CrossEntropyLoss, MSELoss } from '@backprop/losses';

export const value: number = new MSELoss({ reduction: 'sum' }).forward(array([1, 2]), array([0, 0]));
export const ce = new CrossEntropyLoss({ labelSmoothing: 0.1 });
// @ts-expect-error: under 'none' forward returns the per-element losses, an NDArray
export const wrong: number = new MSELoss({ reduction: 'none' }).forward(array([1, 2]), array([0, 0]));
`,
  '@backprop/optimizers': `import { Parameter, zeros } from '@backprop/ndarray';
import { SGD, StepLR } from '@backprop/optimizers';

const weight = new Parameter(zeros([2]), 'weight');
const opt = new SGD([weight], { lr: 0.1, momentum: 0.9 });
new StepLR(opt, { stepSize: 10 }).step();
export const lr: number = opt.lr;
// @ts-expect-error: lr is a number
export const wrong = new SGD([weight], { lr: '0.1' });
`,
  '@backprop/data': `import { type NDArray, TorchGenerator, randn } from '@backprop/ndarray';
import { type Batch, DataLoader, TensorDataset, type TrainableModel, randomSplit, trainStep } from '@backprop/data';
import { type Digits, prepareDigits } from '@backprop/data/mnist';
import { loadDigits } from '@backprop/data/mnist/node';
import { Vocabulary, encodeNames } from '@backprop/data/names';
import { loadNames } from '@backprop/data/names/node';

const data = new TensorDataset(randn([10, 3]), new Int32Array(10));
const [train] = randomSplit(data, [8, 2], { rng: new TorchGenerator(0) });
const loader = new DataLoader(train, { batchSize: 4, shuffle: true, rng: new TorchGenerator(1) });
export const first: Batch<Int32Array> | undefined = [...loader][0];
const model: TrainableModel = { forward: (x: NDArray) => x, backward: () => undefined };
export const step = () =>
  trainStep(model, { forward: (_p: NDArray, _t: Int32Array) => 0, backward: () => randn([4, 3]) }, { step() {}, zeroGrad() {}, lr: 0.1 }, randn([4, 3]), new Int32Array(4), { epoch: 1, step: 1 });
export const digits = (): Digits => prepareDigits(loadDigits()).train;
export const rows = (): NDArray => {
  const names = loadNames();
  return encodeNames(names, Vocabulary.of(names), 16).x;
};
// @ts-expect-error: batchSize is a number
export const wrong = new DataLoader(data, { batchSize: '4' });
`,
  '@backprop/onnx': `import { Linear, ReLU, Sequential } from '@backprop/layers';
import { type ExportOnnxOptions, type LayerExporter, exportOnnx, exporter } from '@backprop/onnx';

const options: ExportOnnxOptions = { inputShape: [4], opset: 18 };
export const bytes: Uint8Array = exportOnnx(new Sequential(new Linear(4, 8), new ReLU()), options);
const relu: LayerExporter<ReLU> = (graph, _layer, input) => graph.op('Relu', [input]);
export const entry = exporter(ReLU, relu);
// @ts-expect-error: opset 11 is not one this package writes
export const wrong: ExportOnnxOptions = { inputShape: [4], opset: 11 };
`,
  // Type-checked only: nothing here runs (there is no GPU where the checks run). GPU, GPUDevice and
  // GPUPowerPreference come from @webgpu/types, which the package's .d.ts references.
  '@backprop/webgpu': `import { setBackend } from '@backprop/ndarray';
import { type WebGpuBackend, type WebGpuBackendOptions, GPU_CONFORMANCE, createWebGpuBackend } from '@backprop/webgpu';

const options: WebGpuBackendOptions = { powerPreference: 'high-performance', name: 'gpu' };
export async function start(gpu: GPU): Promise<WebGpuBackend> {
  const backend = await createWebGpuBackend({ ...options, gpu });
  setBackend(backend);
  return backend;
}
export const device = (backend: WebGpuBackend): GPUDevice => backend.device;
export const inUse = async (backend: WebGpuBackend): Promise<number> => {
  await backend.synchronize();
  return backend.memory().bytesInUse;
};
export const floats: readonly 'float32'[] = GPU_CONFORMANCE.floats;
// @ts-expect-error: 'fast' is not a GPUPowerPreference
export const wrong: WebGpuBackendOptions = { powerPreference: 'fast' };
`,
};

/**
 * The libs a package's consumer compiles with besides es2022. WebGPU's types
 * (`@webgpu/types`) are written against the DOM's (`EventTarget`,
 * `BufferSource`, `ImageBitmap`), as every project that uses WebGPU has
 * them: a browser project, or one with TypeScript's default libs.
 */
export const consumerLibs: Record<string, readonly string[]> = {
  '@backprop/webgpu': ['dom'],
};

/**
 * What @backprop/webgpu does where there is no WebGPU (Node without the
 * `webgpu` package): its exports load, and `createWebGpuBackend()`
 * rejects with @backprop/ndarray's ValueError, saying what to do. Prints it as JSON.
 */
const noGpuBody = `
let error;
try {
  await webgpu.createWebGpuBackend();
} catch (caught) {
  error = { valueError: caught instanceof ndarray.ValueError, message: caught.message };
}
console.log(JSON.stringify({ floats: webgpu.GPU_CONFORMANCE.floats, error }));
`;

/** That run as an ES module. */
export const noGpuEsm = `import * as ndarray from '@backprop/ndarray';
import * as webgpu from '@backprop/webgpu';
${noGpuBody}`;

/** The same, as CommonJS (in an async function: a .cjs file has no top-level await). */
export const noGpuCjs = `'use strict';
const ndarray = require('@backprop/ndarray');
const webgpu = require('@backprop/webgpu');
(async () => {${noGpuBody}})();
`;

/** The body of the training run; `lib` holds the four packages' exports. */
const trainingBody = `
manualSeed(0);
const model = new Sequential(new Linear(4, 16), new Tanh(), new Linear(16, 1));
const x = randn([64, 4]);
const y = sum(x, 1, true); // learn the sum of the inputs
const lossFn = new MSELoss();
const opt = new Adam(model.parameters(), { lr: 0.02 });
const losses = [];
for (let step = 0; step < 30; step++) {
  const loss = lossFn.forward(model.forward(x), y);
  model.backward(lossFn.backward(), { inputGrad: false });
  opt.step();
  opt.zeroGrad();
  losses.push(loss);
}
console.log(JSON.stringify(losses));
`;

const names = {
  ndarray: 'manualSeed, randn, sum',
  layers: 'Linear, Sequential, Tanh',
  losses: 'MSELoss',
  optimizers: 'Adam',
};

/** A tiny Sequential trained for a few steps, as an ES module; prints the losses as JSON. */
export const trainEsm = `${Object.entries(names)
  .map(([pkg, list]) => `import { ${list} } from '@backprop/${pkg}';`)
  .join('\n')}
${trainingBody}`;

/** The same run, as CommonJS. */
export const trainCjs = `'use strict';
${Object.entries(names)
  .map(([pkg, list]) => `const { ${list} } = require('@backprop/${pkg}');`)
  .join('\n')}
${trainingBody}`;

/**
 * The same kind of model trained through @backprop/data: a TensorDataset, a
 * shuffling DataLoader, trainStep and evaluate, with the other packages'
 * classes passed in where it only knows their shape. Prints the losses of
 * every step and the final accuracy as JSON.
 */
const dataTrainingBody = `
const rng = new TorchGenerator(0);
const x = randn([96, 4], { rng });
const labels = Int32Array.from({ length: 96 }, (_, i) => (x.data[i * 4] + x.data[i * 4 + 1] > 0 ? 1 : 0));
const [train, test] = randomSplit(new TensorDataset(x, labels), [64, 32], { rng });
const model = new Sequential(new Linear(4, 16, { rng }), new Tanh(), new Linear(16, 2, { rng }));
const lossFn = new CrossEntropyLoss();
const opt = new Adam(model.parameters(), { lr: 0.02 });
const loader = new DataLoader(train, { batchSize: 16, shuffle: true, rng });
const losses = [];
for (let epoch = 1; epoch <= 8; epoch++) {
  let step = 0;
  for (const batch of loader) losses.push(trainStep(model, lossFn, opt, batch.x, batch.y, { epoch, step: ++step }).loss);
}
const { accuracy } = evaluate(model, test, { lossFn: new CrossEntropyLoss({ reduction: 'sum' }) });
console.log(JSON.stringify({ losses, accuracy }));
`;

const dataNames = {
  ndarray: 'TorchGenerator, randn',
  layers: 'Linear, Sequential, Tanh',
  losses: 'CrossEntropyLoss',
  optimizers: 'Adam',
  data: 'DataLoader, TensorDataset, evaluate, randomSplit, trainStep',
};

/** The @backprop/data training run as an ES module. */
export const trainDataEsm = `${Object.entries(dataNames)
  .map(([pkg, list]) => `import { ${list} } from '@backprop/${pkg}';`)
  .join('\n')}
${dataTrainingBody}`;

/** The same run, as CommonJS. */
export const trainDataCjs = `'use strict';
${Object.entries(dataNames)
  .map(([pkg, list]) => `const { ${list} } = require('@backprop/${pkg}');`)
  .join('\n')}
${dataTrainingBody}`;

/** Prints `{ [name]: sorted export names }` for each package, loaded with `import()`. */
export function listExportsEsm(packages: readonly string[]): string {
  return `const names = {};
for (const name of ${JSON.stringify(packages)}) names[name] = Object.keys(await import(name)).sort();
console.log(JSON.stringify(names));
`;
}

/** The same, loaded with `require()`. */
export function listExportsCjs(packages: readonly string[]): string {
  return `const names = {};
for (const name of ${JSON.stringify(packages)}) names[name] = Object.keys(require(name)).filter((k) => k !== '__esModule').sort();
console.log(JSON.stringify(names));
`;
}

/**
 * tsconfig.json text for a consumer: strict, and the shipped .d.ts checked too
 * (no skipLibCheck). `types: []` loads no global types on its own: a
 * package's declarations must reference the ones they need; `libs` are added
 * to es2022.
 */
export function consumerTsconfig(resolution: 'node16' | 'bundler', files: readonly string[], libs: readonly string[] = []): string {
  const module = resolution === 'node16' ? { module: 'node16', moduleResolution: 'node16' } : { module: 'esnext', moduleResolution: 'bundler' };
  return `${JSON.stringify(
    {
      compilerOptions: {
        ...module,
        target: 'es2022',
        lib: ['es2022', ...libs],
        types: [],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
      },
      files,
    },
    null,
    2,
  )}\n`;
}

/** The first ```js block of a README: its runnable example. */
export function firstJsBlock(readme: string): string | undefined {
  return /^```(?:js|javascript|mjs)\n([\s\S]*?)^```/m.exec(readme)?.[1];
}
