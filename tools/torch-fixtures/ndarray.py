"""Reference values for @backprop/ndarray: numpy's printing, torch's matmul and
reductions, a safetensors file written from PyTorch tensors, and the smooth
activations (erf, gelu, silu, elu, softplus, mish) forward and backward,
including NaN, ±0, ±inf and subnormal inputs (non-finite values are written
as the strings "NaN", "Infinity", "-Infinity").

Run: /usr/bin/python3 tools/torch-fixtures/ndarray.py
"""
import math
import os

import numpy as np
import torch

from common import ROOT, tensor, write, write_safetensors

torch.manual_seed(1234)
rng = np.random.RandomState(7)


def printing_cases():
    cases = {
        "notebook_o": np.array([0.99248036, 0.99244429, 0.99889554, 0.99232696, 0.97565233]),
        "notebook_l1": np.array([0.705, 0.906, 1.308, 1.509]),
        "notebook_l2": np.array([3.03765944e-04, -1.43841367e-01, 1.72753696e-01, 4.53380714e-01]),
        "integers": np.array([1.0, 2.0, 3.0]),
        "mixed": np.array([[1.5, 2.0], [-3.25, 4.0]]),
        "negative_zero": np.array([-0.0, 1.0]),
        "large": np.array([1e9, 1.0]),
        "tiny": np.array([1e-5, 1.0]),
        "zeros": np.zeros((2, 3)),
        "scalar": np.array(3.5),
        "empty": np.zeros((0,)),
        "cube": np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7,
        "wide": rng.standard_normal(30),
        "matrix": rng.standard_normal((4, 9)),
        "summarised": np.arange(2000, dtype=np.float64).reshape(40, 50),
        "summarised_1d": np.linspace(0, 1, 1500),
        "float32_tenth": np.array([0.1, 0.2, 0.3], dtype=np.float32),
        "float32_random": rng.random_sample(6).astype(np.float32),
        "float32_exp": np.array([1e-6, 3.0], dtype=np.float32),
    }
    out = {}
    for name, a in cases.items():
        out[name] = {**tensor(torch.from_numpy(np.array(a, copy=True))), "str": str(a)}
    return out


def matmul_cases():
    shapes = [
        ((3, 4), (4, 5)), ((5,), (5,)), ((5,), (5, 3)), ((4, 5), (5,)),
        ((2, 3, 4), (4, 2)), ((4,), (2, 4, 3)), ((2, 1, 3, 4), (5, 4, 2)),
        ((1, 7), (7, 1)), ((17, 300), (300, 9)), ((3, 0), (0, 2)), ((0, 3), (3, 4)),
        ((40, 70), (70, 33)),
    ]
    out = []
    for dtype in (torch.float64, torch.float32):
        for sa, sb in shapes:
            a = torch.randn(sa, dtype=dtype)
            b = torch.randn(sb, dtype=dtype)
            out.append({"a": tensor(a), "b": tensor(b), "out": tensor(a @ b)})
    return out


def reduction_cases():
    out = []
    for dtype in (torch.float64, torch.float32):
        x = torch.randn(3, 4, 5, dtype=dtype) * 3
        for axis in [None, 0, 1, 2, -1, (0, 2)]:
            for keep in (False, True):
                dims = () if axis is None else axis
                case = {"x": tensor(x), "axis": axis, "keepDims": keep}
                if axis is None:
                    every = tuple(range(x.dim()))
                    case["sum"] = tensor(x.sum(dim=every, keepdim=keep))
                    case["mean"] = tensor(x.mean(dim=every, keepdim=keep))
                    case["max"] = tensor(x.amax(dim=every, keepdim=keep))
                    case["min"] = tensor(x.amin(dim=every, keepdim=keep))
                    case["logsumexp"] = tensor(torch.logsumexp(x, dim=every, keepdim=keep))
                else:
                    case["sum"] = tensor(x.sum(dim=dims, keepdim=keep))
                    case["mean"] = tensor(x.mean(dim=dims, keepdim=keep))
                    case["logsumexp"] = tensor(torch.logsumexp(x, dim=dims, keepdim=keep))
                    if isinstance(axis, int):
                        case["max"] = tensor(x.amax(dim=axis, keepdim=keep))
                        case["min"] = tensor(x.amin(dim=axis, keepdim=keep))
                        case["argmax"] = tensor(x.argmax(dim=axis, keepdim=keep))
                        case["argmin"] = tensor(x.argmin(dim=axis, keepdim=keep))
                out.append(case)
    big = torch.tensor([[1000.0, 1000.0, -1000.0], [-1e4, -1e4 + 1, -1e4 + 2]], dtype=torch.float64)
    out.append({"x": tensor(big), "axis": 1, "keepDims": False, "logsumexp": tensor(torch.logsumexp(big, 1))})
    return out


def safetensors_case():
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    tensors = {k: v.detach().clone() for k, v in model.state_dict().items()}
    tensors["extra.float64"] = torch.randn(2, 2, dtype=torch.float64)
    # int64 values int32 holds (they are read as int32; tools: half_case() has one that does not fit).
    tensors["extra.int64"] = torch.tensor([0, -1, 2**31 - 1, -2**31, 7], dtype=torch.int64)
    tensors["extra.int32"] = torch.tensor([[1, -2], [3, 4]], dtype=torch.int32)
    tensors["extra.empty"] = torch.zeros(0, 3)
    metadata = {"format": "pt", "architecture": "mlp"}
    folder = os.path.join(ROOT, "packages", "ndarray", "test", "fixtures")
    write_safetensors(os.path.join(folder, "torch-state.safetensors"), tensors, metadata)
    return {"tensors": {k: tensor(v) for k, v in tensors.items()}, "metadata": metadata}


def half_case():
    """F16 and BF16 tensors as torch.half() / torch.bfloat16() store them, with
    their exact float32 values: ±0, ±inf, NaN, subnormals, the largest and
    smallest normals, values that rounded on the way to 16 bits; and an int64
    tensor int32 cannot hold, in a file of its own."""
    special = [0.0, -0.0, float("inf"), -float("inf"), float("nan"), 1.0, -2.5, 1 / 3, 0.1, 1e-3]
    f16 = torch.tensor(special + [2.0**-24, -(2.0**-24), 2.0**-14 - 2.0**-24, 2.0**-14, 65504.0, -65504.0, 1e-7, 70000.0],
                       dtype=torch.float32).to(torch.float16)
    bf16 = torch.tensor(special + [2.0**-133, -(2.0**-133), 2.0**-126, 3.3895313892515355e38, 1e-40, 3.14159265],
                        dtype=torch.float32).to(torch.bfloat16)
    g = torch.Generator().manual_seed(16)
    tensors = {
        "half.special": f16,
        "half.random": (torch.randn(3, 5, generator=g) * 100).to(torch.float16),
        "bfloat16.special": bf16,
        "bfloat16.random": (torch.randn(2, 2, 3, generator=g) * 1e5).to(torch.bfloat16),
        "half.empty": torch.zeros(0, 2, dtype=torch.float16),
        "index.int64": torch.tensor([[3, -4], [2**31 - 1, -2**31]], dtype=torch.int64),
        "weight.float32": torch.randn(2, 3, generator=g),
    }
    folder = os.path.join(ROOT, "packages", "ndarray", "test", "fixtures")
    write_safetensors(os.path.join(folder, "torch-half.safetensors"), tensors, {"format": "pt"})
    write_safetensors(os.path.join(folder, "torch-int64-overflow.safetensors"),
                      {"ids": torch.tensor([1, 2, 2**31, 4], dtype=torch.int64)})
    # The values the 16-bit ones stand for, widened exactly to float32 by torch.
    return {"tensors": {k: loose(v.float() if v.is_floating_point() else v.to(torch.float64)) for k, v in tensors.items()},
            "dtypes": {k: str(v.dtype).replace("torch.", "") for k, v in tensors.items()}}


def loose(t):
    """A tensor as tensor() writes it, but non-finite values allowed (as strings)."""
    t = torch.as_tensor(t).detach()
    data = [v if math.isfinite(v) else repr(v).replace("nan", "NaN").replace("inf", "Infinity")
            for v in t.to(torch.float64).reshape(-1).tolist()]
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": data}


ACTIVATIONS = {
    # name: (torch function of x, the options the TypeScript op takes)
    "erf": (torch.erf, {}),
    "gelu": (torch.nn.functional.gelu, {}),
    "gelu_tanh": (lambda x: torch.nn.functional.gelu(x, approximate="tanh"), {"approximate": "tanh"}),
    "silu": (torch.nn.functional.silu, {}),
    "elu": (torch.nn.functional.elu, {"alpha": 1.0}),
    "elu_alpha": (lambda x: torch.nn.functional.elu(x, alpha=0.7), {"alpha": 0.7}),
    "softplus": (torch.nn.functional.softplus, {"beta": 1, "threshold": 20}),
    "softplus_beta": (lambda x: torch.nn.functional.softplus(x, beta=2.5, threshold=4), {"beta": 2.5, "threshold": 4}),
    "mish": (torch.nn.functional.mish, {}),
}


def activation_cases():
    """Each activation on a grid, on random values and on special values, with
    the gradient of sum(f(x) * R) for a random R (erf: no backward op)."""
    g = torch.Generator().manual_seed(2024)
    grid = torch.linspace(-8, 8, 65, dtype=torch.float64)
    rand = torch.randn(24, generator=g, dtype=torch.float64) * 3
    near = torch.tensor([20 - 1e-6, 20.0, 20 + 1e-6, 1.6 - 1e-7, 1.6, 1.6 + 1e-7, 19.5, 21.0, -19.5], dtype=torch.float64)
    special = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 5e-324, -5e-324, 1e-310,
                            -1e-310, 1e-20, -1e-20, 30.0, -30.0, 100.0, -100.0, 1000.0, -1000.0, 1e300, -1e300],
                           dtype=torch.float64)
    cases = []
    for name, (f, options) in ACTIVATIONS.items():
        for dname, dtype in (("float64", torch.float64), ("float32", torch.float32)):
            for part, values in (("values", torch.cat([grid, rand, near])), ("special", special)):
                x = values.to(dtype).detach().requires_grad_(True)
                y = f(x)
                upstream = torch.randn(x.shape, generator=g, dtype=torch.float64).to(dtype)
                case = {"name": name, "part": part, "dtype": dname, "options": options, "input": loose(x),
                        "output": loose(y)}
                if name != "erf":
                    y.backward(upstream)
                    case["outputGrad"] = loose(upstream)
                    case["inputGrad"] = loose(x.grad)
                cases.append(case)
    # erf to the last bit: glibc's (fdlibm's) erf, which Python's math.erf calls, on many points.
    points = torch.cat([torch.linspace(-6.5, 6.5, 651, dtype=torch.float64),
                        torch.randn(400, generator=g, dtype=torch.float64) * 2,
                        torch.tensor([2.857142857142857, 2.8571434020996094, 0.84375, 1.25, 6.0, 1e-9, 3e-300])])
    libm = [math.erf(v) for v in points.tolist()]
    return {"cases": cases, "erfLibm": {"x": points.tolist(), "erf": libm}}


if __name__ == "__main__":
    write("ndarray", "printing", {"cases": printing_cases()})
    write("ndarray", "matmul", {"cases": matmul_cases()})
    write("ndarray", "reductions", {"cases": reduction_cases()})
    write("ndarray", "safetensors", safetensors_case())
    write("ndarray", "activations", activation_cases())
    write("ndarray", "safetensors-half", half_case())
