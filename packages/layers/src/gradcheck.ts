import {
  DTypeError,
  type Generator,
  NDArray,
  type Parameter,
  TorchGenerator,
  ValueError,
  checkNumber,
  checkOptions,
  describe,
  randn,
  unravelIndex,
} from '@backprop/ndarray';
import { NeuralLayer } from './layer';

/**
 * Anything with an explicit forward and backward pass: every `NeuralLayer`,
 * or a hand-written pair (a loss wrapped to take one input, a composite).
 * `parameters` is optional; without it only the input gradient is checked.
 */
export interface Differentiable {
  forward(input: NDArray): NDArray;
  backward(outputGrad: NDArray): NDArray;
  parameters?(): Parameter[];
}

/** Options of {@link gradcheck}. */
export interface GradcheckOptions {
  /** Finite-difference step, default 1e-6. */
  eps?: number;
  /** The largest `maxRelError` that counts as ok, default 1e-6. */
  tolerance?: number;
  /** Generator for the random projection R; `new TorchGenerator(0)` by default, so runs repeat. */
  rng?: Generator;
}

/** The worst disagreement {@link gradcheck} found. */
export interface GradcheckWorst {
  /** 'input', or the parameter's name ('weight', '0.bias'). */
  what: string;
  /** Multi-index of the entry in that array. */
  index: number[];
  analytic: number;
  numeric: number;
}

/** What {@link gradcheck} reports. */
export interface GradcheckResult {
  /** Every checked entry within `tolerance` (and finite). */
  ok: boolean;
  /** max over entries of |analytic − numeric| / max(1, |analytic|, |numeric|). */
  maxRelError: number;
  /** Where `maxRelError` was reached (null when nothing was checked). */
  worst: GradcheckWorst | null;
  /** How many gradient entries were compared. */
  checked: number;
}

/**
 * Checks a backward pass against central finite differences, as
 * `torch.autograd.gradcheck` does, for the input gradient AND every
 * parameter gradient.
 *
 * The scalar loss is a fixed random projection of the output,
 * L = Σ out·R with R ~ N(0, 1), so `backward(R)` is what gets checked, and
 * every entry is compared with (L(θ + eps) − L(θ − eps)) / (2·eps).
 *
 * It **requires float64** (the input and every parameter), as torch's
 * gradcheck does in practice: float32 differences carry errors around 1e-3
 * and would hide real mistakes. Create the layer with `{ dtype: 'float64' }`.
 *
 * The error of an entry is |a − n| / max(1, |a|, |n|): relative for
 * gradients above 1 and absolute below, so round-off on near-zero gradients
 * does not count as a failure. Keep inputs away from kinks (ReLU at 0): there
 * the finite difference straddles two slopes.
 *
 * The layer is left as it was: parameter values and gradients are restored,
 * and a final forward pass on the unperturbed input refreshes its cache.
 *
 * @example
 * const layer = new Linear(4, 3, { dtype: 'float64' });
 * const { ok, maxRelError } = gradcheck(layer, randn([5, 4], { dtype: 'float64' }));
 */
export function gradcheck(layer: Differentiable, input: NDArray, options: GradcheckOptions = {}): GradcheckResult {
  const op = 'gradcheck';
  checkOptions(op, options, ['eps', 'tolerance', 'rng']);
  if (layer === null || typeof layer !== 'object' || typeof layer.forward !== 'function' || typeof layer.backward !== 'function') {
    throw new ValueError(`${op}: expected a layer (an object with forward and backward), got ${describe(layer)}`);
  }
  if (!(input instanceof NDArray)) throw new ValueError(`${op}: input must be an NDArray, got ${describe(input)}`);
  const eps = checkNumber(op, 'eps', options.eps ?? 1e-6, { min: 0, exclusiveMin: true });
  const tolerance = checkNumber(op, 'tolerance', options.tolerance ?? 1e-6, { min: 0 });
  const rng = options.rng ?? new TorchGenerator(0);
  if (input.dtype !== 'float64') {
    throw new DTypeError(
      `${op}: input has dtype ${input.dtype}; finite differences need float64 (convert with .astype('float64'))`,
    );
  }
  const named = namedParametersOf(layer);
  for (const [name, parameter] of named) {
    if (parameter.dtype !== 'float64') {
      throw new DTypeError(
        `${op}: parameter '${name}' has dtype ${parameter.dtype}; finite differences need float64 (create the layer with { dtype: 'float64' })`,
      );
    }
  }

  const x = input.clone();
  const savedGrads = named.map(([, p]) => p.grad.clone());
  for (const [, p] of named) p.zeroGrad();
  const out = layer.forward(x);
  const projection = randn(out.shape, { dtype: 'float64', rng });
  const inputGrad = layer.backward(projection.clone());
  const analytic: [string, NDArray, Float64Array][] = [['input', x, Float64Array.from(inputGrad.data)]];
  for (const [name, p] of named) analytic.push([name, p.value, Float64Array.from(p.grad.data)]);
  for (let i = 0; i < named.length; i++) named[i][1].grad.data.set(savedGrads[i].data);

  const loss = (): number => {
    const o = layer.forward(x).data;
    const r = projection.data;
    let s = 0;
    for (let i = 0; i < o.length; i++) s += o[i] * r[i];
    return s;
  };

  const result: GradcheckResult = { ok: true, maxRelError: 0, worst: null, checked: 0 };
  entries: for (const [what, array, grad] of analytic) {
    const data = array.data;
    for (let i = 0; i < data.length; i++) {
      const original = data[i];
      data[i] = original + eps;
      const plus = loss();
      data[i] = original - eps;
      const minus = loss();
      data[i] = original;
      const numeric = (plus - minus) / (2 * eps);
      const a = grad[i];
      const error = Math.abs(a - numeric) / Math.max(1, Math.abs(a), Math.abs(numeric));
      result.checked++;
      // `!(error <= max)` is also true for NaN: a NaN gradient is the worst of all, and ends the check.
      if (result.worst === null || !(error <= result.maxRelError)) {
        result.maxRelError = error;
        result.worst = { what, index: unravelIndex(i, array.shape), analytic: a, numeric };
        if (Number.isNaN(error)) break entries;
      }
    }
  }
  result.ok = result.maxRelError <= tolerance;
  layer.forward(x);
  return result;
}

function namedParametersOf(layer: Differentiable): [string, Parameter][] {
  if (layer instanceof NeuralLayer) return layer.namedParameters();
  const parameters = typeof layer.parameters === 'function' ? layer.parameters() : [];
  return parameters.map((p) => [p.name, p]);
}
