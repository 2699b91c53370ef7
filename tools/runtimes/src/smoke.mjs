// The smoke test each JavaScript runtime runs (Node, Bun, Deno): plain ESM
// importing the built packages through the workspace, as a user's script
// would. It trains a small MLP and checks that the loss fell, writes and reads
// a safetensors state dict and checks that every tensor and the model's output
// come back bit for bit, and trains on two threads and checks that the weights
// equal one thread's bit for bit. It prints each check and a vitest-style
// summary line ("Checks  3 passed (3)") that .ci/run counts, and exits 1 when
// a check fails.
import { Linear, ReLU, Sequential } from '@backprop/layers';
import { CrossEntropyLoss } from '@backprop/losses';
import {
  TorchGenerator,
  argmax,
  decodeSafetensors,
  encodeSafetensors,
  getNumThreads,
  matmul,
  randn,
  setNumThreads,
} from '@backprop/ndarray';
import { Adam } from '@backprop/optimizers';

/** "bun 1.4.5", "deno 2.9.6" or "node 24.21.0". */
function runtimeName() {
  const versions = globalThis.process?.versions ?? {};
  if (versions.bun) return `bun ${versions.bun}`;
  if (versions.deno) return `deno ${versions.deno}`;
  return `node ${versions.node}`;
}

/** A seeded classification task: `batch` points in `inFeatures` dimensions, labelled by a fixed random linear map. */
function task({ seed, batch, inFeatures, classes }) {
  const rng = new TorchGenerator(seed);
  const x = randn([batch, inFeatures], { rng });
  const teacher = randn([inFeatures, classes], { rng });
  return { x, y: argmax(matmul(x, teacher), 1), rng };
}

/** Trains a one-hidden-layer MLP with Adam for `steps` full-batch steps; the losses and the model. */
function train({ seed, batch, inFeatures, hidden, classes, steps }) {
  const { x, y, rng } = task({ seed, batch, inFeatures, classes });
  const model = new Sequential(new Linear(inFeatures, hidden, { rng }), new ReLU(), new Linear(hidden, classes, { rng }));
  const lossFn = new CrossEntropyLoss();
  const opt = new Adam(model.parameters(), { lr: 0.01 });
  const losses = [];
  for (let step = 0; step < steps; step++) {
    losses.push(lossFn.forward(model.forward(x), y));
    model.backward(lossFn.backward());
    opt.step();
    opt.zeroGrad();
  }
  return { losses, model, x };
}

/** The first tensor of `actual` that differs from `expected` in its shape, dtype or bits, or undefined. */
function firstDifference(expected, actual) {
  const names = Object.keys(expected);
  if (names.join() !== Object.keys(actual).join()) return `names ${Object.keys(actual)} (expected ${names})`;
  for (const name of names) {
    const [a, b] = [expected[name], actual[name]];
    if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return `${name}: ${b.dtype} [${b.shape}] (expected ${a.dtype} [${a.shape}])`;
    const [bitsA, bitsB] = [a, b].map((t) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    const at = bitsA.findIndex((byte, i) => byte !== bitsB[i]);
    if (at >= 0) return `${name}: byte ${at} differs`;
  }
  return undefined;
}

const checks = [
  {
    name: 'trains an MLP (Linear 16→32, ReLU, Linear 32→4; Adam, 150 steps)',
    run() {
      const { losses } = train({ seed: 1, batch: 128, inFeatures: 16, hidden: 32, classes: 4, steps: 150 });
      const [first, last] = [losses[0], losses.at(-1)];
      if (!(last < first / 4)) throw new Error(`the loss went from ${first} to ${last}, expected below a quarter of the first`);
      return `cross-entropy ${first.toFixed(4)} → ${last.toFixed(4)}`;
    },
  },
  {
    name: 'safetensors round trip of the state dict',
    run() {
      const { model, x } = train({ seed: 2, batch: 32, inFeatures: 8, hidden: 16, classes: 3, steps: 5 });
      const state = model.stateDict();
      const bytes = encodeSafetensors(state, { runtime: runtimeName() });
      const { tensors, metadata } = decodeSafetensors(bytes);
      const differs = firstDifference(state, tensors);
      if (differs !== undefined) throw new Error(`decoded state dict differs: ${differs}`);
      if (metadata.runtime !== runtimeName()) throw new Error(`metadata came back as ${JSON.stringify(metadata)}`);
      const copy = new Sequential(new Linear(8, 16), new ReLU(), new Linear(16, 3));
      copy.loadStateDict(tensors);
      const outputs = firstDifference({ output: model.forward(x) }, { output: copy.forward(x) });
      if (outputs !== undefined) throw new Error(`the reloaded model's output differs: ${outputs}`);
      return `${Object.keys(tensors).length} tensors, ${bytes.length} bytes, same bits and same output`;
    },
  },
  {
    name: 'two threads train bit for bit as one (Linear 512→512, batch 256: 2²⁶ multiply-adds a product)',
    async run() {
      const options = { seed: 3, batch: 256, inFeatures: 512, hidden: 512, classes: 10, steps: 3 };
      await setNumThreads(1);
      const one = train(options);
      await setNumThreads(2);
      try {
        if (getNumThreads() !== 2) throw new Error(`getNumThreads() is ${getNumThreads()} after setNumThreads(2)`);
        const two = train(options);
        const differs = firstDifference(one.model.stateDict(), two.model.stateDict());
        if (differs !== undefined) throw new Error(`weights after 3 steps differ: ${differs}`);
        if (one.losses.join() !== two.losses.join()) throw new Error(`losses differ: ${one.losses} vs ${two.losses}`);
        // Informative only (a shared machine's timings vary): how much the worker took on.
        const a = randn([512, 512], { rng: new TorchGenerator(4) });
        const time = () => {
          const start = performance.now();
          for (let i = 0; i < 10; i++) matmul(a, a);
          return performance.now() - start;
        };
        const twoMs = time();
        await setNumThreads(1);
        const oneMs = time();
        return `same weights and losses; ten 512³ products ran ${(oneMs / twoMs).toFixed(2)}× as fast on two threads`;
      } finally {
        await setNumThreads(1);
      }
    },
  },
];

console.log(`smoke: ${runtimeName()}`);
let passed = 0;
for (const check of checks) {
  try {
    const detail = await check.run();
    passed++;
    console.log(`  ✓ ${check.name}: ${detail}`);
  } catch (error) {
    console.log(`  ✗ ${check.name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}
const failed = checks.length - passed;
console.log(`  Checks  ${failed ? `${failed} failed | ` : ''}${passed} passed (${checks.length})`);
if (failed) globalThis.process.exitCode = 1;
