"""Reference values for @backprop/ndarray: numpy's printing, torch's matmul and
reductions, and a safetensors file written from PyTorch tensors.

Run: /usr/bin/python3 tools/torch-fixtures/ndarray.py
"""
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
    tensors["extra.int64"] = torch.tensor([0, -1, 2**40, 7], dtype=torch.int64)
    tensors["extra.int32"] = torch.tensor([[1, -2], [3, 4]], dtype=torch.int32)
    tensors["extra.empty"] = torch.zeros(0, 3)
    metadata = {"format": "pt", "architecture": "mlp"}
    folder = os.path.join(ROOT, "packages", "ndarray", "test", "fixtures")
    write_safetensors(os.path.join(folder, "torch-state.safetensors"), tensors, metadata)
    return {"tensors": {k: tensor(v) for k, v in tensors.items()}, "metadata": metadata}


if __name__ == "__main__":
    write("ndarray", "printing", {"cases": printing_cases()})
    write("ndarray", "matmul", {"cases": matmul_cases()})
    write("ndarray", "reductions", {"cases": reduction_cases()})
    write("ndarray", "safetensors", safetensors_case())
