/**
 * Where ours spends its time: profiles one epoch of ours' MLP training (or
 * the CNN, or single-sample inference) with V8's sampling profiler and prints
 * the functions with the most self time. Writes the .cpuprofile (open it in
 * Chrome DevTools or speedscope) under apps/bench/results/.
 *
 *   pnpm profile [--task mlp|cnn|infer] [--batch 64]        (in apps/bench)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CrossEntropyLoss } from '@backprop/losses';
import { NDArray } from '@backprop/ndarray';
import { SGD } from '@backprop/optimizers';
import { makeConfig } from './config';
import { PIXELS, batchOrder, gatherBatch, loadBenchData } from './data';
import { makeCnn, makeMlp } from './models';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** Self time per function (name + file:line), as a share of all samples, most first. */
export function topFunctions(profile: { nodes: ProfileNode[] }, count: number): { name: string; where: string; share: number }[] {
  const total = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const byFunction = new Map<string, { name: string; where: string; hits: number }>();
  for (const n of profile.nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    const file = url.replace(/^file:\/\//, '').replace(/^.*\/(packages|apps|node_modules)\//, '$1/');
    const where = url ? `${file}:${lineNumber + 1}` : '';
    const key = `${functionName}|${where}`;
    const entry = byFunction.get(key) ?? { name: functionName || '(anonymous)', where, hits: 0 };
    entry.hits += n.hitCount ?? 0;
    byFunction.set(key, entry);
  }
  return [...byFunction.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, count)
    .map((e) => ({ name: e.name, where: e.where, share: e.hits / total }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { task: { type: 'string', default: 'mlp' }, batch: { type: 'string', default: '64' } },
    strict: true,
  });
  const task = values.task!;
  if (!['mlp', 'cnn', 'infer'].includes(task)) throw new Error(`--task: expected mlp, cnn or infer, got '${task}'`);
  const batchSize = Number(values.batch);
  const config = makeConfig(false);
  const data = loadBenchData(config.trainSize, config.testSize, config.splitSeed);
  const model = task === 'cnn' ? makeCnn(config.weightSeed) : makeMlp(config.weightSeed, config.mlp.hidden);
  const shape = (b: number) => (task === 'cnn' ? [b, 1, 28, 28] : [b, PIXELS]);
  const lossFn = new CrossEntropyLoss();
  const opt = new SGD(model.parameters(), { lr: config.mlp.lr, momentum: config.mlp.momentum });
  const [warmup, timed] = batchOrder(config.trainSize, batchSize, 2, config.batchSeed);
  const cnnSteps = 40;
  const train = (batches: Int32Array[]) => {
    for (const indices of task === 'cnn' ? batches.slice(0, cnnSteps) : batches) {
      const x = new NDArray(new Float32Array(indices.length * PIXELS), shape(indices.length));
      const y = new Int32Array(indices.length);
      gatherBatch(data, indices, x.data as Float32Array, y);
      lossFn.forward(model.forward(x), y);
      model.backward(lossFn.backward(), { inputGrad: false });
      opt.step();
      opt.zeroGrad();
    }
  };
  const infer = (calls: number) => {
    model.eval();
    for (let i = 0; i < calls; i++) {
      const x = data.testImages.subarray((i % data.testSize) * PIXELS, ((i % data.testSize) + 1) * PIXELS);
      model.forward(new NDArray(x, [1, PIXELS]));
    }
  };
  const run = task === 'infer' ? () => infer(5_000) : () => train(timed);
  if (task === 'infer') infer(1_000);
  else train(warmup);

  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const t = performance.now();
  run();
  const ms = performance.now() - t;
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();

  const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const out = join(appDir, 'results', `profile-${task}${task === 'infer' ? '' : `-b${batchSize}`}.cpuprofile`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(profile));
  const what = task === 'infer' ? '5,000 single-sample MLP forwards' : task === 'cnn' ? `${cnnSteps} CNN steps of batch ${batchSize}` : `one MLP epoch at batch ${batchSize}`;
  console.log(`ours, ${what}: ${ms.toFixed(0)} ms (profiled, 100 µs sampling)\n`);
  console.log('self time  function                       where');
  for (const f of topFunctions(profile as unknown as { nodes: ProfileNode[] }, 15)) {
    console.log(`${(f.share * 100).toFixed(1).padStart(8)}%  ${f.name.padEnd(30)} ${f.where}`);
  }
  console.log(`\nwrote ${out}`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
