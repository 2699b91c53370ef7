/**
 * The layer bench: each layer's forward + backward (the input gradient and
 * every parameter's) in @backprop/layers against PyTorch 1.13 on one thread,
 * the same shapes and the same numbers, in one run; prints one table with
 * ours ÷ torch (time per call) and writes the results as JSON.
 *
 *   pnpm --filter @backprop/app-bench layers [--quick] [--only NAMES] [--json PATH] [--source] [--python PATH]
 *   pnpm bench --only layers [--quick] [--json PATH]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TorchGenerator, getBackend, getNumThreads, matmul, randn } from '@backprop/ndarray';
import { machineInfo } from '../machine';
import { formatValue, now, timePerCall } from '../stats';
import { layerCases, torchCase } from './cases';
import { type LayerSource, distSource, sourceSource, timeOursCase } from './ours';
import { type LayerBenchResult, type LayerRow, checkSums, measured, renderLayerTable } from './report';
import { describeBlas, TorchSide } from './torch';
import { DEFAULT_PYTHON } from '../python';

const APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LAYERS_SRC = resolve(APP_DIR, '..', '..', 'packages', 'layers', 'src');
const TORCH_SCRIPT = join(APP_DIR, 'torch_layers.py');

export const LAYERS_USAGE = `Usage: pnpm --filter @backprop/app-bench layers [--quick] [--only NAMES] [--json PATH] [--source] [--python PATH]
       pnpm bench --only layers [--quick] [--json PATH]

Times each layer's forward + backward (input and parameter gradients), float32,
in @backprop/layers and in PyTorch on one thread (torch.set_num_threads(1)),
the same shapes and numbers, case after case; prints ours ÷ torch.

  --quick         tiny sizes (seconds, for the test); numbers mean nothing
  --only NAMES    comma-separated layers: ${layerCases(false)
    .map((c) => c.name)
    .join(', ')}
  --json PATH     where to write the results (default apps/bench/results/layers.json)
  --source        import the layers from packages/layers/src (through tsx) instead of
                  the built dist: layers not yet exported or built
  --python PATH   the Python with torch (default ${DEFAULT_PYTHON}); without one, ours is timed alone
  --help          this text
`;

export interface LayersCli {
  quick: boolean;
  only: string[];
  json: string | undefined;
  source: boolean;
  python: string;
  help: boolean;
}

/** Parses the layer bench's command line; throws an Error with a readable message on a bad one. */
export function parseLayersCli(argv: string[]): LayersCli {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      json: { type: 'string' },
      source: { type: 'boolean', default: false },
      python: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const names = layerCases(false).map((c) => c.name);
  const only = (values.only ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const name of only) {
    if (!names.includes(name)) throw new Error(`--only: unknown layer '${name}'; expected some of ${names.join(', ')}`);
  }
  return {
    quick: values.quick ?? false,
    only,
    json: values.json,
    source: values.source ?? false,
    python: values.python ?? DEFAULT_PYTHON,
    help: values.help ?? false,
  };
}

/** Ours' float32 n×n matmul in GFLOP/s, for the line beside torch's BLAS (about 0.4 s). */
function matmulGflops(n: number): number {
  const rng = new TorchGenerator(0);
  const a = randn([n, n], { rng });
  const b = randn([n, n], { rng });
  const timing = timePerCall(() => matmul(a, b), { warmupMs: 100, warmupCalls: 2, repeatMs: 100, repeats: 3, minRepeats: 3, capMs: 0 });
  return (2 * n ** 3) / (timing.msPerCall / 1000) / 1e9;
}

/** Runs the layer bench and returns the process's exit code (1 when a layer's numbers differ from torch's). */
export async function runLayerBench(argv: string[]): Promise<number> {
  let cli: LayersCli;
  try {
    cli = parseLayersCli(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${LAYERS_USAGE}`);
    return 2;
  }
  if (cli.help) {
    process.stdout.write(LAYERS_USAGE);
    return 0;
  }
  const t0 = now();
  const machine = machineInfo();
  const date = new Date().toISOString();
  const cases = layerCases(cli.quick).filter((c) => cli.only.length === 0 || cli.only.includes(c.name));
  console.log(`backprop layer bench, ${date}${cli.quick ? ' (--quick: tiny sizes, numbers mean nothing)' : ''}`);
  console.log(`${machine.cpu}, ${machine.cores} cores, ${machine.os}, Node ${machine.node}; load average ${machine.loadAverageAtStart.join(' ')}`);

  const source: LayerSource = cli.source ? await sourceSource(LAYERS_SRC) : await distSource();
  console.log(`ours: ${source.description}; float32, backend '${getBackend().name}' (the default), ${getNumThreads()} thread(s)`);
  const started = await TorchSide.start(cli.python, TORCH_SCRIPT);
  let torchInfo: LayerBenchResult['torch'];
  const oursGflops = matmulGflops(256);
  if ('side' in started) {
    const { ready: _, ...info } = started.hello;
    torchInfo = info;
    console.log(`torch: ${info.torch} on ${info.threads} thread(s), ${cli.python}; ${describeBlas(info)}`);
  } else {
    torchInfo = { unavailable: started.reason };
    console.log(`torch: unavailable (${started.reason}); timing ours alone`);
  }
  console.log(`ours: float32 256×256 matmul ${formatValue(oursGflops)} GFLOP/s\n`);

  const rows: LayerRow[] = [];
  try {
    for (const c of cases) {
      const input = `[${c.input.shape.join(', ')}]${c.input.indices !== undefined ? ' int' : ''}`;
      const row: LayerRow = { name: c.name, label: c.label, input, ours: { skipped: '' }, torch: { skipped: '' } };
      const Cls = source.find(c.name);
      if (typeof Cls === 'string') {
        row.ours = { skipped: Cls };
        console.log(`  ${c.name}: skipped: ${Cls}`);
      } else {
        try {
          row.ours = timeOursCase(c, Cls);
        } catch (error) {
          row.ours = { skipped: `threw: ${(error as Error).message.split('\n')[0]}` };
          console.log(`  ${c.name}: ours threw: ${(error as Error).message.split('\n')[0]}`);
        }
      }
      if ('side' in started) {
        const answer = await started.side.time(torchCase(c), c.plan);
        row.torch = 'error' in answer ? { skipped: `torch: ${answer.error}` } : answer;
        if ('error' in answer) console.log(`  ${c.name}: torch failed: ${answer.error}`);
      } else {
        row.torch = { skipped: 'no torch' };
      }
      if (measured(row.ours) && measured(row.torch)) {
        row.ratio = row.ours.msPerCall / row.torch.msPerCall;
        row.check = checkSums(row.ours.sums, row.torch.sums);
      }
      const part = (who: string, side: LayerRow['ours']) => (measured(side) ? `${who} ${formatValue(side.msPerCall)} ms` : '');
      const parts = [part('ours', row.ours), part('torch', row.torch), row.ratio ? `ours ÷ torch ${row.ratio.toFixed(2)}` : ''];
      if (parts.some(Boolean)) console.log(`  ${c.label} on ${input}: ${parts.filter(Boolean).join(', ')}`);
      rows.push(row);
    }
  } finally {
    if ('side' in started) started.side.close();
  }

  console.log(`\n${renderLayerTable(rows)}`);
  console.log(
    '\nms per forward + backward (input and parameter gradients), float32, the median of repeats after a warm-up; ' +
      'ours ÷ torch: above 1, ours is slower. Same numbers: both sides drew the layer, input and output gradient from the same seed, ' +
      'and the float64 sums of the output and gradients of the first pass agree within 1e-3 relative.',
  );
  if (!('unavailable' in torchInfo) && !torchInfo.mkl) {
    console.log(
      `torch's matmuls (Linear, attention, recurrent, transposed convolution) run on ${torchInfo.blasLibraries?.join(', ') || 'its BLAS'} ` +
        `(${formatValue(torchInfo.matmul256Gflops)} GFLOP/s at 256×256 against ours' ${formatValue(oursGflops)}), not MKL as in pip's wheels: ` +
        'there a pip-installed torch is much faster.',
    );
  }
  machine.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  console.log(`load average at the end: ${machine.loadAverageAtEnd.join(' ')} (other jobs on the machine slow both sides)`);

  const result: LayerBenchResult = {
    date,
    command: `pnpm --filter @backprop/app-bench layers ${argv.join(' ')}`.trim(),
    quick: cli.quick,
    machine,
    layers: source.description,
    torch: torchInfo,
    oursMatmul256Gflops: oursGflops,
    rows,
    seconds: (now() - t0) / 1000,
  };
  const jsonPath = cli.json ? resolve(process.env.INIT_CWD ?? process.cwd(), cli.json) : join(APP_DIR, 'results', 'layers.json');
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${jsonPath} (${result.seconds.toFixed(0)} s in all)`);

  const differ = rows.filter((r) => r.check && !r.check.pass);
  if (differ.length > 0) {
    console.error(`numbers differ from torch's: ${differ.map((r) => `${r.name} (${r.check!.worst})`).join(', ')}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runLayerBench(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
