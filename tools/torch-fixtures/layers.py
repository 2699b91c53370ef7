"""PyTorch reference fixtures for @backprop/layers.

For every layer: the input, the parameters, the output, and the gradients of
L = sum(output * R) for a fixed random upstream gradient R (so `backward(R)`
is what is checked): the input gradient and each parameter's gradient. Every
case is written in float64 and float32. Also the parameters that
`torch.manual_seed(s)` then `nn.Linear` / `nn.Conv2d` / `nn.Sequential`
create, and what `torch.nn.init`'s functions draw, bit for bit, and a
Sequential's state_dict saved in the safetensors format. MaxPool2d cases include
windows with tied maxima (the gradient goes to the first). Dropout's output and
input gradient after `torch.manual_seed(s)` (this torch has no MKL, so its
Bernoulli mask is `torch.rand(float64) < 1 - p` drawn from that seed), and a
small CNN (conv, max pool, avg pool, dropout, linear) run forward and backward in
training mode.

Run from the repository root: /usr/bin/python3 tools/torch-fixtures/layers.py
"""
import math
import os

import torch
from torch import nn

from common import ROOT, tensor, write, write_safetensors

PACKAGE = "layers"
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def away_from_zero(t, margin=0.05):
    """Moves values out of (-margin, margin) so no ReLU kink sits near an input."""
    return torch.where(t.abs() < margin, t.sign() * margin + t, t)


def record(module, x, seed):
    """Runs module on x and backpropagates a seeded random upstream gradient."""
    x = x.detach().clone().requires_grad_(True)
    out = module(x)
    g = torch.Generator().manual_seed(seed + 1000)
    upstream = torch.randn(out.shape, generator=g, dtype=torch.float64).to(out.dtype)
    out.backward(upstream)
    case = {
        "input": tensor(x),
        "output": tensor(out),
        "outputGrad": tensor(upstream),
        "inputGrad": tensor(x.grad),
        "params": {name: tensor(p) for name, p in module.named_parameters()},
        "paramGrads": {name: tensor(p.grad) for name, p in module.named_parameters()},
    }
    return case


def randn(shape, seed, dtype):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)


def linear_cases():
    cases = []
    specs = [
        # (name, in, out, bias, input shape)
        ("batch", 5, 3, True, [4, 5]),
        ("no bias", 5, 3, False, [4, 5]),
        ("1-D input", 6, 2, True, [6]),
        ("3-D input", 4, 3, True, [2, 3, 4]),
        ("seed notebook 004", 10, 2, True, [8, 10]),
    ]
    for dname, dtype in DTYPES.items():
        for i, (name, fin, fout, bias, shape) in enumerate(specs):
            torch.manual_seed(10 + i)
            layer = nn.Linear(fin, fout, bias=bias, dtype=dtype)
            case = record(layer, randn(shape, 100 + i, dtype), 200 + i)
            cases.append({"name": name, "dtype": dname, "inFeatures": fin, "outFeatures": fout,
                          "bias": bias, **case})
    return cases


ACTIVATION_MODULES = {
    "relu": nn.ReLU,
    "none": nn.Identity,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


class DenseReference(nn.Module):
    """torch Linear then the activation, with the parameters named as Dense names them."""

    def __init__(self, fin, fout, activation, bias, dtype):
        super().__init__()
        self.linear = nn.Linear(fin, fout, bias=bias, dtype=dtype)
        self.activation = ACTIVATION_MODULES[activation]()

    def forward(self, x):
        return self.activation(self.linear(x))


def dense_cases():
    cases = []
    for dname, dtype in DTYPES.items():
        for i, activation in enumerate(["relu", "none", "tanh", "sigmoid"]):
            for bias in (True, False):
                torch.manual_seed(20 + i)
                ref = DenseReference(6, 4, activation, bias, dtype)
                # Scale up so some ReLU units are off and tanh/sigmoid leave their linear range.
                x = away_from_zero(randn([5, 6], 300 + i, dtype)) * 2
                case = record(ref, x, 400 + i)
                rename = lambda d: {k.replace("linear.", ""): v for k, v in d.items()}
                case["params"] = rename(case["params"])
                case["paramGrads"] = rename(case["paramGrads"])
                cases.append({"activation": activation, "dtype": dname, "bias": bias,
                              "inFeatures": 6, "outFeatures": 4, **case})
    return cases


def activation_cases():
    cases = []
    specs = [
        ("ReLU", {}, lambda: nn.ReLU()),
        ("Identity", {}, lambda: nn.Identity()),
        ("Tanh", {}, lambda: nn.Tanh()),
        ("Sigmoid", {}, lambda: nn.Sigmoid()),
        ("LeakyReLU", {}, lambda: nn.LeakyReLU()),
        ("LeakyReLU", {"negativeSlope": 0.2}, lambda: nn.LeakyReLU(0.2)),
    ]
    for dname, dtype in DTYPES.items():
        for i, (name, args, make) in enumerate(specs):
            x = randn([4, 6], 500 + i, dtype) * 3
            # Exact zeros pin down the subgradient torch picks at the kink:
            # relu'(0) = 0, leaky_relu'(0) = negative_slope.
            x[0, 0] = 0.0
            x[2, 3] = -0.0
            # Large magnitudes: saturated tanh and sigmoid.
            x[1, 1] = 40.0
            x[3, 5] = -40.0
            cases.append({"layer": name, "args": args, "dtype": dname, **record(make(), x, 600 + i)})
    return cases


def conv_cases():
    specs = [
        # (name, in, out, kernel, stride, padding, dilation, bias, input shape)
        ("3x3", 2, 3, 3, 1, 0, 1, True, [2, 2, 5, 4]),
        ("stride 2, padding 1", 2, 3, 3, 2, 1, 1, True, [2, 2, 6, 5]),
        ("kernel (2, 3), stride (2, 1), padding (1, 0)", 3, 2, (2, 3), (2, 1), (1, 0), 1, True, [2, 3, 4, 5]),
        ("no bias, 1x1", 3, 2, 1, 1, 0, 1, False, [2, 3, 3, 3]),
        ("dilation 2, padding 2", 2, 2, 3, 1, 2, 2, True, [1, 2, 5, 5]),
        ("unbatched [C, H, W] input", 2, 3, 3, 2, 1, 1, True, [2, 5, 5]),
    ]
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (name, cin, cout, k, s, p, d, bias, shape) in enumerate(specs):
            torch.manual_seed(30 + i)
            conv = nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, bias=bias, dtype=dtype)
            case = record(conv, randn(shape, 700 + i, dtype), 800 + i)
            cases.append({"name": name, "dtype": dname, "inChannels": cin, "outChannels": cout,
                          "kernelSize": k, "stride": s, "padding": p, "dilation": d, "bias": bias, **case})
    return cases


def flatten_cases():
    specs = [((1, -1), [2, 3, 2, 2]), ((0, 2), [2, 3, 2, 2]), ((2, 3), [2, 3, 2, 2]), ((0, -1), [3, 4]),
             ((-3, -2), [2, 3, 2, 2])]
    cases = []
    for dname, dtype in DTYPES.items():
        for i, ((start, end), shape) in enumerate(specs):
            case = record(nn.Flatten(start, end), randn(shape, 900 + i, dtype), 950 + i)
            cases.append({"startDim": start, "endDim": end, "dtype": dname, **case})
    return cases


def mlp():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def convnet():
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Conv2d(2, 3, 3, stride=2), nn.Tanh(),
        nn.Flatten(), nn.Linear(12, 5), nn.Sequential(nn.Sigmoid(), nn.Linear(5, 2)),
    )


def sequential_cases():
    cases = []
    for dname, dtype in DTYPES.items():
        torch.set_default_dtype(dtype)
        torch.manual_seed(40)
        case = record(mlp(), away_from_zero(randn([5, 4], 1000, dtype)), 1001)
        cases.append({"model": "mlp", "dtype": dname, **case})
        torch.manual_seed(41)
        case = record(convnet(), randn([2, 1, 6, 6], 1002, dtype), 1003)
        cases.append({"model": "convnet", "dtype": dname, **case})
    torch.set_default_dtype(torch.float32)
    return cases


def state_dict_fixture():
    """A torch Sequential(Linear, ReLU, Linear) state_dict as safetensors, with an input, the
    outputs and gradients the loaded model must reproduce."""
    cases = []
    for dname, dtype in DTYPES.items():
        torch.set_default_dtype(dtype)
        torch.manual_seed(50)
        model = mlp()
        write_safetensors(os.path.join(ROOT, "packages", PACKAGE, "test", "fixtures", f"mlp-state-dict-{dname}.safetensors"),
                          model.state_dict(), {"format": "pt"})
        case = record(model, away_from_zero(randn([6, 4], 1100, dtype)), 1101)
        cases.append({"file": f"mlp-state-dict-{dname}.safetensors", "dtype": dname, **case})
    torch.set_default_dtype(torch.float32)
    return cases


def init_fixture():
    """Parameters created right after torch.manual_seed(seed), bit for bit."""
    modules = []
    makers = [
        ("Linear(10, 2)", lambda dt: nn.Linear(10, 2, dtype=dt)),
        ("Linear(3, 7, bias=False)", lambda dt: nn.Linear(3, 7, bias=False, dtype=dt)),
        ("Linear(12, 9)", lambda dt: nn.Linear(12, 9, dtype=dt)),
        ("Conv2d(3, 4, 3)", lambda dt: nn.Conv2d(3, 4, 3, dtype=dt)),
        ("Conv2d(2, 3, (2, 3))", lambda dt: nn.Conv2d(2, 3, (2, 3), dtype=dt)),
        ("Sequential(Linear(4, 8), ReLU(), Linear(8, 3))", lambda dt: mlp()),
    ]
    for dname, dtype in DTYPES.items():
        for seed in (0, 2024):
            for name, make in makers:
                torch.set_default_dtype(dtype)
                torch.manual_seed(seed)
                module = make(dtype)
                # torch.set_default_dtype and the dtype argument must agree.
                torch.set_default_dtype(torch.float32)
                torch.manual_seed(seed)
                again = make(dtype) if "Sequential" not in name else None
                if again is not None:
                    for (_, a), (_, b) in zip(module.named_parameters(), again.named_parameters()):
                        assert torch.equal(a, b), name
                modules.append({"module": name, "seed": seed, "dtype": dname,
                                "params": {k: tensor(v) for k, v in module.named_parameters()}})
    torch.set_default_dtype(torch.float32)

    fills = []
    init = nn.init
    fill_specs = [
        ("kaimingUniform", {}, lambda t: init.kaiming_uniform_(t)),
        ("kaimingUniform", {"a": math.sqrt(5)}, lambda t: init.kaiming_uniform_(t, a=math.sqrt(5))),
        ("kaimingUniform", {"mode": "fan_out", "nonlinearity": "relu"},
         lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu")),
        ("kaimingNormal", {}, lambda t: init.kaiming_normal_(t)),
        ("kaimingNormal", {"a": 0.2, "mode": "fan_out"}, lambda t: init.kaiming_normal_(t, a=0.2, mode="fan_out")),
        ("xavierUniform", {}, lambda t: init.xavier_uniform_(t)),
        ("xavierUniform", {"gain": 5 / 3}, lambda t: init.xavier_uniform_(t, gain=5 / 3)),
        ("xavierNormal", {}, lambda t: init.xavier_normal_(t)),
        ("xavierNormal", {"gain": math.sqrt(2)}, lambda t: init.xavier_normal_(t, gain=math.sqrt(2))),
        ("uniform", {"a": -0.5, "b": 2}, lambda t: init.uniform_(t, -0.5, 2)),
        ("normal", {"mean": 1, "std": 0.1}, lambda t: init.normal_(t, 1, 0.1)),
    ]
    for dname, dtype in DTYPES.items():
        # [3, 4] has fewer than 16 elements (torch's scalar normal path), the others more.
        for shape in ([3, 4], [4, 2, 2, 3]):
            for i, (fn, options, apply) in enumerate(fill_specs):
                torch.manual_seed(7 + i)
                t = torch.empty(shape, dtype=dtype)
                apply(t)
                fills.append({"fn": fn, "options": options, "seed": 7 + i, "dtype": dname,
                              "shape": shape, "values": tensor(t)})

    gains = []
    for name, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                        ("leaky_relu", math.sqrt(5)), ("selu", None)]:
        gains.append({"nonlinearity": name, "param": param, "gain": float(init.calculate_gain(name, param))})
    return {"modules": modules, "fills": fills, "gains": gains}


def tie_input(shape, seed, dtype):
    """Small integers, so most pooling windows hold several equal maxima."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(-2, 3, shape, generator=g).to(dtype)


def maxpool_cases():
    specs = [
        # (name, kernel, stride, padding, ceil_mode, input shape, ties)
        ("k=2 s=2, batch 2, channels 3", 2, 2, 0, False, [2, 3, 4, 6], False),
        ("k=3 s=2 p=1", 3, 2, 1, False, [1, 2, 5, 6], False),
        ("k=(2, 3) s=(1, 2)", (2, 3), (1, 2), 0, False, [1, 2, 4, 7], False),
        ("overlapping, k=3 s=1 p=1", 3, 1, 1, False, [1, 2, 4, 5], False),
        ("ties, overlapping k=2 s=1", 2, 1, 0, False, [2, 3, 4, 4], True),
        ("ties, k=3 s=2 p=1", 3, 2, 1, False, [1, 2, 5, 5], True),
        ("ceil mode, k=3 s=2 p=1", 3, 2, 1, True, [1, 2, 6, 6], False),
        ("ceil mode drops a window in the padding, k=2 s=3 p=1", 2, 3, 1, True, [1, 2, 5, 5], False),
        ("unbatched [C, H, W], k=2 s=1", 2, 1, 0, False, [3, 3, 4], False),
    ]
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (name, k, s, p, ceil, shape, ties) in enumerate(specs):
            x = tie_input(shape, 1200 + i, dtype) if ties else randn(shape, 1200 + i, dtype)
            pool = nn.MaxPool2d(k, stride=s, padding=p, ceil_mode=ceil)
            cases.append({"name": name, "dtype": dname, "kernelSize": k, "stride": s, "padding": p,
                          "ceilMode": ceil, **record(pool, x, 1300 + i)})
    return cases


def avgpool_cases():
    specs = [
        # (name, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override, input shape)
        ("k=2 s=2, batch 2, channels 3", 2, 2, 0, False, True, None, [2, 3, 4, 6]),
        ("k=3 s=2 p=1", 3, 2, 1, False, True, None, [1, 2, 5, 6]),
        ("k=3 s=2 p=1, countIncludePad false", 3, 2, 1, False, False, None, [1, 2, 5, 6]),
        ("k=(2, 3) s=(1, 2) p=(1, 1), countIncludePad false", (2, 3), (1, 2), (1, 1), False, False, None,
         [1, 2, 4, 7]),
        ("overlapping, k=3 s=1 p=1", 3, 1, 1, False, True, None, [1, 2, 4, 5]),
        ("ceil mode, k=3 s=2 p=1", 3, 2, 1, True, True, None, [1, 2, 6, 6]),
        ("ceil mode, k=3 s=2 p=1, countIncludePad false", 3, 2, 1, True, False, None, [1, 2, 6, 6]),
        ("ceil mode, k=2 s=3 p=1", 2, 3, 1, True, True, None, [1, 2, 5, 5]),
        ("divisorOverride 5, k=3 s=2 p=1", 3, 2, 1, False, True, 5, [1, 2, 5, 5]),
        ("unbatched [C, H, W], k=2 s=1", 2, 1, 0, False, True, None, [3, 3, 4]),
    ]
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (name, k, s, p, ceil, include, divisor, shape) in enumerate(specs):
            pool = nn.AvgPool2d(k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=include,
                                divisor_override=divisor)
            cases.append({"name": name, "dtype": dname, "kernelSize": k, "stride": s, "padding": p,
                          "ceilMode": ceil, "countIncludePad": include, "divisorOverride": divisor,
                          **record(pool, randn(shape, 1400 + i, dtype), 1500 + i)})
    return cases


def dropout_cases():
    """Train-mode dropout right after torch.manual_seed(seed): the mask comes from the global generator."""
    assert not torch.backends.mkl.is_available(), "MKL's bernoulli_ draws a different stream"
    specs = [(0.5, [4, 5, 3]), (0.2, [3, 7]), (0.9, [50]), (0.0, [2, 3]), (1.0, [2, 3])]
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (p, shape) in enumerate(specs):
            x = randn(shape, 1600 + i, dtype)
            torch.manual_seed(1700 + i)
            cases.append({"p": p, "seed": 1700 + i, "dtype": dname, **record(nn.Dropout(p), x, 1800 + i)})
    return cases


def cnn(dtype):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3, padding=1, dtype=dtype), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(16, 3, dtype=dtype),
    )


def cnn_cases():
    """The MNIST CNN's layers in one Sequential, in training mode: the parameters and then the dropout
    mask come from one generator seeded with torch.manual_seed(seed)."""
    cases = []
    for dname, dtype in DTYPES.items():
        x = randn([2, 1, 8, 8], 1900, dtype)
        torch.manual_seed(61)
        cases.append({"seed": 61, "dtype": dname, **record(cnn(dtype), x, 1901)})
    return cases


def repr_fixture():
    """What print(module) shows for each layer and a few containers: String(layer) must read the same."""
    models = {
        "Linear(784, 128)": nn.Linear(784, 128),
        "Linear(10, 2, bias=False)": nn.Linear(10, 2, bias=False),
        "ReLU()": nn.ReLU(),
        "Tanh()": nn.Tanh(),
        "Sigmoid()": nn.Sigmoid(),
        "Identity()": nn.Identity(),
        "LeakyReLU()": nn.LeakyReLU(),
        "LeakyReLU(0.2)": nn.LeakyReLU(0.2),
        "Conv2d(1, 8, 3, padding=1)": nn.Conv2d(1, 8, 3, padding=1),
        "Conv2d(3, 4, (2, 3), stride=2, dilation=(1, 2), bias=False)":
            nn.Conv2d(3, 4, (2, 3), stride=2, dilation=(1, 2), bias=False),
        "MaxPool2d(2)": nn.MaxPool2d(2),
        "MaxPool2d(3, stride=2, padding=1, ceil_mode=True)": nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        "MaxPool2d((2, 3))": nn.MaxPool2d((2, 3)),
        "AvgPool2d(2)": nn.AvgPool2d(2),
        "AvgPool2d(3, stride=2, padding=1)": nn.AvgPool2d(3, stride=2, padding=1),
        "Dropout(0.2)": nn.Dropout(0.2),
        "Dropout()": nn.Dropout(),
        "Flatten()": nn.Flatten(),
        "Flatten(0, 2)": nn.Flatten(0, 2),
        "mlp": mlp(),
        "nested": nn.Sequential(nn.Linear(4, 8), nn.Sequential(nn.ReLU(), nn.Linear(8, 3)), nn.Sequential()),
        "cnn": cnn(torch.float32),
    }
    return {name: repr(module) for name, module in models.items()}


def main():
    torch.set_default_dtype(torch.float32)
    write(PACKAGE, "linear", {"cases": linear_cases()})
    write(PACKAGE, "dense", {"cases": dense_cases()})
    write(PACKAGE, "activations", {"cases": activation_cases()})
    write(PACKAGE, "conv2d", {"cases": conv_cases()})
    write(PACKAGE, "flatten", {"cases": flatten_cases()})
    write(PACKAGE, "sequential", {"cases": sequential_cases()})
    write(PACKAGE, "state-dict", {"cases": state_dict_fixture()})
    write(PACKAGE, "init", init_fixture())
    write(PACKAGE, "maxpool2d", {"cases": maxpool_cases()})
    write(PACKAGE, "avgpool2d", {"cases": avgpool_cases()})
    write(PACKAGE, "dropout", {"cases": dropout_cases()})
    write(PACKAGE, "cnn", {"cases": cnn_cases()})
    write(PACKAGE, "repr", repr_fixture())


if __name__ == "__main__":
    main()
