"""End-to-end parity fixture for tools/torch-parity: random models, losses,
optimizers and schedulers, trained for a few steps in PyTorch.

Each case is drawn from one seed (CASE_SEED + index, or another draw if
PyTorch's own result for it is not stable to rounding: see conditioning();
the newer families conv, sequence and transformer from CASE_SEED + 1000,
2000, 3000 + index, after the original family) and described as JSON
that the TypeScript test rebuilds with our classes:

  layers     [{"type": "Linear", "inFeatures", "outFeatures", "bias"}, {"type": "Conv2d", ...}, ...]
             (camelCase options, as our constructors take them; a Residual
             holds {"block": {"type": "Sequential", "layers": [...]}}; a
             MultiheadAttention is self-attention with "causal"; Permute is
             the test's own layer)
  loss       {"type", "options": {...}, "weight"?: tensor, "posWeight"?: tensor}
  optimizer  {"type", "options": {...}}
  scheduler  {"type", "options": {...}} or null
  dropoutSeed  the seed torch.manual_seed gets right before the first step;
             every Dropout draws its mask from that one stream, in forward
             order, as a shared TorchGenerator(dropoutSeed) does on our side.

Then the initial state_dict (buffers too), one input batch (float, or int64
token ids) and target per step, and after each of the STEPS steps (zero_grad,
forward, loss, backward, step, scheduler step): the loss, the model's output,
every parameter's grad (before the step), every parameter's value (after the
step), the learning rate of the first param group after the scheduler's step,
and, where the model has any, every buffer (BatchNorm's running statistics).

Run: /usr/bin/python3 tools/torch-fixtures/parity.py
A wider sweep, not committed (the test reads it from PARITY_FIXTURE):
     /usr/bin/python3 tools/torch-fixtures/parity.py --cases 300 --seed 7 --out /tmp/sweep.json
     PARITY_FIXTURE=/tmp/sweep.json pnpm --filter @backprop/torch-parity test
"""
import argparse
import math
import os
import random
import re

import torch
from torch import nn

from common import ROOT, tensor, write_json

CASES = 40
STEPS = 5
CASE_SEED = 32  # of the first 40 seeds, the one whose 40 cases cover the most options
FAMILY_SHIFT = 5  # the newer families' seeds: --seed + FAMILY_SHIFT + 1000, 2000, 3000 + index; of shifts 0-19, the one whose 12 cases cover the most options
OUT = "tools/torch-parity/test/fixtures/parity.json"

assert not torch.backends.mkl.is_available(), "MKL's bernoulli_ draws other dropout masks than our TorchGenerator"


def snake(name):
    # the torch keywords that are not snake_case
    if name in ("tMax", "T0", "TMult"):
        return {"tMax": "T_max", "T0": "T_0", "TMult": "T_mult"}[name]
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def torch_kwargs(options):
    return {snake(k): tuple(v) if isinstance(v, list) and k != "milestones" else v for k, v in options.items()}


def pair_or_int(r, lo, hi):
    """A size as our layers and torch take it: an int, or sometimes [h, w]."""
    if r.random() < 0.3:
        return [r.randint(lo, hi), r.randint(lo, hi)]
    return r.randint(lo, hi)


def as_pair(v):
    return tuple(v) if isinstance(v, list) else (v, v)


# ---------------------------------------------------------------- layers

def build_torch_layer(spec, dtype):
    t = spec["type"]
    if t == "Linear":
        return nn.Linear(spec["inFeatures"], spec["outFeatures"], bias=spec["bias"], dtype=dtype)
    if t == "Conv2d":
        return nn.Conv2d(spec["inChannels"], spec["outChannels"], as_pair(spec["kernelSize"]), stride=as_pair(spec["stride"]),
                         padding=as_pair(spec["padding"]), dilation=as_pair(spec["dilation"]), bias=spec["bias"], dtype=dtype)
    if t == "MaxPool2d":
        return nn.MaxPool2d(as_pair(spec["kernelSize"]), stride=as_pair(spec["stride"]), padding=as_pair(spec["padding"]),
                            ceil_mode=spec["ceilMode"])
    if t == "AvgPool2d":
        return nn.AvgPool2d(as_pair(spec["kernelSize"]), stride=as_pair(spec["stride"]), padding=as_pair(spec["padding"]),
                            ceil_mode=spec["ceilMode"], count_include_pad=spec["countIncludePad"],
                            divisor_override=spec.get("divisorOverride"))
    if t == "LeakyReLU":
        return nn.LeakyReLU(spec["negativeSlope"])
    if t == "Dropout":
        return nn.Dropout(spec["p"])
    if t == "Flatten":
        return nn.Flatten(spec.get("startDim", 1), spec.get("endDim", -1))
    if t in MODERN:
        return build_modern_layer(spec, dtype)
    return {"ReLU": nn.ReLU, "Tanh": nn.Tanh, "Sigmoid": nn.Sigmoid, "Identity": nn.Identity}[t]()


def activation(r):
    kind = r.choice(["ReLU", "ReLU", "Tanh", "Sigmoid", "LeakyReLU", "Identity"])
    if kind == "LeakyReLU":
        # torch takes any slope: 0 (ReLU with leaky_relu's derivative), > 1 and < 0 too
        slope = r.choice([round(r.uniform(0.01, 0.5), 3), round(r.uniform(0.01, 0.5), 3), 0.0, 1.5, -0.25])
        return {"type": kind, "negativeSlope": slope}
    return {"type": kind}


def dropout(r):
    """A Dropout with a real mask most of the time; p = 0 and p = 1 (which
    draw nothing from the generator in torch) sometimes."""
    return {"type": "Dropout", "p": r.choice([0.0, 0.2, 0.3, 0.5, 0.5, 0.7, 1.0])}


def mlp_layers(r, in_features, out_features, with_dropout):
    layers, width = [], in_features
    for _ in range(r.randint(1, 3)):
        hidden = r.randint(2, 6)
        layers.append({"type": "Linear", "inFeatures": width, "outFeatures": hidden, "bias": r.random() < 0.8})
        layers.append(activation(r))
        if with_dropout and r.random() < 0.5:
            layers.append(dropout(r))
        width = hidden
    layers.append({"type": "Linear", "inFeatures": width, "outFeatures": out_features, "bias": r.random() < 0.8})
    return layers


def conv_spec(r, in_channels):
    kernel = pair_or_int(r, 1, 3)
    kh, kw = as_pair(kernel)
    # torch takes any padding: up to a kernel's width and more of zeros around the image
    if r.random() < 0.3:
        padding = [r.randint(0, kh // 2 + 2), r.randint(0, kw // 2 + 2)]
    else:
        padding = r.randint(0, min(kh, kw) // 2 + 1)
    return {"type": "Conv2d", "inChannels": in_channels, "outChannels": r.randint(1, 3), "kernelSize": kernel,
            "stride": pair_or_int(r, 1, 3), "padding": padding, "dilation": r.choice([1, 1, 1, 2, [1, 2], [3, 1]]),
            "bias": r.random() < 0.7}


def pool_spec(r):
    kernel = pair_or_int(r, 1, 3) if r.random() < 0.3 else pair_or_int(r, 2, 3)
    kh, kw = as_pair(kernel)
    stride = r.choice([kernel, kernel, 1, 2, [1, 2], 3])  # 3 skips input when the kernel is smaller
    # at most half the kernel, torch's limit
    padding = [r.randint(0, kh // 2), r.randint(0, kw // 2)] if r.random() < 0.4 else r.randint(0, min(kh, kw) // 2)
    spec = {"type": r.choice(["MaxPool2d", "AvgPool2d"]), "kernelSize": kernel, "stride": stride, "padding": padding,
            "ceilMode": r.random() < 0.4}
    if spec["type"] == "AvgPool2d":
        spec["countIncludePad"] = r.random() < 0.5
        if r.random() < 0.2:
            spec["divisorOverride"] = r.randint(1, 5)
    return spec


def image_layers(r, channels, with_dropout):
    """Conv, activation, pooling and dropout blocks; the caller ends the model."""
    layers = []
    c = channels
    for _ in range(r.randint(1, 2)):
        conv = conv_spec(r, c)
        layers.append(conv)
        c = conv["outChannels"]
        layers.append(activation(r))
        if r.random() < 0.7:
            layers.append(pool_spec(r))
        if with_dropout and r.random() < 0.3:
            layers.append(dropout(r))
    return layers, c


def output_shape(layers, in_shape, dtype):
    model = nn.Sequential(*[build_torch_layer(s, dtype) for s in layers])
    with torch.no_grad():
        return list(model.eval()(torch.zeros(in_shape, dtype=dtype)).shape)


# ---------------------------------------------------------------- losses

REGRESSION = ["MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss"]


def loss_spec(r, kind, out_shape, gen, dtype):
    """(spec, make_target(step) -> tensor); kind picks the model's last layer."""
    options = {"reduction": r.choice(["mean", "sum"])}
    spec = {"type": kind, "options": options}

    def rand(*shape):
        return torch.rand(shape, generator=gen, dtype=torch.float64).to(dtype)

    def randn(*shape):
        return torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)

    if kind in REGRESSION:
        if kind == "SmoothL1Loss" and r.random() < 0.8:
            options["beta"] = r.choice([0.0, 0.25, 0.5, 1.0, 2.0])
        if kind == "HuberLoss" and r.random() < 0.8:
            options["delta"] = r.choice([0.3, 0.5, 1.0, 1.7])
        return spec, lambda: randn(*out_shape) * r.choice([0.5, 1.0, 2.0])
    if kind in ("BCELoss", "BCEWithLogitsLoss"):
        channels = out_shape[-1]
        if r.random() < 0.5:
            shape = r.choice([[channels], list(out_shape)])
            spec["weight"] = rand(*shape) + 0.25
        if kind == "BCEWithLogitsLoss" and r.random() < 0.6:
            spec["posWeight"] = rand(channels) * 2 + 0.2
        binary = r.random() < 0.5
        return spec, (lambda: (rand(*out_shape) < 0.5).to(dtype)) if binary else (lambda: rand(*out_shape))
    # CrossEntropyLoss / NLLLoss over [B, C] or [B, C, d1, d2]
    unbatched = len(out_shape) == 1
    classes = out_shape[0] if unbatched else out_shape[1]
    batch_shape = [] if unbatched else [out_shape[0], *out_shape[2:]]
    soft = kind == "CrossEntropyLoss" and r.random() < 0.35
    if kind == "CrossEntropyLoss" and r.random() < 0.6:
        options["labelSmoothing"] = r.choice([0.05, 0.1, 0.3])
    if r.random() < 0.5:
        spec["weight"] = rand(classes) + 0.2
    if soft:
        if r.random() < 0.3:
            options["ignoreIndex"] = -1  # torch accepts a negative one for class probabilities, and ignores it

        def probabilities():
            p = torch.softmax(randn(*out_shape).to(torch.float64) * 2, dim=0 if unbatched else 1)
            return p.to(dtype)
        return spec, probabilities
    ignore = None
    if r.random() < 0.6:
        ignore = r.choice([-1, 0, classes - 1])
        options["ignoreIndex"] = ignore

    def indices():
        y = torch.randint(0, classes, batch_shape, generator=gen)
        if ignore is not None:
            drop = torch.rand(batch_shape, generator=gen) < 0.3
            drop.view(-1)[0] = False  # at least one target counts, so 'mean' is defined
            y[drop] = ignore
            if ignore >= 0:
                y.view(-1)[0] = (ignore + 1) % classes
        return y
    return spec, indices


def build_torch_scheduler(spec, opt):
    options = dict(spec["options"])
    if spec["type"] == "SequentialLR":
        # its schedulers are built first, on the same optimizer, in order (each sets the lr once)
        schedulers = [build_torch_scheduler(s, opt) for s in options.pop("schedulers")]
        return torch.optim.lr_scheduler.SequentialLR(opt, schedulers, **torch_kwargs(options))
    return getattr(torch.optim.lr_scheduler, spec["type"])(opt, **torch_kwargs(options))


def build_torch_loss(spec):
    kwargs = torch_kwargs(spec["options"])
    for key in ("weight", "posWeight"):
        if key in spec:
            kwargs[snake(key)] = spec[key]
    return getattr(nn, spec["type"])(**kwargs)


# ---------------------------------------------------------------- optimizers

def optimizer_spec(r, kind):
    o = {}
    if kind == "SGD":
        o["lr"] = r.choice([0.01, 0.05, 0.1])
        if r.random() < 0.7:
            o["momentum"] = r.choice([0.5, 0.9])
            if r.random() < 0.4:
                o["nesterov"] = True
            elif r.random() < 0.5:
                o["dampening"] = r.choice([0.1, 0.5])
    elif kind in ("Adam", "AdamW"):
        o["lr"] = r.choice([1e-3, 5e-3, 2e-2])
        if r.random() < 0.5:
            o["betas"] = [r.choice([0.8, 0.9]), r.choice([0.99, 0.999])]
        if r.random() < 0.3:
            o["eps"] = r.choice([1e-6, 1e-8])
        if r.random() < 0.4:
            o["amsgrad"] = True
    elif kind == "RMSprop":
        o["lr"] = r.choice([1e-3, 5e-3, 1e-2])
        if r.random() < 0.5:
            o["alpha"] = r.choice([0.9, 0.99])
        if r.random() < 0.3:
            o["eps"] = r.choice([1e-6, 1e-8])
        if r.random() < 0.5:
            o["momentum"] = r.choice([0.5, 0.9])
        if r.random() < 0.5:
            o["centered"] = True
    else:
        o["lr"] = r.choice([0.01, 0.05, 0.1])
        if r.random() < 0.5:
            o["lrDecay"] = r.choice([0.01, 0.1])
        if r.random() < 0.5:
            o["initialAccumulatorValue"] = r.choice([0.1, 0.5])
        if r.random() < 0.3:
            o["eps"] = r.choice([1e-8, 1e-10])
    if r.random() < 0.4:
        o["weightDecay"] = r.choice([1e-3, 1e-2, 0.1])
    if r.random() < 0.15:
        o["maximize"] = True
    return {"type": kind, "options": o}


def scheduler_spec(r):
    kind = r.choice([None, "StepLR", "ExponentialLR", "CosineAnnealingLR", "MultiStepLR", "LinearLR"])
    if kind is None:
        return None
    return {"type": kind, "options": scheduler_options(r, kind)}


def newer_scheduler_spec(r, opt_kind):
    """The newer families' schedulers: the first five, and SequentialLR (of two of
    them), CosineAnnealingWarmRestarts, OneCycleLR and ReduceLROnPlateau (stepped
    with the step's loss). LambdaLR takes a function, which JSON cannot describe."""
    kind = r.choice([None, "StepLR", "ExponentialLR", "CosineAnnealingLR", "MultiStepLR", "LinearLR", "SequentialLR",
                     "CosineAnnealingWarmRestarts", "OneCycleLR", "ReduceLROnPlateau", "OneCycleLR", "SequentialLR"])
    if kind is None:
        return None
    if kind in ("StepLR", "ExponentialLR", "CosineAnnealingLR", "MultiStepLR", "LinearLR"):
        return {"type": kind, "options": scheduler_options(r, kind)}
    if kind == "SequentialLR":
        kinds = [r.choice(["StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "MultiStepLR"]) for _ in range(2)]
        o = {"schedulers": [{"type": k, "options": scheduler_options(r, k)} for k in kinds], "milestones": [r.randint(1, 4)]}
    elif kind == "CosineAnnealingWarmRestarts":
        o = {"T0": r.randint(1, 3), "TMult": r.choice([1, 2])}
        if r.random() < 0.5:
            o["etaMin"] = r.choice([1e-4, 1e-3])
    elif kind == "OneCycleLR":
        # torch refuses a step past totalSteps: the constructor's and STEPS more fit
        o = {"maxLr": r.choice([0.01, 0.05, 0.1]), "totalSteps": r.randint(STEPS + 1, STEPS + 3),
             "pctStart": r.choice([0.3, 0.5]), "annealStrategy": r.choice(["cos", "linear"]),
             "threePhase": r.random() < 0.3}
        # momentum or betas cycle where the optimizer has them (RMSprop's momentum 0 counts, Adagrad has none)
        o["cycleMomentum"] = opt_kind != "Adagrad" and r.random() < 0.6
    else:
        o = {"mode": "min", "factor": r.choice([0.1, 0.5]), "patience": r.randint(0, 1),
             "threshold": r.choice([1e-4, 0.1]), "thresholdMode": r.choice(["rel", "abs"]), "cooldown": r.randint(0, 1)}
    return {"type": kind, "options": o}


def scheduler_options(r, kind):
    if kind == "StepLR":
        o = {"stepSize": r.randint(1, 3), "gamma": r.choice([0.1, 0.5, 0.9])}
    elif kind == "ExponentialLR":
        o = {"gamma": r.choice([0.5, 0.9, 0.99])}
    elif kind == "CosineAnnealingLR":
        o = {"tMax": r.randint(2, 6)}
        if r.random() < 0.5:
            o["etaMin"] = r.choice([1e-4, 1e-3])
    elif kind == "MultiStepLR":
        # a milestone listed twice decays twice (torch counts them); the order does not matter
        o = {"milestones": r.choices(range(1, 6), k=r.randint(1, 3)), "gamma": r.choice([0.1, 0.5])}
    else:
        o = {"startFactor": r.choice([0.25, 1 / 3, 0.5, 1.0]), "endFactor": r.choice([1.0, 0.8, 0.5]), "totalIters": r.randint(2, 6)}
    return o


# ---------------------------------------------------------------- cases

# Losses and optimizers are dealt in turn (9 and 7 are coprime, so the pairs
# vary), so each appears about equally often; everything else is drawn.
LOSSES = REGRESSION + ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "CrossEntropyLoss", "NLLLoss"]
OPTIMIZERS = ["SGD", "SGD", "Adam", "AdamW", "RMSprop", "RMSprop", "Adagrad"]


def draw_case(index, seed=CASE_SEED, attempt=0):
    case_seed = seed + index + 10_000 * attempt
    r = random.Random(case_seed)
    gen = torch.Generator().manual_seed(case_seed)
    dtype = torch.float32 if index % 4 == 3 else torch.float64
    # shifted each round of losses, so every loss meets image models in some round
    image = (index + index // len(LOSSES)) % 3 == 1
    batch = r.randint(3, 8)
    loss_kind = LOSSES[index % len(LOSSES)]
    with_dropout = r.random() < 0.35
    classes = r.randint(2, 4)
    out_features = classes if loss_kind in ("CrossEntropyLoss", "NLLLoss") else r.randint(1, 3)

    if image:
        while True:
            channels = r.randint(1, 2)
            in_shape = [batch, channels, r.randint(5, 7), r.randint(5, 7)]
            layers, c = image_layers(r, channels, with_dropout)
            keep_spatial = loss_kind in ("CrossEntropyLoss", "NLLLoss", "MSELoss") and r.random() < 0.5
            if keep_spatial:
                # a 1x1 convolution to the classes, loss over [B, C, h, w]
                layers.append({"type": "Conv2d", "inChannels": c, "outChannels": out_features if loss_kind != "MSELoss" else 2,
                               "kernelSize": 1, "stride": 1, "padding": 0, "dilation": 1, "bias": True})
            try:
                shape = output_shape(layers, in_shape, dtype)
            except RuntimeError:
                continue  # a geometry torch rejects: draw again
            if keep_spatial:
                if shape[2] * shape[3] <= 16:
                    break
                continue
            flat = math.prod(shape[1:])
            if flat > 40:
                continue
            layers.append({"type": "Flatten"})
            if r.random() < 0.4:
                layers.append({"type": "Linear", "inFeatures": flat, "outFeatures": 4, "bias": True})
                layers.append(activation(r))
                flat = 4
            layers.append({"type": "Linear", "inFeatures": flat, "outFeatures": out_features, "bias": r.random() < 0.8})
            break
    else:
        features = r.randint(2, 6)
        sequence = loss_kind in REGRESSION + ["BCEWithLogitsLoss"] and r.random() < 0.25
        # [B, T, F] through every Linear sometimes, and an unbatched [F] sometimes
        in_shape = [batch, 2, features] if sequence else [features] if r.random() < 0.12 else [batch, features]
        layers = mlp_layers(r, features, out_features, with_dropout)
    if loss_kind == "BCELoss":
        layers.append({"type": "Sigmoid"})

    out_shape = output_shape(layers, in_shape, dtype)
    loss, make_target = loss_spec(r, loss_kind, out_shape, gen, dtype)
    optimizer = optimizer_spec(r, OPTIMIZERS[index % len(OPTIMIZERS)])
    scheduler = scheduler_spec(r)
    scale = r.choice([0.5, 1.0, 2.0])
    inputs = [torch.randn(in_shape, generator=gen, dtype=torch.float64).to(dtype) * scale for _ in range(STEPS)]
    targets = [make_target() for _ in range(STEPS)]
    has_dropout = any(s["type"] == "Dropout" and s["p"] > 0 for s in layers)
    name = (f"{index:02d} {'image' if image else 'mlp'} {str(dtype)[6:]} {loss_kind} {optimizer['type']}"
            f"{' ' + scheduler['type'] if scheduler else ''}{' dropout' if has_dropout else ''}")
    return {
        "name": name, "seed": case_seed, "dtype": str(dtype)[6:], "layers": layers, "loss": loss,
        "optimizer": optimizer, "scheduler": scheduler, "inputs": inputs, "targets": targets,
        "dropoutSeed": case_seed + 500_000,
    }


# ---------------------------------------------------------------- the newer layers: three more families

def landed_layers():
    """The names in LAYERS of packages/layers/src/registry.ts, and Residual where
    packages/layers/src/index.ts exports it: a family draws only layers that have
    landed (the test builds each layer from LAYERS, a Residual around its block)."""
    src = os.path.join(ROOT, "packages", "layers", "src")
    with open(os.path.join(src, "registry.ts")) as f:
        text = f.read()
    body = text[text.index("export const LAYERS = {"):]
    names = set(re.findall(r"^\s*(\w+),\s*$", body[: body.index("}")], re.M))
    with open(os.path.join(src, "index.ts")) as f:
        if re.search(r"export \{[^}]*\bResidual\b[^}]*\}", f.read()):
            names.add("Residual")
    return names


LANDED = landed_layers()


class SelfAttention(nn.MultiheadAttention):
    """nn.MultiheadAttention as a layer of a Sequential: self-attention,
    mha(x, x, x)[0], causal or not; its parameters keep their names."""

    def __init__(self, embed_dim, num_heads, causal, **kwargs):
        super().__init__(embed_dim, num_heads, **kwargs)
        self.causal = causal

    def forward(self, x):
        mask = None
        if self.causal:
            length = x.shape[1 if self.batch_first else 0]
            mask = torch.ones(length, length, dtype=torch.bool).triu(1)
        return super().forward(x, x, x, need_weights=False, attn_mask=mask)[0]


class OutputOnly:
    """A recurrent layer's output sequence, without its final state (ours returns the output alone)."""

    def forward(self, x):
        return super().forward(x)[0]


class LSTMOutput(OutputOnly, nn.LSTM):
    pass


class GRUOutput(OutputOnly, nn.GRU):
    pass


class RNNOutput(OutputOnly, nn.RNN):
    pass


RECURRENT = {"LSTM": LSTMOutput, "GRU": GRUOutput, "RNN": RNNOutput}


class Residual(nn.Module):
    """x + block(x), with the child named `block`, as our Residual."""

    def __init__(self, block):
        super().__init__()
        self.block = block

    def forward(self, x):
        return x + self.block(x)


class Permute(nn.Module):
    """x.permute(dims): the test's own layer (tools/torch-parity/test/parity.ts has its twin)."""

    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)


MODERN = {"BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm", "AdaptiveAvgPool2d", "ConvTranspose2d", "Embedding",
          "LSTM", "GRU", "RNN", "MultiheadAttention", "Residual", "Sequential", "Permute", "GELU", "SiLU", "ELU",
          "Softplus", "Mish", "LogSoftmax"}


def build_modern_layer(spec, dtype):
    t = spec["type"]
    if t in ("BatchNorm1d", "BatchNorm2d"):
        return getattr(nn, t)(spec["numFeatures"], momentum=spec["momentum"], affine=spec["affine"],
                              track_running_stats=spec["trackRunningStats"], dtype=dtype)
    if t == "GroupNorm":
        return nn.GroupNorm(spec["numGroups"], spec["numChannels"], affine=spec["affine"], dtype=dtype)
    if t == "LayerNorm":
        return nn.LayerNorm(spec["normalizedShape"], elementwise_affine=spec["elementwiseAffine"], dtype=dtype)
    if t == "AdaptiveAvgPool2d":
        return nn.AdaptiveAvgPool2d(as_pair(spec["outputSize"]))
    if t == "ConvTranspose2d":
        return nn.ConvTranspose2d(spec["inChannels"], spec["outChannels"], as_pair(spec["kernelSize"]),
                                  stride=as_pair(spec["stride"]), padding=as_pair(spec["padding"]),
                                  output_padding=as_pair(spec["outputPadding"]), dilation=as_pair(spec["dilation"]),
                                  bias=spec["bias"], dtype=dtype)
    if t == "Embedding":
        return nn.Embedding(spec["numEmbeddings"], spec["embeddingDim"], padding_idx=spec.get("paddingIdx"), dtype=dtype)
    if t in RECURRENT:
        kwargs = {"num_layers": spec["numLayers"], "bias": spec["bias"], "batch_first": spec["batchFirst"],
                  "bidirectional": spec["bidirectional"], "dtype": dtype}
        if t == "RNN":
            kwargs["nonlinearity"] = spec["nonlinearity"]
        return RECURRENT[t](spec["inputSize"], spec["hiddenSize"], **kwargs)
    if t == "MultiheadAttention":
        return SelfAttention(spec["embedDim"], spec["numHeads"], spec["causal"], bias=spec["bias"],
                             batch_first=spec["batchFirst"], dtype=dtype)
    if t == "Residual":
        return Residual(build_torch_layer(spec["block"], dtype))
    if t == "Sequential":
        return nn.Sequential(*[build_torch_layer(s, dtype) for s in spec["layers"]])
    if t == "Permute":
        return Permute(spec["dims"])
    if t == "GELU":
        return nn.GELU(approximate=spec["approximate"])
    if t == "ELU":
        return nn.ELU(spec["alpha"])
    if t == "Softplus":
        return nn.Softplus(spec["beta"], spec["threshold"])
    if t == "LogSoftmax":
        return nn.LogSoftmax(spec["dim"])
    return {"SiLU": nn.SiLU, "Mish": nn.Mish}[t]()


def modern_activation(r):
    """One of the newer activations where they have landed, else (and sometimes anyway) an older one."""
    kinds = [k for k in ("GELU", "SiLU", "ELU", "Softplus", "Mish") if k in LANDED]
    if not kinds or r.random() < 0.3:
        return activation(r)
    kind = r.choice(kinds)
    if kind == "GELU":
        return {"type": kind, "approximate": r.choice(["none", "tanh"])}
    if kind == "ELU":
        return {"type": kind, "alpha": r.choice([1.0, 0.5, 1.7])}
    if kind == "Softplus":
        # a small threshold puts some inputs on the linear branch
        return {"type": kind, "beta": r.choice([1.0, 0.5, 2.0]), "threshold": r.choice([20.0, 1.0, 2.0])}
    return {"type": kind}


def feed_forward_activation(r):
    """A transformer's: GELU (exact or tanh) or SiLU where they have landed."""
    kinds = [k for k in ("GELU", "GELU", "SiLU") if k in LANDED]
    if not kinds:
        return modern_activation(r)
    kind = r.choice(kinds)
    return {"type": kind, "approximate": r.choice(["none", "tanh"])} if kind == "GELU" else {"type": kind}


def batchnorm_spec(r, kind, features):
    return {"type": kind, "numFeatures": features, "momentum": r.choice([0.1, 0.1, 0.3, None, None]),
            "affine": r.random() < 0.75, "trackRunningStats": r.random() < 0.8}


def convtranspose_spec(r, in_channels):
    kernel = pair_or_int(r, 1, 3)
    stride = pair_or_int(r, 1, 2)
    dilation = r.choice([1, 1, 2])
    kh, kw = as_pair(kernel)
    padding = r.randint(0, dilation * (min(kh, kw) - 1))
    # output_padding must be smaller than the stride or the dilation, per dimension
    limit = min(max(s, dilation) for s in as_pair(stride))
    return {"type": "ConvTranspose2d", "inChannels": in_channels, "outChannels": r.randint(1, 3), "kernelSize": kernel,
            "stride": stride, "padding": padding, "outputPadding": r.randint(0, limit - 1), "dilation": dilation,
            "bias": r.random() < 0.7}


def probe(layers, in_shape, dtype, tokens):
    """(output shape, parameter count) of the model, run once in training mode (which
    BatchNorm checks: more than one value per channel); raises where torch refuses."""
    model = nn.Sequential(*[build_torch_layer(s, dtype) for s in layers]).train()
    x = torch.zeros(in_shape, dtype=torch.int64) if tokens else torch.randn(in_shape, dtype=dtype)
    with torch.no_grad():
        shape = list(model(x).shape)
    return shape, sum(p.numel() for p in model.parameters())


# The fixture's size: a new family's model has at most this many parameters (self-attention
# with a LayerNorm and a head: more) and outputs.
FAMILY_PARAMS = {"conv": 64, "sequence": 64, "transformer": 84}
FAMILY_OUTPUTS = 24


def family_case(family, index, seed, attempt, offset):
    case_seed = seed + FAMILY_SHIFT + offset + index + 10_000 * attempt
    r = random.Random(case_seed)
    gen = torch.Generator().manual_seed(case_seed)
    dtype = torch.float32 if index % 3 == 2 else torch.float64
    return case_seed, r, gen, dtype


def finish_case(family, index, case_seed, r, gen, dtype, layers, in_shape, tokens, vocab, loss_kind, opt_kind,
                in_axis=0, out_axis=0):
    out_shape, _ = probe(layers, in_shape, dtype, tokens)
    loss, make_target = loss_spec(r, loss_kind, out_shape, gen, dtype)
    optimizer = optimizer_spec(r, opt_kind)
    scheduler = newer_scheduler_spec(r, opt_kind)
    scale = r.choice([0.5, 1.0, 2.0])
    if tokens:
        inputs = [torch.randint(0, vocab, in_shape, generator=gen) for _ in range(STEPS)]
    else:
        inputs = [torch.randn(in_shape, generator=gen, dtype=torch.float64).to(dtype) * scale for _ in range(STEPS)]
    targets = [make_target() for _ in range(STEPS)]
    name = (f"{index:02d} {family} {str(dtype)[6:]} {loss_kind} {opt_kind}"
            f"{' ' + scheduler['type'] if scheduler else ''}")
    return {
        "name": name, "seed": case_seed, "dtype": str(dtype)[6:], "layers": layers, "loss": loss,
        "optimizer": optimizer, "scheduler": scheduler, "inputs": inputs, "targets": targets,
        "dropoutSeed": case_seed + 500_000, "_axes": (in_axis, out_axis),
    }


def small_enough(family, layers, in_shape, dtype, tokens):
    try:
        shape, params = probe(layers, in_shape, dtype, tokens)
    except (RuntimeError, ValueError):
        return None  # a geometry torch rejects
    return shape if params <= FAMILY_PARAMS[family] and math.prod(shape) <= FAMILY_OUTPUTS else None


def classifier_ending(layers, loss_kind, permute=None):
    """Before a class loss over [N, C, ...]: the permutation to it, and LogSoftmax(dim=1) for NLLLoss where it has landed."""
    if permute is not None:
        layers.append({"type": "Permute", "dims": permute})
    if loss_kind == "NLLLoss" and "LogSoftmax" in LANDED:
        layers.append({"type": "LogSoftmax", "dim": 1})


def group_values(layers, in_shape, dtype, groups=None):
    """How many values a GroupNorm after `layers` normalises together (with one group per channel by
    default): 2 give ±1 whatever they are. 0 where torch refuses the geometry."""
    try:
        shape, _ = probe(layers, in_shape, dtype, False)
    except (RuntimeError, ValueError):
        return 0
    channels = shape[1]
    return channels // (groups or channels) * math.prod(shape[2:])


def draw_conv(index, seed, attempt, number):
    """Conv2d / ConvTranspose2d, BatchNorm2d or GroupNorm, newer activations, pooling or
    AdaptiveAvgPool2d, then Flatten, sometimes BatchNorm1d, and Linear; running statistics in training mode."""
    case_seed, r, gen, dtype = family_case("conv", index, seed, attempt, 1_000)
    loss_kind = LOSSES[index % len(LOSSES)]
    classes = r.randint(2, 3)
    out_features = classes if loss_kind in ("CrossEntropyLoss", "NLLLoss") else r.randint(1, 3)
    while True:
        batch = 3  # BatchNorm1d of 2 values gives ±1 whatever they are: a gradient of rounding only
        channels = r.randint(1, 2)
        in_shape = [batch, channels, r.randint(4, 5), r.randint(4, 5)]
        layers, c = [], channels
        for _ in range(r.randint(1, 2)):
            conv = convtranspose_spec(r, c) if "ConvTranspose2d" in LANDED and r.random() < 0.35 else conv_spec(r, c)
            layers.append(conv)
            c = conv["outChannels"]
            norm = r.random()
            # A bias that the normalisation subtracts again (a channel's, from its own batch or group mean)
            # has a gradient of 0 up to rounding, which Adam, RMSprop and Adagrad turn into a step: none there.
            if norm < 0.55 and "BatchNorm2d" in LANDED:
                layers.append(batchnorm_spec(r, "BatchNorm2d", c))
                conv["bias"] = False
            elif norm < 0.85 and "GroupNorm" in LANDED and group_values(layers, in_shape, dtype) > 2:
                groups = r.choice([g for g in range(1, c + 1) if c % g == 0 and group_values(layers, in_shape, dtype, g) > 2])
                layers.append({"type": "GroupNorm", "numGroups": groups, "numChannels": c, "affine": r.random() < 0.75})
                conv["bias"] = conv["bias"] and groups < c
            act = modern_activation(r)
            # One channel per group, normalised over its positions, then averaged over them (a global pool) is
            # the GroupNorm's bias whatever the input: no Identity between them, which would leave it so.
            while layers[-1]["type"] == "GroupNorm" and layers[-1]["numGroups"] == c and act["type"] == "Identity":
                act = modern_activation(r)
            layers.append(act)
            if r.random() < 0.6:
                if "AdaptiveAvgPool2d" in LANDED and r.random() < 0.5:
                    layers.append({"type": "AdaptiveAvgPool2d", "outputSize": pair_or_int(r, 1, 3)})
                else:
                    layers.append(pool_spec(r))
        keep_spatial = loss_kind in ("CrossEntropyLoss", "NLLLoss", "MSELoss") and r.random() < 0.4
        if keep_spatial:
            layers.append({"type": "Conv2d", "inChannels": c, "outChannels": out_features if loss_kind != "MSELoss" else 2,
                           "kernelSize": 1, "stride": 1, "padding": 0, "dilation": 1, "bias": True})
            classifier_ending(layers, loss_kind)
        else:
            shape = small_enough("conv", layers, in_shape, dtype, False)
            if shape is None:
                continue
            flat = math.prod(shape[1:])
            layers.append({"type": "Flatten"})
            if "BatchNorm1d" in LANDED and r.random() < 0.3:
                layers.append(batchnorm_spec(r, "BatchNorm1d", flat))
            layers.append({"type": "Linear", "inFeatures": flat, "outFeatures": out_features, "bias": r.random() < 0.8})
            if loss_kind in ("CrossEntropyLoss", "NLLLoss"):
                classifier_ending(layers, loss_kind)
            if loss_kind == "BCELoss":
                layers.append({"type": "Sigmoid"})
        if small_enough("conv", layers, in_shape, dtype, False) is not None:
            break
    return finish_case("conv", number, case_seed, r, gen, dtype, layers, in_shape, False, 0, loss_kind,
                       OPTIMIZERS[(index + 2) % len(OPTIMIZERS)])


SEQUENCE_LOSSES = ["CrossEntropyLoss", "MSELoss", "CrossEntropyLoss", "NLLLoss", "HuberLoss", "BCEWithLogitsLoss",
                   "CrossEntropyLoss", "SmoothL1Loss", "L1Loss"]


def sequence_input(r, batch_first, width, batch):
    """Token ids into an Embedding where it has landed (half the time), else float features."""
    length = r.randint(3, 4)
    order = [batch, length] if batch_first else [length, batch]
    if "Embedding" in LANDED and r.random() < 0.5:
        vocab = r.randint(4, 6)
        emb = {"type": "Embedding", "numEmbeddings": vocab, "embeddingDim": width}
        if r.random() < 0.3:
            emb["paddingIdx"] = r.choice([0, vocab - 1, -1])
        return [emb], order, True, vocab
    return [], order + [width], False, 0


def sequence_head(r, layers, loss_kind, batch_first, width, out_features):
    """Linear to the outputs at every position; a class loss over [N, C, L] after a permutation.
    Returns the output's batch axis."""
    layers.append({"type": "Linear", "inFeatures": width, "outFeatures": out_features, "bias": r.random() < 0.8})
    if loss_kind in ("CrossEntropyLoss", "NLLLoss"):
        classifier_ending(layers, loss_kind, [0, 2, 1] if batch_first else [1, 2, 0])
        return 0
    return 0 if batch_first else 1


def draw_sequence(index, seed, attempt, number):
    """Embedding (token ids) or float features, then LSTM / GRU / RNN (batchFirst,
    one or two layers, bidirectional), then a Linear head at every position."""
    case_seed, r, gen, dtype = family_case("sequence", index, seed, attempt, 2_000)
    loss_kind = SEQUENCE_LOSSES[index % len(SEQUENCE_LOSSES)]
    recurrent = [k for k in ("LSTM", "GRU", "RNN") if k in LANDED]
    out_features = r.randint(2, 3)
    while True:
        batch_first = r.random() < 0.5
        width = r.randint(1, 3)
        layers, in_shape, tokens, vocab = sequence_input(r, batch_first, width, r.randint(2, 3))
        if recurrent:
            kind = recurrent[(index + attempt) % len(recurrent)]
            bidirectional = r.random() < 0.4
            hidden = r.randint(1, 3)
            spec = {"type": kind, "inputSize": width, "hiddenSize": hidden, "numLayers": r.choice([1, 1, 2]),
                    "bias": r.random() < 0.8, "batchFirst": batch_first, "bidirectional": bidirectional}
            if kind == "RNN":
                spec["nonlinearity"] = r.choice(["tanh", "relu"])
            layers.append(spec)
            width = hidden * (2 if bidirectional else 1)
        else:
            layers.append({"type": "Linear", "inFeatures": width, "outFeatures": 3, "bias": True})
            layers.append(modern_activation(r))
            width = 3
        out_axis = sequence_head(r, layers, loss_kind, batch_first, width, out_features)
        if small_enough("sequence", layers, in_shape, dtype, tokens) is not None:
            break
    return finish_case("sequence", number, case_seed, r, gen, dtype, layers, in_shape, tokens, vocab, loss_kind,
                       OPTIMIZERS[(index + 4) % len(OPTIMIZERS)], 0 if batch_first else 1, out_axis)


def draw_transformer(index, seed, attempt, number):
    """Embedding or float features, Residual(Sequential(LayerNorm, self-attention)) (causal or
    not), sometimes a residual feed-forward block with GELU / SiLU, then a head at every
    position, or Flatten, Linear, BatchNorm1d, an activation and Linear."""
    case_seed, r, gen, dtype = family_case("transformer", index, seed, attempt, 3_000)
    loss_kind = SEQUENCE_LOSSES[(index + 1) % len(SEQUENCE_LOSSES)]
    opt_kind = OPTIMIZERS[(index + 6) % len(OPTIMIZERS)]
    out_features = r.randint(2, 3)
    while True:
        batch_first = r.random() < 0.6
        # LayerNorm over 2 features gives ±1 whatever they are: at least 3
        embed, heads = r.choice([(3, 1), (3, 1), (3, 3), (4, 2), (4, 1)])
        # 3 rows for BatchNorm1d's batch statistics (2 values normalise to ±1 whatever they are)
        layers, in_shape, tokens, vocab = sequence_input(r, batch_first, embed, 3)
        if "MultiheadAttention" in LANDED:
            # The key bias's gradient is 0 (softmax ignores a score added to every key) up to rounding, which
            # Adam, RMSprop and Adagrad normalise into a full step: those cases draw no bias.
            bias = opt_kind == "SGD" and r.random() < 0.8
            attention = {"type": "MultiheadAttention", "embedDim": embed, "numHeads": heads, "bias": bias,
                         "batchFirst": batch_first, "causal": r.random() < 0.5}
            if {"LayerNorm", "Residual"} <= LANDED and r.random() < 0.8:
                norm = {"type": "LayerNorm", "normalizedShape": embed, "elementwiseAffine": r.random() < 0.8}
                layers.append({"type": "Residual", "block": {"type": "Sequential", "layers": [norm, attention]}})
            else:
                layers.append(attention)
        if {"LayerNorm", "Residual"} <= LANDED and r.random() < 0.4:
            hidden = r.randint(2, 3)
            block = [{"type": "LayerNorm", "normalizedShape": embed, "elementwiseAffine": r.random() < 0.5},
                     {"type": "Linear", "inFeatures": embed, "outFeatures": hidden, "bias": True}, feed_forward_activation(r),
                     {"type": "Linear", "inFeatures": hidden, "outFeatures": embed, "bias": r.random() < 0.8}]
            layers.append({"type": "Residual", "block": {"type": "Sequential", "layers": block}})
        pooled = r.random() < 0.4
        if pooled and "BatchNorm1d" in LANDED and "MultiheadAttention" in LANDED:
            # out_proj's bias adds one vector to every position, which BatchNorm1d's batch mean removes again
            attention["bias"] = False
        if pooled:
            if not batch_first:
                layers.append({"type": "Permute", "dims": [1, 0, 2]})
            length = in_shape[1 if batch_first else 0]
            layers.append({"type": "Flatten"})
            # no bias before BatchNorm1d, which subtracts it again (its gradient: rounding, see draw_conv)
            layers.append({"type": "Linear", "inFeatures": length * embed, "outFeatures": 2,
                           "bias": "BatchNorm1d" not in LANDED})
            if "BatchNorm1d" in LANDED:
                layers.append(batchnorm_spec(r, "BatchNorm1d", 2))
            layers.append(modern_activation(r))
            layers.append({"type": "Linear", "inFeatures": 2, "outFeatures": out_features, "bias": r.random() < 0.8})
            if loss_kind in ("CrossEntropyLoss", "NLLLoss"):
                classifier_ending(layers, loss_kind)
            out_axis = 0
        else:
            if "LayerNorm" in LANDED and r.random() < 0.5:
                layers.append({"type": "LayerNorm", "normalizedShape": embed, "elementwiseAffine": True})
            out_axis = sequence_head(r, layers, loss_kind, batch_first, embed, out_features)
        if small_enough("transformer", layers, in_shape, dtype, tokens) is not None:
            break
    return finish_case("transformer", number, case_seed, r, gen, dtype, layers, in_shape, tokens, vocab, loss_kind,
                       opt_kind, 0 if batch_first else 1, out_axis)


class ReversedDropout(nn.Module):
    """nn.Dropout for a batch given in reverse order: draws the mask as torch's
    _dropout_impl does (bernoulli_(1 - p) on a tensor of the input's shape,
    divided by 1 - p), then reverses it, so each sample meets the mask it met
    in the run in order."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if self.p == 0 or not self.training:
            return x
        if self.p == 1:
            return x * torch.zeros((), dtype=x.dtype)
        noise = torch.empty_like(x).bernoulli_(1 - self.p)
        noise.div_(1 - self.p)
        return x * noise.flip(0)


def train(case, shadow=False, perturb=0.0, reverse=False):
    """PyTorch's trajectory: (initial state_dict, one dict of tensors per step).

    shadow: the same run in float64, from the float32 case's values widened.
    perturb: multiplies every initial parameter by (1 + perturb * N(0, 1)).
    reverse: the same run with every batch in reverse order (outputs are
    reversed back), which changes only the order of every sum over the batch.
    """
    dtype = getattr(torch, case["dtype"])
    torch.manual_seed(case["seed"])
    model = nn.Sequential(*[build_torch_layer(s, dtype) for s in case["layers"]])
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    loss_spec = dict(case["loss"])
    inputs, targets = case["inputs"], case["targets"]
    in_axis, out_axis = case.get("_axes", (0, 0))  # the batch's axis in the input and in the output
    if reverse:
        for i, spec in enumerate(case["layers"]):
            if spec["type"] == "Dropout":
                model[i] = ReversedDropout(spec["p"])
        inputs, targets = [x.flip(in_axis) for x in inputs], [y.flip(out_axis) for y in targets]
        out_dims = len(case["targets"][0].shape) if case["targets"][0].is_floating_point() else None
        if "weight" in loss_spec and loss_spec["weight"].dim() == out_dims:  # a weight per sample
            loss_spec["weight"] = loss_spec["weight"].flip(out_axis)
    if shadow:
        def widen(t):
            return t.to(torch.float64) if t.is_floating_point() else t
        model = model.to(torch.float64)
        inputs, targets = [widen(x) for x in inputs], [widen(y) for y in targets]
        for key in ("weight", "posWeight"):
            if key in loss_spec:
                loss_spec[key] = widen(loss_spec[key])
    if perturb:
        noise = torch.Generator().manual_seed(case["seed"])
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(1 + perturb * torch.randn(p.shape, generator=noise, dtype=p.dtype))
    loss_fn = build_torch_loss(loss_spec)
    opt_spec, sched_spec = case["optimizer"], case["scheduler"]
    opt = getattr(torch.optim, opt_spec["type"])(model.parameters(), **torch_kwargs(opt_spec["options"]))
    sched = None if sched_spec is None else build_torch_scheduler(sched_spec, opt)
    torch.manual_seed(case["dropoutSeed"])  # the dropout masks' stream, and nothing else draws from it
    model.train()
    steps = []
    for x, y in zip(inputs, targets):
        opt.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        loss.backward()
        if reverse:
            out = out.flip(out_axis)
        grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        opt.step()
        if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
            sched.step(loss.item())
        elif sched is not None:
            sched.step()
        # a run that diverges says little about the update rules: draw another
        if not abs(loss.item()) < DIVERGED or not all(p.abs().max() < DIVERGED for p in model.parameters()):
            raise FloatingPointError(f"{case['name']}: diverged")
        steps.append({
            "loss": loss.item(), "output": out.detach().clone(), "grads": grads,
            "params": {n: p.detach().clone() for n, p in model.named_parameters()},
            "lr": opt.param_groups[0]["lr"],
            "buffers": {n: b.detach().clone() for n, b in model.named_buffers()},
        })
    return initial, steps


def deviation(dtype, initial, steps, reference):
    """The largest error of `steps` against `reference`, measured as the
    TypeScript test measures ours against PyTorch's (test/parity.ts):
    float64 per element, |a - b| / max(1, |b|); float32 against the scale of
    the array (a layer's grads together over the run, a parameter over the run
    from its initial value; the loss against its output too)."""
    def err(a, b, scale=0.0):
        a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
        if dtype == "float64":
            return ((a - b).abs() / b.abs().clamp(min=1)).max().item()
        return ((a - b).abs().max() / max(scale, b.abs().max().item(), 1e-300)).item()

    def layer_scale(name):
        layer = name[: name.rfind(".") + 1]
        return max(g.abs().max().item() for r in reference for n, g in r["grads"].items()
                   if n.startswith(layer) and "." not in n[len(layer):])

    def param_scale(name):
        return max([initial[name].abs().max().item()] + [r["params"][name].abs().max().item() for r in reference])

    def buffer_scale(name):
        return max([initial[name].abs().max().item()] + [r["buffers"][name].abs().max().item() for r in reference])

    worst = 0.0
    for s, r in zip(steps, reference):
        worst = max(worst, err(s["output"], r["output"]),
                    err(s["loss"], r["loss"], r["output"].abs().max().item()),
                    *(err(s["grads"][n], g, layer_scale(n)) for n, g in r["grads"].items()),
                    *(err(s["params"][n], p, param_scale(n)) for n, p in r["params"].items()),
                    *(err(s["buffers"][n], b, buffer_scale(n)) for n, b in r["buffers"].items()))
    return worst


# A case is kept only where PyTorch's own result is stable to rounding: its
# float32 run within CONDITION["float32"] of the same run in float64, its
# float64 run within CONDITION["float64"] of a run whose initial parameters
# are perturbed by PERTURB relative. Elsewhere (an L1 gradient that should sum
# to zero but rounds to 4e-9, which Adam then turns into a full step) two
# correct implementations differ by far more than the tolerance.
CONDITION = {"float32": 2e-6, "float64": 1e-11}
DIVERGED = 1e4
PERTURB = 1e-14


def conditioning(case):
    try:
        initial, steps = train(case)
    except FloatingPointError:
        return None, None, math.inf
    if case["dtype"] == "float32":
        return initial, steps, deviation("float32", initial, steps, train(case, shadow=True)[1])
    dev = deviation("float64", initial, steps, train(case, perturb=PERTURB)[1])
    if case["inputs"][0].dim() > 1:  # batched
        dev = max(dev, deviation("float64", initial, steps, train(case, reverse=True)[1]))
    return initial, steps, dev


def record(case, initial, steps):
    loss = dict(case["loss"])
    for key in ("weight", "posWeight"):
        if key in loss:
            loss[key] = tensor(loss[key])
    return {
        **{k: case[k] for k in ("name", "seed", "dtype", "layers", "optimizer", "scheduler", "dropoutSeed")},
        "loss": loss,
        "initialState": {k: tensor(v) for k, v in initial.items()},
        "inputs": [tensor(x) for x in case["inputs"]],
        "targets": [tensor(y) for y in case["targets"]],
        "steps": [{
            "loss": s["loss"], "output": tensor(s["output"]),
            "grads": {n: tensor(g) for n, g in s["grads"].items()},
            "params": {n: tensor(p) for n, p in s["params"].items()},
            "lr": s["lr"],
            # the state dict's buffers after the step (BatchNorm's running statistics), where the model has any
            **({"buffers": {n: tensor(b) for n, b in s["buffers"].items()}} if s["buffers"] else {}),
        } for s in steps],
    }


def main():
    global FAMILY_SHIFT
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=CASES)
    parser.add_argument("--family-cases", type=int, default=None,
                        help="cases of each newer family (conv, sequence, transformer); default --cases / 10, rounded up")
    parser.add_argument("--seed", type=int, default=CASE_SEED)
    parser.add_argument("--family-shift", type=int, default=FAMILY_SHIFT, help="added to the newer families' seeds")
    parser.add_argument("--out", default=OUT, help="path relative to the repository root, or absolute")
    parser.add_argument("--keep-ill-conditioned", action="store_true", help="skip the conditioning check")
    args = parser.parse_args()
    torch.set_num_threads(1)  # one summation order for every run of this script
    FAMILY_SHIFT = args.family_shift
    family_cases = args.family_cases if args.family_cases is not None else -(-args.cases // 10)
    # The first family is the original one (its cases unchanged); each newer one follows with its own seeds.
    families = [(args.cases, lambda index, attempt, number: draw_case(index, args.seed, attempt))]
    families += [(family_cases, lambda index, attempt, number, draw=draw: draw(index, args.seed, attempt, number))
                 for draw in (draw_conv, draw_sequence, draw_transformer)]
    cases, redrawn = [], []
    for count, draw in families:
        for index in range(count):
            for attempt in range(20):
                case = draw(index, attempt, len(cases))
                initial, steps, dev = conditioning(case)
                if args.keep_ill_conditioned or dev <= CONDITION[case["dtype"]]:
                    break
                redrawn.append(f"{case['name']} (seed {case['seed']}): {dev:.1e}")
            cases.append(record(case, initial, steps))
    if args.cases <= CASES:
        for c in cases:
            print(c["name"])
    print(f"layers drawn from LAYERS: {', '.join(sorted(MODERN & LANDED))}")
    print(f"redrawn {len(redrawn)} ill-conditioned draws:" + "".join(f"\n  {r}" for r in redrawn[:50]))
    write_json(args.out, {"steps": STEPS, "cases": cases})

if __name__ == "__main__":
    main()
