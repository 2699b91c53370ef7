"""PyTorch's side of the contender bench (apps/bench/src/contenders/torch.ts): the `torch` and `torch-2t` contenders.

Started by the bench as `/usr/bin/python3 apps/bench/torch_contender.py THREADS`;
speaks JSON lines on stdin/stdout:

- first it prints {"ready": true, "torch": version, "threads": n, "mkl",
  "blasInfo", "blasLibraries", "matmul256Gflops"} once torch is imported and
  set to THREADS threads (the BLAS probe of torch_layers.py), or
  {"ready": false, "error": ...} when torch cannot be imported (then it exits);
- then for each request line {"op", ...} it prints one answer line (or
  {"error"}):
  - load {trainImages, trainLabels, testImages, testLabels}: raw float32 /
    int32 files the bench wrote (the same standardized digits as every
    contender's) -> {"trainSize", "testSize"};
  - matmul-prepare {id, n, dtype, a, b}: the inputs from raw files -> {};
    matmul-product {id, out}: one product written raw to `out` -> {};
    matmul-time {id, calls}: `calls` products `a @ b` back to back -> {"ms"};
  - model {id, kind: "mlp" | "cnn", hidden, seed, lr, momentum}: the bench's
    MLP or CNN (src/models.ts) built right after torch.manual_seed(seed),
    which gives the same initial weights as ours' TorchGenerator(seed), and
    SGD(lr, momentum) -> {};
  - logits {id, count, shape}: the model's logits on the first `count` test
    digits, in eval mode, without grad -> {"logits"} (flat);
  - epoch {id, batches, shape}: one training step per batch of train-set
    indices: forward, CrossEntropyLoss, backward, SGD step, zero_grad, as
    ours' loop -> {"ms"};
  - infer {id, warmup, calls, blocks, perBlock}: single-sample latency of
    the model as src/harness.ts runInference times it (warm-up calls, then
    each call timed alone on successive test digits; the medians of equal
    blocks, in µs) -> {"repeats", "nan"};
  - dispose {id} -> {}.
"""
import gc
import json
import sys
import time

from torch_layers import blas_probe, median


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    try:
        import torch
        from torch import nn
    except Exception as error:  # noqa: BLE001 - any failure means: no torch here
        print(json.dumps({"ready": False, "error": f"import torch failed: {error}"}), flush=True)
        return
    torch.set_num_threads(threads)
    hello = {"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}
    hello.update(blas_probe(torch))
    print(json.dumps(hello), flush=True)

    dtypes = {"float32": torch.float32, "float64": torch.float64}
    data = {}
    objects = {}

    def read(path, dtype):
        with open(path, "rb") as f:
            return torch.frombuffer(bytearray(f.read()), dtype=dtype)

    def load(r):
        data["train_x"] = read(r["trainImages"], torch.float32).view(-1, 784)
        data["train_y"] = read(r["trainLabels"], torch.int32).long()
        data["test_x"] = read(r["testImages"], torch.float32).view(-1, 784)
        data["test_y"] = read(r["testLabels"], torch.int32).long()
        return {"trainSize": data["train_x"].shape[0], "testSize": data["test_x"].shape[0]}

    def matmul_prepare(r):
        n, dtype = r["n"], dtypes[r["dtype"]]
        objects[r["id"]] = (read(r["a"], dtype).view(n, n), read(r["b"], dtype).view(n, n))
        return {}

    def matmul_product(r):
        a, b = objects[r["id"]]
        with open(r["out"], "wb") as f:
            f.write((a @ b).numpy().tobytes())
        return {}

    def matmul_time(r):
        a, b = objects[r["id"]]
        calls = r["calls"]
        t = time.perf_counter()
        for _ in range(calls):
            a @ b
        return {"ms": (time.perf_counter() - t) * 1000.0}

    def make_model(r):
        torch.manual_seed(r["seed"])
        if r["kind"] == "mlp":
            model = nn.Sequential(nn.Linear(784, r["hidden"]), nn.ReLU(), nn.Linear(r["hidden"], 10))
        elif r["kind"] == "cnn":
            model = nn.Sequential(
                nn.Conv2d(1, 8, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(8, 16, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Flatten(),
                nn.Linear(16 * 7 * 7, 10),
            )
        else:
            raise ValueError(f"model: kind must be 'mlp' or 'cnn', got {r['kind']!r}")
        optimizer = torch.optim.SGD(model.parameters(), lr=r["lr"], momentum=r["momentum"])
        objects[r["id"]] = (model, optimizer, nn.CrossEntropyLoss())
        return {}

    def logits(r):
        model = objects[r["id"]][0]
        model.eval()
        out = []
        with torch.no_grad():
            for start in range(0, r["count"], 500):
                count = min(500, r["count"] - start)
                x = data["test_x"][start : start + count].reshape([count, *r["shape"]])
                out.extend(model(x).reshape(-1).tolist())
        model.train()
        return {"logits": out}

    def epoch(r):
        model, optimizer, loss_fn = objects[r["id"]]
        shape = r["shape"]
        t = time.perf_counter()
        for indices in r["batches"]:
            index = torch.tensor(indices, dtype=torch.int64)
            x = data["train_x"].index_select(0, index).view(len(indices), *shape)
            y = data["train_y"].index_select(0, index)
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        return {"ms": (time.perf_counter() - t) * 1000.0}

    def infer(r):
        model = objects[r["id"]][0]
        model.eval()
        test_x = data["test_x"]
        size = test_x.shape[0]
        sink = 0.0
        repeats = []
        with torch.no_grad():
            for i in range(r["warmup"]):
                sink += model(test_x[i % size : i % size + 1])[0, 0].item()
            per_block = r["perBlock"]
            for b in range(r["blocks"]):
                times = []
                for i in range(per_block):
                    j = (b * per_block + i) % size
                    x = test_x[j : j + 1]
                    t = time.perf_counter_ns()
                    sink += model(x)[0, 0].item()
                    times.append((time.perf_counter_ns() - t) / 1000.0)
                repeats.append(median(times))
        model.train()
        return {"repeats": repeats, "nan": sink != sink}

    def dispose(r):
        objects.pop(r["id"], None)
        gc.collect()
        return {}

    ops = {
        "load": load,
        "matmul-prepare": matmul_prepare,
        "matmul-product": matmul_product,
        "matmul-time": matmul_time,
        "model": make_model,
        "logits": logits,
        "epoch": epoch,
        "infer": infer,
        "dispose": dispose,
    }
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            op = ops.get(request.get("op"))
            if op is None:
                raise ValueError(f"unknown op {request.get('op')!r}; expected one of {', '.join(ops)}")
            result = op(request)
        except Exception as error:  # noqa: BLE001 - reported per request; the bench goes on
            result = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
