import { TorchGenerator, rand } from '@backprop/ndarray';
import { describe, expect, it } from 'vitest';
import { type ConvGeometry, col2im, convOutputSize, im2col } from '../src/im2col';

/** The definition, one pixel at a time with a bounds test each: what the fast loops must equal. */
function referenceIm2col(x: Float64Array, g: ConvGeometry): Float64Array {
  const cols = new Float64Array(g.channels * g.kernelH * g.kernelW * g.outH * g.outW);
  let k = 0;
  for (let c = 0; c < g.channels; c++)
    for (let i = 0; i < g.kernelH; i++)
      for (let j = 0; j < g.kernelW; j++)
        for (let oy = 0; oy < g.outH; oy++)
          for (let ox = 0; ox < g.outW; ox++, k++) {
            const iy = oy * g.strideH - g.padH + i * g.dilationH;
            const ix = ox * g.strideW - g.padW + j * g.dilationW;
            const inside = iy >= 0 && iy < g.height && ix >= 0 && ix < g.width;
            cols[k] = inside ? x[(c * g.height + iy) * g.width + ix] : 0;
          }
  return cols;
}

function referenceCol2im(cols: Float64Array, g: ConvGeometry, initial: number): Float64Array {
  const dx = new Float64Array(g.channels * g.height * g.width).fill(initial);
  let k = 0;
  for (let c = 0; c < g.channels; c++)
    for (let i = 0; i < g.kernelH; i++)
      for (let j = 0; j < g.kernelW; j++)
        for (let oy = 0; oy < g.outH; oy++)
          for (let ox = 0; ox < g.outW; ox++, k++) {
            const iy = oy * g.strideH - g.padH + i * g.dilationH;
            const ix = ox * g.strideW - g.padW + j * g.dilationW;
            if (iy >= 0 && iy < g.height && ix >= 0 && ix < g.width) dx[(c * g.height + iy) * g.width + ix] += cols[k];
          }
  return dx;
}

describe('im2col and col2im', () => {
  it('equal the pixel-by-pixel definition on 400 random geometries (padding past the kernel, strides past the image, dilation)', () => {
    const rng = new TorchGenerator(5);
    const pick = (lo: number, hi: number) => lo + (rng.random() % (hi - lo + 1)); // random(): an integer in [0, 2³²)
    let checked = 0;
    while (checked < 400) {
      const [height, width, kernelH, kernelW] = [pick(1, 9), pick(1, 9), pick(1, 4), pick(1, 4)];
      const [strideH, strideW, padH, padW, dilationH, dilationW] = [pick(1, 4), pick(1, 4), pick(0, 5), pick(0, 5), pick(1, 3), pick(1, 3)];
      const outH = convOutputSize(height, kernelH, strideH, padH, dilationH);
      const outW = convOutputSize(width, kernelW, strideW, padW, dilationW);
      if (outH < 1 || outW < 1) continue;
      const g: ConvGeometry = { channels: pick(1, 3), height, width, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, outH, outW };
      const image = g.channels * height * width;
      const x = rand([image + 3], { dtype: 'float64', rng }).data as Float64Array;
      const cols = new Float64Array(g.channels * kernelH * kernelW * outH * outW).fill(Number.NaN); // every entry must be written
      im2col(x, 3, g, cols);
      const label = JSON.stringify(g);
      expect(Array.from(cols), label).toEqual(Array.from(referenceIm2col(x.subarray(3), g)));
      const dx = new Float64Array(image + 2).fill(0.5);
      col2im(cols, g, dx, 2);
      const expected = referenceCol2im(cols, g, 0.5);
      expect(Array.from(dx.subarray(2)), label).toEqual(Array.from(expected));
      expect([dx[0], dx[1]], `${label}: nothing before the offset`).toEqual([0.5, 0.5]);
      checked++;
    }
  });
});
