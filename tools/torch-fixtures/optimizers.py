"""Fixtures for @backprop/optimizers: optimizer trajectories and LR schedules.

Every optimizer case starts from the same three parameters (shapes [3, 2],
[3] and [2, 1, 2]) and feeds the same pre-generated gradients, assigned to
`p.grad` before each `step()`, in float64 and in float32 (the float32 run
uses the float64 values rounded to float32, which is what the tests do with
Math.fround). After every step the parameters are recorded; after the last
step the optimizer's per-parameter state is recorded too.

`optimizers-vectorised` repeats each case (without param groups) on one
parameter of 20 elements, enough for ATen's vectorised loops, and keeps only
the final values.

Schedulers are recorded as the `get_last_lr()` sequence over 200 steps
(index 0 is the value right after construction). The later schedulers
(LambdaLR, SequentialLR, CosineAnnealingWarmRestarts, OneCycleLR,
ReduceLROnPlateau) are recorded over 40 steps each in `schedulers.json`'s
`more` list, with the momentum (or Adam's beta1) where OneCycleLR cycles it,
the metrics fed to ReduceLROnPlateau and the epochs given to `step(epoch)`.

`clip-grad` holds clip_grad_norm_ and clip_grad_value_ on three gradients
(float64, and the same rounded to float32): the total norm and the clipped
gradients.

Run: /usr/bin/python3 tools/torch-fixtures/optimizers.py
"""
import math
import random
import re

import torch

from common import tensor, write

SHAPES = [(3, 2), (3,), (2, 1, 2)]
STEPS = 10
# Gradient scale at each step: spreads the magnitudes Adam and RMSprop see.
SCALES = [1.0, 0.1, 3.0, 1.0, 0.5, 2.0, 0.01, 1.0, 5.0, 0.3]

TORCH_CLASSES = {
    "SGD": torch.optim.SGD,
    "Adam": torch.optim.Adam,
    "AdamW": torch.optim.AdamW,
    "RMSprop": torch.optim.RMSprop,
    "Adagrad": torch.optim.Adagrad,
}


def snake(name):
    if name in ("tMax", "T0", "TMult"):
        return {"tMax": "T_max", "T0": "T_0", "TMult": "T_mult"}[name]  # torch keywords that are not snake_case
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def camel(name):
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def torch_options(options):
    out = {}
    for key, value in options.items():
        out[snake(key)] = tuple(value) if isinstance(value, list) else value
    return out


def initial_data(seed, shapes=SHAPES, steps=STEPS):
    gen = torch.Generator().manual_seed(seed)
    params = [torch.randn(s, generator=gen, dtype=torch.float64) for s in shapes]
    grads = []
    for step in range(steps):
        row = [torch.randn(s, generator=gen, dtype=torch.float64) * SCALES[step] for s in shapes]
        if step == 4 and len(shapes) > 1:
            row[1] = torch.zeros(shapes[1], dtype=torch.float64)  # a step with no gradient signal
        grads.append(row)
    return params, grads


def make_optimizer(kind, options, groups, params):
    if groups is None:
        return TORCH_CLASSES[kind](params, **torch_options(options))
    torch_groups = [{**torch_options({k: v for k, v in g.items() if k != "params"}),
                     "params": [params[i] for i in g["params"]]} for g in groups]
    return TORCH_CLASSES[kind](torch_groups, **torch_options(options))


def run_case(kind, options, groups, params0, grads, dtype, scheduler=None):
    params = [p.clone().to(dtype) for p in params0]
    opt = make_optimizer(kind, options, groups, params)
    sched = None
    if scheduler is not None:
        sched = SCHEDULERS[scheduler["type"]](opt, **torch_options(scheduler["options"]))
    trajectory, lrs = [], []
    if sched is not None:
        lrs.append(sched.get_last_lr())
    for row in grads:
        for p, g in zip(params, row):
            p.grad = g.to(dtype).clone()
        opt.step()
        if sched is not None:
            sched.step()
            lrs.append(sched.get_last_lr())
        trajectory.append([tensor(p) for p in params])
    state = {}
    for index, p in enumerate(params):
        entry = {}
        for key, value in opt.state[p].items():
            if value is None:
                continue
            if torch.is_tensor(value) and value.dim() == 0:
                value = float(value.item())
            entry[camel(key)] = tensor(value) if torch.is_tensor(value) else value
        if entry:
            state[str(index)] = entry
    out = {"trajectory": trajectory, "state": state}
    if sched is not None:
        out["lrs"] = lrs
    return out


OPTIMIZER_CASES = [
    ("sgd_plain", "SGD", {"lr": 0.1}, None),
    ("sgd_momentum_dampening", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}, None),
    ("sgd_nesterov_weight_decay", "SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weightDecay": 0.01}, None),
    ("sgd_maximize_momentum", "SGD", {"lr": 0.02, "momentum": 0.5, "weightDecay": 0.1, "maximize": True}, None),
    ("sgd_groups", "SGD", {"lr": 0.05, "momentum": 0.9},
     [{"params": [0], "lr": 0.1}, {"params": [1, 2], "momentum": 0.5, "weightDecay": 0.02}]),
    ("adam_default", "Adam", {}, None),
    ("adam_lr_betas_eps", "Adam", {"lr": 0.1, "betas": [0.8, 0.95], "eps": 1e-6}, None),
    ("adam_weight_decay_amsgrad", "Adam", {"lr": 0.05, "weightDecay": 0.1, "amsgrad": True}, None),
    ("adam_maximize", "Adam", {"lr": 0.05, "maximize": True}, None),
    ("adam_groups", "Adam", {"lr": 0.01},
     [{"params": [0, 2], "weightDecay": 0.05}, {"params": [1], "lr": 0.2, "amsgrad": True}]),
    ("adamw_default", "AdamW", {}, None),
    ("adamw_weight_decay", "AdamW", {"lr": 0.05, "weightDecay": 0.3, "betas": [0.85, 0.99]}, None),
    ("adamw_amsgrad_maximize", "AdamW", {"lr": 0.05, "amsgrad": True, "maximize": True, "eps": 1e-4}, None),
    ("rmsprop_default", "RMSprop", {}, None),
    ("rmsprop_alpha_eps_weight_decay", "RMSprop", {"lr": 0.03, "alpha": 0.9, "eps": 1e-6, "weightDecay": 0.05}, None),
    ("rmsprop_centered_momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}, None),
    ("rmsprop_momentum_maximize", "RMSprop", {"lr": 0.01, "momentum": 0.5, "maximize": True}, None),
    ("adagrad_default", "Adagrad", {}, None),
    ("adagrad_lr_decay_weight_decay", "Adagrad", {"lr": 0.1, "lrDecay": 0.05, "weightDecay": 0.02}, None),
    ("adagrad_initial_accumulator_eps", "Adagrad", {"lr": 0.1, "initialAccumulatorValue": 0.5, "eps": 1e-3}, None),
    ("adagrad_maximize", "Adagrad", {"lr": 0.05, "maximize": True}, None),
]

SCHEDULERS = {
    "StepLR": torch.optim.lr_scheduler.StepLR,
    "ExponentialLR": torch.optim.lr_scheduler.ExponentialLR,
    "CosineAnnealingLR": torch.optim.lr_scheduler.CosineAnnealingLR,
    "MultiStepLR": torch.optim.lr_scheduler.MultiStepLR,
    "LinearLR": torch.optim.lr_scheduler.LinearLR,
    "LambdaLR": torch.optim.lr_scheduler.LambdaLR,
    "CosineAnnealingWarmRestarts": torch.optim.lr_scheduler.CosineAnnealingWarmRestarts,
    "OneCycleLR": torch.optim.lr_scheduler.OneCycleLR,
    "ReduceLROnPlateau": torch.optim.lr_scheduler.ReduceLROnPlateau,
}

# LambdaLR's functions by name; the tests define the same ones in TypeScript
# with the same operations, so the factors agree bit for bit.
LAMBDAS = {
    "warmup10": lambda e: min(1.0, (e + 1) / 10),
    "inverse": lambda e: 1 / (1 + 0.05 * e),
    "halve7": lambda e: 0.5 ** (e // 7),
    "poly": lambda e: (1 - e / 40) * (1 - e / 40),
}

# (name, lrs of the parameter groups, [(scheduler, options), ...] chained in order)
SCHEDULER_CASES = [
    ("step_3_half", [0.1], [("StepLR", {"stepSize": 3, "gamma": 0.5})]),
    ("step_7_default_gamma", [0.3], [("StepLR", {"stepSize": 7})]),
    ("step_1_groups", [0.1, 0.02], [("StepLR", {"stepSize": 1, "gamma": 0.97})]),
    ("exponential_095", [0.1], [("ExponentialLR", {"gamma": 0.95})]),
    ("exponential_0999_groups", [1.0, 0.003], [("ExponentialLR", {"gamma": 0.999})]),
    ("cosine_10", [0.1], [("CosineAnnealingLR", {"tMax": 10})]),
    ("cosine_7_eta_min", [0.1], [("CosineAnnealingLR", {"tMax": 7, "etaMin": 0.001})]),
    ("cosine_1", [0.5], [("CosineAnnealingLR", {"tMax": 1})]),
    ("cosine_3_eta_min_groups", [0.2, 0.07], [("CosineAnnealingLR", {"tMax": 3, "etaMin": 0.01})]),
    ("cosine_50", [0.001], [("CosineAnnealingLR", {"tMax": 50, "etaMin": 1e-5})]),
    ("multistep", [0.1], [("MultiStepLR", {"milestones": [3, 10, 10, 50], "gamma": 0.5})]),
    ("linear_warmup", [0.1], [("LinearLR", {"startFactor": 0.25, "endFactor": 1.0, "totalIters": 8})]),
    ("linear_decay", [0.1], [("LinearLR", {"startFactor": 1.0, "endFactor": 0.1, "totalIters": 20})]),
    ("chained_exponential_step", [0.1],
     [("ExponentialLR", {"gamma": 0.99}), ("StepLR", {"stepSize": 5, "gamma": 0.5})]),
]

COMBINED_CASES = [
    ("adamw_cosine", "AdamW", {"lr": 0.1, "weightDecay": 0.1},
     {"type": "CosineAnnealingLR", "options": {"tMax": 4, "etaMin": 0.01}}),
    ("sgd_step", "SGD", {"lr": 0.1, "momentum": 0.9, "weightDecay": 0.01},
     {"type": "StepLR", "options": {"stepSize": 3, "gamma": 0.5}}),
]


def scheduler_lrs(group_lrs, chain, steps=200):
    params = [torch.zeros(1, requires_grad=True) for _ in group_lrs]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, group_lrs)], lr=group_lrs[0])
    scheds = [SCHEDULERS[kind](opt, **torch_options(options)) for kind, options in chain]
    lrs = [[g["lr"] for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        for s in scheds:
            s.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    return lrs


MORE_STEPS = 40


def build_scheduler(opt, spec):
    kind, options = spec["type"], dict(spec["options"])
    if kind == "LambdaLR":
        names = options["lrLambda"]
        return torch.optim.lr_scheduler.LambdaLR(opt, [LAMBDAS[n] for n in names] if isinstance(names, list) else LAMBDAS[names])
    if kind == "SequentialLR":
        children = [build_scheduler(opt, child) for child in options["schedulers"]]
        return torch.optim.lr_scheduler.SequentialLR(opt, children, options["milestones"])
    return SCHEDULERS[kind](opt, **torch_options(options))


def momentum_of(group):
    if "betas" in group:
        return group["betas"][0]
    return group.get("momentum")


def more_scheduler_case(name, optimizer, group_lrs, spec, inputs=None, optimizer_options=None):
    """40 steps of one scheduler (possibly SequentialLR) on an optimizer with a
    group per rate. `inputs`: per step, the metric (ReduceLROnPlateau) or the
    epoch given to step(epoch) (None for step())."""
    params = [torch.zeros(1, requires_grad=True) for _ in group_lrs]
    opt = TORCH_CLASSES[optimizer]([{"params": [p], "lr": lr} for p, lr in zip(params, group_lrs)],
                                   **torch_options(optimizer_options or {}))
    sched = build_scheduler(opt, spec)
    lrs = [[g["lr"] for g in opt.param_groups]]
    momenta = [[momentum_of(g) for g in opt.param_groups]]
    steps = MORE_STEPS if inputs is None else len(inputs)
    for k in range(steps):
        opt.step()
        if spec["type"] == "ReduceLROnPlateau":
            sched.step(inputs[k])
        elif inputs is not None and inputs[k] is not None:
            sched.step(inputs[k])
        else:
            sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        momenta.append([momentum_of(g) for g in opt.param_groups])
    case = {"name": name, "optimizer": optimizer, "optimizerOptions": optimizer_options or {},
            "groupLrs": group_lrs, "scheduler": spec, "inputs": inputs, "lrs": lrs}
    if spec["type"] == "OneCycleLR" and spec["options"].get("cycleMomentum", True):
        case["momenta"] = momenta
    return case


def plateau_metrics(seed):
    """A loss that falls, stalls, wobbles and falls again, rounded to 4 digits."""
    rng = random.Random(seed)
    out, value = [], 2.0
    for k in range(MORE_STEPS):
        if k < 8 or 20 <= k < 26:
            value *= 0.8
        out.append(round(value * (1 + rng.uniform(-0.002, 0.002)), 4))
    return out


def more_scheduler_cases():
    lin = {"type": "LinearLR", "options": {"startFactor": 0.1, "totalIters": 5}}
    cos30 = {"type": "CosineAnnealingLR", "options": {"tMax": 30, "etaMin": 0.001}}
    fractional = [epoch + i / 5 for epoch in range(8) for i in range(5)]
    interleaved = [None] * 10 + [26, None, None, 3.5, None, 0, 14.25, None, None, 40, None, 7]
    accuracy = [round(1 - m / 2.5, 4) for m in plateau_metrics(11)]
    return [
        more_scheduler_case("lambda_warmup", "SGD", [0.1], {"type": "LambdaLR", "options": {"lrLambda": "warmup10"}}),
        more_scheduler_case("lambda_per_group", "SGD", [0.1, 0.01],
                            {"type": "LambdaLR", "options": {"lrLambda": ["inverse", "halve7"]}}),
        more_scheduler_case("lambda_poly", "Adam", [0.003], {"type": "LambdaLR", "options": {"lrLambda": "poly"}}),
        more_scheduler_case("sequential_linear_cosine", "SGD", [0.1],
                            {"type": "SequentialLR", "options": {"schedulers": [lin, cos30], "milestones": [5]}}),
        more_scheduler_case("sequential_linear_cosine_late_groups", "SGD", [0.1, 0.05],
                            {"type": "SequentialLR", "options": {"schedulers": [lin, cos30], "milestones": [8]}}),
        more_scheduler_case("sequential_three", "SGD", [0.2],
                            {"type": "SequentialLR", "options": {"schedulers": [
                                {"type": "ExponentialLR", "options": {"gamma": 0.9}},
                                {"type": "StepLR", "options": {"stepSize": 3, "gamma": 0.5}},
                                {"type": "LinearLR", "options": {"startFactor": 0.5, "endFactor": 0.1, "totalIters": 6}}],
                                "milestones": [6, 20]}}),
        more_scheduler_case("sequential_lambda_multistep", "SGD", [0.1],
                            {"type": "SequentialLR", "options": {"schedulers": [
                                {"type": "LambdaLR", "options": {"lrLambda": "warmup10"}},
                                {"type": "MultiStepLR", "options": {"milestones": [0, 15, 25], "gamma": 0.5}}],
                                "milestones": [10]}}),
        more_scheduler_case("warm_restarts_5", "SGD", [0.1],
                            {"type": "CosineAnnealingWarmRestarts", "options": {"T0": 5}}),
        more_scheduler_case("warm_restarts_3_mult2_groups", "SGD", [0.1, 0.02],
                            {"type": "CosineAnnealingWarmRestarts", "options": {"T0": 3, "TMult": 2, "etaMin": 0.001}}),
        more_scheduler_case("warm_restarts_fractional", "SGD", [0.05],
                            {"type": "CosineAnnealingWarmRestarts", "options": {"T0": 2, "TMult": 2, "etaMin": 1e-4}}, fractional),
        more_scheduler_case("warm_restarts_fractional_mult1", "SGD", [0.05],
                            {"type": "CosineAnnealingWarmRestarts", "options": {"T0": 3}}, fractional),
        more_scheduler_case("warm_restarts_interleaved", "SGD", [0.1],
                            {"type": "CosineAnnealingWarmRestarts", "options": {"T0": 4, "TMult": 3, "etaMin": 0.01}}, interleaved),
        # step(epoch) exactly at restarts, where int(math.log(243, 3)) is 4 (glibc's log), not 5
        more_scheduler_case("warm_restarts_exact_restarts", "SGD", [0.1],
                            {"type": "CosineAnnealingWarmRestarts", "options": {"T0": 1, "TMult": 3, "etaMin": 0.001}},
                            [0.5, 1, 3.99, 4, 12, 13, 39, 40, 120, 121, 121.5, 363, 364, None, None, 1093, 1094, 3280, 3281]),
        more_scheduler_case("warm_restarts_exact_restarts_t0_2", "SGD", [0.1],
                            {"type": "CosineAnnealingWarmRestarts", "options": {"T0": 2, "TMult": 3}},
                            [2, 8, 26, 80, 242, 243, 728, 2186, None, 6560, 19682]),
        more_scheduler_case("one_cycle_cos_sgd", "SGD", [0.1],
                            {"type": "OneCycleLR", "options": {"maxLr": 0.1, "totalSteps": 40}}, None, {"momentum": 0.9}),
        more_scheduler_case("one_cycle_linear_three_phase", "SGD", [0.1],
                            {"type": "OneCycleLR", "options": {"maxLr": 1.0, "totalSteps": 40, "annealStrategy": "linear",
                                                               "threePhase": True, "pctStart": 0.25, "divFactor": 10.0,
                                                               "finalDivFactor": 100.0}}, None, {"momentum": 0.5}),
        more_scheduler_case("one_cycle_adam_groups_epochs", "Adam", [0.001, 0.001],
                            {"type": "OneCycleLR", "options": {"maxLr": [0.01, 0.005], "epochs": 4, "stepsPerEpoch": 10,
                                                               "baseMomentum": [0.8, 0.85], "maxMomentum": 0.95}}),
        more_scheduler_case("one_cycle_rmsprop_three_phase_cos", "RMSprop", [0.01],
                            {"type": "OneCycleLR", "options": {"maxLr": 0.02, "totalSteps": 37, "threePhase": True,
                                                               "pctStart": 0.4}}, [None] * 37, {"momentum": 0.9}),
        more_scheduler_case("one_cycle_adagrad_no_momentum", "Adagrad", [0.01],
                            {"type": "OneCycleLR", "options": {"maxLr": 0.05, "totalSteps": 40, "pctStart": 0.5,
                                                               "cycleMomentum": False}}),
        more_scheduler_case("plateau_patience_2", "SGD", [0.1],
                            {"type": "ReduceLROnPlateau", "options": {"patience": 2}}, plateau_metrics(1)),
        more_scheduler_case("plateau_default", "SGD", [0.1],
                            {"type": "ReduceLROnPlateau", "options": {}},
                            [round(2.0 * 0.8 ** min(k, 5) + 0.001 * max(0, k - 5), 4) for k in range(MORE_STEPS)]),
        more_scheduler_case("plateau_max_abs_cooldown", "SGD", [0.1],
                            {"type": "ReduceLROnPlateau", "options": {"mode": "max", "thresholdMode": "abs", "threshold": 0.01,
                                                                      "cooldown": 2, "patience": 1, "factor": 0.5}}, accuracy),
        more_scheduler_case("plateau_min_lr_groups", "Adam", [0.1, 0.01],
                            {"type": "ReduceLROnPlateau", "options": {"factor": 0.3, "patience": 0, "minLr": [0.01, 0.005],
                                                                      "threshold": 0.05}}, plateau_metrics(3)),
        more_scheduler_case("plateau_eps", "SGD", [1e-6],
                            {"type": "ReduceLROnPlateau", "options": {"factor": 0.5, "patience": 0, "eps": 1e-7,
                                                                      "thresholdMode": "abs", "threshold": 0.0}}, plateau_metrics(4)),
    ]


CLIP_SHAPES = [(3, 4), (5,), (2, 2, 3)]


def clip_cases():
    gen = torch.Generator().manual_seed(77)
    grads = [torch.randn(s, generator=gen, dtype=torch.float64) * scale for s, scale in zip(CLIP_SHAPES, (1.0, 3.0, 0.2))]
    cases = []
    for norm_type in (1, 2, 3.5, "inf"):
        for max_norm in (0.5, 100.0, 0.0):
            for subset in ([0, 1, 2], [1]):
                case = {"normType": norm_type, "maxNorm": max_norm, "params": subset,
                        "grads": [tensor(grads[i]) for i in subset]}
                for dtype, key in ((torch.float64, "float64"), (torch.float32, "float32")):
                    params = [torch.zeros(CLIP_SHAPES[i], dtype=dtype, requires_grad=True) for i in subset]
                    for p, i in zip(params, subset):
                        p.grad = grads[i].to(dtype).clone()
                    total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
                    case[key] = {"total": float(total), "grads": [tensor(p.grad) for p in params]}
                cases.append(case)
    # A total just under maxNorm: the coefficient max/(total + 1e-6) is still < 1 and scales.
    total2 = float(torch.norm(torch.stack([torch.norm(g) for g in grads])))
    for max_norm in (total2, total2 + 5e-7, total2 * (1 + 1e-12)):
        case = {"normType": 2, "maxNorm": max_norm, "params": [0, 1, 2], "grads": [tensor(g) for g in grads]}
        for dtype, key in ((torch.float64, "float64"), (torch.float32, "float32")):
            params = [torch.zeros(s, dtype=dtype, requires_grad=True) for s in CLIP_SHAPES]
            for p, g in zip(params, grads):
                p.grad = g.to(dtype).clone()
            total = torch.nn.utils.clip_grad_norm_(params, max_norm)
            case[key] = {"total": float(total), "grads": [tensor(p.grad) for p in params]}
        cases.append(case)
    value_cases = []
    for clip_value in (0.5, 2.0, 0.0):
        case = {"clipValue": clip_value, "grads": [tensor(g) for g in grads]}
        for dtype, key in ((torch.float64, "float64"), (torch.float32, "float32")):
            params = [torch.zeros(s, dtype=dtype, requires_grad=True) for s in CLIP_SHAPES]
            for p, g in zip(params, grads):
                p.grad = g.to(dtype).clone()
            torch.nn.utils.clip_grad_value_(params, clip_value)
            case[key] = [tensor(p.grad) for p in params]
        value_cases.append(case)
    return {"norm": cases, "value": value_cases}


def exact_math_cases():
    """Correctly rounded pow, cos and fma (from exact or 300-bit arithmetic) for
    the scalar helpers the optimizers use, next to what CPython (glibc) returns."""
    from fractions import Fraction

    import mpmath

    mpmath.mp.prec = 300
    rng = random.Random(7)
    pow_cases = []
    for base in (0.9, 0.999, 0.99, 0.8, 0.95, 0.5, 0.123456789):
        for n in [1, 2, 3, 10, 100, 503, 2904, 10**6] + [rng.randint(1, 5000) for _ in range(12)]:
            exact = float(Fraction(base) ** n) if n <= 5000 else float(mpmath.mpf(base) ** n)
            pow_cases.append([base, n, exact, base ** float(n)])
    cos_cases = []
    for t_max in (1, 2, 3, 7, 10, 50):
        for k in range(0, 2 * t_max + 2):
            x = math.pi * k / t_max
            cos_cases.append([x, float(mpmath.cos(mpmath.mpf(x))), math.cos(x)])
    for _ in range(60):
        x = rng.uniform(0, 1e6) * rng.choice([1.0, 1e-4, 1e-8])
        cos_cases.append([x, float(mpmath.cos(mpmath.mpf(x))), math.cos(x)])
    fma_cases = []
    for _ in range(100):
        a, b = rng.gauss(0, 1), rng.gauss(0, 1)
        c = rng.choice([rng.gauss(0, 1), -a * b, -a * b * (1 + rng.gauss(0, 1e-9))])
        fma_cases.append([a, b, c, float(Fraction(a) * Fraction(b) + Fraction(c))])
    log_cases = []
    # CosineAnnealingWarmRestarts' math.log(epoch / T_0 * (T_mult - 1) + 1, T_mult): powers and their neighbours
    for base in (2, 3, 4, 5, 7, 10):
        for n in range(0, 40):
            for x in (float(base ** n), float(base ** n) * (1 + 2 ** -52), float(base ** n) * (1 - 2 ** -53)):
                if x > 0 and math.isfinite(x):
                    log_cases.append([x, float(mpmath.log(mpmath.mpf(x))), math.log(x)])
    for _ in range(200):
        x = rng.uniform(0, 1) * 10.0 ** rng.randint(-300, 300)
        log_cases.append([x, float(mpmath.log(mpmath.mpf(x))), math.log(x)])
    for x in (5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.7071067811865476, 1.4142135623730951, 0.5, 9170.0):
        log_cases.append([x, float(mpmath.log(mpmath.mpf(x))), math.log(x)])
    return {"pow": pow_cases, "cos": cos_cases, "fma": fma_cases, "log": log_cases}


def main():
    write("optimizers", "exact-math", exact_math_cases())
    cases = []
    for index, (name, kind, options, groups) in enumerate(OPTIMIZER_CASES):
        params, grads = initial_data(1000 + index)
        case = {"name": name, "optimizer": kind, "options": options, "groups": groups,
                "params": [tensor(p) for p in params], "grads": [[tensor(g) for g in row] for row in grads]}
        for dtype, key in ((torch.float64, "float64"), (torch.float32, "float32")):
            case[key] = run_case(kind, options, groups, params, grads, dtype)
        cases.append(case)
    write("optimizers", "optimizers", {"shapes": SHAPES, "steps": STEPS, "cases": cases})

    # The same cases on one 20-element parameter: ATen's vectorised loops
    # (8 doubles or 16 floats at a time, then a scalar tail) round like its
    # scalar loop, and these show it. Only the final values are kept.
    vectorised = []
    for index, (name, kind, options, groups) in enumerate(OPTIMIZER_CASES):
        params, grads = initial_data(3000 + index, shapes=[(4, 5)], steps=4)
        case = {"name": name, "optimizer": kind, "options": options,
                "params": [tensor(p) for p in params], "grads": [[tensor(g) for g in row] for row in grads]}
        for dtype, key in ((torch.float64, "float64"), (torch.float32, "float32")):
            case[key] = run_case(kind, options, None, params, grads, dtype)["trajectory"][-1]
        vectorised.append(case)
    write("optimizers", "optimizers-vectorised", {"cases": vectorised})

    schedules = []
    for name, group_lrs, chain in SCHEDULER_CASES:
        schedules.append({"name": name, "groupLrs": group_lrs,
                          "chain": [{"type": kind, "options": options} for kind, options in chain],
                          "lrs": scheduler_lrs(group_lrs, chain)})
    combined = []
    for index, (name, kind, options, scheduler) in enumerate(COMBINED_CASES):
        params, grads = initial_data(2000 + index)
        case = {"name": name, "optimizer": kind, "options": options, "scheduler": scheduler,
                "params": [tensor(p) for p in params], "grads": [[tensor(g) for g in row] for row in grads]}
        for dtype, key in ((torch.float64, "float64"), (torch.float32, "float32")):
            case[key] = run_case(kind, options, None, params, grads, dtype, scheduler)
        combined.append(case)
    write("optimizers", "schedulers", {"cases": schedules, "combined": combined, "more": more_scheduler_cases()})
    write("optimizers", "clip-grad", clip_cases())


if __name__ == "__main__":
    main()
