"""Writes test/fixtures/format.json: tensors and the repr PyTorch 1.13 prints for them.

Run with Debian's PyTorch: /usr/bin/python3 scripts/make_format_fixtures.py
Each case holds shape, dtype, the extras a caller passes (dtype unless float32, requires_grad or
grad_fn as PyTorch names them), the elements in row-major order (exactly as the tensor stores them;
"nan"/"inf"/"-inf" as strings, since JSON has no such numbers) and `expected`, which is
repr(tensor) with "torch." dropped from the dtype name. The expected strings come only from
PyTorch; nothing here is typed by hand.
"""

import json
import math
import os

import torch

DTYPES = {"float32": torch.float32, "float64": torch.float64, "int32": torch.int32}


def encode(v):
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
    return v


def case(name, t, inputs=None):
    # `inputs` (float64 numbers) stand in for the stored elements, to check the float32 rounding.
    dtype = {v: k for k, v in DTYPES.items()}[t.dtype]
    flat = inputs if inputs is not None else t.detach().reshape(-1).tolist()
    # The suffixes a caller of formatTensor passes, in PyTorch's order and spelling.
    extras = [] if dtype == "float32" else [f"dtype={dtype}"]
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return {
        "name": name,
        "shape": list(t.shape),
        "dtype": dtype,
        "values": [encode(v) for v in flat],
        "extras": extras,
        "expected": repr(t).replace("torch.", ""),
    }


def T(values, dtype="float32"):
    return torch.tensor(values, dtype=DTYPES[dtype])


def ramp(n, scale, dtype="float32"):
    # Deterministic, short-to-print values (keeps the JSON small) with varied digits.
    return ((torch.arange(n, dtype=torch.float64) * 37 % 101 - 50) * scale).to(DTYPES[dtype])


nan, inf = float("nan"), float("inf")
torch.manual_seed(0)

cases = [
    case("0-d float32", T(3.5)),
    case("0-d float64 integer", T(-2.0, "float64")),
    case("0-d int32", T(7, "int32")),
    case("0-d nan", T(nan)),
    case("0-d tiny float64", T(1.5e-7, "float64")),
    case("0-d large integer float", T(1e9)),
    case("0-d negative zero", T(-0.0)),
    case("1-d integer-valued floats", T([1.0, 2.0, 3.0])),
    case("1-d fixed 4 decimals", T([0.1, 0.12345678, -3.5])),
    case("1-d ties round half to even", T([1.03125, 2.09375, 0.59375], "float64")),
    case("1-d float32 vs float64 (float32)", T([1.00015, 1.0 / 3.0, 2.0 / 3.0])),
    case("1-d float32 from float64 inputs", T([1.00015, 2.00025]), [1.00015, 2.00025]),
    case("1-d float32 vs float64 (float64)", T([1.00015, 1.0 / 3.0, 2.0 / 3.0], "float64")),
    case("1-d mixed magnitudes -> sci", T([1e-3, 1.0, 1e5], "float64")),
    case("1-d tiny values -> sci", T([1e-5, 2e-5, -3e-6])),
    case("1-d max > 1e8 -> sci", T([1e9, 2.5])),
    case("1-d integer floats sci by ratio", T([1.0, 10000.0, -123445.0])),
    case("1-d integer floats sci by max", T([2e8, 3.0], "float64")),
    case("1-d huge and tiny float64", T([1e300, -1e-300, 0.0], "float64")),
    case("1-d nan inf with fractions", T([nan, inf, -inf, 1.5, -0.25])),
    case("1-d nan inf with integers", T([nan, 1.0, -2.0, inf])),
    case("1-d nan inf in sci", T([nan, 1e-6, -inf, 5.0], "float64")),
    case("1-d all zeros", T([0.0, 0.0, 0.0])),
    case("1-d only non-finite", T([nan, inf, -inf])),
    case("1-d negative zero integer", T([-0.0, 1.0])),
    case("1-d negative zero fixed", T([-0.0, 0.5])),
    case("1-d int32 wide", T([-2147483648, 5, 2147483647], "int32")),
    case("2-d negatives", T([[-1.5, 2.25], [3.0, -4.125]])),
    case("2-d int32", T([[1, -20, 300], [4, 5, 6]], "int32")),
    case("2-d column", T([[1.0], [2.5], [-3.0]])),
    case("2-d nan rows", T([[nan, nan], [0.5, inf]], "float64")),
    case("3-d float32", ramp(24, 0.125).reshape(2, 3, 4)),
    case("3-d single element", T([[[42.0]]])),
    case("4-d float64", ramp(16, 0.5, "float64").reshape(2, 2, 2, 2)),
    case("1-d wraps float32", ramp(40, 0.25)),
    case("1-d wraps int32", torch.arange(-60, 60, 3, dtype=torch.int32)),
    case("1-d wraps sci", ramp(20, 1e-5)),
    case("2-d rows wrap", ramp(60, 0.1).reshape(3, 20)),
    case("1-d wraps float64 dtype on new line", T([1234.5678] * 6 + [1.5] * 6, "float64")),
    case("1-d wraps float64 dtype stays", ramp(24, 1.5, "float64")),
    case("requires_grad", T([1.0, 2.0]).requires_grad_()),
    case("grad_fn", T([0.5, -1.25]).requires_grad_() * 2),
    case("grad_fn and dtype wrap", ramp(24, 1.5, "float64").requires_grad_() * 1),
    case("summarised 1-d", torch.randn(2000)),
    case("summarised 1-d int32", torch.arange(1001, dtype=torch.int32)),
    case("summarised 2-d", ramp(50 * 40, 0.01).reshape(50, 40)),
    case("2-d randn", torch.randn(3, 4)),
    case("summarised rows only", ramp(2 * 600, 0.5).reshape(2, 600)),
    case("summarised 2-d few columns", ramp(300 * 4, 2.0, "float64").reshape(300, 4)),
    case("summarised 3-d", ramp(12 * 10 * 10, 1.0).reshape(12, 10, 10)),
    case("summarised sci from edges only", torch.cat([T([1e-6]), torch.ones(1200), T([1e6])])),
    case("summarised middle ignored", torch.ones(1201).index_fill_(0, torch.tensor([600]), 1e-7)),
    case("empty 1-d", torch.zeros(0)),
    case("empty 1-d int32", torch.zeros(0, dtype=torch.int32)),
    case("empty 2-d", torch.zeros(0, 3)),
    case("empty 3-d float64", torch.zeros(2, 0, 4, dtype=torch.float64)),
]

out = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "format.json")
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    json.dump({"generator": "scripts/make_format_fixtures.py", "torch": torch.__version__,
               "cases": cases}, f, indent=1)
    f.write("\n")
print(f"wrote {len(cases)} cases to {os.path.normpath(out)}")
