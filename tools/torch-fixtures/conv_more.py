"""PyTorch reference fixtures for Conv1d, ConvTranspose2d and AdaptiveAvgPool2d
(and the Conv2d options they share: groups, padding='same').

For every case, as layers.py's `record` writes it: the input, the parameters,
the output, and the gradients of L = sum(output * R) for a seeded random
upstream gradient R (the input gradient and each parameter's gradient), in
float64 and float32. Cases cover strides, paddings ('same' with odd and even
totals, 'valid'), dilation, groups, output padding (below the stride, and at
or above the stride but below the dilation), non-square kernels, bias=False,
unbatched input, and adaptive output sizes that divide the input, that do not,
that exceed it and that keep it (None). Also the parameters that
`torch.manual_seed(s)` then the constructor creates, bit for bit, and what
print(module) shows.

Run from the repository root: /usr/bin/python3 tools/torch-fixtures/conv_more.py
"""
import warnings

import torch
from torch import nn

from common import tensor, write
from layers import DTYPES, randn, record

PACKAGE = "layers"

# 'same' with an even total warns that torch pads a copy of the input; that is the case under test.
warnings.filterwarnings("ignore", message="Using padding='same'")


def conv1d_cases():
    specs = [
        # (name, in, out, kernel, stride, padding, dilation, groups, bias, input shape)
        ("k3, batch 2", 2, 3, 3, 1, 0, 1, 1, True, [2, 2, 6]),
        ("stride 2, padding 1", 2, 3, 3, 2, 1, 1, 1, True, [1, 2, 8]),
        ("same, even kernel (extra zero at the end), batch 2", 2, 2, 4, 1, "same", 1, 1, True, [2, 2, 5]),
        ("same, dilation 2", 2, 2, 3, 1, "same", 2, 1, True, [1, 2, 6]),
        ("valid, no bias", 3, 2, 2, 1, "valid", 1, 1, False, [1, 3, 5]),
        ("groups 2", 4, 6, 3, 1, 1, 1, 2, True, [1, 4, 6]),
        ("depthwise, groups 3", 3, 3, 3, 2, 1, 1, 3, True, [1, 3, 7]),
        ("dilation 3, stride 2, padding 2", 2, 2, 3, 2, 2, 3, 1, True, [1, 2, 11]),
        ("unbatched [C, L] input", 2, 3, 3, 2, 1, 1, 1, True, [2, 9]),
    ]
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (name, cin, cout, k, s, p, d, g, bias, shape) in enumerate(specs):
            torch.manual_seed(60 + i)
            conv = nn.Conv1d(cin, cout, k, stride=s, padding=p, dilation=d, groups=g, bias=bias, dtype=dtype)
            case = record(conv, randn(shape, 1300 + i, dtype), 1400 + i)
            cases.append({"name": name, "dtype": dname, "inChannels": cin, "outChannels": cout, "kernelSize": k,
                          "stride": s, "padding": p, "dilation": d, "groups": g, "bias": bias, **case})
    return cases


def conv2d_cases():
    """The options Conv2d gained with the shared core: groups and padding 'same' / 'valid'."""
    specs = [
        ("groups 2, kernel (3, 2), padding (1, 0)", 4, 4, (3, 2), 1, (1, 0), 1, 2, True, [1, 4, 3, 4]),
        ("same, kernel (2, 4), dilation (1, 2)", 2, 2, (2, 4), 1, "same", (1, 2), 1, True, [1, 2, 3, 5]),
        ("same, kernel 3, groups 2, no bias", 2, 4, 3, 1, "same", 1, 2, False, [1, 2, 3, 3]),
        ("valid, stride 2", 2, 2, 3, 2, "valid", 1, 1, True, [1, 2, 5, 6]),
    ]
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (name, cin, cout, k, s, p, d, g, bias, shape) in enumerate(specs):
            torch.manual_seed(80 + i)
            conv = nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, groups=g, bias=bias, dtype=dtype)
            case = record(conv, randn(shape, 1500 + i, dtype), 1600 + i)
            cases.append({"name": name, "dtype": dname, "inChannels": cin, "outChannels": cout, "kernelSize": k,
                          "stride": s, "padding": p, "dilation": d, "groups": g, "bias": bias, **case})
    return cases


def conv_transpose_cases():
    specs = [
        # (name, in, out, kernel, stride, padding, output_padding, dilation, groups, bias, input shape)
        ("3x3, batch 2", 2, 2, 3, 1, 0, 0, 1, 1, True, [2, 2, 2, 2]),
        ("stride 2, outputPadding 1", 2, 2, 3, 2, 0, 1, 1, 1, True, [1, 2, 2, 3]),
        ("stride 2, padding 1, outputPadding 1, batch 2", 2, 2, 3, 2, 1, 1, 1, 1, True, [2, 2, 2, 3]),
        ("kernel (2, 3), stride (2, 1), padding (1, 0)", 3, 2, (2, 3), (2, 1), (1, 0), 0, 1, 1, True, [1, 3, 3, 4]),
        ("dilation 2, padding 1, no bias", 2, 2, 3, 1, 1, 0, 2, 1, False, [1, 2, 3, 3]),
        ("outputPadding 1 at stride 1, below dilation 2", 2, 2, 2, 1, 0, 1, 2, 1, True, [1, 2, 2, 3]),
        ("stride 3, kernel 2 (gaps), outputPadding (2, 1)", 2, 2, 2, 3, 0, (2, 1), 1, 1, True, [1, 2, 2, 2]),
        ("groups 2", 4, 4, 3, 2, 1, 1, 1, 2, True, [1, 4, 2, 2]),
        ("unbatched [C, H, W] input", 2, 3, 3, 2, 1, 0, 1, 1, True, [2, 2, 3]),
    ]
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (name, cin, cout, k, s, p, op, d, g, bias, shape) in enumerate(specs):
            torch.manual_seed(90 + i)
            conv = nn.ConvTranspose2d(cin, cout, k, stride=s, padding=p, output_padding=op, groups=g, bias=bias,
                                      dilation=d, dtype=dtype)
            case = record(conv, randn(shape, 1700 + i, dtype), 1800 + i)
            cases.append({"name": name, "dtype": dname, "inChannels": cin, "outChannels": cout, "kernelSize": k,
                          "stride": s, "padding": p, "outputPadding": op, "dilation": d, "groups": g,
                          "bias": bias, **case})
    return cases


def adaptive_cases():
    specs = [
        # (name, output_size, input shape)
        ("global (1)", 1, [1, 1, 5, 7]),
        ("(2, 3) dividing 6x9", (2, 3), [1, 1, 6, 9]),
        ("(3, 4) not dividing 7x6, batch 2", (3, 4), [2, 1, 7, 6]),
        ("(None, 3) keeps the height", (None, 3), [1, 1, 4, 7]),
        ("(4, None) keeps the width", (4, None), [1, 1, 9, 3]),
        ("(5, 6) larger than 3x4", (5, 6), [1, 1, 3, 4]),
        ("unbatched [C, H, W], 2", 2, [2, 5, 5]),
    ]
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (name, size, shape) in enumerate(specs):
            case = record(nn.AdaptiveAvgPool2d(size), randn(shape, 1900 + i, dtype), 2000 + i)
            cases.append({"name": name, "dtype": dname, "outputSize": list(size) if isinstance(size, tuple) else size,
                          **case})
    return cases


INIT_MAKERS = [
    ("Conv1d(3, 4, 5)", lambda dt: nn.Conv1d(3, 4, 5, dtype=dt)),
    ("Conv1d(4, 6, 3, groups=2, bias=False)", lambda dt: nn.Conv1d(4, 6, 3, groups=2, bias=False, dtype=dt)),
    ("Conv2d(4, 6, 3, groups=2)", lambda dt: nn.Conv2d(4, 6, 3, groups=2, dtype=dt)),
    ("ConvTranspose2d(2, 3, 3)", lambda dt: nn.ConvTranspose2d(2, 3, 3, dtype=dt)),
    ("ConvTranspose2d(4, 6, (2, 3), groups=2)", lambda dt: nn.ConvTranspose2d(4, 6, (2, 3), groups=2, dtype=dt)),
]


def init_cases():
    """Parameters created right after torch.manual_seed(seed), bit for bit."""
    cases = []
    for dname, dtype in DTYPES.items():
        for i, (name, make) in enumerate(INIT_MAKERS):
            seed = 2024 + i
            torch.manual_seed(seed)
            module = make(dtype)
            cases.append({"module": name, "seed": seed, "dtype": dname,
                              "params": {k: tensor(v) for k, v in module.named_parameters()}})
    return cases


def repr_cases():
    """What print(module) shows: String(layer) must read the same."""
    models = {
        "Conv1d(2, 3, 3)": nn.Conv1d(2, 3, 3),
        "Conv1d(4, 6, 5, stride=2, padding=2, dilation=2, groups=2, bias=False)":
            nn.Conv1d(4, 6, 5, stride=2, padding=2, dilation=2, groups=2, bias=False),
        "Conv1d(2, 3, 4, padding='same')": nn.Conv1d(2, 3, 4, padding="same"),
        "Conv1d(2, 3, 4, padding='valid')": nn.Conv1d(2, 3, 4, padding="valid"),
        "Conv2d(4, 6, (2, 3), padding='same', groups=2)": nn.Conv2d(4, 6, (2, 3), padding="same", groups=2),
        "ConvTranspose2d(2, 3, 3, stride=2, output_padding=1)": nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1),
        "ConvTranspose2d(4, 6, (2, 3), stride=(2, 1), padding=(1, 0), dilation=2, groups=2, bias=False)":
            nn.ConvTranspose2d(4, 6, (2, 3), stride=(2, 1), padding=(1, 0), dilation=2, groups=2, bias=False),
        "ConvTranspose2d(3, 1, 1)": nn.ConvTranspose2d(3, 1, 1),
        "AdaptiveAvgPool2d((2, 3))": nn.AdaptiveAvgPool2d((2, 3)),
        "AdaptiveAvgPool2d(5)": nn.AdaptiveAvgPool2d(5),
        "AdaptiveAvgPool2d((None, 7))": nn.AdaptiveAvgPool2d((None, 7)),
    }
    return {name: repr(module) for name, module in models.items()}


def main():
    torch.set_default_dtype(torch.float32)
    write(PACKAGE, "conv-more", {
        "conv1d": conv1d_cases(),
        "conv2d": conv2d_cases(),
        "convTranspose2d": conv_transpose_cases(),
        "adaptiveAvgPool2d": adaptive_cases(),
        "init": init_cases(),
        "repr": repr_cases(),
    })


if __name__ == "__main__":
    main()
