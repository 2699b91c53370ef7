"""Re-runs the code of each seed notebook (../shared/seeds) with numpy and
PyTorch and records every quantity at full precision, for apps/seeds.

The notebooks 000, 001 and 003 are seeded (or need no randomness): their code
reproduces the printed numbers exactly. 002 and 004 drew from unseeded
generators, so their code is run here under a stated seed instead.

Run: /usr/bin/python3 tools/torch-fixtures/seeds.py
"""
import json
import math
import os

import numpy as np
import torch

from common import ROOT, tensor

OUT = os.path.join(ROOT, "apps", "seeds", "fixtures", "notebooks.json")


def nb000():
    np.random.seed(0)
    m, n = 10, 5
    I = np.random.random_sample((m))
    T = np.random.random_sample((n))
    W = np.random.random_sample((m, n))
    A = I @ W
    O = np.tanh(A)
    l = np.average((O - T) ** 2)
    dl = np.matmul(np.reshape(I, (m, -1)), np.reshape((2 / n) * (O - T) * (1 - np.tanh(A) ** 2), (-1, n)))
    return {"I": tensor(torch.from_numpy(I)), "T": tensor(torch.from_numpy(T)), "W": tensor(torch.from_numpy(W)),
            "O": tensor(torch.from_numpy(O)), "O_str": str(O), "loss": float(l), "dl": tensor(torch.from_numpy(dl))}


def nb001():
    def np_sigmoid(x):
        return 1 / (1 + np.exp(-x))
    x = np.array([[1., 2., 3.], [4., 5., 6.], [7., 8., 9.]])
    w1 = np.array([[0.1, -0.1], [0.2, 0.001]])
    w2 = np.array([0.0005, -0.2, 0.2, 0.5])
    y = np.array([-1., -1., 1., 1.])
    L1 = np.array([
        x[0, 0] * w1[0, 0] + x[0, 1] * w1[0, 1] + x[1, 0] * w1[1, 0] + x[1, 1] * w1[1, 1],
        x[0, 1] * w1[0, 0] + x[0, 2] * w1[0, 1] + x[1, 1] * w1[1, 0] + x[1, 2] * w1[1, 1],
        x[1, 0] * w1[0, 0] + x[1, 1] * w1[0, 1] + x[2, 0] * w1[1, 0] + x[2, 1] * w1[1, 1],
        x[1, 1] * w1[0, 0] + x[1, 2] * w1[0, 1] + x[2, 1] * w1[1, 0] + x[2, 2] * w1[1, 1]])
    L1A = np.tanh(L1)
    L2 = L1A * w2
    L2A = np_sigmoid(L2)
    loss = (0.5 * (L2A - y) ** 2).sum()
    d_w2 = (L2A - y) * np_sigmoid(L2) * (1 - np_sigmoid(L2)) * L1A.reshape(-1)
    d_L1 = (L2A - y) * np_sigmoid(L2) * (1 - np_sigmoid(L2)) * w2 * (1 - np.tanh(L1) ** 2)
    d_w1_00 = d_L1[0] * x[0, 0] + d_L1[1] * x[0, 1] + d_L1[2] * x[1, 0] + d_L1[3] * x[1, 1]
    t = lambda a: tensor(torch.from_numpy(np.asarray(a)))
    return {"x": t(x), "w1": t(w1), "w2": t(w2), "y": t(y),
            "L1": t(L1), "L1_str": str(L1), "L2": t(L2), "L2_str": str(L2), "loss": float(loss),
            "d_w2": t(d_w2), "d_w2_str": str(d_w2), "d_L1": t(d_L1), "d_L1_str": str(d_L1), "d_w1_00": float(d_w1_00)}


def nb002(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 2, bias=False), torch.nn.Tanh(),
        torch.nn.Linear(2, 2, bias=False), torch.nn.Tanh(),
        torch.nn.Linear(2, 1, bias=False))
    x = torch.randn(2)
    y_true = torch.randn(1)
    y_pred = model(x)
    error = torch.nn.MSELoss()(y_pred, y_true)
    error.backward()
    return {"seed": seed, "state": {k: tensor(v) for k, v in model.state_dict().items()},
            "x": tensor(x), "y_true": tensor(y_true), "y_pred": tensor(y_pred.detach()), "error": error.item(),
            "grads": {k: tensor(p.grad) for k, p in model.named_parameters()}}


def nb003():
    def seed_everything(SEED=42):
        np.random.seed(SEED)
        torch.manual_seed(SEED)
    out = {}
    seed_everything()
    x = torch.rand((5, 1), requires_grad=True)
    w = torch.rand((5, 1), requires_grad=True)
    f = torch.matmul(w.T, x)
    f.backward()
    out["gradient"] = {"x": tensor(x), "w": tensor(w), "f": f.item(), "w_grad": tensor(w.grad), "x_grad": tensor(x.grad)}
    seed_everything()
    W = torch.rand((20, 5))
    x = torch.rand((5, 1))
    out["jacobian"] = {"W": tensor(W), "x": tensor(x), "jac": tensor(torch.matmul(torch.ones((20, 1)), x.T))}
    seed_everything()
    pred = torch.rand((5, 1), requires_grad=True)
    y = torch.rand((5, 1))
    mse = torch.mean((y - pred) ** 2)
    mse.backward()
    out["mse"] = {"pred": tensor(pred), "y": tensor(y), "mse": mse.item(), "grad": tensor(pred.grad),
                  "hand": tensor(-2 / 5 * (y - pred.detach()))}
    seed_everything()
    x = torch.rand((5, 1))
    W = torch.rand((20, 5), requires_grad=True)
    y = torch.rand((20, 1))
    pred = torch.matmul(W, x)
    mse = torch.mean((y - pred) ** 2)
    mse.backward()
    out["one_layer"] = {"x": tensor(x), "W": tensor(W), "y": tensor(y), "mse": mse.item(), "grad": tensor(W.grad)}
    seed_everything()
    x = torch.rand((5, 1))
    W1 = torch.rand((9, 5), requires_grad=True)
    W2 = torch.rand((7, 9), requires_grad=True)
    y = torch.rand((7, 1))
    pred = torch.matmul(W2, torch.matmul(W1, x))
    mse = torch.mean((y - pred) ** 2)
    mse.backward()
    out["two_layer"] = {"x": tensor(x), "W1": tensor(W1), "W2": tensor(W2), "y": tensor(y), "mse": mse.item(),
                        "grad_W1": tensor(W1.grad), "grad_W2": tensor(W2.grad)}
    return out


def nb004(seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(10, 2))
    loss_fn = torch.nn.MSELoss()
    inputs = torch.rand(8, 10, requires_grad=True)
    labels = torch.rand(8, 2)
    pred = net(inputs)
    loss = loss_fn(pred, labels)
    loss.backward()
    return {"seed": seed, "weight": tensor(net[0].weight), "bias": tensor(net[0].bias), "inputs": tensor(inputs),
            "labels": tensor(labels), "pred": tensor(pred.detach()), "loss": loss.item(),
            "weight_grad": tensor(net[0].weight.grad), "bias_grad": tensor(net[0].bias.grad),
            "inputs_grad": tensor(inputs.grad)}


if __name__ == "__main__":
    payload = {"meta": {"generator": "tools/torch-fixtures/seeds.py", "torch": torch.__version__, "numpy": np.__version__},
               "000": nb000(), "001": nb001(), "002": nb002(), "003": nb003(), "004": nb004()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT, ROOT)} ({os.path.getsize(OUT)} bytes)")
