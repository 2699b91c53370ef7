/**
 * Seed 004: the notebook's NeuralLayer with the None activation (our Dense)
 * against torch.nn.Linear + MSELoss. The notebook drew unseeded; here both
 * sides use torch.manual_seed(0) in the notebook's order.
 */
import { Dense, Linear, Sequential } from '@backprop/layers';
import { MSELoss } from '@backprop/losses';
import { manualSeed, mul, rand, sub } from '@backprop/ndarray';
import { fromFixture, notebooks } from '../fixtures';
import { type NotebookReport, valueRow } from '../report';

export function notebook004(): NotebookReport {
  const ref = notebooks['004'];
  manualSeed(ref.seed);
  const net = new Sequential(new Linear(10, 2));
  const inputs = rand([8, 10]);
  const labels = rand([8, 2]);

  const lossFn = new MSELoss();
  const pred = net.forward(inputs);
  const loss = lossFn.forward(pred, labels);
  const inputsGrad = net.backward(lossFn.backward());
  const [weight, bias] = net.parameters();

  // The notebook's layer: weights copied from the torch net; its loss is
  // 1/(2N)·Σ(labels − pred)² with N = 8 rows, its gradient (pred − labels)/N.
  const mynet = new Dense(10, 2, { activation: 'none' });
  mynet.loadStateDict(net.layers[0].stateDict());
  const mypred = mynet.forward(inputs);
  const N = mypred.shape[0];
  const diff = sub(mypred, labels);
  const myloss = Array.from(diff.data).reduce((s, d) => s + d * d, 0) / (2 * N);
  const mybackward = mynet.backward(mul(diff, 1 / N));
  const [myWeight, myBias] = mynet.parameters();

  return {
    id: '004',
    title: 'Dense(10, 2, none) vs Linear(10, 2) + MSELoss; float32, torch.manual_seed(0)',
    rows: [
      valueRow('Linear(10, 2) init', weight.value, fromFixture(ref.weight), { tolerance: 0 }),
      valueRow('inputs = rand(8, 10)', inputs, fromFixture(ref.inputs), { tolerance: 0 }),
      valueRow('pred = net(inputs)', pred, fromFixture(ref.pred)),
      valueRow('loss = MSELoss', loss, ref.loss, { dtype: 'float32' }),
      valueRow('1/(2N)·Σ(y − pred)² = MSELoss', myloss, loss, { notebook: 'same loss', dtype: 'float32' }),
      valueRow('∂L/∂b: Dense vs torch', myBias.grad, fromFixture(ref.bias_grad), { notebook: 'allclose: True' }),
      valueRow('∂L/∂W: Dense vs torch', myWeight.grad, fromFixture(ref.weight_grad), { notebook: 'allclose: True' }),
      valueRow('∂L/∂inputs: Dense vs torch', mybackward, fromFixture(ref.inputs_grad), { notebook: 'allclose: True' }),
      valueRow('∂L/∂b: Linear+MSELoss vs torch', bias.grad, fromFixture(ref.bias_grad)),
      valueRow('∂L/∂W: Linear+MSELoss vs torch', weight.grad, fromFixture(ref.weight_grad)),
      valueRow('∂L/∂inputs: Linear+MSELoss vs torch', inputsGrad, fromFixture(ref.inputs_grad)),
    ],
    notes: [
      `Why 1/(2N): MSELoss averages over all N·O = ${N}·2 = ${N * 2} elements. With O = 2 outputs,`,
      '1/(N·O)·Σ(y − pred)² = 1/(2N)·Σ(y − pred)², and its gradient 2(pred − y)/(N·O) = (pred − y)/N:',
      "exactly the notebook's myloss_fn and myloss_grad. For O ≠ 2 the notebook's scaling would differ.",
    ],
  };
}
