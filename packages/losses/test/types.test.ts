/**
 * The reduction decides what forward returns and what backward takes, in the
 * types as at run time. The type assertions are checked by `tsc --noEmit`
 * (this file is in the package's tsconfig); the runtime ones by vitest.
 */
import { NDArray, array } from '@backprop/ndarray';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  BCELoss,
  CrossEntropyLoss,
  type CrossEntropyLossOptions,
  LOSSES,
  type Loss,
  type LossClass,
  MSELoss,
  NLLLoss,
  type Reduction,
} from '../src/index';
import type { LossValue } from '../src/reduction';

const f64 = (values: number[], shape?: number[]) => array(values, { dtype: 'float64', shape: shape ?? [values.length] });

describe('reduction in the types', () => {
  it("'mean' (the default) and 'sum' give a number and take a number; 'none' an NDArray both ways", () => {
    const mean = new MSELoss();
    const sum = new MSELoss({ reduction: 'sum' });
    const none = new MSELoss({ reduction: 'none' });
    expectTypeOf(mean).toEqualTypeOf<MSELoss<'mean'>>();
    expectTypeOf(none).toEqualTypeOf<MSELoss<'none'>>();
    expectTypeOf(mean.forward).returns.toEqualTypeOf<number>();
    expectTypeOf(sum.forward).returns.toEqualTypeOf<number>();
    expectTypeOf(none.forward).returns.toEqualTypeOf<NDArray>();
    expectTypeOf(mean.backward).parameters.toEqualTypeOf<[outputGrad?: number]>();
    expectTypeOf(none.backward).parameters.toEqualTypeOf<[outputGrad: NDArray]>();
    expectTypeOf(none).toExtend<Loss<'none'>>();
    expectTypeOf(mean).toExtend<Loss>();
    expectTypeOf(new CrossEntropyLoss({ reduction: 'none', labelSmoothing: 0.1 }).forward).returns.toEqualTypeOf<NDArray>();
    expectTypeOf(new NLLLoss({ reduction: 'none' }).forward).returns.toEqualTypeOf<NDArray>();
    expectTypeOf(new BCELoss({ reduction: 'sum' }).forward).returns.toEqualTypeOf<number>();
    // An options record typed without a reduction argument keeps to 'mean' and 'sum', as before.
    const options: CrossEntropyLossOptions = { reduction: 'sum', labelSmoothing: 0.1 };
    expectTypeOf(new CrossEntropyLoss(options).forward).returns.toEqualTypeOf<number>();
    // A reduction known only at run time gives either.
    expectTypeOf<LossValue<Reduction>>().toEqualTypeOf<number | NDArray>();

    const p = f64([1, 2, 3]);
    const y = f64([0, 0, 0]);
    expect(mean.forward(p, y)).toBeCloseTo(14 / 3, 14);
    expect(none.forward(p, y)).toBeInstanceOf(NDArray);
    // @ts-expect-error under 'none' forward returns the terms, an NDArray, not a number
    const notANumber: number = new MSELoss({ reduction: 'none' }).forward(p, y);
    expect(notANumber).toBeInstanceOf(NDArray);
    expect(Array.from(none.backward(f64([1, 0, -1])).data)).toEqual([2, 0, -6]);
    // @ts-expect-error under 'none' backward needs the gradient of each term
    expect(() => none.backward()).toThrow("MSELoss.backward: reduction 'none' needs outputGrad, an NDArray of shape [3]");
    // @ts-expect-error under 'none' a number is not an outputGrad
    expect(() => none.backward(1)).toThrow('got 1');
    mean.forward(p, y);
    // @ts-expect-error under 'mean' outputGrad is a number
    expect(() => mean.backward(f64([1, 1, 1]))).toThrow(
      "MSELoss.backward: outputGrad must be a number under reduction 'mean', whose loss is one number; got an NDArray of shape [3] (float64)",
    );
  });

  it('LossClass and LOSSES: a plain Loss by default, Loss<R> when asked', () => {
    const Plain: LossClass = LOSSES.MSELoss;
    const PerElement: LossClass<'none'> = LOSSES.MSELoss;
    expectTypeOf(new Plain().forward).returns.toEqualTypeOf<number>();
    expectTypeOf(new PerElement({ reduction: 'none' }).forward).returns.toEqualTypeOf<NDArray>();
    expect(new PerElement({ reduction: 'none' }).forward(f64([2]), f64([1]))).toBeInstanceOf(NDArray);
  });
});
