/**
 * The character-transformer bench: one training step of apps/charlm's
 * default transformer (forward, cross-entropy, backward, gradient clipping,
 * AdamW) in @backprop against PyTorch 1.13 on one and two threads, the same
 * model, initial weights and batches in one run; checks that the first
 * steps' losses agree, prints one table with ours ÷ torch (time per step)
 * and writes the results as JSON.
 *
 *   pnpm bench --only charlm [--quick] [--json PATH]
 *   node --expose-gc --import tsx src/charlm/main.ts [--quick] [--json PATH] [--python PATH] [--no-float64]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getBackend, setNumThreads } from '@backprop/ndarray';
import { describeBlas } from '../layers/torch';
import { machineInfo } from '../machine';
import { formatValue, now } from '../stats';
import { charlmBatches, charlmConfig, makeOursStep } from './model';
import { type CharlmBenchResult, type CharlmDType, type CharlmRow, checkLosses, LOSS_TOLERANCE, measuredSide, renderCharlmTable } from './report';
import { stepPlan, timeSteps } from './timing';
import { CharlmTorch } from './torch';
import { DEFAULT_PYTHON } from '../python';

const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TORCH_SCRIPT = join(APP_DIR, 'torch_charlm.py');
/** The seed of the initial weights (both sides) and of the batches (drawn here, sent to torch). */
const MODEL_SEED = 0;
const BATCH_SEED = 1;
/** Distinct batches, cycled in the same order on both sides. */
const BATCH_COUNT = 16;
const THREADS = [1, 2] as const;

export const CHARLM_USAGE = `Usage: pnpm bench --only charlm [--quick] [--json PATH]
       node --expose-gc --import tsx src/charlm/main.ts [--quick] [--json PATH] [--python PATH] [--no-float64]

Times one training step of apps/charlm's default transformer (forward,
cross-entropy, backward, clip_grad_norm_, AdamW) in @backprop and in PyTorch,
each on one and two threads, float32 and float64, the same weights and
batches; checks that the first steps' losses agree; prints ours ÷ torch.

  --quick         a tiny model and batch (seconds, for the test); numbers mean nothing
  --json PATH     where to write the results (default apps/bench/results/charlm.json)
  --python PATH   the Python with torch (default ${DEFAULT_PYTHON}); without one, ours is timed alone
  --no-float64    float32 only
  --help          this text
`;

export interface CharlmCli {
  quick: boolean;
  json: string | undefined;
  python: string;
  float64: boolean;
  help: boolean;
}

/** Parses the charlm bench's command line; throws an Error with a readable message on a bad one. */
export function parseCharlmCli(argv: string[]): CharlmCli {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      python: { type: 'string' },
      'no-float64': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    quick: values.quick ?? false,
    json: values.json,
    python: values.python ?? DEFAULT_PYTHON,
    float64: !values['no-float64'],
    help: values.help ?? false,
  };
}

/** Runs the charlm bench and returns the process's exit code (1 when a row's losses differ from torch's). */
export async function runCharlmBench(argv: string[]): Promise<number> {
  let cli: CharlmCli;
  try {
    cli = parseCharlmCli(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${CHARLM_USAGE}`);
    return 2;
  }
  if (cli.help) {
    process.stdout.write(CHARLM_USAGE);
    return 0;
  }
  const t0 = now();
  const machine = machineInfo();
  const date = new Date().toISOString();
  const config = charlmConfig(cli.quick);
  const plan = stepPlan(cli.quick);
  const batches = charlmBatches(config, BATCH_COUNT, BATCH_SEED);
  const dtypes: CharlmDType[] = cli.float64 ? ['float32', 'float64'] : ['float32'];
  const { embedDim: C, heads, layers, batchSize: B, blockSize: T, vocabSize: V } = config;
  console.log(`backprop charlm step bench, ${date}${cli.quick ? ' (--quick: tiny sizes, numbers mean nothing)' : ''}`);
  console.log(`${machine.cpu}, ${machine.cores} cores, ${machine.os}, Node ${machine.node}; load average ${machine.loadAverageAtStart.join(' ')}`);
  console.log(
    `model: transformer, vocab ${V}, block ${T}, C ${C}, ${heads} heads, ${layers} layers, GELU MLP ${4 * C}, pre-norm, causal; ` +
      `batch ${B}; AdamW lr ${config.lr} betas (${config.betas.join(', ')}) weight decay ${config.weightDecay}, clip ${config.clip}`,
  );
  console.log(
    `plan: ${plan.warmupSteps} warm-up steps (the first ${plan.checkSteps} losses compared), then ${plan.repeats} × ${plan.stepsPerRepeat} timed steps; the median`,
  );
  console.log(`ours: @backprop from its built dist, backend '${getBackend().name}'`);
  const started = await CharlmTorch.start(cli.python, TORCH_SCRIPT);
  let torchInfo: CharlmBenchResult['torch'];
  if ('side' in started) {
    const { ready: _, ...info } = started.hello;
    torchInfo = info;
    console.log(`torch: ${info.torch}, ${cli.python}; ${describeBlas({ ...info, threads: 1 })}\n`);
  } else {
    torchInfo = { unavailable: started.reason };
    console.log(`torch: unavailable (${started.reason}); timing ours alone\n`);
  }

  const rows: CharlmRow[] = [];
  try {
    for (const dtype of dtypes) {
      for (const threads of THREADS) {
        const row: CharlmRow = { dtype, threads, ours: { skipped: '' }, torch: { skipped: '' } };
        try {
          await setNumThreads(threads);
          row.ours = timeSteps(makeOursStep(config, dtype, MODEL_SEED, batches), plan);
        } catch (error) {
          row.ours = { skipped: `threw: ${(error as Error).message.split('\n')[0]}` };
          console.log(`  ${dtype} ${threads} thread(s): ours threw: ${(error as Error).message.split('\n')[0]}`);
        } finally {
          await setNumThreads(1);
        }
        if ('side' in started) {
          const answer = await started.side.time({ config, dtype, threads, seed: MODEL_SEED, batches, plan });
          if ('error' in answer) {
            row.torch = { skipped: `torch: ${answer.error}` };
            console.log(`  ${dtype} ${threads} thread(s): torch failed: ${answer.error}`);
          } else {
            const { threads: torchThreads, ...timing } = answer;
            row.torch = timing;
            if (torchThreads !== threads) console.log(`  ${dtype}: torch ran on ${torchThreads} thread(s), not ${threads}`);
          }
        } else {
          row.torch = { skipped: 'no torch' };
        }
        if (measuredSide(row.ours) && measuredSide(row.torch)) {
          row.ratio = row.ours.msPerStep / row.torch.msPerStep;
          row.check = checkLosses(row.ours.losses, row.torch.losses, LOSS_TOLERANCE[dtype]);
        }
        const part = (who: string, side: CharlmRow['ours']) =>
          measuredSide(side) ? `${who} ${formatValue(side.msPerStep)} ms/step (loss ${side.losses[0].toFixed(4)} → ${side.lastLoss.toFixed(4)})` : '';
        const parts = [part('ours', row.ours), part('torch', row.torch), row.ratio ? `ours ÷ torch ${row.ratio.toFixed(2)}` : ''];
        if (parts.some(Boolean)) console.log(`  ${dtype}, ${threads} thread(s): ${parts.filter(Boolean).join(', ')}`);
        rows.push(row);
      }
    }
  } finally {
    if ('side' in started) started.side.close();
  }

  console.log(`\n${renderCharlmTable(rows)}`);
  console.log(
    `\nms per training step (batch ${B} × ${T} ids), the median of ${plan.repeats} repeats of ${plan.stepsPerRepeat} steps after ${plan.warmupSteps} warm-up steps; ` +
      'ours ÷ torch: above 1, ours is slower; each side on the same number of threads (setNumThreads / torch.set_num_threads). ' +
      `Same losses: both sides built the model from the same seed and trained on the same batches; the worst relative difference of the first ${plan.checkSteps} steps' losses ` +
      `(✓ within ${LOSS_TOLERANCE.float32.toExponential(0)} float32, ${LOSS_TOLERANCE.float64.toExponential(0)} float64).`,
  );
  machine.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  console.log(`load average at the end: ${machine.loadAverageAtEnd.join(' ')} (other jobs on the machine slow both sides)`);

  const result: CharlmBenchResult = {
    date,
    command: `pnpm bench --only charlm ${argv.join(' ')}`.trim(),
    quick: cli.quick,
    machine,
    config,
    plan,
    torch: torchInfo,
    rows,
    seconds: (now() - t0) / 1000,
  };
  const jsonPath = cli.json ? resolve(process.env.INIT_CWD ?? process.cwd(), cli.json) : join(APP_DIR, 'results', 'charlm.json');
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${jsonPath} (${result.seconds.toFixed(0)} s in all)`);

  const differ = rows.filter((r) => r.check && !r.check.pass);
  if (differ.length > 0) {
    console.error(`losses differ from torch's: ${differ.map((r) => `${r.dtype} ${r.threads} thread(s) (${r.check!.maxRelDiff})`).join(', ')}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runCharlmBench(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
