import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, parse, relative, sep } from 'node:path';

/** The files a training run writes under `--out`, and nothing else (model.onnx with --export-onnx only), sorted. */
export const RUN_FILES = ['metrics.json', 'model.onnx', 'model.safetensors', 'training.svg'] as const;
export type RunFile = (typeof RUN_FILES)[number];

/** `--out` cannot be used or written: the message is one line naming the folder and the system's reason. */
export class OutputError extends Error {
  override name = 'OutputError';
}

/** The file-system call a {@link RunFolder} writes with; tests replace it to fail a write midway (a full disk). */
export interface RunWriteIO {
  writeSync(fd: number, data: Uint8Array, offset: number, length: number): number;
}

/** A temporary file of an earlier `writeFileAtomic` (`.model.safetensors.<pid>.tmp`), left if that process was killed. */
const STALE_FILE = /^\.(?:metrics\.json|model\.safetensors|training\.svg)\.(\d+)\.tmp$/;

/** Whether process `pid` is alive (EPERM: alive, but another user's). */
export function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const reason = (error: unknown): string => (error as Error).message;

/**
 * The `--out` folder of one training run. So that the folder always holds the
 * files of one run, never a new model beside an old `metrics.json` (after a
 * Ctrl-C or a full disk), every file is written into a staging folder beside
 * it, `.<name>.<pid>.tmp`, and {@link commit} swaps that folder in by renaming;
 * until then `--out` is untouched. The folder is replaced as a whole, so it
 * may hold only a run's files: anything else there is refused at the start.
 *
 * {@link prepare} runs before training: it creates the parent folders, checks
 * that the folder can be written (by creating the staging folder) and removes
 * what killed runs left behind (staging folders and temporary files whose
 * process is gone), so a run never trains for minutes to fail at the end.
 */
export class RunFolder {
  private constructor(
    /** The `--out` folder, absolute. */
    readonly path: string,
    /** Where this run's files are written before {@link commit}. */
    readonly staging: string,
    /** Where the previous run's folder goes for the moment of the swap. */
    private readonly previous: string,
  ) {}

  /**
   * Checks `path` (absolute) as an output folder and creates this run's
   * staging folder; throws an {@link OutputError} if it cannot be used.
   * `cwd` is the caller's directory, which `--out` may not be or contain.
   */
  static prepare(path: string, { cwd }: { cwd: string }): RunFolder {
    const cwdFromPath = relative(path, cwd);
    const cwdInside = cwdFromPath !== '..' && !cwdFromPath.startsWith(`..${sep}`) && !isAbsolute(cwdFromPath);
    if (cwdInside) {
      throw new OutputError(`--out ${path} is the directory you ran from or contains it; give a folder of its own (the run replaces it)`);
    }
    const parent = dirname(path);
    const name = basename(path);
    const folder = new RunFolder(path, join(parent, `.${name}.${process.pid}.tmp`), join(parent, `.${name}.${process.pid}.old`));
    try {
      makeFolders(parent);
      folder.checkExisting();
      folder.removeStale();
      rmSync(folder.staging, { recursive: true, force: true });
      mkdirSync(folder.staging);
    } catch (error) {
      if (error instanceof OutputError) throw error;
      throw new OutputError(`cannot write to --out ${path}: ${reason(error)}`);
    }
    return folder;
  }

  /** `--out` must be missing, or a folder holding only a run's files. */
  private checkExisting(): void {
    let isFolder: boolean;
    try {
      isFolder = lstatSync(this.path).isDirectory();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (!isFolder) throw new OutputError(`--out ${this.path} exists and is not a folder`);
    const foreign = readdirSync(this.path).filter((entry) => !(RUN_FILES as readonly string[]).includes(entry) && !STALE_FILE.test(entry));
    if (foreign.length > 0) {
      const shown = foreign.slice(0, 3).map((entry) => JSON.stringify(entry));
      throw new OutputError(
        `--out ${this.path} holds files a run did not write (${shown.join(', ')}${foreign.length > 3 ? ', …' : ''}); ` +
          'each run replaces the folder as a whole, so give a new or empty folder',
      );
    }
  }

  /**
   * Removes what runs killed midway left: their staging folders beside
   * `--out`, and temporary files inside it. A previous folder caught in the
   * middle of a swap (`.<name>.<pid>.old` with no `--out`) is put back.
   */
  private removeStale(): void {
    const parent = dirname(this.path);
    const prefix = `.${basename(this.path)}.`;
    for (const entry of readdirSync(parent)) {
      if (!entry.startsWith(prefix)) continue;
      const match = /^(\d+)\.(tmp|old)$/.exec(entry.slice(prefix.length));
      if (match === null || isRunning(Number(match[1]))) continue;
      const stale = join(parent, entry);
      if (match[2] === 'old' && !exists(this.path)) renameSync(stale, this.path);
      else rmSync(stale, { recursive: true, force: true });
    }
    if (!exists(this.path)) return;
    for (const entry of readdirSync(this.path)) {
      const match = STALE_FILE.exec(entry);
      if (match !== null && !isRunning(Number(match[1]))) rmSync(join(this.path, entry), { force: true });
    }
  }

  /** Writes one of the run's files into the staging folder and flushes it to the disk. */
  write(file: RunFile, data: Uint8Array | string, io: RunWriteIO = { writeSync }): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    let fd: number | undefined;
    try {
      fd = openSync(join(this.staging, file), 'w');
      for (let offset = 0; offset < bytes.length; ) {
        offset += io.writeSync(fd, bytes, offset, bytes.length - offset);
      }
      fsyncSync(fd);
    } catch (error) {
      throw new OutputError(`cannot write ${file} under --out ${this.path}: ${reason(error)}`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /**
   * Puts the staged files in place of `--out`: the previous folder is renamed
   * aside, the staging folder renamed to `--out`, then the previous one removed.
   */
  commit(): void {
    try {
      syncFolder(this.staging);
      const hadPrevious = exists(this.path);
      if (hadPrevious) renameSync(this.path, this.previous);
      try {
        renameSync(this.staging, this.path);
      } catch (error) {
        if (hadPrevious) renameSync(this.previous, this.path);
        throw error;
      }
      syncFolder(dirname(this.path));
      rmSync(this.previous, { recursive: true, force: true });
    } catch (error) {
      throw new OutputError(`cannot write to --out ${this.path}: ${reason(error)}`);
    }
  }

  /** Removes the staging folder (a run that failed or was stopped); nothing once committed. */
  discard(): void {
    rmSync(this.staging, { recursive: true, force: true });
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * `mkdir -p`, one level at a time: Node 20's `mkdirSync(path, { recursive: true })`
 * never returns for a path under `/proc`, and reports a read-only file system
 * as ENOENT; a plain `mkdirSync` gives the real reason.
 */
function makeFolders(path: string): void {
  const { root } = parse(path);
  let current = root;
  for (const part of path.slice(root.length).split(sep).filter((p) => p !== '')) {
    current = join(current, part);
    try {
      mkdirSync(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!statSync(current).isDirectory()) throw new Error(`${current} is a file, not a folder`);
    }
  }
}

/** Flushes a folder's entries (a rename), where the platform allows it. */
export function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open a folder; the rename itself is already durable enough there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
