"""PyTorch reference fixtures for composite models built from @backprop/layers.

- A GPT block (pre-LayerNorm, causal multi-head self-attention, residual,
  LayerNorm, GELU MLP, residual) and a ResNet basic block (torchvision's
  BasicBlock: conv-BN-ReLU-conv-BN plus the identity or a strided 1x1
  downsample, then ReLU) in training mode, float64 and float32: input, output,
  the gradients of L = sum(output * R) for a seeded R, and the state dict
  after the forward pass (BatchNorm's running statistics moved).
- A tiny GPT (token and position embeddings, two such blocks, final
  LayerNorm, linear head) and a 2-layer LSTM language model, their state
  dicts saved by PyTorch as safetensors (float32, as checkpoints usually are,
  and float64), with the token ids, the logits and every parameter gradient
  for a seeded upstream gradient: what the packages must reproduce after
  loading the file as is.

The models are written the way the layers README writes them in TypeScript,
with the same child names, so the state-dict keys are the same.

Run from the repository root: /usr/bin/python3 tools/torch-fixtures/composite.py
"""
import os

import torch
from torch import nn

from common import ROOT, tensor, write, write_safetensors

PACKAGE = "layers"
DTYPES = {"float64": torch.float64, "float32": torch.float32}
FIXTURES = os.path.join(ROOT, "packages", PACKAGE, "test", "fixtures")


def causal_mask(t):
    """True above the diagonal: position i may not attend to j > i (torch's boolean attn_mask)."""
    return torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)


class Block(nn.Module):
    """x + attn(ln1(x)), then + mlp(ln2(x)): the GPT-2 block."""

    def __init__(self, dim, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        a = self.ln1(x)
        x = x + self.attn(a, a, a, attn_mask=causal_mask(x.shape[1]), need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock, with its child names."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class TinyGPT(nn.Module):
    def __init__(self, vocab, context, dim, heads, layers):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(context, dim)
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


class LSTMLM(nn.Module):
    def __init__(self, vocab, dim, hidden, layers):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, idx):
        return self.head(self.lstm(self.embed(idx))[0])


def upstream(shape, seed, dtype):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)


def run(module, x, seed):
    """Forward in training mode, backward of sum(out * R); float inputs get a gradient."""
    if x.is_floating_point():
        x = x.detach().clone().requires_grad_(True)
    out = module(x)
    r = upstream(out.shape, seed, out.dtype)
    out.backward(r)
    case = {
        "input": tensor(x),
        "output": tensor(out),
        "outputGrad": tensor(r),
        "paramGrads": {name: tensor(p.grad) for name, p in module.named_parameters()},
    }
    if x.is_floating_point():
        case["inputGrad"] = tensor(x.grad)
    return case


def blocks():
    """Each block's initial state dict is written once (drawn in float32, so the
    float64 run starts from the same values widened), then a case per dtype;
    for the ResNet blocks, the buffers after the forward pass too."""
    specs = {
        "gpt block": (lambda: Block(8, 2), [2, 5, 8]),
        "resnet basic block": (lambda: BasicBlock(4, 4, 1), [2, 4, 5, 5]),
        "resnet basic block, downsample": (lambda: BasicBlock(4, 6, 2), [2, 4, 5, 5]),
    }
    cases, states = [], {}
    for i, (name, (make, shape)) in enumerate(specs.items()):
        torch.manual_seed(1 + i)
        initial = make()
        states[name] = {k: tensor(v) for k, v in initial.state_dict().items()}
        for dname, dtype in DTYPES.items():
            block = make().to(dtype)
            block.load_state_dict(initial.state_dict())
            case = run(block, upstream(shape, 11 + i, dtype), 21 + i)
            buffers = {k: tensor(v) for k, v in block.named_buffers()}
            cases.append({"name": name, "dtype": dname, "buffersAfter": buffers, **case})
    return cases, states


def language_models():
    cases = []
    vocab, context = 8, 5
    models = {
        "tiny-gpt": lambda: TinyGPT(vocab, context, dim=8, heads=2, layers=2),
        "lstm-lm": lambda: LSTMLM(vocab, dim=6, hidden=8, layers=2),
    }
    for name, make in models.items():
        for dname, dtype in DTYPES.items():
            torch.manual_seed(3)
            model = make().to(dtype)
            file = f"{name}-{dname}.safetensors"
            write_safetensors(os.path.join(FIXTURES, file), model.state_dict(), {"format": "pt"})
            g = torch.Generator().manual_seed(4)
            idx = torch.randint(0, vocab, (3, context), generator=g)
            case = run(model, idx, 5)
            cases.append({"name": name, "dtype": dname, "file": file, "vocab": vocab, "context": context,
                          "keys": list(model.state_dict().keys()), **case})
    return cases


if __name__ == "__main__":
    torch.set_num_threads(1)
    cases, states = blocks()
    write(PACKAGE, "composite", {"blocks": cases, "initialStates": states, "languageModels": language_models()})
