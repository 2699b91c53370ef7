import { Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '@backprop/layers';
import { TorchGenerator } from '@backprop/ndarray';
import { CLASSES, PIXELS } from './data';

/**
 * The bench MLP, `nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))`,
 * initialised from `TorchGenerator(seed)` exactly as torch would after
 * `torch.manual_seed(seed)`. Every contender starts from these weights.
 */
export function makeMlp(seed: number, hidden: number): Sequential {
  const rng = new TorchGenerator(seed);
  return new Sequential(new Linear(PIXELS, hidden, { rng }), new ReLU(), new Linear(hidden, CLASSES, { rng }));
}

/**
 * The bench CNN: Conv2d(1, 8, 3, padding 1) → ReLU → MaxPool2d(2) →
 * Conv2d(8, 16, 3, padding 1) → ReLU → MaxPool2d(2) → Flatten → Linear(784, 10).
 */
export function makeCnn(seed: number): Sequential {
  const rng = new TorchGenerator(seed);
  return new Sequential(
    new Conv2d(1, 8, 3, { padding: 1, rng }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(8, 16, 3, { padding: 1, rng }),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(16 * 7 * 7, CLASSES, { rng }),
  );
}

/** A model's parameters by torch name (`0.weight`, …), as float32 copies. */
export function weightsOf(model: Sequential): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, p] of model.namedParameters()) {
    out.set(name, { shape: [...p.value.shape], data: Float32Array.from(p.value.data) });
  }
  return out;
}

/** [rows, cols] → [cols, rows]: torch's Linear weight [out, in] is TF.js dense's kernel [in, out] transposed. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  }
  return out;
}

/** A conv weight [out, in, kh, kw] (torch, NCHW) as TF.js's filter [kh, kw, in, out] (NHWC). */
export function convWeightToHwio(data: Float32Array, shape: readonly number[]): Float32Array {
  const [o, i, kh, kw] = shape;
  const out = new Float32Array(data.length);
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) out[((y * kw + x) * i + b) * o + a] = data[((a * i + b) * kh + y) * kw + x];
      }
    }
  }
  return out;
}

/**
 * The CNN's Linear weight [10, C·H·W] reads the features flattened as NCHW
 * (c, h, w); TF.js flattens NHWC (h, w, c). Returns the dense kernel
 * [H·W·C, 10] that computes the same function on NHWC features.
 */
export function nchwLinearToNhwcKernel(data: Float32Array, outFeatures: number, c: number, h: number, w: number): Float32Array {
  const inFeatures = c * h * w;
  const out = new Float32Array(inFeatures * outFeatures);
  for (let o = 0; o < outFeatures; o++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          out[((y * w + x) * c + ch) * outFeatures + o] = data[o * inFeatures + (ch * h + y) * w + x];
        }
      }
    }
  }
  return out;
}
