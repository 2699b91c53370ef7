import { execFile } from 'node:child_process';

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Resolve with the exit code instead of rejecting when the command fails. */
  allowFailure?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** The exit code (0 unless `allowFailure` was set). */
  code: number;
}

/**
 * Runs a command without a shell and resolves with its output; rejects with an
 * error that carries the command, the directory and everything it printed.
 */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        // npm and pnpm are .cmd shims on Windows, which only a shell runs.
        shell: process.platform === 'win32',
      },
      (error, stdout, stderr) => {
        if (error && options.allowFailure && typeof error.code === 'number') {
          resolvePromise({ stdout, stderr, code: error.code });
        } else if (error) {
          reject(
            new Error(
              `${command} ${args.join(' ')} (in ${options.cwd}) failed: ${error.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
            ),
          );
        } else {
          resolvePromise({ stdout, stderr, code: 0 });
        }
      },
    );
  });
}

/**
 * The environment minus what a parent `pnpm run` exported for itself
 * (npm_config_*, npm_package_*, ...), and minus NODE_PATH: pnpm points it at
 * the workspace's hoisted node_modules, where `require` in a consumer project
 * would find packages the project never installed.
 */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm|pnpm)_/i.test(key) || key === 'NODE_PATH') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}
