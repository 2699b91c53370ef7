"""PyTorch's side of the layer bench (apps/bench/src/layers/main.ts).

Started by the bench as `/usr/bin/python3 apps/bench/torch_layers.py`; speaks
JSON lines on stdin/stdout:

- first it prints {"ready": true, "torch": version, "threads": n, "mkl",
  "blasInfo", "blasLibraries", "matmul256Gflops"} once torch is imported and set to one
  thread (the BLAS it multiplies with, and a float32 256×256 matmul's speed), or {"ready": false, "error": ...} when torch
  cannot be imported (then it exits);
- then for each line {"case": {...}, "plan": {...}} it reads, it times the
  case's forward + backward and prints one line {"name", "msPerCall",
  "repeats", "callsPerRepeat", "warmupCalls", "sums"} (or {"name", "error"}).

A case: {"name", "torch": {"cls", "args", "kwargs"}, "call": "plain" |
"recurrent" | "causal-self-attention", "input": {"shape", "indices"?},
"train", "seed"}. The module is torch.nn.<cls>(*args, **kwargs) created right
after torch.manual_seed(seed); the input is torch.randn(shape) drawn next (or
the indices (31·i + 7) mod indices), then the output gradient torch.randn of
the output's shape: the same draws the TypeScript side makes, so both time the
same numbers, which `sums` (float64 sums of the first pass's output and
gradients) lets the bench check.

One call is y = forward(x); y.backward(g) with x requiring grad (not for
indices): the input gradient and every parameter's gradient, accumulated as
in training. The timing plan mirrors timePerCall in src/stats.ts.
"""
import gc
import json
import re
import sys
import time


def now_ms():
    return time.perf_counter() * 1000.0


def median(values):
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 == 1 else (s[n // 2 - 1] + s[n // 2]) / 2


def time_per_call(fn, plan, before_calls=0, before_ms=0.0):
    """The plan of src/stats.ts timePerCall: warm-up (counting the calls made before), repeats sized from it, the median."""
    t0 = now_ms() - before_ms
    warmup_calls = before_calls
    while warmup_calls < max(1, plan["warmupCalls"]) or now_ms() - t0 < plan["warmupMs"]:
        fn()
        warmup_calls += 1
    per_call = (now_ms() - t0) / warmup_calls
    calls = max(1, -(-plan["repeatMs"] // max(per_call, 1e-3)))
    calls = int(calls)
    repeats = []
    start = now_ms()
    while len(repeats) < plan["repeats"] and (len(repeats) < plan["minRepeats"] or now_ms() - start < plan["capMs"]):
        t = now_ms()
        for _ in range(calls):
            fn()
        repeats.append((now_ms() - t) / calls)
    return {"msPerCall": median(repeats), "repeats": repeats, "callsPerRepeat": calls, "warmupCalls": warmup_calls}


def blas_probe(torch):
    """Which BLAS this torch multiplies with, and how fast: gemm-bound layers depend on it.

    Debian's python3-torch is built with BLAS_INFO=generic and calls whatever
    libblas.so.3 the system's alternatives select (the netlib reference BLAS
    unless OpenBLAS or BLIS is installed); pip's wheels bring MKL.
    """
    info = {"mkl": bool(torch.backends.mkl.is_available())}
    built = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    if built:
        info["blasInfo"] = built.group(1)
    try:
        with open("/proc/self/maps") as maps:
            libs = sorted({line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line})
        info["blasLibraries"] = libs
    except OSError:
        pass
    a = torch.randn(256, 256)
    b = torch.randn(256, 256)
    a @ b
    calls = 0
    t = now_ms()
    while calls < 3 or now_ms() - t < 200:
        a @ b
        calls += 1
    info["matmul256Gflops"] = 2 * 256**3 * calls / ((now_ms() - t) / 1000) / 1e9
    return info


def main():
    try:
        import torch
    except Exception as error:  # noqa: BLE001 - any failure means: no torch here
        print(json.dumps({"ready": False, "error": f"import torch failed: {error}"}), flush=True)
        return
    torch.set_num_threads(1)
    hello = {"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()}
    hello.update(blas_probe(torch))
    print(json.dumps(hello), flush=True)

    def sums(t):
        t = t.detach().double()
        return [t.sum().item(), t.abs().sum().item()]

    def run_case(case, plan):
        spec = case["torch"]
        torch.manual_seed(case["seed"])
        module = getattr(torch.nn, spec["cls"])(*spec["args"], **spec["kwargs"])
        module.train(case.get("train", True))
        shape = case["input"]["shape"]
        high = case["input"].get("indices")
        if high is not None:
            count = 1
            for d in shape:
                count *= d
            x = ((torch.arange(count, dtype=torch.int64) * 31 + 7) % high).reshape(shape)
        else:
            x = torch.randn(shape).requires_grad_(True)
        call = case["call"]
        if call == "plain":
            forward = lambda: module(x)  # noqa: E731
        elif call == "recurrent":
            forward = lambda: module(x)[0]  # noqa: E731
        elif call == "causal-self-attention":
            length = shape[1] if spec["kwargs"].get("batch_first") else shape[0]
            mask = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)
            forward = lambda: module(x, x, x, attn_mask=mask, need_weights=case.get("needWeights", False))[0]  # noqa: E731
        else:
            raise ValueError(f"unknown call kind {call!r}")

        t = now_ms()
        y = forward()
        g = torch.randn(y.shape)
        y.backward(g)
        first_ms = now_ms() - t
        result_sums = {"output": sums(y)}
        if x.requires_grad:
            result_sums["inputGrad"] = sums(x.grad)
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        result_sums["parameterGrads"] = [sum(sums(t)[0] for t in grads), sum(sums(t)[1] for t in grads)] if grads else [0.0, 0.0]

        def step():
            if x.requires_grad:
                x.grad = None
            forward().backward(g)

        gc.collect()
        # The checked pass is the first warm-up call.
        timing = time_per_call(step, plan, 1, first_ms)
        return {"name": case["name"], **timing, "sums": result_sums}

    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        case = request["case"]
        try:
            result = run_case(case, request["plan"])
        except Exception as error:  # noqa: BLE001 - reported per case; the bench goes on
            result = {"name": case.get("name"), "error": f"{type(error).__name__}: {error}"}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
