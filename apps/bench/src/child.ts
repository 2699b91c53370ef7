/**
 * One contender's measurements, in a process of its own so that no
 * contender's JIT state, garbage or heap reaches another's numbers. Started
 * by main.ts; writes a ContenderReport as JSON to --out.
 *
 *   node --expose-gc --import tsx src/child.ts --contender ours --tasks matmul,mlp --out report.json [--quick] [--python PATH]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { makeConfig } from './config';
import { runOurs } from './contenders/ours';
import { loadBenchData } from './data';
import { DEFAULT_PYTHON } from './python';
import { type ContenderName, type ContenderReport, type TaskName, isOurs, isTorch } from './types';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      contender: { type: 'string' },
      tasks: { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      python: { type: 'string', default: DEFAULT_PYTHON },
    },
    strict: true,
  });
  const contender = values.contender as ContenderName;
  const tasks = new Set((values.tasks ?? '').split(',').filter(Boolean) as TaskName[]);
  const config = makeConfig(values.quick ?? false);
  const data = loadBenchData(config.trainSize, config.testSize, config.splitSeed);
  let report: ContenderReport;
  if (isOurs(contender)) {
    report = await runOurs(contender, config, data, tasks);
  } else if (isTorch(contender)) {
    const { runTorch } = await import('./contenders/torch');
    report = await runTorch(contender, config, data, tasks, values.python!);
  } else {
    // Loaded only here, so ours' process never contains TF.js.
    const { runTfjs } = await import('./contenders/tfjs');
    report = await runTfjs(contender, config, data, tasks);
  }
  writeFileSync(values.out!, JSON.stringify(report));
}

main().then(
  // TF.js's wasm runtime keeps handles open; the report is written, so leave now.
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
