import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The app's folder, where its entry points run. */
export const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * Runs a bench entry point (`src/<script>`) under tsx without blocking this
 * process: vitest's worker must keep answering while a run measures.
 */
export function runScript(script: string, args: string[], { exposeGc = true } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const flags = [...(exposeGc ? ['--expose-gc'] : []), '--import', 'tsx'];
    const child = spawn(process.execPath, [...flags, join(APP_DIR, 'src', script), ...args], { cwd: APP_DIR });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
