import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeSafetensors, encodeSafetensors, type NDArray } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { TensorDataset, argmaxRow } from '@backprop/data';
import { normalize } from '@backprop/data/mnist';
import { loadDigits } from '@backprop/data/mnist/node';
import { loadModel } from '../src/io';
import { FIXTURE_MODEL, readFixture } from './helpers';

const fixture = readFixture();
const digits = loadDigits();

/** The fixture's test digits, standardized as tools/torch-fixtures/mnist.py did. */
function inputs(normalization: { mean: number; std: number }) {
  const { x, y } = digits.getItems(fixture.indices);
  return normalize(new TensorDataset(x, y), normalization).inputs;
}

function compare(model: { forward(x: NDArray): NDArray }, normalization: { mean: number; std: number }) {
  const logits = model.forward(inputs(normalization));
  expect(logits.shape).toEqual(fixture.logits.shape);
  const predictions = fixture.indices.map((_, i) => argmaxRow(logits.data, i * 10, 10));
  expect(predictions).toEqual(fixture.predictions);
  // float32 logits: a sum of 784 + 128 products, in another order than PyTorch's BLAS.
  let worst = 0;
  let worstAt = -1;
  fixture.logits.data.forEach((expected, i) => {
    const error = Math.abs(logits.data[i] - expected) / Math.max(1, Math.abs(expected));
    if (error > worst) {
      worst = error;
      worstAt = i;
    }
  });
  expect(worst, `worst relative error ${worst} at logit ${worstAt}`).toBeLessThan(1e-5);
  return worst;
}

describe('a PyTorch-written model (tools/torch-fixtures/mnist.py)', () => {
  it('loads with its metadata and predicts the classes PyTorch predicted', () => {
    const { model, metadata } = loadModel(fileURLToPath(FIXTURE_MODEL));
    expect(metadata.architecture.name).toBe('mlp');
    expect(metadata.normalization).toEqual(fixture.normalization);
    compare(model, metadata.normalization);
    // The torch model is a trained one, not a random one.
    const correct = fixture.predictions.filter((p, i) => p === fixture.labels[i]).length;
    expect(correct / fixture.predictions.length).toBe(fixture.accuracy);
    expect(fixture.accuracy).toBeGreaterThan(0.85);
  });

  it('loads from a bare state_dict too (no metadata), as safetensors.torch.save_file writes', () => {
    const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(FIXTURE_MODEL)));
    expect(Object.keys(tensors).sort()).toEqual(['0.bias', '0.weight', '2.bias', '2.weight']);
    const path = join(mkdtempSync(join(tmpdir(), 'mnist-bare-')), 'bare.safetensors');
    writeFileSync(path, encodeSafetensors(tensors as Record<string, NDArray>));
    const { model, metadata } = loadModel(path, { fallbackNormalization: fixture.normalization });
    expect(metadata.architecture.layers.map((l) => l.type)).toEqual(['Linear', 'ReLU', 'Linear']);
    compare(model, fixture.normalization);
  });
});
