"""PyTorch reference fixtures for the modern activation layers of @backprop/layers:
GELU (exact and tanh), SiLU, ELU, Softplus, Mish, Softmax and LogSoftmax.

For every layer and dtype: the input, the output, and the input gradient of
L = sum(output * R) for a seeded random R (so `backward(R)` is what is checked).
Inputs include 0, -0, large magnitudes (±30, ±60, ±100) and values on both
sides of Softplus's threshold; Softmax and LogSoftmax run on a 3-D input along
every dim, negative ones included. Also what print(module) shows for each layer.

Run from the repository root: /usr/bin/python3 tools/torch-fixtures/activations_modern.py
"""
import torch
from torch import nn

from common import tensor, write

PACKAGE = "layers"
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def randn(shape, seed, dtype):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)


def record(module, x, seed):
    x = x.detach().clone().requires_grad_(True)
    out = module(x)
    upstream = randn(out.shape, seed + 1000, torch.float64).to(out.dtype)
    out.backward(upstream)
    return {"input": tensor(x), "output": tensor(out), "outputGrad": tensor(upstream), "inputGrad": tensor(x.grad)}


# (layer, options as the TypeScript constructor takes them, torch module, threshold to probe or None)
SPECS = [
    ("GELU", {}, lambda: nn.GELU(), None),
    ("GELU", {"approximate": "tanh"}, lambda: nn.GELU(approximate="tanh"), None),
    ("SiLU", {}, lambda: nn.SiLU(), None),
    ("ELU", {}, lambda: nn.ELU(), None),
    ("ELU", {"alpha": 0.5}, lambda: nn.ELU(alpha=0.5), None),
    ("Softplus", {}, lambda: nn.Softplus(), 20.0),
    ("Softplus", {"beta": 2, "threshold": 5}, lambda: nn.Softplus(beta=2, threshold=5), 2.5),
    ("Softplus", {"beta": 0.5, "threshold": 10}, lambda: nn.Softplus(beta=0.5, threshold=10), 20.0),
    ("Mish", {}, lambda: nn.Mish(), None),
]

SOFTMAX_SPECS = [
    ("Softmax", {"dim": 0}, lambda: nn.Softmax(dim=0)),
    ("Softmax", {"dim": 1}, lambda: nn.Softmax(dim=1)),
    ("Softmax", {"dim": -1}, lambda: nn.Softmax(dim=-1)),
    ("LogSoftmax", {"dim": 1}, lambda: nn.LogSoftmax(dim=1)),
    ("LogSoftmax", {"dim": -1}, lambda: nn.LogSoftmax(dim=-1)),
    ("LogSoftmax", {"dim": -3}, lambda: nn.LogSoftmax(dim=-3)),
]


def elementwise_input(i, dtype, threshold):
    x = randn([4, 8], 700 + i, dtype) * 3
    x[0, 0] = 0.0
    x[0, 1] = -0.0
    x[1, 0], x[1, 1], x[1, 2], x[1, 3] = 30.0, -30.0, 60.0, -60.0
    x[1, 4], x[1, 5] = 100.0, -100.0
    x[2, 0], x[2, 1] = 1e-8, -1e-8
    if threshold is not None:
        # beta·x on both sides of the threshold, and on it (linear only strictly above).
        for j, d in enumerate([-0.5, -1e-3, 0.0, 1e-3, 0.5, 2.0]):
            x[3, j] = threshold + d
    return x


def layer_cases():
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (name, options, make, threshold) in enumerate(SPECS):
            x = elementwise_input(i, dtype, threshold)
            cases.append({"layer": name, "options": options, "dtype": dname, **record(make(), x, 800 + i)})
        for i, (name, options, make) in enumerate(SOFTMAX_SPECS):
            x = randn([2, 3, 5], 900 + i, dtype) * 2
            x[0, 0, 0] = 40.0  # one saturated entry: softmax ≈ 1 there, log-softmax ≈ 0
            x[1, 2, 4] = -40.0
            cases.append({"layer": name, "options": options, "dtype": dname, **record(make(), x, 950 + i)})
    return cases


def repr_fixture():
    models = {
        "GELU()": nn.GELU(),
        "GELU(approximate='tanh')": nn.GELU(approximate="tanh"),
        "SiLU()": nn.SiLU(),
        "ELU()": nn.ELU(),
        "ELU(alpha=0.5)": nn.ELU(alpha=0.5),
        "Softplus()": nn.Softplus(),
        "Softplus(beta=2, threshold=5)": nn.Softplus(beta=2, threshold=5),
        "Softplus(beta=0.5, threshold=10)": nn.Softplus(beta=0.5, threshold=10),
        "Mish()": nn.Mish(),
        "Softmax(dim=-1)": nn.Softmax(dim=-1),
        "LogSoftmax(dim=1)": nn.LogSoftmax(dim=1),
        "mlp": nn.Sequential(nn.Linear(4, 8), nn.GELU(approximate="tanh"), nn.Linear(8, 3), nn.LogSoftmax(dim=1)),
    }
    return {name: repr(module) for name, module in models.items()}


if __name__ == "__main__":
    write(PACKAGE, "activations-modern", {"cases": layer_cases(), "repr": repr_fixture()})
