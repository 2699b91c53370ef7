"""PyTorch reference fixtures for Embedding, scaled dot-product attention and
MultiheadAttention (@backprop/layers).

Every module is created right after torch.manual_seed(seed), so its
parameters are the initial values torch draws (checked bit for bit), then run
forward and backward with L = sum(output * R) for a seeded random R: the
output, the gradient of every input and every parameter. Each case is written
in float64 and float32.

- Embedding: with and without padding_idx (also negative), repeated indices.
- scaled_dot_product_attention: torch 1.13 has no
  F.scaled_dot_product_attention, so the reference is computed by hand with
  torch 2.x's semantics: softmax(q @ k^T * scale + bias) @ v, where a boolean
  mask (True = take part) adds -inf where False, a float mask is added, and
  is_causal masks key j > query i.
- MultiheadAttention (torch 1.13's, not its inference fast path: the inputs
  require grad): self-attention seq-first, batch-first and unbatched, a causal
  mask (1.13's MHA has no is_causal: the equivalent boolean attn_mask), a key
  padding mask, float attn masks [L, S] and [N*H, L, S], separate q/k/v with
  S != L, bias=False, the head-averaged and per-head attention weights, and
  dropout on the attention weights in training after torch.manual_seed (this
  torch has no MKL, so the mask is torch.rand(float64) < 1 - p in the order of
  the [N*H, L, S] weights).
- repr: print(module) for each.

Run from the repository root: /usr/bin/python3 tools/torch-fixtures/attention.py
"""
import math

import torch
from torch import nn

from common import tensor, write

PACKAGE = "layers"
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def randn(shape, seed, dtype):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)


def upstream(shape, seed, dtype):
    return randn(shape, seed + 1000, dtype)


def seeded(seed, dtype, make):
    """make() right after torch.manual_seed(seed), with the default dtype agreeing with the module's."""
    torch.set_default_dtype(dtype)
    torch.manual_seed(seed)
    module = make()
    torch.set_default_dtype(torch.float32)
    return module


def embedding_cases():
    specs = [
        # (name, num, dim, padding_idx, indices)
        ("repeated indices", 10, 4, None, [[1, 3, 3, 7], [0, 9, 1, 1]]),
        ("padding_idx 2", 10, 4, 2, [[2, 5, 2], [5, 2, 0]]),
        ("padding_idx -1", 6, 3, -1, [5, 0, 5, 3, 0]),
        ("3-D input, small table", 3, 4, None, [[[0, 2], [2, 2]], [[1, 0], [0, 1]]]),
    ]
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (name, num, dim, pad, indices) in enumerate(specs):
            seed = 40 + i
            module = seeded(seed, dtype, lambda: nn.Embedding(num, dim, padding_idx=pad, dtype=dtype))
            initial = tensor(module.weight)
            x = torch.tensor(indices, dtype=torch.int64)
            out = module(x)
            r = upstream(out.shape, seed, dtype)
            out.backward(r)
            cases.append({
                "name": name, "dtype": dname, "seed": seed, "numEmbeddings": num, "embeddingDim": dim,
                "paddingIdx": pad, "normalizedPaddingIdx": module.padding_idx,
                "input": tensor(x), "output": tensor(out), "outputGrad": tensor(r),
                "params": {"weight": initial}, "paramGrads": {"weight": tensor(module.weight.grad)},
            })
    return cases


def sdpa_reference(q, k, v, mask, is_causal, scale):
    """torch 2.x's F.scaled_dot_product_attention (math path), by hand."""
    L, S = q.shape[-2], k.shape[-2]
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    bias = torch.zeros(L, S, dtype=q.dtype)
    if is_causal:
        bias = bias.masked_fill(torch.ones(L, S, dtype=torch.bool).tril().logical_not(), float("-inf"))
    if mask is not None:
        if mask.dtype == torch.bool:
            bias = bias.masked_fill(mask.logical_not(), float("-inf"))
        else:
            bias = bias + mask
    weights = torch.softmax(q @ k.transpose(-2, -1) * scale + bias, dim=-1)
    return weights @ v


def sdpa_cases():
    specs = [
        # (name, batch dims, L, S, E, Ev, mask kind, is_causal, scale)
        ("no mask, batch [2]", [2], 3, 4, 3, 2, None, False, None),
        ("two batch dims, S != L, Ev != E", [2, 2], 4, 2, 3, 4, None, False, None),
        ("boolean mask [L, S]", [2], 3, 4, 2, 3, "bool", False, None),
        ("float mask [B, L, S]", [2], 3, 4, 2, 3, "float", False, None),
        ("causal", [2], 4, 4, 3, 3, None, True, None),
        ("causal, L != S", [1], 3, 5, 2, 2, None, True, None),
        ("scale 0.3, no batch", [], 3, 4, 2, 2, None, False, 0.3),
    ]
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (name, batch, L, S, E, Ev, kind, causal, scale) in enumerate(specs):
            seed = 300 + 10 * i
            q = randn(batch + [L, E], seed, dtype).requires_grad_(True)
            k = randn(batch + [S, E], seed + 1, dtype).requires_grad_(True)
            v = randn(batch + [S, Ev], seed + 2, dtype).requires_grad_(True)
            mask = None
            if kind == "bool":
                mask = randn([L, S], seed + 3, torch.float64) > -0.6
                mask[:, 0] = True  # every query attends to at least one key
            elif kind == "float":
                mask = randn(batch + [L, S], seed + 3, dtype)
            out = sdpa_reference(q, k, v, mask, causal, scale)
            r = upstream(out.shape, seed, dtype)
            out.backward(r)
            case = {
                "name": name, "dtype": dname, "isCausal": causal, "scale": scale,
                "query": tensor(q), "key": tensor(k), "value": tensor(v),
                "output": tensor(out), "outputGrad": tensor(r),
                "queryGrad": tensor(q.grad), "keyGrad": tensor(k.grad), "valueGrad": tensor(v.grad),
            }
            if mask is not None:
                case["maskKind"] = kind
                case["attnMask"] = tensor(mask.to(torch.int32) if kind == "bool" else mask)
            cases.append(case)
    return cases


def mha_cases():
    # (name, E, H, bias, batch_first, form, L, S, N, masks, average weights, dropout)
    # form: "self" (one input x, used as query, key and value) or "qkv" (three inputs).
    specs = [
        ("self, seq-first", 4, 2, True, False, "self", 3, 3, 2, {}, True, 0.0),
        ("self, batchFirst", 4, 2, True, True, "self", 3, 3, 2, {}, True, 0.0),
        ("self, unbatched", 6, 3, True, False, "self", 3, 3, None, {}, True, 0.0),
        ("self, causal", 4, 2, True, True, "self", 4, 4, 2, {"causal": True}, True, 0.0),
        ("self, key padding mask", 4, 2, True, False, "self", 3, 3, 2, {"kpm": True}, True, 0.0),
        ("self, float attn mask [L, S] and key padding mask", 4, 2, True, True, "self", 3, 3, 2,
         {"float2d": True, "kpm": True}, True, 0.0),
        ("self, float attn mask [N*H, L, S], per-head weights", 4, 2, True, False, "self", 3, 3, 2,
         {"float3d": True}, False, 0.0),
        ("q/k/v, S != L", 4, 2, True, False, "qkv", 2, 4, 2, {}, True, 0.0),
        ("q/k/v, batchFirst, S != L, key padding mask", 4, 2, True, True, "qkv", 3, 2, 2, {"kpm": True}, True, 0.0),
        ("self, bias False", 4, 2, False, False, "self", 3, 3, 2, {}, True, 0.0),
        ("self, dropout 0.3 in training", 4, 2, True, True, "self", 3, 3, 2, {}, True, 0.3),
    ]
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (name, E, H, bias, bf, form, L, S, N, masks, avg, p) in enumerate(specs):
            seed = 500 + 10 * i
            module = seeded(seed, dtype, lambda: nn.MultiheadAttention(
                E, H, bias=bias, batch_first=bf, dropout=p, dtype=dtype))
            initial = {k: tensor(v) for k, v in module.named_parameters()}

            def shaped(length, s):
                if N is None:
                    return randn([length, E], s, dtype)
                return randn([N, length, E] if bf else [length, N, E], s, dtype)

            if form == "self":
                x = shaped(L, seed + 1).requires_grad_(True)
                inputs = {"input": x}
                q = k = v = x
            else:
                q = shaped(L, seed + 1).requires_grad_(True)
                k = shaped(S, seed + 2).requires_grad_(True)
                v = shaped(S, seed + 3).requires_grad_(True)
                inputs = {"query": q, "key": k, "value": v}
            kwargs = {}
            extra = {}
            if masks.get("causal"):
                kwargs["attn_mask"] = torch.ones(L, S, dtype=torch.bool).tril().logical_not()
            if masks.get("float2d"):
                kwargs["attn_mask"] = randn([L, S], seed + 4, dtype)
                extra["attnMask"] = tensor(kwargs["attn_mask"])
            if masks.get("float3d"):
                kwargs["attn_mask"] = randn([N * H, L, S], seed + 4, dtype)
                extra["attnMask"] = tensor(kwargs["attn_mask"])
            if masks.get("kpm"):
                kpm = torch.zeros(N, S, dtype=torch.bool)
                kpm[0, S - 1] = True  # the last key of the first sequence is padding
                if S > 2:
                    kpm[1, 0] = True
                kwargs["key_padding_mask"] = kpm
                extra["keyPaddingMask"] = tensor(kpm.to(torch.int32))
            module.train(p > 0)
            out, weights = module(q, k, v, need_weights=True, average_attn_weights=avg, **kwargs)
            r = upstream(out.shape, seed, dtype)
            out.backward(r)
            case = {
                "name": name, "dtype": dname, "seed": seed, "embedDim": E, "numHeads": H, "bias": bias,
                "batchFirst": bf, "form": form, "isCausal": bool(masks.get("causal")),
                "averageAttnWeights": avg, "dropout": p, "training": p > 0,
                **extra,
                "inputs": {name_: tensor(t) for name_, t in inputs.items()},
                "output": tensor(out), "weights": tensor(weights), "outputGrad": tensor(r),
                "inputGrads": {name_: tensor(t.grad) for name_, t in inputs.items()},
                "params": initial,
                "paramGrads": {k_: tensor(v_.grad) for k_, v_ in module.named_parameters()},
            }
            cases.append(case)
    return cases


def repr_fixture():
    models = {
        "MultiheadAttention(8, 2)": nn.MultiheadAttention(8, 2),
        "MultiheadAttention(4, 1, bias=False, batch_first=True, dropout=0.1)":
            nn.MultiheadAttention(4, 1, bias=False, batch_first=True, dropout=0.1),
        "Embedding(10, 4)": nn.Embedding(10, 4),
        "Embedding(10, 4, padding_idx=2)": nn.Embedding(10, 4, padding_idx=2),
        "Embedding(10, 4, padding_idx=-1)": nn.Embedding(10, 4, padding_idx=-1),
        "Sequential(Embedding(5, 4), Linear(4, 2))": nn.Sequential(nn.Embedding(5, 4), nn.Linear(4, 2)),
    }
    return {name: repr(module) for name, module in models.items()}


def main():
    assert not torch.backends.mkl.is_available(), "MKL's bernoulli_ draws a different dropout stream"
    write(PACKAGE, "attention", {
        "embedding": embedding_cases(),
        "sdpa": sdpa_cases(),
        "mha": mha_cases(),
        "repr": repr_fixture(),
    })


if __name__ == "__main__":
    main()
