import { describe, expect, it } from 'vitest';
import { BOX, FIELD, centerOfMass, grayFromRgba, inkBounds, resampleArea, toMnistInput } from '../src/preprocess';

const W = 280;

/** A W×W black canvas with white filled rectangles [x0, y0, x1, y1). */
function canvas(...rects: [number, number, number, number][]): Float32Array {
  const gray = new Float32Array(W * W);
  for (const [x0, y0, x1, y1] of rects) for (let y = y0; y < y1; y++) gray.fill(1, y * W + x0, y * W + x1);
  return gray;
}

/** The bounding box of the non-zero pixels of a 28×28 image. */
const box28 = (image: Float32Array) => inkBounds(image, FIELD, FIELD, 0)!;
const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);

describe('toMnistInput: a drawing as MNIST’s digits were made', () => {
  it('returns null for an empty canvas', () => {
    expect(toMnistInput(new Float32Array(W * W), W, W)).toBeNull();
    // Faint anti-aliasing alone is not ink.
    expect(toMnistInput(new Float32Array(W * W).fill(0.01), W, W)).toBeNull();
  });

  it('scales the ink to fit a 20×20 box, keeping its aspect ratio', () => {
    const tall = toMnistInput(canvas([120, 40, 160, 240]), W, W)!; // 40 × 200
    const b = box28(tall);
    expect(b.y1 - b.y0).toBe(BOX);
    expect(b.x1 - b.x0).toBe(4); // 40 · 20/200
    const wide = toMnistInput(canvas([30, 130, 230, 150]), W, W)!; // 200 × 20
    const w = box28(wide);
    expect(w.x1 - w.x0).toBe(BOX);
    expect(w.y1 - w.y0).toBe(2);
  });

  it('puts the centre of mass at the centre of the 28×28 field', () => {
    // An "L": its centre of mass is off its bounding box's centre, and MNIST centres the mass.
    const image = toMnistInput(canvas([60, 40, 90, 240], [60, 210, 200, 240]), W, W)!;
    const com = centerOfMass(image, FIELD, FIELD);
    expect(Math.abs(com.x - FIELD / 2)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(com.y - FIELD / 2)).toBeLessThanOrEqual(0.5);
    const b = box28(image);
    expect((b.x0 + b.x1) / 2).not.toBeCloseTo(FIELD / 2, 0); // the box itself is not centred
  });

  it('gives the same input wherever on the canvas the digit is drawn', () => {
    const here = toMnistInput(canvas([40, 30, 70, 130], [40, 100, 120, 130]), W, W)!;
    const there = toMnistInput(canvas([150, 140, 180, 240], [150, 210, 230, 240]), W, W)!;
    expect(there).toEqual(here);
  });

  it('gives about the same input whatever size the digit is drawn', () => {
    const small = toMnistInput(canvas([100, 100, 110, 150], [100, 140, 130, 150]), W, W)!;
    const large = toMnistInput(canvas([60, 20, 100, 220], [60, 180, 180, 220]), W, W)!;
    let diff = 0;
    for (let i = 0; i < small.length; i++) diff = Math.max(diff, Math.abs(small[i] - large[i]));
    expect(diff).toBeLessThan(0.05);
  });

  it('anti-aliases: strokes thinner than a pixel of the result become grey, and the ink is kept', () => {
    // An "L" of 4-px strokes in a 200×200 box: at 20/200 each stroke is 0.4 px wide.
    const thin = toMnistInput(canvas([40, 40, 44, 240], [40, 236, 240, 240]), W, W)!;
    const values = Array.from(thin).filter((v) => v > 0);
    expect(Math.max(...values)).toBeLessThan(0.7);
    expect(Math.min(...values)).toBeGreaterThan(0.3);
    // Area averaging keeps the ink: (800 + 800 − 16 overlapping) source pixels × (20/200)².
    expect(sum(thin)).toBeCloseTo(15.84, 3);
    for (const v of thin) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('keeps a lopsided digit inside the field', () => {
    // A heavy blob at one end pulls the centre of mass: the shift stops at the edge.
    const image = toMnistInput(canvas([100, 20, 240, 60], [230, 20, 240, 240]), W, W)!;
    expect(sum(image)).toBeGreaterThan(0);
    const b = box28(image);
    expect(b.x0).toBeGreaterThanOrEqual(0);
    expect(b.y1).toBeLessThanOrEqual(FIELD);
  });

  it('rejects an image whose size does not match', () => {
    expect(() => toMnistInput(new Float32Array(10), 4, 4)).toThrow(/10 values do not make a 4×4 image/);
  });
});

describe('the helpers', () => {
  it('resampleArea averages the area each output pixel covers', () => {
    // A 4×2 image down to 2×1: each output pixel is the mean of a 2×2 block.
    const image = [0, 1, 1, 1, 0, 1, 0, 0];
    expect(Array.from(resampleArea(image, 4, { x0: 0, y0: 0, x1: 4, y1: 2 }, 2, 1))).toEqual([0.5, 0.5]);
    // Fractional coverage: 3 pixels into 2, the middle one split half and half.
    const [a, b] = resampleArea([1, 0.5, 0], 3, { x0: 0, y0: 0, x1: 3, y1: 1 }, 2, 1);
    expect(a).toBeCloseTo((1 + 0.5 * 0.5) / 1.5, 6);
    expect(b).toBeCloseTo((0.5 * 0.5 + 0) / 1.5, 6);
  });

  it('grayFromRgba reads the red channel of white-on-black image data', () => {
    expect(Array.from(grayFromRgba([255, 255, 255, 255, 0, 0, 0, 255, 51, 51, 51, 255], 3, 1))).toEqual([1, 0, Math.fround(51 / 255)]);
  });

  it('centerOfMass weighs positions by intensity', () => {
    expect(centerOfMass([1, 0, 0, 3], 4, 1)).toEqual({ x: (0.5 + 3 * 3.5) / 4, y: 0.5, mass: 4 });
  });
});
