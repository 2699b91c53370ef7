"""PyTorch reference fixtures for TransformerEncoderLayer and TransformerEncoder.

For each configuration and dtype (float64, float32), the module is created
right after torch.manual_seed(seed) (the default dtype set to the module's),
then run in training mode on a seeded input: its initial parameters (the
initialisation, bit for bit), the output, and the gradients of
L = sum(out * R) for a seeded R, for the input and every parameter.

- post-norm, relu (torch's defaults but small sizes), [L, N, E], dropout 0
- pre-norm, gelu, batch_first, causal (src_mask = generate_square_subsequent_mask)
- post-norm, batch_first, a key padding mask, layer_norm_eps 1e-6
- post-norm, dropout 0.2 in training: the masks drawn from the global
  generator after the initialisation (torch's CPU bernoulli without MKL)
- TransformerEncoder of 2 pre-norm gelu batch_first layers with a final
  LayerNorm, causal: the deep copies start from the same weights

With dropout 0 nothing is drawn in the forward pass. Training mode with
grad means torch 1.13 takes its plain path, not the fast path.
Also print(module) of each, for the repr checks.

Run from the repository root: /usr/bin/python3 tools/torch-fixtures/transformer.py
"""
import torch
from torch import nn

from common import tensor, write

PACKAGE = "layers"
DTYPES = {"float64": torch.float64, "float32": torch.float32}
E, H, FF = 8, 2, 12


def randn(shape, seed, dtype):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)


def seeded(seed, dtype, make):
    torch.set_default_dtype(dtype)
    torch.manual_seed(seed)
    module = make()
    torch.set_default_dtype(torch.float32)
    return module


def layer(dtype, **kwargs):
    return nn.TransformerEncoderLayer(E, H, dim_feedforward=FF, dtype=dtype, **kwargs)


def encoder(dtype):
    inner = layer(dtype, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
    return nn.TransformerEncoder(inner, 2, norm=nn.LayerNorm(E, dtype=dtype))


# name: (make(dtype), options as the TypeScript layer takes them, batchFirst, L, N, masks)
SPECS = {
    "post-norm relu": (lambda d: layer(d, dropout=0.0), {"dropout": 0}, False, 5, 3, {}),
    "pre-norm gelu batchFirst causal": (
        lambda d: layer(d, dropout=0.0, activation="gelu", batch_first=True, norm_first=True),
        {"dropout": 0, "activation": "gelu", "batchFirst": True, "normFirst": True}, True, 5, 3, {"causal": True}),
    "post-norm batchFirst key padding mask": (
        lambda d: layer(d, dropout=0.0, batch_first=True, layer_norm_eps=1e-6),
        {"dropout": 0, "batchFirst": True, "layerNormEps": 1e-6}, True, 4, 3, {"kpm": True}),
    "post-norm dropout 0.2": (lambda d: layer(d, dropout=0.2), {"dropout": 0.2}, False, 4, 2, {}),
    "encoder 2 pre-norm gelu layers, final norm, causal": (
        encoder, {"dropout": 0, "activation": "gelu", "batchFirst": True, "normFirst": True}, True, 5, 2, {"causal": True}),
}


def cases():
    out = []
    for i, (name, (make, options, batch_first, L, N, masks)) in enumerate(SPECS.items()):
        for dname, dtype in DTYPES.items():
            seed = 700 + 10 * i
            module = seeded(seed, dtype, lambda: make(dtype))
            module.train()
            initial = {k: tensor(v) for k, v in module.named_parameters()}
            x = randn([N, L, E] if batch_first else [L, N, E], seed + 1, dtype).requires_grad_(True)
            kwargs, extra = {}, {}
            if masks.get("causal"):
                # TransformerEncoderLayer calls it src_mask, TransformerEncoder mask.
                key = "mask" if isinstance(module, nn.TransformerEncoder) else "src_mask"
                kwargs[key] = nn.Transformer.generate_square_subsequent_mask(L).to(dtype)
            if masks.get("kpm"):
                kpm = torch.zeros(N, L, dtype=torch.bool)
                kpm[0, L - 1] = True
                kpm[1, 0] = True
                kpm[1, 2] = True
                kwargs["src_key_padding_mask"] = kpm
                extra["srcKeyPaddingMask"] = tensor(kpm.to(torch.int32))
            # The generator's state here (after the initialisation) is where the dropout masks start.
            y = module(x, **kwargs)
            r = randn(list(y.shape), seed + 2, dtype)
            y.backward(r)
            out.append({
                "name": name, "dtype": dname, "seed": seed, "options": options, "isCausal": bool(masks.get("causal")),
                "encoder": isinstance(module, nn.TransformerEncoder),
                "params": initial, "input": tensor(x), "output": tensor(y), "outputGrad": tensor(r),
                "inputGrad": tensor(x.grad),
                "paramGrads": {k: tensor(p.grad) for k, p in module.named_parameters()},
                **extra,
            })
    return out


def reprs():
    torch.manual_seed(0)
    return {
        "post-norm relu": repr(nn.TransformerEncoderLayer(E, H, dim_feedforward=FF)),
        "pre-norm gelu": repr(nn.TransformerEncoderLayer(E, H, dim_feedforward=FF, dropout=0.0, activation="gelu",
                                                         batch_first=True, norm_first=True, layer_norm_eps=1e-6)),
        "encoder with norm": repr(encoder(torch.float32)),
        "encoder without norm": repr(nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 1, dim_feedforward=8), 3)),
    }


if __name__ == "__main__":
    torch.set_num_threads(1)
    # Two files, each well under the fixture size limit.
    all_cases = cases()
    write(PACKAGE, "transformer", {"cases": [c for c in all_cases if not c["encoder"]], "repr": reprs()})
    write(PACKAGE, "transformer-encoder", {"cases": [c for c in all_cases if c["encoder"]]})
