import { parseArgs } from 'node:util';
import { DEFAULT_PYTHON } from './python';
import { CONTENDERS, type ContenderName, TASKS, type TaskName } from './types';

export const USAGE = `Usage: pnpm bench [--quick] [--only NAMES] [--json PATH] [--python PATH] [--help]
       pnpm bench --only layers [--quick] [--json PATH]
       pnpm bench --only charlm [--quick] [--json PATH]

Benchmarks @backprop (ours) against TensorFlow.js ${'4.22'} (cpu and wasm backends)
and PyTorch (Debian's python3-torch, one and two threads) on the same tasks and
data, one child process per contender, one after another.

  --quick         tiny sizes (seconds, for the test); numbers mean nothing
  --only NAMES    comma-separated contenders and/or tasks to run:
                    contenders: ${CONTENDERS.join(', ')}
                    tasks:      ${TASKS.join(', ')}
                  e.g. --only ours,tfjs-wasm  or  --only matmul  or  --only ours,mlp
                  --only layers: the layer bench instead, each new layer against
                  PyTorch on one thread (pnpm --filter @backprop/app-bench layers --help)
                  --only charlm: the character transformer's training step against
                  PyTorch on one and two threads (src/charlm/main.ts --help)
  --json PATH     where to write the results (default apps/bench/results/latest.json)
  --python PATH   the Python with torch for torch and torch-2t (default ${DEFAULT_PYTHON});
                  without one they are skipped with one line
  --help          this text
`;

export interface CliOptions {
  quick: boolean;
  contenders: ContenderName[];
  tasks: TaskName[];
  json: string | undefined;
  /** The Python the torch contenders run in. */
  python: string;
  help: boolean;
  /** `--only layers`: run the layer bench (src/layers/main.ts) instead of the contenders. */
  layers: boolean;
  /** `--only charlm`: run the character-transformer step bench (src/charlm/main.ts) instead. */
  charlm: boolean;
}

/** The `--only` name of the layer bench, which runs alone. */
export const LAYERS_TASK = 'layers';
/** The `--only` name of the character-transformer step bench, which runs alone. */
export const CHARLM_TASK = 'charlm';

/** Parses the command line; throws an Error with a readable message on a bad one. */
export function parseCli(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      json: { type: 'string' },
      python: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const names = (values.only ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  const contenders: ContenderName[] = [];
  const tasks: TaskName[] = [];
  const layers = names.includes(LAYERS_TASK);
  if (layers && names.length > 1) {
    throw new Error(`--only: '${LAYERS_TASK}' runs the layer bench alone; got ${names.join(',')} (run the others separately)`);
  }
  const charlm = names.includes(CHARLM_TASK);
  if (charlm && names.length > 1) {
    throw new Error(`--only: '${CHARLM_TASK}' runs the charlm step bench alone; got ${names.join(',')} (run the others separately)`);
  }
  for (const name of names) {
    if (name === LAYERS_TASK || name === CHARLM_TASK) continue;
    if ((CONTENDERS as readonly string[]).includes(name)) contenders.push(name as ContenderName);
    else if ((TASKS as readonly string[]).includes(name)) tasks.push(name as TaskName);
    else {
      throw new Error(
        `--only: unknown name '${name}'; expected contenders (${CONTENDERS.join(', ')}), tasks (${TASKS.join(', ')}), ${LAYERS_TASK} or ${CHARLM_TASK}`,
      );
    }
  }
  return {
    quick: values.quick ?? false,
    contenders: contenders.length > 0 ? CONTENDERS.filter((c) => contenders.includes(c)) : [...CONTENDERS],
    tasks: tasks.length > 0 ? TASKS.filter((t) => tasks.includes(t)) : [...TASKS],
    json: values.json,
    python: values.python ?? DEFAULT_PYTHON,
    help: values.help ?? false,
    layers,
    charlm,
  };
}
