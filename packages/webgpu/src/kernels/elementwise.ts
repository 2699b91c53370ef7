/**
 * The elementwise kernels, each one line of WGSL for {@link map}: arithmetic
 * and comparisons with broadcasting, functions of one array, the
 * activations' backward passes, where, fill, copy and cast. Float32
 * throughout (int32 where the op allows it), with torch's formulas.
 */
import type { Kernels } from '@backprop/ndarray';
import { type GpuRuntime, wgslType } from '../runtime';
import { map } from './map';

/** The element type's literal: `1` reads as f32 or i32 as the array is. */
function literal(dtype: string, value: number): string {
  return dtype === 'int32' ? `${value}i` : `f32(${value})`;
}

const BINARY = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  pow: 'pow32(a, b)',
  // NaN propagates, as torch.maximum and torch.minimum.
  maximum: 'select(b, a, a > b || isNan(f32(a)))',
  minimum: 'select(b, a, a < b || isNan(f32(a)))',
  equal: 'select(ZERO, ONE, a == b)',
  notEqual: 'select(ZERO, ONE, a != b)',
  less: 'select(ZERO, ONE, a < b)',
  lessEqual: 'select(ZERO, ONE, a <= b)',
  greater: 'select(ZERO, ONE, a > b)',
  greaterEqual: 'select(ZERO, ONE, a >= b)',
} as const;

const UNARY = {
  neg: '-x',
  exp: 'exp(x)',
  // WGSL leaves log and sqrt of a negative number to the implementation: NaN, as IEEE and torch.
  log: 'select(log(x), nan(), x < 0.0 || isNan(x))',
  sqrt: 'select(sqrt(x), nan(), x < 0.0 || isNan(x))',
  abs: 'abs(x)',
  square: 'x * x',
  sign: 'select(sign(x), x, isNan(x))',
  tanh: 'tanh32(x)',
  sigmoid: 'sigmoid32(x)',
  relu: 'select(0.0, x, x > 0.0 || isNan(x))',
  erf: 'erf32(x)',
  silu: 'x * sigmoid32(x)',
  mish: 'x * tanh32(log1p32(exp(x)))',
} as const;

/** The normal density's 1/√(2π), as torch writes it (M_2_SQRTPI · M_SQRT1_2 · 0.5). */
const GELU_PDF = 1.1283791670955126 * Math.SQRT1_2 * 0.5;

export function elementwiseKernels(gpu: GpuRuntime): Partial<Kernels> {
  const kernels: Partial<Kernels> = {};
  for (const [name, expression] of Object.entries(BINARY)) {
    kernels[name as keyof typeof BINARY] = ({ a, b, out }) => {
      const t = out.dtype;
      map(gpu, {
        label: name,
        inputs: { a, b },
        out,
        expression: expression.replaceAll('ZERO', literal(t, 0)).replaceAll('ONE', literal(t, 1)),
      });
    };
  }
  for (const [name, expression] of Object.entries(UNARY)) {
    kernels[name as keyof typeof UNARY] = ({ x, out }) => map(gpu, { label: name, inputs: { x }, out, expression });
  }
  return {
    ...kernels,
    // A float condition is true unless ±0, NaN included: tested on its bits, which no compiler folds away.
    where: ({ condition, a, b, out }) =>
      map(gpu, {
        label: 'where',
        inputs: { c: condition, a, b },
        out,
        expression: condition.dtype === 'int32' ? 'select(b, a, c != 0i)' : 'select(b, a, (bitcast<u32>(c) & 0x7fffffffu) != 0u)',
      }),
    leakyRelu: ({ x, negativeSlope, out }) =>
      map(gpu, { label: 'leakyRelu', inputs: { x }, out, params: { slope: ['f32', negativeSlope] }, expression: 'select(x * params.slope, x, x > 0.0)' }),
    clip: ({ x, min, max, out }) => {
      if (out.dtype !== 'int32') {
        map(gpu, {
          label: 'clip',
          inputs: { x },
          out,
          params: { low: ['f32', min], high: ['f32', max] },
          expression: 'select(select(x, params.high, x > params.high), params.low, x < params.low)',
        });
        return;
      }
      // int32, as the host writes it: x < min ⟺ x < ⌈min⌉ and the element becomes min as an Int32Array stores it
      // (truncated); a bound past int32's range (±Infinity included) becomes its end, which no element passes.
      const I32 = 2 ** 31;
      map(gpu, {
        label: 'clip',
        inputs: { x },
        out,
        params: {
          below: ['i32', Math.max(-I32, Math.min(I32 - 1, Math.ceil(min)))],
          low: ['i32', Number.isFinite(min) ? min | 0 : 0],
          above: ['i32', Math.max(-I32, Math.min(I32 - 1, Math.floor(max)))],
          high: ['i32', Number.isFinite(max) ? max | 0 : 0],
        },
        expression: 'select(select(x, params.high, x > params.above), params.low, x < params.below)',
      });
    },
    gelu: ({ x, approximate, out }) =>
      map(gpu, {
        label: 'gelu',
        inputs: { x },
        out,
        expression:
          approximate === 'tanh'
            ? 'geluTanh(x)'
            : `x * 0.5 * erfc32(x * ${-Math.SQRT1_2})`, // Φ(x) = erfc(−x/√2)/2: no cancellation on the far negative side
      }),
    elu: ({ x, alpha, out }) =>
      map(gpu, { label: 'elu', inputs: { x }, out, params: { alpha: ['f32', alpha] }, expression: 'select(x, (exp(x) - 1.0) * params.alpha, x <= 0.0)' }),
    softplus: ({ x, beta, threshold, out }) =>
      map(gpu, {
        label: 'softplus',
        inputs: { x },
        out,
        params: { beta: ['f32', beta], threshold: ['f32', threshold] },
        expression: 'select(log1p32(exp(x * params.beta)) / params.beta, x, x * params.beta > params.threshold)',
      }),
    reluBackward: ({ grad, output, out }) =>
      map(gpu, { label: 'reluBackward', inputs: { g: grad, y: output }, out, expression: 'select(0.0, g, y > 0.0)' }),
    tanhBackward: ({ grad, output, out }) =>
      map(gpu, { label: 'tanhBackward', inputs: { g: grad, y: output }, out, expression: 'g * (1.0 - y * y)' }),
    sigmoidBackward: ({ grad, output, out }) =>
      map(gpu, { label: 'sigmoidBackward', inputs: { g: grad, y: output }, out, expression: 'g * (1.0 - y) * y' }),
    leakyReluBackward: ({ grad, input, negativeSlope, out }) =>
      map(gpu, {
        label: 'leakyReluBackward',
        inputs: { g: grad, x: input },
        out,
        params: { slope: ['f32', negativeSlope] },
        expression: 'select(g * params.slope, g, x > 0.0)',
      }),
    geluBackward: ({ grad, input, approximate, out }) =>
      map(gpu, {
        label: 'geluBackward',
        inputs: { g: grad, x: input },
        out,
        expression:
          approximate === 'tanh'
            ? `g * geluTanhGrad(x)`
            : `g * (0.5 * erfc32(x * ${-Math.SQRT1_2}) + x * ${GELU_PDF} * exp(x * x * -0.5))`,
      }),
    siluBackward: ({ grad, input, out }) =>
      map(gpu, { label: 'siluBackward', inputs: { g: grad, x: input }, out, expression: 'g * sigmoid32(x) * (1.0 + x * (1.0 - sigmoid32(x)))' }),
    eluBackward: ({ grad, input, alpha, out }) =>
      map(gpu, {
        label: 'eluBackward',
        inputs: { g: grad, x: input },
        out,
        params: { alpha: ['f32', alpha] },
        expression: 'select(g * params.alpha * exp(x), g, x > 0.0)',
      }),
    softplusBackward: ({ grad, input, beta, threshold, out }) =>
      map(gpu, {
        label: 'softplusBackward',
        inputs: { g: grad, x: input },
        out,
        params: { beta: ['f32', beta], threshold: ['f32', threshold] },
        expression: 'select(g * exp(x * params.beta) / (exp(x * params.beta) + 1.0), g, x * params.beta > params.threshold)',
      }),
    mishBackward: ({ grad, input, out }) =>
      map(gpu, {
        label: 'mishBackward',
        inputs: { g: grad, x: input },
        out,
        expression: 'g * (tanh32(log1p32(exp(x))) + x * sigmoid32(x) * (1.0 - tanh32(log1p32(exp(x))) * tanh32(log1p32(exp(x)))))',
      }),
    fill: ({ out, value }) =>
      map(gpu, { label: 'fill', inputs: {}, out, params: { value: [wgslType(out.dtype), value] }, expression: 'params.value' }),
    copy: ({ x, out }) => map(gpu, { label: 'copy', inputs: { x }, out, expression: 'x' }),
    // float32 → int32 truncates toward zero, as torch's .to(torch.int32); int32 → float32 rounds to nearest.
    cast: ({ x, out }) =>
      map(gpu, { label: 'cast', inputs: { x }, out, expression: out.dtype === 'int32' ? 'i32(x)' : out.dtype === x.dtype ? 'x' : 'f32(x)' }),
  };
}
