/**
 * Seed 002: the 2-2-2-1 tanh network without biases, MSE; ∂E/∂w9 and ∂E/∂w10
 * by the notebook's chain rule against the packages' backward. The notebook
 * drew from an unseeded generator; here both sides use torch.manual_seed(0).
 */
import { Linear, Sequential, Tanh } from '@backprop/layers';
import { MSELoss } from '@backprop/losses';
import { type NDArray, manualSeed, randn } from '@backprop/ndarray';
import { fromFixture, notebooks } from '../fixtures';
import { type NotebookReport, type Row, valueRow } from '../report';

export function notebook002(): NotebookReport {
  const ref = notebooks['002'];
  // The notebook's cell order: the model draws its weights, then x, then y_true.
  manualSeed(ref.seed);
  const model = new Sequential(
    new Linear(2, 2, { bias: false }),
    new Tanh(),
    new Linear(2, 2, { bias: false }),
    new Tanh(),
    new Linear(2, 1, { bias: false }),
  );
  const x = randn([2]);
  const yTrue = randn([1]);

  const lossFn = new MSELoss();
  const yPred = model.forward(x);
  const error = lossFn.forward(yPred, yTrue);
  model.backward(lossFn.backward());

  // The notebook's naive forward: y3, y4 are the second hidden layer's outputs.
  const [w1, w3, w2, w4] = model.layers[0].parameters()[0].value.data; // weight [[w1, w3], [w2, w4]]
  const [w5, w7, w6, w8] = model.layers[2].parameters()[0].value.data;
  const [w9, w10] = model.layers[4].parameters()[0].value.data;
  const [x1, x2] = x.data;
  const y1 = Math.tanh(w1 * x1 + w3 * x2);
  const y2 = Math.tanh(w2 * x1 + w4 * x2);
  const y3 = Math.tanh(w5 * y1 + w7 * y2);
  const y4 = Math.tanh(w6 * y1 + w8 * y2);
  const yHand = w9 * y3 + w10 * y4;
  const gradW9 = 2 * (yHand - yTrue.data[0]) * y3;
  const gradW10 = 2 * (yHand - yTrue.data[0]) * y4;

  const grads = Object.fromEntries(model.namedParameters().map(([name, p]) => [name, p.grad])) as Record<string, NDArray>;
  const stateRows: Row[] = Object.entries(model.stateDict()).map(([name, value]) =>
    valueRow(`init ${name}`, value, fromFixture(ref.state[name]), { tolerance: 0 }),
  );
  const gradRows: Row[] = Object.entries(grads).map(([name, grad]) =>
    valueRow(`∂E/∂${name}`, grad, fromFixture(ref.grads[name]), { notebook: 'torch' }),
  );
  return {
    id: '002',
    title: '2-2-2-1 tanh network, no biases, MSE; float32, torch.manual_seed(0)',
    rows: [
      ...stateRows,
      valueRow('x = randn(2)', x, fromFixture(ref.x), { tolerance: 0 }),
      valueRow('y_true = randn(1)', yTrue, fromFixture(ref.y_true), { tolerance: 0 }),
      valueRow('y_pred: naive forward vs model', yPred.data[0], yHand, { notebook: 'naive forward', dtype: 'float32' }),
      valueRow('y_pred', yPred, fromFixture(ref.y_pred)),
      valueRow('E = MSE(y_pred, y_true)', error, ref.error, { dtype: 'float32' }),
      valueRow('∂E/∂w9: chain rule vs backward', grads['4.weight'].data[0], gradW9, { notebook: '2(y − y*)·y3', dtype: 'float32' }),
      valueRow('∂E/∂w10: chain rule vs backward', grads['4.weight'].data[1], gradW10, { notebook: '2(y − y*)·y4', dtype: 'float32' }),
      ...gradRows,
    ],
    notes: [
      'The notebook drew its weights, x and y_true unseeded. manualSeed(0) here and torch.manual_seed(0)',
      'in tools/torch-fixtures/seeds.py give the same weights, x and y_true bit for bit (max error 0).',
      '∂E/∂w9 = 2(y − y*)·f′(σ)·y3 with f the identity at the output, as the notebook derives.',
    ],
  };
}
