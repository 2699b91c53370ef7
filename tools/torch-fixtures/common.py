"""Shared helpers for the fixture scripts.

Every fixture is JSON: numbers are written with Python's repr, which is the
shortest string that reads back as the same float64, so JavaScript's
JSON.parse recovers every value bit for bit. A tensor is written as
{"shape": [...], "dtype": "float32" | "float64", "data": [flat row-major values]};
float32 values are widened exactly to float64 before writing.

Run every script with Debian's PyTorch: /usr/bin/python3 tools/torch-fixtures/<name>.py
"""
import json
import math
import os
import struct
import sys

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def tensor(t):
    """A tensor (or anything torch.as_tensor takes) as a JSON-ready dict."""
    t = torch.as_tensor(t).detach()
    dtype = {torch.float32: "float32", torch.float64: "float64"}.get(t.dtype)
    if dtype is None:
        if t.dtype in (torch.int64, torch.int32):
            return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""),
                    "data": [int(v) for v in t.reshape(-1).tolist()]}
        raise TypeError(f"unsupported dtype {t.dtype}")
    data = t.to(torch.float64).reshape(-1).tolist()
    for v in data:
        if not math.isfinite(v):
            raise ValueError("fixtures hold finite values only")
    return {"shape": list(t.shape), "dtype": dtype, "data": data}


def write(package, name, payload):
    """Writes packages/<package>/test/fixtures/<name>.json and reports it."""
    write_json(os.path.join("packages", package, "test", "fixtures", name + ".json"), payload)


def write_json(relpath, payload):
    """Writes a fixture at a path relative to the repository root (for the
    tools/ workspaces, whose fixtures live outside packages/), with the same
    meta header and number format as write()."""
    path = os.path.join(ROOT, relpath)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    meta = {"generator": os.path.relpath(sys.argv[0], ROOT), "torch": torch.__version__}
    with open(path, "w") as f:
        json.dump({"meta": meta, **payload}, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")


SAFETENSORS_CODES = {torch.float32: "F32", torch.float64: "F64", torch.int32: "I32", torch.int64: "I64",
                     torch.float16: "F16", torch.bfloat16: "BF16"}


def write_safetensors(path, tensors, metadata=None):
    """safetensors.torch.save_file, written by its specification (the package is
    not in Debian): an 8-byte little-endian header length, a JSON header padded
    with spaces to 8 bytes, then the tensors' little-endian bytes in the order
    the reference writer uses (by dtype alignment, largest first, then by name)."""
    order = sorted(tensors.items(), key=lambda kv: (-kv[1].element_size(), kv[0]))
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, t in order:
        t = t.detach().contiguous()
        # numpy has no bfloat16: write its 16-bit patterns as they are.
        bits = t.view(torch.int16) if t.dtype == torch.bfloat16 else t
        raw = bits.numpy().astype(bits.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": SAFETENSORS_CODES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)")
