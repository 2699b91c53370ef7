import { readFileSync } from 'node:fs';
import { type DType, type NDArray, array } from '@backprop/ndarray';

/** A tensor as tools/torch-fixtures writes it. */
export interface FixtureTensor {
  shape: number[];
  dtype: DType;
  data: number[];
}

export function fromFixture(t: FixtureTensor): NDArray {
  return array(t.data, { shape: t.shape, dtype: t.dtype });
}

// Written by tools/torch-fixtures/seeds.py, which runs each notebook's own code with numpy and PyTorch.
// biome-ignore lint/suspicious/noExplicitAny: the fixture's shape is described where each notebook reads it.
export const notebooks: Record<'000' | '001' | '002' | '003' | '004', any> = JSON.parse(
  readFileSync(new URL('../fixtures/notebooks.json', import.meta.url), 'utf8'),
);
