/**
 * Seed 001: a 2×2 convolution on a 3×3 input, tanh, one weight per feature,
 * sigmoid, and ½Σ(a − y)², every printed number reproduced.
 */
import { Conv2d, Flatten, Sigmoid, Tanh } from '@backprop/layers';
import { reshape } from '@backprop/ndarray';
import { ElementwiseWeights } from '../elementwise-weights';
import { fromFixture, notebooks } from '../fixtures';
import { HalfSumSquaredError } from '../half-sum-squared-error';
import { type NotebookReport, printedRow, valueRow } from '../report';

// What the notebook printed (In [2] and In [3]).
const PRINTED = {
  L1: '[0.705 0.906 1.308 1.509]',
  L2: '[ 3.03765944e-04 -1.43841367e-01  1.72753696e-01  4.53380714e-01]',
  loss: '2.3767862745225306',
  d_w2: '[ 0.22783599  0.26189097 -0.09793547 -0.08370645]',
  d_L1: '[ 0.0001183  -0.03515696 -0.00575761 -0.00820593]',
  d_w1_00: '-0.1342557202950444',
};

export function notebook001(): NotebookReport {
  const ref = notebooks['001'];
  const x = fromFixture(ref.x);
  const w1 = fromFixture(ref.w1);
  const y = fromFixture(ref.y);

  const conv = new Conv2d(1, 1, 2, { bias: false, dtype: 'float64' });
  conv.loadStateDict({ weight: reshape(w1, [1, 1, 2, 2]) });
  const flatten = new Flatten();
  const tanh = new Tanh();
  const weights = new ElementwiseWeights(reshape(fromFixture(ref.w2), [4]));
  const sigmoid = new Sigmoid();
  const criterion = new HalfSumSquaredError();

  // Forward, layer by layer, keeping the intermediates the notebook prints.
  const L1 = flatten.forward(conv.forward(reshape(x, [1, 1, 3, 3])));
  const L2 = weights.forward(tanh.forward(L1));
  const loss = criterion.forward(sigmoid.forward(L2), reshape(y, [1, 4]));

  const dL2 = sigmoid.backward(criterion.backward());
  const dL1 = tanh.backward(weights.backward(dL2));
  conv.backward(flatten.backward(dL1));
  const d_w1_00 = conv.weight.grad.get(0, 0, 0, 0);

  const flat = (a: typeof L1) => reshape(a, [4]);
  return {
    id: '001',
    title: '2×2 conv on 3×3, tanh, elementwise weights, sigmoid, ½Σ(a−y)²; float64',
    rows: [
      printedRow('print(L1)', flat(L1).toString(), PRINTED.L1),
      printedRow('print(L2)', flat(L2).toString(), PRINTED.L2),
      printedRow('print(loss)', String(loss), PRINTED.loss),
      printedRow('print(d_w2)', weights.weight.grad.toString(), PRINTED.d_w2),
      printedRow('print(d_L1)', flat(dL1).toString(), PRINTED.d_L1),
      printedRow('print(d_w1[0, 0])', String(d_w1_00), PRINTED.d_w1_00),
      valueRow('L2 (full precision)', flat(L2), fromFixture(ref.L2), { notebook: 'numpy' }),
      valueRow('d_w2 (full precision)', weights.weight.grad, fromFixture(ref.d_w2), { notebook: 'numpy' }),
      valueRow('d_L1 (full precision)', flat(dL1), fromFixture(ref.d_L1), { notebook: 'numpy' }),
      valueRow('d_w1[0, 0]', d_w1_00, ref.d_w1_00),
    ],
    notes: [
      'The convolution is Conv2d(1, 1, 2, { bias: false }); the elementwise weights and ½Σ(a−y)² are',
      'a custom NeuralLayer and a custom Loss (apps/seeds/src), the way a user adds their own.',
    ],
  };
}
