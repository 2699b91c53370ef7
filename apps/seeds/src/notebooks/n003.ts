/**
 * Seed 003: gradients of wᵀx, the Jacobian of Wx, the MSE gradient, one- and
 * two-layer backprop; torch.manual_seed(42) + torch.rand rebuilt by
 * TorchGenerator, float32 as the notebook.
 */
import { Linear, Sequential } from '@backprop/layers';
import { MSELoss } from '@backprop/losses';
import { type NDArray, TorchGenerator, matmul, mul, ones, rand, sub, transpose } from '@backprop/ndarray';
import { fromFixture, notebooks } from '../fixtures';
import { type NotebookReport, printedRow, valueRow } from '../report';

/** A bias-free Linear holding `weight`: the notebook's `W @ x` as a layer. */
function linearWith(weight: NDArray): Linear {
  const layer = new Linear(weight.shape[1], weight.shape[0], { bias: false });
  layer.loadStateDict({ weight });
  return layer;
}

export function notebook003(): NotebookReport {
  const ref = notebooks['003'];
  const seedEverything = () => new TorchGenerator(42);

  // Gradient of f = wᵀx: df/dw = x, df/dx = w.
  let rng = seedEverything();
  const x = rand([5, 1], { rng });
  const w = rand([5, 1], { rng });
  const dot = linearWith(transpose(w));
  const f = dot.forward(transpose(x));
  const dx = dot.backward(ones([1, 1]));

  // The Jacobian of Wx with respect to W, summed over the outputs, is ones·xᵀ.
  rng = seedEverything();
  const W = rand([20, 5], { rng });
  const xj = rand([5, 1], { rng });
  const jacLayer = linearWith(W);
  jacLayer.forward(transpose(xj));
  jacLayer.backward(ones([1, 20]));

  // d MSE / d pred = −2/n (y − pred).
  rng = seedEverything();
  const pred = rand([5, 1], { rng });
  const y = rand([5, 1], { rng });
  const mse = new MSELoss();
  const mseValue = mse.forward(pred, y);
  const mseGrad = mse.backward();

  // One layer: dMSE/dW = dMSE/dpred · xᵀ.
  rng = seedEverything();
  const x1 = rand([5, 1], { rng });
  const W1 = rand([20, 5], { rng });
  const y1 = rand([20, 1], { rng });
  const oneLayer = linearWith(W1);
  const loss1 = new MSELoss();
  const mse1 = loss1.forward(oneLayer.forward(transpose(x1)), transpose(y1));
  oneLayer.backward(loss1.backward());
  const dPred1 = mul(sub(matmul(W1, x1), y1), 2 / 20);

  // Two layers: dMSE/dW1 = ((dMSE/dpred)ᵀ W2)ᵀ x0ᵀ.
  rng = seedEverything();
  const x2 = rand([5, 1], { rng });
  const A = rand([9, 5], { rng });
  const B = rand([7, 9], { rng });
  const y2 = rand([7, 1], { rng });
  const twoLayer = new Sequential(linearWith(A), linearWith(B));
  const loss2 = new MSELoss();
  const mse2 = loss2.forward(twoLayer.forward(transpose(x2)), transpose(y2));
  twoLayer.backward(loss2.backward());
  const dPred2 = transpose(mul(sub(y2, matmul(B, matmul(A, x2))), -2 / 7));
  const handW1 = transpose(matmul(x2, matmul(dPred2, B)));
  const [gradA, gradB] = twoLayer.parameters().map((p) => p.grad);

  const g = ref.gradient;
  return {
    id: '003',
    title: 'gradients of wᵀx, Jacobian of Wx, MSE gradient, 1- and 2-layer backprop; float32, seed 42',
    rows: [
      printedRow('x (4 decimals)', fmt4(x), '[0.8823, 0.9150, 0.3829, 0.9593, 0.3904]'),
      printedRow('w (4 decimals)', fmt4(w), '[0.6009, 0.2566, 0.7936, 0.9408, 0.1332]'),
      valueRow('x = torch.rand(5, 1)', x, fromFixture(g.x), { tolerance: 0 }),
      printedRow('f = wᵀx', String(f.item()), '2.0232625007629395'),
      valueRow('df/dw = x', transpose(dot.weight.grad), x, { notebook: 'True', tolerance: 0 }),
      valueRow('df/dx = w', transpose(dx), w, { notebook: 'True', tolerance: 0 }),
      valueRow('dWx/dW = ones·xᵀ', jacLayer.weight.grad, matmul(ones([20, 1]), transpose(xj)), { notebook: 'True', tolerance: 0 }),
      valueRow('Jacobian vs torch', jacLayer.weight.grad, fromFixture(ref.jacobian.jac), { notebook: 'torch' }),
      valueRow('MSE', mseValue, ref.mse.mse, { dtype: 'float32' }),
      valueRow('dMSE/dpred = −2/n (y − pred)', mseGrad, fromFixture(ref.mse.hand), { notebook: 'True' }),
      valueRow('dMSE/dpred vs torch autograd', mseGrad, fromFixture(ref.mse.grad), { notebook: 'torch' }),
      valueRow('1 layer: MSE', mse1, ref.one_layer.mse, { dtype: 'float32' }),
      valueRow('1 layer: dMSE/dW = dpred·xᵀ', oneLayer.weight.grad, matmul(dPred1, transpose(x1)), { notebook: 'True' }),
      valueRow('1 layer: dMSE/dW vs torch', oneLayer.weight.grad, fromFixture(ref.one_layer.grad), { notebook: 'torch' }),
      valueRow('2 layers: MSE', mse2, ref.two_layer.mse, { dtype: 'float32' }),
      valueRow('2 layers: dMSE/dW1 by hand', gradA, handW1, { notebook: 'True' }),
      valueRow('2 layers: dMSE/dW1 vs torch', gradA, fromFixture(ref.two_layer.grad_W1), { notebook: 'torch' }),
      valueRow('2 layers: dMSE/dW2 vs torch', gradB, fromFixture(ref.two_layer.grad_W2), { notebook: 'torch' }),
    ],
    notes: [
      'TorchGenerator(42) reproduces torch.manual_seed(42) + torch.rand bit for bit (max error 0).',
      'The notebook compares with ==; float32 sums in another order can differ in the last bit,',
      'so those rows allow float32 rounding (1e-6 relative) and print the measured difference.',
    ],
  };
}

/** torch's 4-decimal print of a column vector, as a flat list. */
function fmt4(a: NDArray): string {
  return `[${Array.from(a.data, (v) => v.toFixed(4)).join(', ')}]`;
}
