"""PyTorch's side of the character-transformer bench (apps/bench/src/charlm/main.ts).

Started by the bench as `/usr/bin/python3 apps/bench/torch_charlm.py`; speaks
JSON lines on stdin/stdout:

- first it prints {"ready": true, "torch": version, "mkl", "blasLibraries",
  "matmul256Gflops"} once torch is imported (the BLAS probe of
  torch_layers.py), or {"ready": false, "error": ...} when torch cannot be
  imported (then it exits);
- then for each line {"config", "dtype", "threads", "seed", "batches",
  "plan"} it reads, it builds the model, times its training steps on that
  many threads and prints one line {"msPerStep", "repeats", "losses",
  "lastLoss", "threads"} (or {"error"}).

The model is apps/charlm's default transformer as the bench builds it in
@backprop/layers (src/charlm/model.ts), created right after
torch.manual_seed(seed) in the same order (wte, wpe, the encoder layer, which
TransformerEncoder deep-copies, the final LayerNorm, the head), in `dtype`
directly (factory kwargs), so both sides start from the same weights. One
step: logits = model(x); cross_entropy(logits.view(B*T, V), y,
ignore_index=-1); backward; clip_grad_norm_(1); AdamW.step(); zero_grad() on
batch i mod len(batches). The plan (warm-up steps, the first `checkSteps`
losses kept, then `repeats` × `stepsPerRepeat` timed steps, the median ms
per step) mirrors timeSteps in src/charlm/timing.ts.
"""
import gc
import json
import sys
import time

from torch_layers import blas_probe, median


def now_ms():
    return time.perf_counter() * 1000.0


def main():
    try:
        import torch
        from torch import nn
    except Exception as error:  # noqa: BLE001 - any failure means: no torch here
        print(json.dumps({"ready": False, "error": f"import torch failed: {error}"}), flush=True)
        return
    torch.set_num_threads(1)
    hello = {"ready": True, "torch": torch.__version__}
    hello.update(blas_probe(torch))
    print(json.dumps(hello), flush=True)

    class CharTransformer(nn.Module):
        def __init__(self, config, dtype):
            super().__init__()
            V, T, C = config["vocabSize"], config["blockSize"], config["embedDim"]
            self.wte = nn.Embedding(V, C, dtype=dtype)
            self.wpe = nn.Embedding(T, C, dtype=dtype)
            block = nn.TransformerEncoderLayer(
                C,
                config["heads"],
                dim_feedforward=4 * C,
                dropout=0.0,
                activation="gelu",
                batch_first=True,
                norm_first=True,
                dtype=dtype,
            )
            self.encoder = nn.TransformerEncoder(block, config["layers"], norm=nn.LayerNorm(C, dtype=dtype))
            self.head = nn.Linear(C, V, dtype=dtype)
            self.register_buffer("positions", torch.arange(T), persistent=False)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(T).to(dtype), persistent=False)

        def forward(self, ids):
            x = self.wte(ids) + self.wpe(self.positions)
            return self.head(self.encoder(x, mask=self.mask))

    def run(request):
        config, plan = request["config"], request["plan"]
        dtype = {"float32": torch.float32, "float64": torch.float64}[request["dtype"]]
        torch.set_num_threads(request["threads"])
        B, T, V = config["batchSize"], config["blockSize"], config["vocabSize"]
        batches = [
            (torch.tensor(b["x"], dtype=torch.int64).view(B, T), torch.tensor(b["y"], dtype=torch.int64).view(B * T))
            for b in request["batches"]
        ]
        torch.manual_seed(request["seed"])
        model = CharTransformer(config, dtype)
        model.train()
        params = list(model.parameters())
        optimizer = torch.optim.AdamW(params, lr=config["lr"], betas=tuple(config["betas"]), weight_decay=config["weightDecay"])
        loss_fn = nn.CrossEntropyLoss(ignore_index=-1)

        def step(i):
            x, y = batches[i % len(batches)]
            logits = model(x)
            loss = loss_fn(logits.view(B * T, V), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, config["clip"])
            optimizer.step()
            optimizer.zero_grad()
            return loss.item()

        losses = []
        i = 0
        while i < plan["warmupSteps"]:
            loss = step(i)
            if i < plan["checkSteps"]:
                losses.append(loss)
            i += 1
        gc.collect()
        repeats = []
        last_loss = float("nan")
        for _ in range(plan["repeats"]):
            t = now_ms()
            for _ in range(plan["stepsPerRepeat"]):
                last_loss = step(i)
                i += 1
            repeats.append((now_ms() - t) / plan["stepsPerRepeat"])
        return {
            "msPerStep": median(repeats),
            "repeats": repeats,
            "losses": losses,
            "lastLoss": last_loss,
            "threads": torch.get_num_threads(),
        }

    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            result = run(json.loads(line))
        except Exception as error:  # noqa: BLE001 - reported per case; the bench goes on
            result = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
