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


SAFETENSORS_DTYPES = {code: dtype for dtype, code in SAFETENSORS_CODES.items()}


def read_safetensors(path):
    """safetensors.torch.load_file with the metadata, read by its specification:
    returns (tensors by name, metadata dict or {}). Every tensor's bytes must
    lie within the file, in order and without gaps, as the specification asks."""
    if sys.byteorder != "little":
        raise ValueError("read_safetensors reads the little-endian bytes as they are: run it on a little-endian machine")
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: {len(raw)} bytes; a safetensors file starts with an 8-byte header length")
    (length,) = struct.unpack("<Q", raw[:8])
    if 8 + length > len(raw):
        raise ValueError(f"{path}: the header claims {length} bytes but the file holds {len(raw) - 8} after the length")
    header = json.loads(raw[8:8 + length].decode("utf8"))
    metadata = header.pop("__metadata__", None) or {}
    data = memoryview(raw)[8 + length:]
    tensors, end = {}, 0
    for name, entry in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        dtype = SAFETENSORS_DTYPES.get(entry["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r} has dtype {entry['dtype']!r}; expected one of {sorted(SAFETENSORS_DTYPES)}")
        start, stop = entry["data_offsets"]
        count = math.prod(entry["shape"])
        if start != end or stop > len(data) or stop - start != count * torch.tensor([], dtype=dtype).element_size():
            raise ValueError(f"{path}: tensor {name!r} at bytes [{start}, {stop}) does not fit its shape {entry['shape']} "
                             f"and dtype {entry['dtype']}, or leaves a gap after byte {end}")
        # numpy has no bfloat16: read its 16-bit patterns, then view them as bfloat16.
        bits = torch.int16 if dtype == torch.bfloat16 else dtype
        flat = torch.frombuffer(bytearray(data[start:stop]), dtype=bits) if count else torch.zeros(0, dtype=bits)
        tensors[name] = flat.view(dtype).reshape(entry["shape"])
        end = stop
    if end != len(data):
        raise ValueError(f"{path}: {len(data) - end} bytes after the last tensor")
    return tensors, metadata
