/**
 * The error function in double precision, erf(x) = (2/√π)·∫₀ˣ e^(−t²) dt, by
 * the method of Sun Microsystems' fdlibm `s_erf.c` (which FreeBSD's msun and
 * glibc ship, and so what `std::erf` and torch's scalar `erf` compute): a
 * rational approximation on each of five intervals of |x|, the last two
 * through e^(−x²) split so that its argument is exact. Accurate to within
 * one unit in the last place; erf(±0) = ±0, erf(±∞) = ±1, erf(NaN) = NaN.
 */

// erf(x) = x + x·R(x²) on [0, 0.84375], R = pp/qq.
const EFX = 0.1283791670955126; // 2/√π − 1
const PP0 = 0.12837916709551256;
const PP1 = -0.3250421072470015;
const PP2 = -0.02848174957559851;
const PP3 = -0.005770270296489442;
const PP4 = -0.000023763016656650163;
const QQ1 = 0.39791722395915535;
const QQ2 = 0.0650222499887673;
const QQ3 = 0.005081306281875766;
const QQ4 = 0.00013249473800432164;
const QQ5 = -0.000003960228278775368;

// erf(x) = ERX + P(s)/Q(s), s = |x| − 1, on [0.84375, 1.25]; ERX is erf(1) to 24 bits.
const ERX = 0.8450629115104675;
const PA0 = -0.0023621185607526594;
const PA1 = 0.41485611868374833;
const PA2 = -0.3722078760357013;
const PA3 = 0.31834661990116175;
const PA4 = -0.11089469428239668;
const PA5 = 0.035478304325618236;
const PA6 = -0.002166375594868791;
const QA1 = 0.10642088040084423;
const QA2 = 0.540397917702171;
const QA3 = 0.07182865441419627;
const QA4 = 0.12617121980876164;
const QA5 = 0.01363708391202905;
const QA6 = 0.011984499846799107;

// erfc(x) = e^(−x² − 0.5625 + R/S)/x, with s = 1/x², on [1.25, 1/0.35].
const RA0 = -0.009864944034847148;
const RA1 = -0.6938585727071818;
const RA2 = -10.558626225323291;
const RA3 = -62.375332450326006;
const RA4 = -162.39666946257347;
const RA5 = -184.60509290671104;
const RA6 = -81.2874355063066;
const RA7 = -9.814329344169145;
const SA1 = 19.651271667439257;
const SA2 = 137.65775414351904;
const SA3 = 434.56587747522923;
const SA4 = 645.3872717332679;
const SA5 = 429.00814002756783;
const SA6 = 108.63500554177944;
const SA7 = 6.570249770319282;
const SA8 = -0.0604244152148581;

// The same on [1/0.35, 6].
const RB0 = -0.0098649429247001;
const RB1 = -0.799283237680523;
const RB2 = -17.757954917754752;
const RB3 = -160.63638485582192;
const RB4 = -637.5664433683896;
const RB5 = -1025.0951316110772;
const RB6 = -483.5191916086514;
const SB1 = 30.33806074348246;
const SB2 = 325.7925129965739;
const SB3 = 1536.729586084437;
const SB4 = 3199.8582195085955;
const SB5 = 2553.0504064331644;
const SB6 = 474.52854120695537;
const SB7 = -22.44095244658582;

/** fdlibm tests the high 32 bits against 0x4006DB6E (≈ 1/0.35): below it means below this double. */
const SPLIT = 2.8571434020996094;
/**
 * Below 2⁻²⁸ erf(x) is x + EFX·x to double precision (fdlibm scales subnormal
 * x by 8 only to keep the underflow flag quiet, which JavaScript has not:
 * x + EFX·x rounds once, as a sum of subnormals is exact).
 */
const SMALL = 2 ** -28;

/** erf(x) in double precision (fdlibm's algorithm). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const ax = Math.abs(x);
  if (ax < 0.84375) {
    if (ax < SMALL) return x + EFX * x;
    const z = x * x;
    const r = PP0 + z * (PP1 + z * (PP2 + z * (PP3 + z * PP4)));
    const s = 1 + z * (QQ1 + z * (QQ2 + z * (QQ3 + z * (QQ4 + z * QQ5))));
    return x + x * (r / s);
  }
  if (ax < 1.25) {
    const s = ax - 1;
    const p = PA0 + s * (PA1 + s * (PA2 + s * (PA3 + s * (PA4 + s * (PA5 + s * PA6)))));
    const q = 1 + s * (QA1 + s * (QA2 + s * (QA3 + s * (QA4 + s * (QA5 + s * QA6)))));
    return x >= 0 ? ERX + p / q : -ERX - p / q;
  }
  if (ax >= 6) return x >= 0 ? 1 : -1; // 1 − tiny rounds to 1 (±∞ included)
  const s = 1 / (ax * ax);
  let r: number;
  let q: number;
  if (ax < SPLIT) {
    r = RA0 + s * (RA1 + s * (RA2 + s * (RA3 + s * (RA4 + s * (RA5 + s * (RA6 + s * RA7))))));
    q = 1 + s * (SA1 + s * (SA2 + s * (SA3 + s * (SA4 + s * (SA5 + s * (SA6 + s * (SA7 + s * SA8)))))));
  } else {
    r = RB0 + s * (RB1 + s * (RB2 + s * (RB3 + s * (RB4 + s * (RB5 + s * RB6)))));
    q = 1 + s * (SB1 + s * (SB2 + s * (SB3 + s * (SB4 + s * (SB5 + s * (SB6 + s * SB7))))));
  }
  // z is ax with its low 32 bits cleared (ax is in [1.25, 6), so its exponent is 0, 1 or 2):
  // z² is exact, and (z − ax)(z + ax) carries what z² leaves out of x².
  const unit = ax < 2 ? 2 ** -20 : ax < 4 ? 2 ** -19 : 2 ** -18;
  const z = Math.floor(ax / unit) * unit;
  const e = Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + r / q);
  return x >= 0 ? 1 - e / ax : e / ax - 1;
}
