"""PyTorch reference fixtures for the normalisation layers of @backprop/layers.

BatchNorm1d / BatchNorm2d: a sequence of steps on one module (training steps,
then an evaluation step), each with its input, a seeded random upstream
gradient R, the output, the input gradient and the gradients of L = sum(out * R)
(zeroed before each step), and the buffers after the step: running statistics
with momentum 0.1, momentum None (the cumulative average), trackRunningStats
False (batch statistics in eval mode too) and affine False. The module's
state_dict (values and key order) before and after the steps.

LayerNorm / GroupNorm: the initial state_dict, then one forward and backward each including torch >= 2.1's
LayerNorm(bias=False), made in this torch 1.13 by setting the bias to None
(F.layer_norm then gets bias=None, which is what bias=False does).

Also: print(module) for each, and the state_dict keys of a Sequential holding a
BatchNorm1d. Every case in float64 and float32.

Run from the repository root: /usr/bin/python3 tools/torch-fixtures/normalization.py
"""
import torch
from torch import nn

from common import tensor, write

PACKAGE = "layers"
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def randn(shape, seed, dtype, scale=1.0, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * scale + shift).to(dtype)


def channel_input(shape, seed, dtype):
    """Values whose mean and spread differ per channel (dim 1), so running statistics move visibly."""
    c = shape[1]
    view = [1, c] + [1] * (len(shape) - 2)
    shift = torch.linspace(-2.0, 3.0, c, dtype=torch.float64).reshape(view)
    scale = torch.linspace(0.5, 2.5, c, dtype=torch.float64).reshape(view)
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * scale + shift).to(dtype)


def randomize_affine(module, seed):
    """Weight and bias away from torch's 1 and 0, so the affine part is exercised."""
    with torch.no_grad():
        for i, name in enumerate(("weight", "bias")):
            p = getattr(module, name, None)
            if p is not None:
                p.copy_(randn(p.shape, seed + i, p.dtype, scale=0.5, shift=1.0 if name == "weight" else 0.0))


def run(module, x, seed):
    """One forward and backward of a seeded upstream gradient, gradients zeroed first."""
    module.zero_grad(set_to_none=False)
    x = x.detach().clone().requires_grad_(True)
    out = module(x)
    upstream = randn(out.shape, seed, torch.float64).to(out.dtype)
    out.backward(upstream)
    return {
        "input": tensor(x),
        "output": tensor(out),
        "outputGrad": tensor(upstream),
        "inputGrad": tensor(x.grad),
        "paramGrads": {name: tensor(p.grad) for name, p in module.named_parameters()},
    }


def state(module):
    """state_dict in torch's key order: a list of [key, tensor]."""
    return [[k, tensor(v)] for k, v in module.state_dict().items()]


BATCHNORM_SPECS = [
    # (name, class, num_features, options (camelCase, as the TS constructor takes them), input shape, modes)
    ("1d [N, C], momentum 0.1", "BatchNorm1d", 3, {}, [6, 3], ["train", "train", "train", "eval"]),
    ("1d [N, C, L], momentum null", "BatchNorm1d", 2, {"momentum": None}, [3, 2, 4],
     ["train", "train", "train", "eval"]),
    ("1d [N, C], eps 1e-3, momentum 0.3, eval between", "BatchNorm1d", 4, {"eps": 1e-3, "momentum": 0.3}, [5, 4],
     ["train", "eval", "train"]),
    ("2d, momentum 0.1", "BatchNorm2d", 2, {}, [2, 2, 3, 3], ["train", "train", "eval"]),
    ("2d, momentum null", "BatchNorm2d", 3, {"momentum": None}, [2, 3, 2, 2], ["train", "train", "eval"]),
    ("2d, trackRunningStats false", "BatchNorm2d", 2, {"trackRunningStats": False}, [2, 2, 3, 2],
     ["train", "train", "eval"]),
    ("2d, affine false", "BatchNorm2d", 2, {"affine": False}, [2, 2, 2, 3], ["train", "train", "eval"]),
    # With 2 values per channel x̂ = ±1 whatever x, so dx is O(eps): a large eps keeps it above round-off.
    ("1d, 2 values per channel, eps 0.5", "BatchNorm1d", 3, {"eps": 0.5}, [2, 3], ["train", "eval"]),
]


def make_batchnorm(kind, num_features, options, dtype):
    kwargs = {"eps": options.get("eps", 1e-5), "momentum": options.get("momentum", 0.1),
              "affine": options.get("affine", True),
              "track_running_stats": options.get("trackRunningStats", True)}
    return getattr(nn, kind)(num_features, **kwargs, dtype=dtype)


def batchnorm_cases():
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (name, kind, c, options, shape, modes) in enumerate(BATCHNORM_SPECS):
            module = make_batchnorm(kind, c, options, dtype)
            initial = state(module)
            randomize_affine(module, 100 + 10 * i)
            start = state(module)
            steps = []
            for k, mode in enumerate(modes):
                module.train(mode == "train")
                step = run(module, channel_input(shape, 1000 + 10 * i + k, dtype), 2000 + 10 * i + k)
                steps.append({"mode": mode, **step, "state": state(module)})
            cases.append({"name": name, "kind": kind, "numFeatures": c, "options": options, "dtype": dname,
                          "initialState": initial, "startState": start, "steps": steps})
    return cases


LAYERNORM_SPECS = [
    # (name, normalized_shape, options, input shape)
    ("normalizedShape 4 on [3, 4]", 4, {}, [3, 4]),
    ("normalizedShape [3, 4] on [2, 3, 4]", [3, 4], {}, [2, 3, 4]),
    ("normalizedShape [5] on [2, 2, 5], eps 1e-3", [5], {"eps": 1e-3}, [2, 2, 5]),
    ("elementwiseAffine false", 4, {"elementwiseAffine": False}, [3, 4]),
    ("bias false", [2, 3], {"bias": False}, [3, 2, 3]),
    ("1-D input", 6, {}, [6]),
]


def layernorm_cases():
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (name, shape_arg, options, shape) in enumerate(LAYERNORM_SPECS):
            module = nn.LayerNorm(shape_arg, eps=options.get("eps", 1e-5),
                                  elementwise_affine=options.get("elementwiseAffine", True), dtype=dtype)
            if options.get("bias", True) is False:
                module.bias = None  # torch >= 2.1's bias=False
            initial = state(module)
            randomize_affine(module, 300 + 10 * i)
            case = run(module, randn(shape, 3000 + i, dtype, scale=2.0, shift=0.5), 4000 + i)
            cases.append({"name": name, "normalizedShape": shape_arg, "options": options, "dtype": dname,
                          "initialState": initial, "state": state(module), **case})
    return cases


GROUPNORM_SPECS = [
    # (name, num_groups, num_channels, options, input shape)
    ("2 groups of 2 on [2, 4, 3]", 2, 4, {}, [2, 4, 3]),
    ("1 group on [2, 3] (rank 2)", 1, 3, {}, [2, 3]),
    ("3 groups of 2 on [2, 6, 2, 2]", 3, 6, {}, [2, 6, 2, 2]),
    ("affine false, eps 1e-3", 2, 4, {"affine": False, "eps": 1e-3}, [3, 4, 5]),
    ("groups = channels on [2, 4, 3]", 4, 4, {}, [2, 4, 3]),
]


def groupnorm_cases():
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (name, groups, channels, options, shape) in enumerate(GROUPNORM_SPECS):
            module = nn.GroupNorm(groups, channels, eps=options.get("eps", 1e-5),
                                  affine=options.get("affine", True), dtype=dtype)
            initial = state(module)
            randomize_affine(module, 500 + 10 * i)
            case = run(module, channel_input(shape, 5000 + i, dtype), 6000 + i)
            cases.append({"name": name, "numGroups": groups, "numChannels": channels, "options": options,
                          "dtype": dname, "initialState": initial, "state": state(module), **case})
    return cases


def repr_cases():
    """print(module) for constructors the TS tests repeat: [kind, args, options, repr]."""
    specs = [
        ("BatchNorm1d", [3], {}),
        ("BatchNorm2d", [3], {}),
        ("BatchNorm2d", [16], {"eps": 1e-3, "momentum": None, "affine": False, "trackRunningStats": False}),
        ("BatchNorm1d", [8], {"eps": 0.0001, "momentum": 0.01}),
        ("BatchNorm1d", [2], {"eps": 1e-6, "momentum": 1.0}),
        ("LayerNorm", [4], {}),
        ("LayerNorm", [[3, 4]], {"eps": 1e-6, "elementwiseAffine": False}),
        ("LayerNorm", [[5]], {"eps": 0.5}),
        ("GroupNorm", [2, 4], {}),
        ("GroupNorm", [1, 3], {"eps": 1e-3, "affine": False}),
    ]
    out = []
    for kind, args, options in specs:
        if kind.startswith("BatchNorm"):
            module = make_batchnorm(kind, args[0], options, torch.float32)
        elif kind == "LayerNorm":
            module = nn.LayerNorm(args[0], eps=options.get("eps", 1e-5),
                                  elementwise_affine=options.get("elementwiseAffine", True))
        else:
            module = nn.GroupNorm(args[0], args[1], eps=options.get("eps", 1e-5), affine=options.get("affine", True))
        out.append([kind, args, options, repr(module)])
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU())
    out.append(["Sequential(Linear(4, 3), BatchNorm1d(3), ReLU())", [], {}, repr(model)])
    return out


def sequential_state_keys():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.LayerNorm(3), nn.GroupNorm(1, 3))
    return list(model.state_dict().keys())


def main():
    torch.set_default_dtype(torch.float32)
    write(PACKAGE, "normalization", {
        "batchNorm": batchnorm_cases(),
        "layerNorm": layernorm_cases(),
        "groupNorm": groupnorm_cases(),
        "repr": repr_cases(),
        "sequentialStateKeys": sequential_state_keys(),
    })


if __name__ == "__main__":
    main()
