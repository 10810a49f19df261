#!/usr/bin/python3
"""The safetensors round trip through PyTorch (issue 5, item 7).

Run with Debian's python3-torch (PyTorch 1.13):  /usr/bin/python3 scripts/fixtures_io.py
The `safetensors` Python package is not installed here, so this script reads and writes the format
by hand from its specification (8-byte little-endian header length, JSON header with dtype / shape /
data_offsets and optional __metadata__, padded with spaces to 8 bytes, raw little-endian data), as
the reference writer lays it out (tensors contiguous in sorted-name order, __metadata__ first).

(a) Reads test/fixtures/io/descent_written.safetensors (written by scripts/make_io_fixture.ts),
    records every tensor as PyTorch sees it, loads the model part into
    nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)) with load_state_dict(strict=True) and records
    its eval-mode output on a fixed input.
(b) Writes test/fixtures/io/torch_written.safetensors, the state dict of the same architecture after
    two training-mode batches (F32 tensors and the int64 num_batches_tracked, as PyTorch keeps it),
    and test/fixtures/io/torch_mixed.safetensors with one tensor of each other dtype (F64, F16, BF16,
    I64, I32, I16, I8, U8, BOOL); records their values and the model's eval-mode output.
Everything recorded goes to test/fixtures/io/torch_io.json, replayed by test/io/pytorch.test.ts.
"""

import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_encoding import enc_value  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "io")

# safetensors dtype name <-> torch dtype, numpy dtype used for the raw bytes (little-endian)
DTYPES = {
    "F64": (torch.float64, "<f8"),
    "F32": (torch.float32, "<f4"),
    "F16": (torch.float16, "<f2"),
    "BF16": (torch.bfloat16, "<u2"),
    "I64": (torch.int64, "<i8"),
    "I32": (torch.int32, "<i4"),
    "I16": (torch.int16, "<i2"),
    "I8": (torch.int8, "i1"),
    "U8": (torch.uint8, "u1"),
    "BOOL": (torch.bool, "u1"),
}
NAME_OF = {v[0]: k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    data = raw[8 + n :]
    metadata = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        tdtype, npdtype = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=npdtype).copy()
        if info["dtype"] == "BF16":
            t = torch.from_numpy(arr.astype(np.int16)).view(torch.bfloat16)
        elif info["dtype"] == "BOOL":
            t = torch.from_numpy(arr).to(torch.bool)
        else:
            t = torch.from_numpy(arr)
        out[name] = (info["dtype"], t.reshape(info["shape"]))
    return out, metadata


def write_safetensors(path, tensors, metadata=None):
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if t.dtype == torch.bfloat16:
            b = t.view(torch.int16).numpy().astype("<i2").tobytes()
        elif t.dtype == torch.bool:
            b = t.to(torch.uint8).numpy().tobytes()
        else:
            b = t.numpy().astype(DTYPES[NAME_OF[t.dtype]][1]).tobytes()
        header[name] = {"dtype": NAME_OF[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in chunks:
            f.write(b)


def record(t, descent_dtype):
    """A tensor as the JSON records it: the Descent dtype it should load as, shape, flat values."""
    flat = t.detach().reshape(-1)
    if flat.dtype in (torch.bfloat16, torch.float16):
        flat = flat.to(torch.float32)
    return {"dtype": descent_dtype, "shape": list(t.shape), "values": [enc_value(v, descent_dtype) for v in flat.tolist()]}


DESCENT_DTYPE = {"F64": "float64", "F32": "float32", "F16": "float32", "BF16": "float32"}


def descent_dtype(st_dtype):
    return DESCENT_DTYPE.get(st_dtype, "int32")


def model():
    return nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))


def main():
    torch.set_default_dtype(torch.float32)
    out = {}

    # (a) a Descent-written file, read by PyTorch
    tensors, metadata = read_safetensors(os.path.join(HERE, "descent_written.safetensors"))
    out["descentRead"] = {
        "metadata": metadata,
        "tensors": {k: dict(record(t, descent_dtype(d)), stored=d) for k, (d, t) in tensors.items()},
    }
    m = model()
    sd = {k: t for k, (d, t) in tensors.items() if not k.startswith("extra.")}
    result = m.load_state_dict(sd, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert m[1].num_batches_tracked.dtype == torch.int64
    m.eval()
    x = torch.linspace(-2, 2, 12).reshape(3, 4)
    with torch.no_grad():
        y = m(x)
    out["descentRead"]["input"] = record(x, "float32")
    out["descentRead"]["output"] = record(y, "float32")
    out["descentRead"]["numBatchesTracked"] = int(m[1].num_batches_tracked)

    # (b) files written from PyTorch, to be read by Descent
    torch.manual_seed(0)
    m = model()
    m.train()
    with torch.no_grad():
        m(torch.randn(6, 4))
        m(torch.randn(6, 4) * 2 - 1)
    sd = m.state_dict()
    assert sd["1.num_batches_tracked"].dtype == torch.int64
    write_safetensors(os.path.join(HERE, "torch_written.safetensors"), sd, {"format": "pt"})
    m.eval()
    x = torch.randn(4, 4)
    with torch.no_grad():
        y = m(x)
    out["torchWritten"] = {
        "stateDict": {k: dict(record(t, "int32" if t.dtype == torch.int64 else "float32"), stored=NAME_OF[t.dtype]) for k, t in sd.items()},
        "input": record(x, "float32"),
        "output": record(y, "float32"),
    }

    mixed = {
        "f64": torch.tensor([[1.0 / 3, -1e-300], [1e300, 2.5]], dtype=torch.float64),
        "f16": torch.tensor([1.0, -2.0, 65504.0, 6e-8, 0.1, float("inf")], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -0.5, 3.14159, 1e30], dtype=torch.bfloat16),
        "i64": torch.tensor([-(2**31), -1, 0, 2**31 - 1], dtype=torch.int64),
        "i32": torch.tensor([[-(2**31), 7], [0, 2**31 - 1]], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, 0], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 128], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(4.25),
        "empty": torch.zeros(0, 2),
    }
    write_safetensors(os.path.join(HERE, "torch_mixed.safetensors"), mixed)
    out["torchMixed"] = {
        k: dict(record(t, descent_dtype(NAME_OF[t.dtype])), stored=NAME_OF[t.dtype]) for k, t in mixed.items()
    }
    # Read our own files back with the same reader, so the writer and reader agree.
    back, meta = read_safetensors(os.path.join(HERE, "torch_written.safetensors"))
    assert meta == {"format": "pt"} and all(torch.equal(back[k][1], sd[k]) for k in sd)

    with open(os.path.join(HERE, "torch_io.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", os.path.join(HERE, "torch_io.json"))


if __name__ == "__main__":
    main()
