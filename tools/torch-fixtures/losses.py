"""Reference fixtures for @backprop/losses.

For every loss and a spread of options, writes the prediction, the target,
any weights, the loss and dLoss/dPrediction from torch autograd, each case in
float64 and in float32 (inputs are drawn in float64 and rounded to float32, so
both dtypes see the same values where float32 can hold them).

Files: packages/losses/test/fixtures/<loss>.json, each
{"cases": [{"name", "options", "prediction", "target", "weight"?, "posWeight"?,
            "loss", "grad", "outputGrad"?}]}
`options` holds the JavaScript constructor options other than the arrays
(reduction, beta, delta, labelSmoothing, ignoreIndex); class-index targets are
int64 tensors. Under reduction 'none', `loss` is a tensor (the unreduced
terms) and `grad` is from `loss.backward(outputGrad)`, `outputGrad` a seeded
random tensor of the loss's shape; otherwise `loss` is a number and `grad`
is from `loss.backward()`. Cross-entropy's 'none' and K-dimensional cases are
in cross-entropy-nd.json, to keep each file small.

Run: /usr/bin/python3 tools/torch-fixtures/losses.py
"""

import torch
import torch.nn.functional as F

from common import tensor, write

DTYPES = (torch.float64, torch.float32)


def gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def randn(shape, seed, scale=1.0):
    return torch.randn(shape, generator=gen(seed), dtype=torch.float64) * scale


def rand(shape, seed):
    return torch.rand(shape, generator=gen(seed), dtype=torch.float64)


def case(name, fn, options, prediction, target, weight=None, pos_weight=None, index_target=False, grad_seed=1000):
    """One case per dtype: runs fn(prediction, target, weight, pos_weight) under autograd.
    Under reduction 'none' the backward pass gets a random outputGrad drawn from grad_seed."""
    out = []
    none = options.get("reduction") == "none"
    for dt in DTYPES:
        p = prediction.to(dt).clone().requires_grad_(True)
        t = target if index_target else target.to(dt)
        w = None if weight is None else weight.to(dt)
        pw = None if pos_weight is None else pos_weight.to(dt)
        loss = fn(p, t, w, pw)
        entry = {
            "name": f"{name} {str(dt).replace('torch.', '')}",
            "options": options,
            "prediction": tensor(p),
            "target": tensor(t),
        }
        if none:
            g = randn(list(loss.shape), grad_seed).to(dt)
            loss.backward(g)
            entry["loss"] = tensor(loss)
            entry["outputGrad"] = tensor(g)
        else:
            assert loss.dim() == 0
            loss.backward()
            entry["loss"] = float(loss.item())
        entry["grad"] = tensor(p.grad)
        if w is not None:
            entry["weight"] = tensor(w)
        if pw is not None:
            entry["posWeight"] = tensor(pw)
        out.append(entry)
    return out


def elementwise_inputs(shape, seed):
    return randn(shape, seed), randn(shape, seed + 1)


# ---------------------------------------------------------------- MSE, L1
def mse_cases():
    cases = []
    for shape, seed in (([4, 3], 1), ([7], 2), ([2, 3, 4], 3), ([], 4)):
        p, y = elementwise_inputs(shape, seed)
        for red in ("mean", "sum", "none"):
            cases += case(f"shape {shape} {red}", lambda p, t, w, pw, red=red: F.mse_loss(p, t, reduction=red),
                          {"reduction": red}, p, y)
    return cases


def l1_cases():
    cases = []
    for shape, seed in (([4, 3], 11), ([7], 12), ([2, 3, 4], 13)):
        p, y = elementwise_inputs(shape, seed)
        # d = 0 exactly at a few positions: sign(0) = 0.
        flat_y = y.reshape(-1)
        flat_y[::3] = p.reshape(-1)[::3]
        for red in ("mean", "sum", "none"):
            cases += case(f"shape {shape} {red}", lambda p, t, w, pw, red=red: F.l1_loss(p, t, reduction=red),
                          {"reduction": red}, p, y)
    return cases


# ---------------------------------------------------------------- SmoothL1, Huber
def kink_inputs(kink, seed):
    """Differences spread around ±kink, with exact 0 and exact ±kink (dyadic values)."""
    p, y = elementwise_inputs([5, 4], seed)
    p = p * max(kink, 0.5) * 1.5
    exact_p = torch.tensor([0.75, -0.25, 0.5, 1.0, 0.0, -2.0], dtype=torch.float64)
    exact_d = torch.tensor([0.0, 0.0, kink, -kink, kink, 0.0], dtype=torch.float64)
    p.reshape(-1)[:6] = exact_p
    y.reshape(-1)[:6] = exact_p - exact_d
    return p, y


def smooth_l1_cases():
    cases = []
    for beta in (0.0, 0.5, 1.0, 2.0):
        p, y = kink_inputs(beta, 21 + int(beta * 4))
        for red in ("mean", "sum", "none"):
            opts = {"reduction": red}
            if beta != 1.0:
                opts["beta"] = beta
            cases += case(f"beta {beta} {red}",
                          lambda p, t, w, pw, red=red, beta=beta: F.smooth_l1_loss(p, t, reduction=red, beta=beta),
                          opts, p, y)
    return cases


def huber_cases():
    cases = []
    for delta in (0.5, 1.0, 2.0):
        p, y = kink_inputs(delta, 31 + int(delta * 4))
        for red in ("mean", "sum", "none"):
            opts = {"reduction": red}
            if delta != 1.0:
                opts["delta"] = delta
            cases += case(f"delta {delta} {red}",
                          lambda p, t, w, pw, red=red, delta=delta: F.huber_loss(p, t, reduction=red, delta=delta),
                          opts, p, y)
    return cases


# ---------------------------------------------------------------- BCE
def bce_cases():
    cases = []
    p = rand([6, 4], 41) * 0.98 + 0.01
    y = rand([6, 4], 42)
    flat_p, flat_y = p.reshape(-1), y.reshape(-1)
    # p exactly 0 and 1 with y in between (log clamp at -100, EPS in the grad),
    # hard labels, and p so small that 1 - p rounds to 1 in float32.
    flat_p[:8] = torch.tensor([0.0, 1.0, 0.0, 1.0, 1e-8, 1e-30, 0.5, 1.0 - 2.0 ** -20], dtype=torch.float64)
    flat_y[:8] = torch.tensor([0.25, 0.75, 0.0, 1.0, 0.0, 0.0, 1.0, 0.5], dtype=torch.float64)
    flat_y[8:12] = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    w_row = rand([4], 43) + 0.5
    w_full = rand([6, 4], 44) + 0.5
    w_col = rand([6, 1], 45) + 0.5
    for red in ("mean", "sum", "none"):
        f = lambda p, t, w, pw, red=red: F.binary_cross_entropy(p, t, weight=w, reduction=red)
        cases += case(f"mixed {red}", f, {"reduction": red}, p, y)
        cases += case(f"weight [4] {red}", f, {"reduction": red}, p, y, weight=w_row)
        cases += case(f"weight [6, 4] {red}", f, {"reduction": red}, p, y, weight=w_full)
        cases += case(f"weight [6, 1] {red}", f, {"reduction": red}, p, y, weight=w_col)
    p1 = rand([9], 46)
    y1 = (rand([9], 47) > 0.5).to(torch.float64)
    cases += case("1-D hard labels mean", lambda p, t, w, pw: F.binary_cross_entropy(p, t), {}, p1, y1)
    return cases


def bce_logits_cases():
    cases = []
    x = randn([6, 4], 51, scale=3.0)
    y = rand([6, 4], 52)
    fx, fy = x.reshape(-1), y.reshape(-1)
    # Extreme and saturated logits with soft and hard labels.
    fx[:12] = torch.tensor([1e4, -1e4, 1e4, -1e4, 1e4, -1e4, 20.0, -20.0, 16.0, -16.0, 40.0, -40.0],
                           dtype=torch.float64)
    fy[:12] = torch.tensor([0.3, 0.3, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.5, 0.5], dtype=torch.float64)
    w_row = rand([4], 53) + 0.5
    w_full = rand([6, 4], 54) + 0.5
    pos = rand([4], 55) * 3 + 0.2
    for red in ("mean", "sum", "none"):
        f = lambda p, t, w, pw, red=red: F.binary_cross_entropy_with_logits(p, t, weight=w, pos_weight=pw,
                                                                              reduction=red)
        cases += case(f"mixed {red}", f, {"reduction": red}, x, y)
        cases += case(f"weight [4] {red}", f, {"reduction": red}, x, y, weight=w_row)
        cases += case(f"weight [6, 4] {red}", f, {"reduction": red}, x, y, weight=w_full)
        cases += case(f"posWeight [4] {red}", f, {"reduction": red}, x, y, pos_weight=pos)
        cases += case(f"weight and posWeight {red}", f, {"reduction": red}, x, y, weight=w_row, pos_weight=pos)
    x1 = randn([10], 56, scale=2.0)
    y1 = (rand([10], 57) > 0.5).to(torch.float64)
    cases += case("1-D hard labels mean", lambda p, t, w, pw: F.binary_cross_entropy_with_logits(p, t), {}, x1, y1)
    return cases


# ---------------------------------------------------------------- CrossEntropy, NLL
def class_targets(n, classes, seed, ignore=None, ignore_every=0):
    t = torch.randint(0, classes, [n], generator=gen(seed))
    if ignore is not None and ignore_every:
        t[::ignore_every] = ignore
    return t


def cross_entropy_cases():
    cases = []
    B, C = 8, 5
    x = randn([B, C], 61, scale=2.0)
    t = class_targets(B, C, 62)
    t_ign = class_targets(B, C, 62, ignore=-100, ignore_every=3)
    t_ign1 = t.clone()
    w = rand([C], 63) + 0.3
    for red in ("mean", "sum"):
        for eps in (0.0, 0.1):
            opts = {"reduction": red}
            if eps:
                opts["labelSmoothing"] = eps

            def f(p, tt, ww, pw, red=red, eps=eps, ignore=-100):
                return F.cross_entropy(p, tt, weight=ww, reduction=red, label_smoothing=eps, ignore_index=ignore)

            cases += case(f"indices eps {eps} {red}", f, opts, x, t, index_target=True)
            cases += case(f"indices weight eps {eps} {red}", f, opts, x, t, weight=w, index_target=True)
            cases += case(f"indices ignore -100 eps {eps} {red}", f, opts, x, t_ign, index_target=True)
            cases += case(f"indices weight ignore -100 eps {eps} {red}", f, opts, x, t_ign, weight=w,
                          index_target=True)
            # A custom ignoreIndex that is a valid class: every target of class 1 is skipped.
            opts1 = {**opts, "ignoreIndex": 1}
            f1 = lambda p, tt, ww, pw, f=f: f(p, tt, ww, pw, ignore=1)
            cases += case(f"indices weight ignoreIndex 1 eps {eps} {red}", f1, opts1, x, t_ign1, weight=w,
                          index_target=True)
            # Class probabilities (soft labels).
            probs = torch.softmax(randn([B, C], 64), dim=1)
            cases += case(f"probabilities eps {eps} {red}", f, opts, x, probs)
            cases += case(f"probabilities weight eps {eps} {red}", f, opts, x, probs, weight=w)
    # Extreme logits: softmax saturates to exact 0 and 1.
    xe = randn([4, 3], 65)
    xe[0] = torch.tensor([1e4, -1e4, 0.0], dtype=torch.float64)
    xe[1] = torch.tensor([-1e4, 1e4, 1e4], dtype=torch.float64)
    xe[2] = torch.tensor([-1e4, -1e4, -1e4], dtype=torch.float64)
    te = torch.tensor([0, 0, 2, 1])
    for eps in (0.0, 0.1):
        opts = {"labelSmoothing": eps} if eps else {}
        cases += case(f"extreme logits eps {eps}",
                      lambda p, tt, ww, pw, eps=eps: F.cross_entropy(p, tt, label_smoothing=eps),
                      opts, xe, te, index_target=True)
    # Unbatched [C] logits with a 0-d target.
    xu = randn([C], 66)
    tu = torch.tensor(3)
    for red in ("mean", "sum"):
        for eps in (0.0, 0.1):
            opts = {"reduction": red}
            if eps:
                opts["labelSmoothing"] = eps
            cases += case(f"unbatched eps {eps} {red}",
                          lambda p, tt, ww, pw, red=red, eps=eps: F.cross_entropy(p, tt, weight=ww, reduction=red,
                                                                                 label_smoothing=eps),
                          opts, xu, tu, weight=w, index_target=True)
    cases += case("unbatched probabilities",
                  lambda p, tt, ww, pw: F.cross_entropy(p, tt, label_smoothing=0.1),
                  {"labelSmoothing": 0.1}, xu, torch.softmax(randn([C], 67), dim=0))
    # K-dimensional: [B, C, d] logits with [B, d] targets, as for per-pixel classes.
    xk = randn([2, 4, 3], 68)
    tk = torch.randint(0, 4, [2, 3], generator=gen(69))
    tk[0, 1] = -100
    wk = rand([4], 70) + 0.3
    for eps in (0.0, 0.1):
        opts = {"labelSmoothing": eps} if eps else {}
        cases += case(f"K-dim weight ignore eps {eps}",
                      lambda p, tt, ww, pw, eps=eps: F.cross_entropy(p, tt, weight=ww, label_smoothing=eps),
                      opts, xk, tk, weight=wk, index_target=True)
    cases += case("K-dim probabilities",
                  lambda p, tt, ww, pw: F.cross_entropy(p, tt),
                  {}, xk, torch.softmax(randn([2, 4, 3], 71), dim=1))
    # The training-step shape.
    xb = randn([64, 10], 72, scale=3.0)
    tb = class_targets(64, 10, 73)
    cases += case("batch [64, 10] eps 0.1",
                  lambda p, tt, ww, pw: F.cross_entropy(p, tt, label_smoothing=0.1),
                  {"labelSmoothing": 0.1}, xb, tb, index_target=True)
    return cases


def nll_cases():
    cases = []
    B, C = 7, 4
    x = torch.log_softmax(randn([B, C], 81, scale=2.0), dim=1)
    t = class_targets(B, C, 82)
    t_ign = class_targets(B, C, 82, ignore=-100, ignore_every=3)
    w = rand([C], 83) + 0.3
    for red in ("mean", "sum"):
        f = lambda p, tt, ww, pw, red=red: F.nll_loss(p, tt, weight=ww, reduction=red)
        opts = {"reduction": red}
        cases += case(f"indices {red}", f, opts, x, t, index_target=True)
        cases += case(f"indices weight {red}", f, opts, x, t, weight=w, index_target=True)
        cases += case(f"indices weight ignore -100 {red}", f, opts, x, t_ign, weight=w, index_target=True)
    cases += case("ignoreIndex 2",
                  lambda p, tt, ww, pw: F.nll_loss(p, tt, ignore_index=2), {"ignoreIndex": 2}, x, t,
                  index_target=True)
    xu = torch.log_softmax(randn([C], 84), dim=0)
    cases += case("unbatched weight",
                  lambda p, tt, ww, pw: F.nll_loss(p, tt, weight=ww), {}, xu, torch.tensor(2), weight=w,
                  index_target=True)
    xk = torch.log_softmax(randn([2, 3, 2, 2], 85), dim=1)
    tk = torch.randint(0, 3, [2, 2, 2], generator=gen(86))
    cases += case("K-dim [2, 3, 2, 2]", lambda p, tt, ww, pw: F.nll_loss(p, tt, weight=ww), {}, xk, tk,
                  weight=w[:3], index_target=True)
    # reduction 'none': one loss per target, 0 where ignored, no divisor.
    f = lambda p, tt, ww, pw: F.nll_loss(p, tt, weight=ww, reduction="none")
    none = {"reduction": "none"}
    cases += case("indices none", f, none, x, t, index_target=True, grad_seed=87)
    cases += case("indices weight ignore -100 none", f, none, x, t_ign, weight=w, index_target=True, grad_seed=87)
    cases += case("ignoreIndex 2 none",
                  lambda p, tt, ww, pw: F.nll_loss(p, tt, ignore_index=2, reduction="none"),
                  {"reduction": "none", "ignoreIndex": 2}, x, t, index_target=True, grad_seed=87)
    cases += case("unbatched weight none", f, none, xu, torch.tensor(2), weight=w, index_target=True, grad_seed=88)
    cases += case("unbatched ignored none", f, none, xu, torch.tensor(-100), weight=w, index_target=True,
                  grad_seed=88)
    # K-dimensional [N, C, d1, ..., dK] with ignored positions, K = 1, 2, 3, every reduction.
    for shape, seed in (([3, 4, 5], 89), ([2, 4, 3, 2], 90), ([2, 3, 2, 2, 2], 91)):
        C = shape[1]
        xk = torch.log_softmax(randn(shape, seed, scale=2.0), dim=1)
        tk = torch.randint(0, C, [shape[0]] + shape[2:], generator=gen(seed + 100))
        tk.reshape(-1)[::4] = -100
        wk = rand([C], seed + 200) + 0.3
        for red in ("mean", "sum", "none"):
            fk = lambda p, tt, ww, pw, red=red: F.nll_loss(p, tt, weight=ww, reduction=red)
            cases += case(f"K-dim {shape} weight ignore -100 {red}", fk, {"reduction": red}, xk, tk, weight=wk,
                          index_target=True, grad_seed=seed + 300)
    return cases


def cross_entropy_nd_cases():
    """reduction 'none' for every target form, and K-dimensional [N, C, d1, ..., dK] logits."""
    cases = []

    def ce(red, eps, ignore=-100):
        return lambda p, tt, ww, pw: F.cross_entropy(p, tt, weight=ww, reduction=red, label_smoothing=eps,
                                                     ignore_index=ignore)

    def opts(red, eps, ignore=-100):
        o = {"reduction": red}
        if eps:
            o["labelSmoothing"] = eps
        if ignore != -100:
            o["ignoreIndex"] = ignore
        return o

    B, C = 6, 5
    x = randn([B, C], 161, scale=2.0)
    t = class_targets(B, C, 162)
    t_ign = class_targets(B, C, 162, ignore=-100, ignore_every=3)
    w = rand([C], 163) + 0.3
    probs = torch.softmax(randn([B, C], 164), dim=1)
    for eps in (0.0, 0.1):
        cases += case(f"[B, C] indices eps {eps} none", ce("none", eps), opts("none", eps), x, t,
                      index_target=True, grad_seed=165)
        cases += case(f"[B, C] indices weight ignore -100 eps {eps} none", ce("none", eps), opts("none", eps), x,
                      t_ign, weight=w, index_target=True, grad_seed=165)
        cases += case(f"[B, C] indices weight ignoreIndex 1 eps {eps} none", ce("none", eps, 1),
                      opts("none", eps, 1), x, t, weight=w, index_target=True, grad_seed=165)
        cases += case(f"[B, C] probabilities weight eps {eps} none", ce("none", eps), opts("none", eps), x, probs,
                      weight=w, grad_seed=165)
    # Unbatched [C] logits: a 0-d loss under 'none'.
    xu = randn([C], 166)
    for eps in (0.0, 0.1):
        cases += case(f"unbatched indices weight eps {eps} none", ce("none", eps), opts("none", eps), xu,
                      torch.tensor(3), weight=w, index_target=True, grad_seed=167)
        cases += case(f"unbatched probabilities eps {eps} none", ce("none", eps), opts("none", eps), xu,
                      torch.softmax(randn([C], 168), dim=0), grad_seed=167)
    cases += case("unbatched ignored none", ce("none", 0.1), opts("none", 0.1), xu, torch.tensor(-100),
                  index_target=True, grad_seed=167)
    # Extreme logits: softmax saturates to exact 0 and 1.
    xe = randn([3, 3], 169)
    xe[0] = torch.tensor([1e4, -1e4, 0.0], dtype=torch.float64)
    xe[1] = torch.tensor([-1e4, 1e4, 1e4], dtype=torch.float64)
    cases += case("extreme logits eps 0.1 none", ce("none", 0.1), opts("none", 0.1), xe, torch.tensor([0, 0, 2]),
                  index_target=True, grad_seed=170)
    # K-dimensional: K = 1, 2, 3, indices (with weight, ignored positions, label smoothing) and probabilities.
    for shape, seed in (([3, 4, 5], 171), ([2, 4, 3, 2], 172), ([2, 3, 2, 2, 2], 173)):
        Ck = shape[1]
        xk = randn(shape, seed, scale=2.0)
        tk = torch.randint(0, Ck, [shape[0]] + shape[2:], generator=gen(seed + 100))
        tk.reshape(-1)[1::4] = -100
        wk = rand([Ck], seed + 200) + 0.3
        qk = torch.softmax(randn(shape, seed + 300), dim=1)
        for red in ("mean", "sum", "none"):
            for eps in (0.0, 0.1):
                cases += case(f"K-dim {shape} indices weight ignore -100 eps {eps} {red}", ce(red, eps),
                              opts(red, eps), xk, tk, weight=wk, index_target=True, grad_seed=seed + 400)
            cases += case(f"K-dim {shape} probabilities weight eps 0.1 {red}", ce(red, 0.1), opts(red, 0.1),
                          xk, qk, weight=wk, grad_seed=seed + 400)
        cases += case(f"K-dim {shape} indices ignoreIndex 0 none", ce("none", 0.0, 0), opts("none", 0.0, 0), xk,
                      tk.clamp(min=0), index_target=True, grad_seed=seed + 400)
    return cases


def main():
    write("losses", "mse", {"cases": mse_cases()})
    write("losses", "l1", {"cases": l1_cases()})
    write("losses", "smooth-l1", {"cases": smooth_l1_cases()})
    write("losses", "huber", {"cases": huber_cases()})
    write("losses", "bce", {"cases": bce_cases()})
    write("losses", "bce-with-logits", {"cases": bce_logits_cases()})
    write("losses", "cross-entropy", {"cases": cross_entropy_cases()})
    write("losses", "cross-entropy-nd", {"cases": cross_entropy_nd_cases()})
    write("losses", "nll", {"cases": nll_cases()})


if __name__ == "__main__":
    main()
