/**
 * A drawing on the canvas, made into the 28×28 input MNIST's digits are:
 * LeCun et al. size-normalized each digit to fit a 20×20 box, keeping its
 * aspect ratio, with anti-aliasing (so the strokes take grey levels), then
 * placed it in a 28×28 field so that its centre of mass is the field's
 * centre. Doing the same to a drawing is what lets a network trained on
 * MNIST read it; a plain downscale of the whole canvas leaves the digit
 * off-centre and the wrong size, and the network guesses.
 */

/** MNIST's field and the box the digit is scaled to fit. */
export const FIELD = 28;
export const BOX = 20;
/** Below this the canvas counts as background (anti-aliasing leaves faint pixels). */
export const INK_THRESHOLD = 0.05;

/** A rectangle of pixels, inclusive of `x0, y0`, exclusive of `x1, y1`. */
export interface Bounds {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The smallest rectangle holding every pixel brighter than `threshold`, or null for a blank image. */
export function inkBounds(gray: ArrayLike<number>, width: number, height: number, threshold = INK_THRESHOLD): Bounds | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (gray[y * width + x] > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 };
}

/**
 * Resamples the `bounds` of `gray` to `outWidth × outHeight` by area
 * averaging: each output pixel is the mean of the source area it covers,
 * partly covered source pixels weighted by the fraction covered. That is
 * anti-aliased downscaling, and it keeps the mean intensity.
 */
export function resampleArea(
  gray: ArrayLike<number>,
  width: number,
  bounds: Bounds,
  outWidth: number,
  outHeight: number,
): Float32Array {
  const out = new Float32Array(outWidth * outHeight);
  const sx = (bounds.x1 - bounds.x0) / outWidth;
  const sy = (bounds.y1 - bounds.y0) / outHeight;
  for (let oy = 0; oy < outHeight; oy++) {
    const top = bounds.y0 + oy * sy;
    const bottom = top + sy;
    for (let ox = 0; ox < outWidth; ox++) {
      const left = bounds.x0 + ox * sx;
      const right = left + sx;
      let sum = 0;
      // The loops stop at the bounds: rounding can put `bottom` a hair past the last row.
      for (let y = Math.floor(top); y < Math.min(Math.ceil(bottom), bounds.y1); y++) {
        const wy = Math.min(bottom, y + 1) - Math.max(top, y);
        for (let x = Math.floor(left); x < Math.min(Math.ceil(right), bounds.x1); x++) {
          const wx = Math.min(right, x + 1) - Math.max(left, x);
          sum += wx * wy * gray[y * width + x];
        }
      }
      out[oy * outWidth + ox] = sum / (sx * sy);
    }
  }
  return out;
}

/** The intensity-weighted mean position, in pixel units where pixel (x, y) covers [x, x+1) × [y, y+1). */
export function centerOfMass(image: ArrayLike<number>, width: number, height: number): { x: number; y: number; mass: number } {
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = image[y * width + x];
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  return mass > 0 ? { x: mx / mass, y: my / mass, mass } : { x: width / 2, y: height / 2, mass: 0 };
}

/**
 * The 28×28 MNIST-style input (row-major, values in [0, 1]) of a grey image
 * (`width × height` values in [0, 1], white ink on black), or null when
 * nothing is drawn: the ink's bounding box scaled to fit 20×20 with its
 * aspect ratio kept, then shifted (by whole pixels, as the digits were) so
 * its centre of mass sits at the centre, (14, 14), staying inside the field.
 */
export function toMnistInput(gray: ArrayLike<number>, width: number, height: number): Float32Array | null {
  if (gray.length !== width * height) {
    throw new RangeError(`toMnistInput: ${gray.length} values do not make a ${width}×${height} image`);
  }
  const bounds = inkBounds(gray, width, height);
  if (bounds === null) return null;
  const w = bounds.x1 - bounds.x0;
  const h = bounds.y1 - bounds.y0;
  const scale = BOX / Math.max(w, h);
  const tw = Math.max(1, Math.round(w * scale));
  const th = Math.max(1, Math.round(h * scale));
  const digit = resampleArea(gray, width, bounds, tw, th);
  const com = centerOfMass(digit, tw, th);
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  const ox = clamp(Math.round(FIELD / 2 - com.x), 0, FIELD - tw);
  const oy = clamp(Math.round(FIELD / 2 - com.y), 0, FIELD - th);
  const out = new Float32Array(FIELD * FIELD);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) out[(oy + y) * FIELD + ox + x] = clamp(digit[y * tw + x], 0, 1);
  }
  return out;
}

/** The grey level (0–1) of each pixel of RGBA image data: the red channel, as the canvas draws white on black. */
export function grayFromRgba(rgba: ArrayLike<number>, width: number, height: number): Float32Array {
  const gray = new Float32Array(width * height);
  for (let i = 0; i < gray.length; i++) gray[i] = rgba[4 * i] / 255;
  return gray;
}
