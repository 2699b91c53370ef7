/**
 * WGSL functions the kernels share. WGSL's own built-ins leave NaN, infinities
 * and some ranges to the implementation (`pow` of a negative base, `tanh` of a
 * large argument) and have no `erf` or `log1p`, so these spell out torch's
 * float32 results where it matters: NaN in, NaN out; a saturated `tanh` is ±1.
 */
export const MATH = /* wgsl */ `
fn isNan(x: f32) -> bool {
  let bits = bitcast<u32>(x);
  return (bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu) != 0u;
}
fn isFinite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}
// Through a var: WGSL refuses NaN and infinity as constant expressions.
fn nan() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }
fn infinity() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }
fn tanh32(x: f32) -> f32 {
  // Not the built-in, which implementations may compute as (e^2x − 1)/(e^2x + 1) (inf/inf past 44, cancellation
  // near 0): the series near 0, then from e = exp(−2|x|), which underflows to ±1 cleanly.
  let a = abs(x);
  if (a < 0.1) {
    let s = x * x;
    return x * (1.0 + s * (-1.0 / 3.0 + s * (2.0 / 15.0 + s * (-17.0 / 315.0))));
  }
  let e = exp(-2.0 * a);
  return select(sign(x) * (1.0 - e) / (1.0 + e), x, isNan(x));
}
fn sigmoid32(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
fn log1p32(y: f32) -> f32 {
  // The series for small y, where log(1 + y) would lose y's digits to 1 + y's rounding (and a compiler may fold
  // Kahan's (1 + y) − 1 back into y): y − y²/2 + y³/3 − … to y⁹, below 1e-9 relative for |y| < 0.1.
  if (abs(y) < 0.1) {
    return y * (1.0 + y * (-1.0 / 2.0 + y * (1.0 / 3.0 + y * (-1.0 / 4.0 + y * (1.0 / 5.0 + y * (-1.0 / 6.0
      + y * (1.0 / 7.0 + y * (-1.0 / 8.0 + y / 9.0))))))));
  }
  return log(1.0 + y);
}
fn erfc32(x: f32) -> f32 {
  // Numerical Recipes' erfcc: a Chebyshev fit with a relative error below 1.2e-7 on the whole line, so the tail
  // erfc(x) for large x (a GELU's far negative side) keeps its digits, where 1 − erf(x) cancels.
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807
    + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  let tail = t * exp(-z * z + p);
  return select(select(tail, 2.0 - tail, x < 0.0), x, isNan(x));
}
fn erf32(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    // Taylor series of erf, 2/sqrt(pi) (x - x^3/3 + x^5/10 - x^7/42 + x^9/216 - x^11/1320)
    let s = x * x;
    let p = 1.0 + s * (-1.0 / 3.0 + s * (0.1 + s * (-1.0 / 42.0 + s * (1.0 / 216.0 - s / 1320.0))));
    return 1.1283791670955126 * x * p;
  }
  return select(sign(x) * (1.0 - erfc32(abs(x))), x, isNan(x));
}
// 1 + tanh(u) and 1 − tanh²(u) from e = exp(−2|u|), without the cancellation of 1 + t where t is near −1.
fn onePlusTanh(u: f32) -> f32 {
  let e = exp(-2.0 * abs(u));
  return select(2.0 / (1.0 + e), 2.0 * e / (1.0 + e), u < 0.0);
}
fn sech2(u: f32) -> f32 {
  let e = exp(-2.0 * abs(u));
  return 4.0 * e / ((1.0 + e) * (1.0 + e));
}
// GELU's tanh form, 0.5 x (1 + tanh(u)) with u = beta (x + kappa x^3), beta = sqrt(2/pi), kappa = 0.044715, and its derivative.
fn geluTanh(x: f32) -> f32 {
  return 0.5 * x * onePlusTanh(0.7978845608028654 * (x + 0.044715 * (x * x * x)));
}
fn geluTanhGrad(x: f32) -> f32 {
  let u = 0.7978845608028654 * (x + 0.044715 * (x * x * x));
  return 0.5 * onePlusTanh(u) + 0.5 * x * sech2(u) * (0.7978845608028654 * (1.0 + 3.0 * 0.044715 * x * x));
}
fn pow32(x: f32, y: f32) -> f32 {
  // torch.pow: x^0 = 1 (NaN too), a negative base only to an integral power.
  if (y == 0.0) { return 1.0; }
  if (isNan(x) || isNan(y)) { return nan(); }
  if (x == 1.0) { return 1.0; }
  let magnitude = pow(abs(x), y);
  if (x >= 0.0) { return select(magnitude, select(0.0, infinity(), y < 0.0), x == 0.0); }
  if (floor(y) != y) { return nan(); }
  let odd = abs(y) < 16777216.0 && (i32(abs(y)) & 1) == 1;
  return select(magnitude, -magnitude, odd);
}
`;
