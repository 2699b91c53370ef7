/**
 * Seed 000: one layer, tanh, MSE, in double precision, with numpy's
 * `np.random.seed(0)` stream rebuilt by NumpyRandomState.
 */
import { Linear, Sequential, Tanh } from '@backprop/layers';
import { MSELoss } from '@backprop/losses';
import { NumpyRandomState, array, matmul, mul, reshape, sub, tanh, transpose } from '@backprop/ndarray';
import { fromFixture, notebooks } from '../fixtures';
import { type NotebookReport, printedRow, valueRow } from '../report';

/** `print(O)`, In [25] of the notebook. */
const PRINTED_O = '[0.99248036 0.99244429 0.99889554 0.99232696 0.97565233]';

export function notebook000(): NotebookReport {
  const ref = notebooks['000'];
  const m = 10;
  const n = 5;
  const rs = new NumpyRandomState(0);
  const I = array(rs.randomSample(m), { dtype: 'float64' });
  const T = array(rs.randomSample(n), { dtype: 'float64' });
  const W = array(rs.randomSample(m * n), { shape: [m, n], dtype: 'float64' });

  // The packages: Linear(10, 5, bias=False) holds Wᵀ, as the notebook's torch.nn.Linear does.
  const linear = new Linear(m, n, { bias: false, dtype: 'float64' });
  linear.loadStateDict({ weight: transpose(W) });
  const model = new Sequential(linear, new Tanh());
  const criterion = new MSELoss();
  const O = model.forward(I);
  const loss = criterion.forward(O, T);
  model.backward(criterion.backward());
  const packageGrad = transpose(linear.weight.grad);

  // The notebook's hand-derived gradient: (2/n)(O − T)(1 − tanh²A) iᵀ.
  const A = matmul(I, W);
  const t = tanh(A);
  const delta = mul(mul(sub(O, T), 2 / n), sub(1, mul(t, t)));
  const handGrad = matmul(reshape(I, [m, 1]), reshape(delta, [1, n]));

  return {
    id: '000',
    title: 'one layer, tanh, MSE, float64; numpy.random.seed(0)',
    rows: [
      valueRow('I = random_sample(10)', I, fromFixture(ref.I), { tolerance: 0 }),
      valueRow('T = random_sample(5)', T, fromFixture(ref.T), { tolerance: 0 }),
      valueRow('W = random_sample((10, 5))', W, fromFixture(ref.W), { tolerance: 0 }),
      printedRow('print(O)', O.toString(), PRINTED_O),
      valueRow('O = tanh(I @ W)', O, fromFixture(ref.O)),
      valueRow('l = mean((O − T)²)', loss, ref.loss),
      valueRow('dl: hand-derived vs backward', packageGrad, handGrad, { notebook: 'allclose: True' }),
      valueRow('dl: backward vs numpy', packageGrad, fromFixture(ref.dl)),
    ],
    notes: [
      'numpy.random.seed(0) + random_sample is rebuilt bit for bit by NumpyRandomState (max error 0).',
      'Linear(10, 5, { bias: false }) + Tanh + MSELoss backward equals (2/n)(O − T)(1 − tanh²A) iᵀ.',
    ],
  };
}
