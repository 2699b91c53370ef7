"""PyTorch reference fixtures for @backprop/layers' recurrent layers (RNN, LSTM, GRU).

Each case builds the module after `torch.manual_seed(seed)` (so its parameters
are also torch's initialisation, bit for bit), runs it on a seeded input with
or without an initial state, and backpropagates
L = sum(output * R) + sum(h_n * Rh) + sum(c_n * Rc), with Rh / Rc only where
the case puts a loss on the final state. Recorded: input, initial state,
parameters (state_dict order), output, h_n, c_n, the upstream gradients, and
the gradients of the input, the initial state and every parameter. Every case
is written in float64 and float32. Dropout cases run in training mode: the
masks come from the global generator right after the initialisation draws
(this torch has no MKL: the mask is `rand(float64) < 1 - p`, as in layers.py).
Also `print(module)` for several configurations.

Run from the repository root: /usr/bin/python3 tools/torch-fixtures/recurrent.py
"""
import torch
from torch import nn

from common import tensor, write

DTYPES = {"float64": torch.float64, "float32": torch.float32}
KINDS = {"RNN_TANH": (nn.RNN, {"nonlinearity": "tanh"}), "RNN_RELU": (nn.RNN, {"nonlinearity": "relu"}),
         "LSTM": (nn.LSTM, {}), "GRU": (nn.GRU, {})}

# (name, kind, inputSize, hiddenSize, options, L, N (None: unbatched), hx given, loss on the final state)
SPECS = [
    ("rnn tanh", "RNN_TANH", 3, 4, {}, 5, 2, False, False),
    ("rnn relu 2 layers hx", "RNN_RELU", 3, 4, {"num_layers": 2}, 4, 2, True, True),
    ("rnn tanh bidirectional batch_first hx", "RNN_TANH", 3, 4, {"bidirectional": True, "batch_first": True}, 4, 2, True, True),
    ("rnn relu unbatched bidirectional", "RNN_RELU", 3, 2, {"bidirectional": True}, 5, None, False, True),
    ("lstm", "LSTM", 3, 3, {}, 5, 2, False, True),
    ("lstm 2 layers bidirectional batch_first hx", "LSTM", 3, 2, {"num_layers": 2, "batch_first": True, "bidirectional": True}, 3, 2, True, True),
    ("lstm unbatched hx", "LSTM", 3, 4, {}, 5, None, True, True),
    ("lstm no bias 2 layers", "LSTM", 3, 2, {"num_layers": 2, "bias": False}, 3, 2, True, False),
    ("gru hx", "GRU", 3, 3, {}, 5, 2, True, True),
    ("gru 2 layers bidirectional", "GRU", 3, 2, {"num_layers": 2, "bidirectional": True}, 3, 2, False, True),
    ("gru unbatched batch_first", "GRU", 2, 3, {"batch_first": True}, 3, None, False, False),
    ("lstm dropout train", "LSTM", 3, 3, {"num_layers": 2, "dropout": 0.5}, 4, 2, False, True),
    ("gru dropout bidirectional train", "GRU", 2, 2, {"num_layers": 2, "dropout": 0.3, "bidirectional": True}, 3, 2, True, True),
    ("rnn dropout batch_first train", "RNN_TANH", 3, 3, {"num_layers": 2, "dropout": 0.25, "batch_first": True}, 3, 2, False, False),
]

REPRS = [
    ("LSTM", 4, 3, {"num_layers": 2, "batch_first": True, "bidirectional": True}),
    ("LSTM", 10, 20, {}),
    ("RNN_TANH", 4, 3, {"bias": False, "dropout": 0.5, "num_layers": 3}),
    ("RNN_RELU", 4, 3, {}),
    ("GRU", 5, 6, {"dropout": 0.1, "num_layers": 2, "bidirectional": True}),
    ("GRU", 5, 6, {"dropout": 1, "num_layers": 2}),
]


def randn(shape, seed, dtype):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)


def build(kind, inp, hid, opts, dtype):
    cls, extra = KINDS[kind]
    return cls(inp, hid, **extra, **opts, dtype=dtype)


def case(index, spec, dname, dtype):
    name, kind, inp, hid, opts, L, N, with_hx, final_loss = spec
    seed = 30 + index
    torch.manual_seed(seed)
    module = build(kind, inp, hid, opts, dtype)
    params0 = {k: tensor(v) for k, v in module.state_dict().items()}
    training = opts.get("dropout", 0) > 0
    module.train(training)
    D = 2 if opts.get("bidirectional") else 1
    layers = opts.get("num_layers", 1)
    if N is None:
        shape = [L, inp]
        state_shape = [D * layers, hid]
    else:
        shape = [N, L, inp] if opts.get("batch_first") else [L, N, inp]
        state_shape = [D * layers, N, hid]
    x = randn(shape, 100 + index, dtype).requires_grad_(True)
    hx = None
    if with_hx:
        h0 = randn(state_shape, 200 + index, dtype).requires_grad_(True)
        if kind == "LSTM":
            c0 = randn(state_shape, 300 + index, dtype).requires_grad_(True)
            hx = (h0, c0)
        else:
            hx = h0
    out, state = module(x, hx)
    h_n, c_n = state if kind == "LSTM" else (state, None)
    r = randn(list(out.shape), 400 + index, dtype)
    loss = (out * r).sum()
    rec = {"name": name, "kind": kind, "dtype": dname, "inputSize": inp, "hiddenSize": hid,
           "numLayers": layers, "bias": opts.get("bias", True), "batchFirst": opts.get("batch_first", False),
           "dropout": opts.get("dropout", 0), "bidirectional": opts.get("bidirectional", False),
           "training": training, "seed": seed, "input": tensor(x), "params": params0}
    if final_loss:
        rh = randn(list(h_n.shape), 500 + index, dtype)
        loss = loss + (h_n * rh).sum()
        rec["hnGrad"] = tensor(rh)
        if c_n is not None:
            rc = randn(list(c_n.shape), 600 + index, dtype)
            loss = loss + (c_n * rc).sum()
            rec["cnGrad"] = tensor(rc)
    loss.backward()
    rec.update({"output": tensor(out), "outputGrad": tensor(r), "hn": tensor(h_n), "inputGrad": tensor(x.grad),
                "paramGrads": {k: tensor(p.grad) for k, p in module.named_parameters()}})
    if c_n is not None:
        rec["cn"] = tensor(c_n)
    if with_hx:
        if kind == "LSTM":
            rec["h0"], rec["c0"] = tensor(hx[0]), tensor(hx[1])
            rec["h0Grad"], rec["c0Grad"] = tensor(hx[0].grad), tensor(hx[1].grad)
        else:
            rec["h0"], rec["h0Grad"] = tensor(hx), tensor(hx.grad)
    return rec


def main():
    cases = []
    for dname, dtype in DTYPES.items():
        for i, spec in enumerate(SPECS):
            cases.append(case(i, spec, dname, dtype))
    reprs = []
    for kind, inp, hid, opts in REPRS:
        module = build(kind, inp, hid, opts, torch.float64)
        reprs.append({"kind": kind, "inputSize": inp, "hiddenSize": hid, "options": opts, "repr": str(module),
                      "keys": list(module.state_dict().keys())})
    write("layers", "recurrent", {"cases": cases, "reprs": reprs})


if __name__ == "__main__":
    main()
