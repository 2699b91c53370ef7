import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/main';
import { OutputError, RUN_FILES, RunFolder } from '../src/output';
import { renderTrainingSvg } from '../src/report';
import { Capture, DEAD_PID, runApp } from './helpers';

// renderTrainingSvg runs after training and before the last file is written: failing it stands for
// a run stopped (Ctrl-C, a crash) with some of its files written and not others.
vi.mock('../src/report', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/report')>();
  return { ...actual, renderTrainingSvg: vi.fn(actual.renderTrainingSvg) };
});

afterEach(() => {
  vi.restoreAllMocks();
});

const RUN = ['--epochs', '1', '--batch-size', '256', '--seed', '1'];

async function train(cwd: string, args: string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main([...RUN, ...args], { stdout, stderr, cwd });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A folder as a previous run left it: its three files, with contents to recognise. */
function previousRun(out: string): Record<string, string> {
  mkdirSync(out, { recursive: true });
  const files = Object.fromEntries(RUN_FILES.map((file) => [file, `previous run's ${file}`]));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(out, file), text);
  return files;
}

const contents = (out: string) => Object.fromEntries(readdirSync(out).map((file) => [file, readFileSync(join(out, file), 'utf8')]));

describe('--out holds one run, whatever stops a run', () => {
  it('a run stopped after its model is written leaves the previous run whole; stale files of killed runs are removed', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mnist-out-'));
    const out = join(cwd, 'runs', 'one');
    const previous = previousRun(out);
    // What runs killed with SIGKILL left: a staging folder beside --out, a temporary file inside it.
    mkdirSync(join(cwd, 'runs', `.one.${DEAD_PID}.tmp`));
    writeFileSync(join(cwd, 'runs', `.one.${DEAD_PID}.tmp`, 'model.safetensors'), 'half a model');
    writeFileSync(join(out, `.model.safetensors.${DEAD_PID}.tmp`), 'half a model');

    vi.mocked(renderTrainingSvg).mockRejectedValueOnce(new Error('stopped'));
    await expect(train(cwd, ['--out', 'runs/one'])).rejects.toThrow('stopped');
    expect(contents(out)).toEqual(previous);
    expect(readdirSync(join(cwd, 'runs'))).toEqual(['one']);

    const run = await train(cwd, ['--out', 'runs/one']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // The previous run's model.onnx went with it: this run was not asked for one.
    expect(readdirSync(out).sort()).toEqual(RUN_FILES.filter((file) => file !== 'model.onnx'));
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.config.seed).toBe(1);
    expect(readFileSync(join(out, 'model.safetensors')).length).toBeGreaterThan(400_000);
    expect(readdirSync(join(cwd, 'runs'))).toEqual(['one']);
  });

  it('a write that fails after training (a full disk) is one line on stderr, exit 1, and the previous run stays', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mnist-out-'));
    const out = join(cwd, 'full');
    const previous = previousRun(out);
    const write = RunFolder.prototype.write;
    const diskFull = {
      writeSync(fd: number, bytes: Uint8Array, offset: number, length: number): number {
        if (offset > 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return writeSync(fd, bytes, offset, Math.min(length, 100));
      },
    };
    vi.spyOn(RunFolder.prototype, 'write').mockImplementation(function (this: RunFolder, file, data) {
      return write.call(this, file, data, diskFull);
    });
    const run = await train(cwd, ['--out', 'full']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`mnist: cannot write model.safetensors under --out ${out}: ENOSPC: no space left on device, write\n`);
    expect(contents(out)).toEqual(previous);
    expect(readdirSync(cwd)).toEqual(['full']);
  });

  it('a folder that cannot be written fails at once, before the digits are loaded, in one line', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mnist-out-'));
    writeFileSync(join(cwd, 'file'), '');
    const run = await train(cwd, ['--out', 'file/run']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`mnist: cannot write to --out ${join(cwd, 'file', 'run')}: ${join(cwd, 'file')} is a file, not a folder\n`);
  });

  it('--out under /proc fails at once instead of hanging (Node 20 recursive mkdir), and names the reason', () => {
    const run = runApp([...RUN, '--out', '/proc/x'], undefined, { timeout: 60_000 });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^mnist: cannot write to --out \/proc\/x: ENOENT: no such file or directory, mkdir '\/proc\/\.x\.\d+\.tmp'\n$/);
  });
});

describe('RunFolder', () => {
  it('refuses a folder holding files a run did not write, and the directory the app runs from', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mnist-out-'));
    previousRun(join(cwd, 'mine'));
    writeFileSync(join(cwd, 'mine', 'notes.txt'), 'keep me');
    expect(() => RunFolder.prepare(join(cwd, 'mine'), { cwd })).toThrow(
      new OutputError(`--out ${join(cwd, 'mine')} holds files a run did not write ("notes.txt"); each run replaces the folder as a whole, so give a new or empty folder`),
    );
    expect(() => RunFolder.prepare(cwd, { cwd })).toThrow(/is the directory you ran from or contains it/);
    expect(() => RunFolder.prepare(tmpdir(), { cwd })).toThrow(/is the directory you ran from or contains it/);
    writeFileSync(join(cwd, 'plain'), '');
    expect(() => RunFolder.prepare(join(cwd, 'plain'), { cwd })).toThrow(new OutputError(`--out ${join(cwd, 'plain')} exists and is not a folder`));
    expect(readFileSync(join(cwd, 'mine', 'notes.txt'), 'utf8')).toBe('keep me');
  });

  it('stages every file, swaps them in together on commit, and puts back a folder caught mid-swap by a kill', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mnist-out-'));
    const out = join(cwd, 'run');
    // Killed between the two renames of a commit: the previous folder aside, no --out.
    const previous = previousRun(join(cwd, `.run.${DEAD_PID}.old`));
    const folder = RunFolder.prepare(out, { cwd });
    expect(contents(out)).toEqual(previous);
    for (const file of RUN_FILES) folder.write(file, `new ${file}`);
    expect(contents(out)).toEqual(previous);
    folder.commit();
    expect(contents(out)).toEqual(Object.fromEntries(RUN_FILES.map((file) => [file, `new ${file}`])));
    expect(readdirSync(cwd)).toEqual(['run']);
    folder.discard();
    expect(existsSync(join(out, 'metrics.json'))).toBe(true);
  });
});
