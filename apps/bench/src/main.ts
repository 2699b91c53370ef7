/**
 * Benchmarks the @backprop packages against TensorFlow.js 4.22 (cpu, and wasm
 * with SIMD) and PyTorch (Debian's, one and two threads) on matmul, MNIST MLP and CNN training and single-sample
 * inference; prints one table with ours ÷ peer and writes the results as JSON.
 *
 *   pnpm bench [--quick] [--only NAMES] [--json PATH] [--python PATH]
 *   pnpm bench --only layers [--quick] [--json PATH]    (the layer bench: src/layers/main.ts)
 *   pnpm bench --only charlm [--quick] [--json PATH]    (the charlm step bench: src/charlm/main.ts)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { USAGE, parseCli } from './args';
import { makeConfig } from './config';
import { machineInfo } from './machine';
import { computeRatios, renderHeap, renderSummary, renderTable } from './report';
import type { BenchResult, ContenderName, ContenderReport } from './types';

const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs one contender in a child node with this process's loader flags (tsx) and a GC it may force. */
function runChild(contender: ContenderName, tasks: string[], quick: boolean, python: string, dir: string): ContenderReport {
  // A generous limit, so that a hung backend cannot hang the whole run.
  const timeout = (quick ? 5 : 20) * 60_000;
  const out = join(dir, `${contender}.json`);
  const execArgv = process.execArgv.includes('--expose-gc') ? process.execArgv : [...process.execArgv, '--expose-gc'];
  const args = [...execArgv, join(APP_DIR, 'src', 'child.ts'), '--contender', contender, '--tasks', tasks.join(','), '--out', out, '--python', python];
  if (quick) args.push('--quick');
  const t0 = performance.now();
  const child = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: APP_DIR, timeout, killSignal: 'SIGKILL' });
  try {
    return JSON.parse(readFileSync(out, 'utf8')) as ContenderReport;
  } catch {
    return {
      contender,
      available: false,
      reason: `its process ended (${child.error?.message ?? `exit code ${child.status}, signal ${child.signal}`}) without a report`,
      description: contender,
      measurements: [],
      unsupported: [],
      notes: [],
      seconds: (performance.now() - t0) / 1000,
    };
  }
}

async function main(): Promise<number> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (cli.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cli.layers) {
    // Loaded only here: the contender bench's own process imports no package.
    const { runLayerBench } = await import('./layers/main');
    return runLayerBench([...(cli.quick ? ['--quick'] : []), ...(cli.json ? ['--json', cli.json] : [])]);
  }
  if (cli.charlm) {
    const { runCharlmBench } = await import('./charlm/main');
    return runCharlmBench([...(cli.quick ? ['--quick'] : []), ...(cli.json ? ['--json', cli.json] : [])]);
  }
  const t0 = performance.now();
  const machine = machineInfo();
  const config = makeConfig(cli.quick);
  const date = new Date().toISOString();
  console.log(`backprop bench, ${date}${cli.quick ? ' (--quick: tiny sizes, numbers mean nothing)' : ''}`);
  console.log(`${machine.cpu}, ${machine.cores} cores, ${machine.os}, Node ${machine.node}; load average ${machine.loadAverageAtStart.join(' ')}`);
  console.log(`contenders: ${cli.contenders.join(', ')}; tasks: ${cli.tasks.join(', ')}\n`);

  const dir = mkdtempSync(join(tmpdir(), 'backprop-bench-'));
  const reports: ContenderReport[] = [];
  try {
    for (const contender of cli.contenders) {
      console.log(`${contender}:`);
      const report = runChild(contender, cli.tasks, cli.quick, cli.python, dir);
      if (report.available) console.log(`  (${report.description}; ${report.seconds.toFixed(0)} s)\n`);
      else console.log(`  unavailable: ${report.reason}\n`);
      reports.push(report);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const ratios = computeRatios(reports);
  console.log(renderTable(reports, ratios));
  console.log('\nours ÷ peer is a speed ratio (above 1: ours is faster); matmul err is max |C − C₆₄| / (|A|·|B|) against a float64 reference, ✓ within the rounding bound γₙ.');
  if (ratios.length > 0) {
    console.log('\nThe ratios alone, each peer against ours on the same threads (TF.js training: its loop):\n');
    console.log(`${renderSummary(ratios)}\n`);
  }
  for (const line of renderHeap(reports)) console.log(line);
  for (const r of reports) {
    if (!r.available) console.log(`${r.contender}: unavailable: ${r.reason}`);
    else console.log(`${r.contender}: ${r.description}`);
    for (const note of r.notes) console.log(`  ${note}`);
  }

  machine.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  console.log(`load average at the end: ${machine.loadAverageAtEnd.join(' ')} (other jobs on the machine slow every contender)`);
  const result: BenchResult = {
    date,
    command: `pnpm bench ${process.argv.slice(2).join(' ')}`.trim(),
    quick: cli.quick,
    machine,
    config,
    contenders: reports,
    ratios,
    seconds: (performance.now() - t0) / 1000,
  };
  const jsonPath = cli.json
    ? resolve(process.env.INIT_CWD ?? process.cwd(), cli.json)
    : join(APP_DIR, 'results', 'latest.json');
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${jsonPath} (${result.seconds.toFixed(0)} s in all)`);

  const failed = reports.flatMap((r) => r.measurements).filter((m) => m.check && !m.check.pass);
  if (failed.length > 0) {
    console.error(`matmul check failed: ${failed.map((m) => `${m.contender} ${m.case}`).join(', ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
