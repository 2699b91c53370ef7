// Runs the packages on the runtimes users have besides the machine's Node:
// every packages/* vitest suite on Node 22, 24 and 26 (against the dists the
// build already made), and src/smoke.mjs on Bun, Deno, those Nodes and this
// one. The runtimes come from the npm registry only, pinned in RUNTIMES,
// each installed once into its own folder under the cache directory.
//
//   node tools/runtimes/src/run.mjs [--jobs N] [--only node22,bun,...] [--cache DIR]
//
// Each run's output is printed whole when it ends (runs overlap, up to --jobs
// at a time), then one line per run; the exit status is 1 when any failed.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Every runtime besides the machine's Node, pinned: the npm package, its version, and the binary its `.bin` links. */
const RUNTIMES = [
  { id: 'node22', package: 'node', version: '22.23.3', bin: 'node', suites: true },
  { id: 'node24', package: 'node', version: '24.21.0', bin: 'node', suites: true },
  { id: 'node26', package: 'node', version: '26.10.0', bin: 'node', suites: true },
  { id: 'bun', package: 'bun', version: '1.4.5', bin: 'bun', suites: false },
  { id: 'deno', package: 'deno', version: '2.9.6', bin: 'deno', suites: false },
];

/** A vitest summary ("Tests  12 passed (12)") or the smoke test's ("Checks  3 passed (3)"), as .ci/run counts them. */
const SUMMARY = /(Tests|Checks) +\d+ (passed|failed)/;

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const smokeScript = join(dirname(fileURLToPath(import.meta.url)), 'smoke.mjs');

const USAGE = `usage: pnpm test:runtimes [--jobs N] [--only ${RUNTIMES.map((r) => r.id).join(',')},host] [--cache DIR]
  --jobs N    runs at once (default: the machine's cores, at least 2)
  --only      the runtimes to run (default: all; host is the Node running this script)
  --cache     where the runtimes are installed (default: node_modules/.cache/runtimes)`;

/** A command line this script cannot run: printed with the usage. */
class UsageError extends Error {}

/** The command line as one options record, or a UsageError naming what was wrong. */
function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { jobs: { type: 'string' }, only: { type: 'string' }, cache: { type: 'string' }, help: { type: 'boolean' } },
    }));
  } catch (error) {
    throw new UsageError(error.message);
  }
  if (values.help) return { help: true };
  const jobs = values.jobs === undefined ? Math.max(2, availableParallelism()) : Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs must be a whole number of runs at once, 1 or more; got ${JSON.stringify(values.jobs)}`);
  const ids = [...RUNTIMES.map((r) => r.id), 'host'];
  const only = values.only === undefined ? ids : values.only.split(',');
  for (const id of only) if (!ids.includes(id)) throw new UsageError(`--only: unknown runtime ${JSON.stringify(id)}; expected some of ${ids.join(', ')}`);
  const cache = values.cache ?? join(root, 'node_modules', '.cache', 'runtimes');
  return { help: false, jobs, only, cache };
}

/** Runs `command` with `args`; resolves with its exit code and its stdout and stderr interleaved. */
function execute(command, args, { cwd, env }) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => resolve({ code: 127, output: `${output}${error.message}\n` }));
    child.on('close', (code, signal) => resolve({ code: code ?? 128, output: signal ? `${output}killed by ${signal}\n` : output }));
  });
}

/** Installs one runtime from the npm registry into its own folder (kept when it already holds that version); its binary. */
async function install(runtime, cache) {
  const prefix = join(cache, `${runtime.id}-${runtime.version}`);
  const binary = join(prefix, 'node_modules', '.bin', runtime.bin);
  const reported = async () => (existsSync(binary) ? (await execute(binary, ['--version'], { cwd: root })).output : '');
  if (!(await reported()).includes(runtime.version)) {
    const spec = `${runtime.package}@${runtime.version}`;
    const { code, output } = await execute(
      'npm',
      ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', spec],
      { cwd: root },
    );
    if (code !== 0) throw new Error(`runtimes: npm install ${spec} failed (exit ${code}):\n${output}`);
  }
  const version = (await reported()).trim();
  if (!version.includes(runtime.version)) {
    throw new Error(`runtimes: ${binary} reports ${JSON.stringify(version)} after installing ${runtime.package}@${runtime.version}`);
  }
  return binary;
}

/** packages/* with a vitest suite, the one with the most test files first so that short suites end the run. */
function packageSuites() {
  const dir = join(root, 'packages');
  const suites = [];
  for (const name of readdirSync(dir).sort()) {
    const manifestPath = join(dir, name, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (!/\bvitest run\b/.test(manifest.scripts?.test ?? '')) continue;
    const require = createRequire(manifestPath);
    const vitestManifest = require.resolve('vitest/package.json');
    const vitest = join(dirname(vitestManifest), JSON.parse(readFileSync(vitestManifest, 'utf8')).bin.vitest);
    const testDir = join(dir, name, 'test');
    const files = existsSync(testDir) ? readdirSync(testDir, { recursive: true }).filter((f) => String(f).endsWith('.test.ts')).length : 0;
    suites.push({ dir: join(dir, name), vitest, files });
  }
  return suites.sort((a, b) => b.files - a.files);
}

/** The command that runs the smoke test on a runtime: Deno needs `run` (and no permission: it only reads its imports). */
function smokeCommand(runtime, binary) {
  return runtime.bin === 'deno' ? [binary, ['run', smokeScript]] : [binary, [smokeScript]];
}

/** Runs `tasks` (each `() => Promise`) at most `jobs` at a time, in order. */
async function pool(tasks, jobs) {
  const results = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));
  return results;
}

async function main(argv) {
  const options = parseOptions(argv);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const selected = RUNTIMES.filter((r) => options.only.includes(r.id));
  console.log(`runtimes: installing ${selected.map((r) => `${r.package}@${r.version}`).join(', ')} from the npm registry into ${relative(root, options.cache) || '.'}`);
  const binaries = await Promise.all(selected.map((runtime) => install(runtime, options.cache)));

  // Plain output; each runtime's folder first on PATH, so that anything a run starts by name is that runtime too.
  const plain = { NO_COLOR: '1', FORCE_COLOR: '0', CI: process.env.CI ?? '1' };
  const envs = binaries.map((binary) => ({ ...plain, PATH: `${dirname(binary)}${delimiter}${process.env.PATH ?? ''}` }));
  const runs = [];
  if (options.only.includes('host')) {
    runs.push({ label: `smoke on node ${process.versions.node} (this machine's)`, command: [process.execPath, [smokeScript]], cwd: root, env: plain });
  }
  selected.forEach((runtime, i) => {
    runs.push({ label: `smoke on ${runtime.package} ${runtime.version}`, command: smokeCommand(runtime, binaries[i]), cwd: root, env: envs[i] });
  });
  const suites = packageSuites();
  for (const suite of suites) {
    selected.forEach((runtime, i) => {
      if (!runtime.suites) return;
      runs.push({
        label: `${relative(root, suite.dir)} on node ${runtime.version}`,
        command: [binaries[i], [suite.vitest, 'run']],
        cwd: suite.dir,
        env: envs[i],
      });
    });
  }
  console.log(`runtimes: ${runs.length} runs, ${options.jobs} at a time`);
  const started = performance.now();
  const results = await pool(
    runs.map((run) => async () => {
      const start = performance.now();
      const { code, output } = await execute(run.command[0], run.command[1], { cwd: run.cwd, env: run.env });
      const seconds = (performance.now() - start) / 1000;
      console.log(`\n── ${run.label} (exit ${code}, ${seconds.toFixed(1)} s) ──\n${output.trimEnd()}`);
      // A run that failed before its summary (vitest or the runtime did not start) still counts as a failure in .ci/run's total.
      if (code !== 0 && !SUMMARY.test(output)) console.log(`  Checks  1 failed (1): ${run.label} ended without a summary`);
      return { ...run, code, seconds };
    }),
    options.jobs,
  );
  console.log(`\nruntimes: ${((performance.now() - started) / 1000).toFixed(1)} s for ${runs.length} runs`);
  for (const r of results) console.log(`  ${r.code === 0 ? 'ok  ' : 'FAIL'} ${r.label} (${r.seconds.toFixed(1)} s)`);
  const failed = results.filter((r) => r.code !== 0);
  console.log(failed.length ? `runtimes: ${failed.length} of ${runs.length} runs FAILED` : `runtimes: all ${runs.length} runs passed`);
  return failed.length ? 1 : 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  if (error instanceof UsageError) console.error(USAGE);
  process.exitCode = 1;
}
