#!/usr/bin/python3
"""Reference values from PyTorch for the order and rearrangement ops of issue 13: sort, argsort, topk,
cumsum, cumprod, flip, roll, repeat, tril, triu, chunk, split and nn.functional.one_hot.

Run with Debian's python3-torch (PyTorch 1.13):  /usr/bin/python3 scripts/fixtures_ops_a.py
Writes test/fixtures/ops_a.json, replayed by test/tensor/ops_a.test.ts.

A case is { name, op, args, inputs, outputs, upstreams?, grads?, valuesOnly? }:
  - `op`/`args` name the Descent call; the TS side maps each op in one line.
  - inputs are { shape, dtype, values, requiresGrad, view? }; `view` is a list of {op, args} steps applied to
    the leaf before the op (a transposed or stepped view: non-contiguous input).
  - `outputs` lists every result (sort/topk: [values, indices]; chunk/split: every part). The float
    outputs get an upstream gradient each (`upstreams[i]`, null for int outputs), grads are the leaves'
    .grad after torch.autograd.backward(outputs, upstreams).
  - `valuesOnly`: PyTorch's order among ties is unspecified (topk), so only the values output is
    compared; the test checks the indices by gathering them.
int64 results are written as int32. Each case seeds its inputs from a CRC of its name.
"""

import json
import math
import os
import sys
import zlib

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_encoding import enc_value  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "ops_a.json")
NAME = {torch.float32: "float32", torch.float64: "float64", torch.int32: "int32", torch.int64: "int32"}
DT = {"float32": torch.float32, "float64": torch.float64, "int32": torch.int64}


def enc(t):
    t = t.detach()
    dtype = NAME[t.dtype]
    return {"shape": list(t.shape), "dtype": dtype, "values": [enc_value(v, dtype) for v in t.reshape(-1).tolist()]}


def T(a=0, b=1):
    return {"op": "transpose", "args": {"dim0": a, "dim1": b}}


def STEP(dim, step):
    return {"op": "slice", "args": {"dim": dim, "step": step}}


VIEWS = {
    "transpose": lambda x, a: x.transpose(a["dim0"], a["dim1"]),
    "slice": lambda x, a: x[(slice(None),) * a["dim"] + (slice(None, None, a["step"]),)],
}


def lst(v):
    return list(v) if isinstance(v, (list, tuple)) else v


OPS = {
    "sort": lambda x, a: list(x.sort(dim=a.get("dim", -1), descending=a.get("descending", False), stable=a.get("stable", False))),
    "argsort": lambda x, a: [x.argsort(dim=a.get("dim", -1), descending=a.get("descending", False))],
    "topk": lambda x, a: list(x.topk(a["k"], dim=a.get("dim", -1), largest=a.get("largest", True), sorted=a.get("sorted", True))),
    "cumsum": lambda x, a: [x.cumsum(a["dim"])],
    "cumprod": lambda x, a: [x.cumprod(a["dim"])],
    "flip": lambda x, a: [x.flip(a["dims"])],
    "roll": lambda x, a: [x.roll(a["shifts"], a["dims"]) if "dims" in a else x.roll(a["shifts"])],
    "repeat": lambda x, a: [x.repeat(*a["sizes"])],
    "tril": lambda x, a: [x.tril(a.get("diagonal", 0))],
    "triu": lambda x, a: [x.triu(a.get("diagonal", 0))],
    "chunk": lambda x, a: list(x.chunk(a["chunks"], a.get("dim", 0))),
    "split": lambda x, a: list(x.split(a["size"], a.get("dim", 0))),
    "oneHot": lambda x, a: [F.one_hot(x, a.get("numClasses", -1))],
}


class In:
    """kind: randn (2 decimals), distinct (no ties), int (0..hi-1), or values=[...]."""

    def __init__(self, shape, dtype="float64", kind="randn", values=None, view=None, hi=5):
        self.shape, self.dtype, self.kind, self.values, self.view, self.hi = list(shape), dtype, kind, values, view, hi

    def make(self, g):
        n = math.prod(self.shape)
        if self.values is not None:
            vals = [float(v) if isinstance(v, str) else v for v in self.values]
        elif self.kind == "int":
            vals = torch.randint(0, self.hi, (n,), generator=g).tolist()
        elif self.kind == "distinct":
            vals = ((torch.randperm(n, generator=g) - n // 2).double() * 0.25 + 0.125).tolist()
        elif self.kind == "ties":
            vals = (torch.randint(-2, 3, (n,), generator=g).double() * 0.5).tolist()
        else:
            vals = [round(float(v), 2) for v in torch.randn(n, generator=g, dtype=torch.float64)]
        assert len(vals) == n, (self.shape, len(vals))
        return torch.tensor(vals, dtype=torch.float64).to(DT[self.dtype]).reshape(self.shape), vals


CASES = []


def case(name, op, args, inputs, grad=True, values_only=False):
    full = f"{op}/{name}"
    assert all(c["name"] != full for c in CASES), f"duplicate case {full}"
    g = torch.Generator().manual_seed(zlib.crc32(full.encode()))
    leaves, xs, specs = [], [], []
    for spec in inputs:
        t, vals = spec.make(g)
        rg = spec.dtype != "int32" and grad
        if rg:
            t.requires_grad_(True)
        x = t
        for step in spec.view or []:
            x = VIEWS[step["op"]](x, step["args"])
        leaves.append((t, rg))
        xs.append(x)
        d = {"shape": spec.shape, "dtype": spec.dtype, "values": [enc_value(v, spec.dtype) for v in vals], "requiresGrad": rg}
        if spec.view:
            d["view"] = spec.view
        specs.append(d)
    outs = OPS[op](xs[0], args)
    entry = {"name": full, "op": op, "args": args, "inputs": specs, "outputs": [enc(o) for o in outs]}
    if values_only:
        entry["valuesOnly"] = True
    if any(o.requires_grad for o in outs):
        ups = [None if not o.requires_grad else (torch.round(torch.randn(o.shape, generator=g, dtype=torch.float64) * 100) / 100).to(o.dtype) for o in outs]
        pairs = [(o, u) for o, u in zip(outs, ups) if u is not None]
        torch.autograd.backward([o for o, _ in pairs], [u for _, u in pairs])
        entry["upstreams"] = [None if u is None else enc(u) for u in ups]
        entry["grads"] = [enc(t.grad if t.grad is not None else torch.zeros_like(t)) if rg else None for t, rg in leaves]
    else:
        for s in specs:
            s["requiresGrad"] = False
    CASES.append(entry)


NAN, INF = "nan", "inf"

for dt in ["float32", "float64"]:
    p = "f32" if dt == "float32" else "f64"
    # sort: dims, descending, a transposed (non-contiguous) input, NaN ordering, stable ties, 0-d
    case(f"{p}_last_dim", "sort", {}, [In([3, 5], dt, "distinct")])
    case(f"{p}_dim0_descending", "sort", {"dim": 0, "descending": True}, [In([4, 3], dt, "distinct")])
    case(f"{p}_transposed", "sort", {"dim": 1}, [In([5, 3], dt, "distinct", view=[T()])])
    case(f"{p}_3d_dim1", "sort", {"dim": 1, "descending": True}, [In([2, 4, 3], dt, "distinct")])
    case(f"{p}_nan_ascending", "sort", {}, [In([2, 5], dt, values=[3, NAN, 1, "-inf", 2, NAN, 0.5, INF, NAN, -1])])
    case(f"{p}_nan_descending", "sort", {"descending": True}, [In([2, 5], dt, values=[3, NAN, 1, "-inf", 2, NAN, 0.5, INF, NAN, -1])])
    case(f"{p}_stable_ties", "sort", {"stable": True}, [In([3, 8], dt, "ties")])
    case(f"{p}_stable_ties_descending", "sort", {"stable": True, "descending": True, "dim": 0}, [In([3, 8], dt, "ties", view=[T()])])
    case(f"{p}_0d", "sort", {}, [In([], dt)])
    case(f"{p}_stepped", "argsort", {"dim": -1}, [In([3, 8], dt, "distinct", view=[STEP(1, 2)])])
    case(f"{p}_descending_dim0", "argsort", {"dim": 0, "descending": True}, [In([5, 2], dt, "distinct")])
    # topk: no ties (indices and gradients compared), dims, smallest, a transposed input; ties: values only
    case(f"{p}_k3", "topk", {"k": 3}, [In([2, 6], dt, "distinct")])
    case(f"{p}_smallest_dim0", "topk", {"k": 2, "dim": 0, "largest": False}, [In([5, 3], dt, "distinct")])
    case(f"{p}_transposed", "topk", {"k": 2, "dim": 1}, [In([4, 3], dt, "distinct", view=[T()])])
    case(f"{p}_k_all", "topk", {"k": 4}, [In([2, 3, 4], dt, "distinct")])
    case(f"{p}_k0", "topk", {"k": 0}, [In([2, 3], dt, "distinct")])
    case(f"{p}_nan", "topk", {"k": 2}, [In([2, 3], dt, values=[1, NAN, 3, 2, 5, -1])])
    case(f"{p}_ties", "topk", {"k": 4}, [In([3, 9], dt, "ties")], values_only=True)
    case(f"{p}_ties_smallest", "topk", {"k": 3, "largest": False}, [In([3, 9], dt, "ties")], values_only=True)
    # cumsum / cumprod
    case(f"{p}_dim1", "cumsum", {"dim": 1}, [In([3, 5], dt)])
    case(f"{p}_dim0_transposed", "cumsum", {"dim": 0}, [In([4, 3], dt, view=[T()])])
    case(f"{p}_neg_dim_3d", "cumsum", {"dim": -2}, [In([2, 4, 3], dt)])
    case(f"{p}_0d", "cumsum", {"dim": 0}, [In([], dt)])
    case(f"{p}_dim1", "cumprod", {"dim": 1}, [In([3, 5], dt)])
    case(f"{p}_transposed", "cumprod", {"dim": 0}, [In([4, 3], dt, view=[T()])])
    case(f"{p}_zeros", "cumprod", {"dim": 1}, [In([4, 5], dt, values=[
        1.5, 0, 2, -0.5, 3,      # one zero in the middle
        0, 2, 0.5, 0, -1.5,      # zero first, and a second zero
        2, -1.25, 0.5, 3, 0,     # zero last
        0.75, 2, -2, 0.5, 1.25,  # no zero
    ])])
    case(f"{p}_all_zero_dim0", "cumprod", {"dim": 0}, [In([3, 2], dt, values=[0, 1.5, 0, 0, 2, -3])])
    # flip
    case(f"{p}_one_dim", "flip", {"dims": [0]}, [In([3, 4], dt)])
    case(f"{p}_several_dims", "flip", {"dims": [0, -1]}, [In([2, 3, 4], dt)])
    case(f"{p}_transposed", "flip", {"dims": [1, 2]}, [In([2, 4, 3], dt, view=[T(1, 2)])])
    # roll
    case(f"{p}_one_dim", "roll", {"shifts": 2, "dims": 1}, [In([3, 5], dt)])
    case(f"{p}_several_dims_negative", "roll", {"shifts": [-1, 7], "dims": [0, -1]}, [In([3, 4], dt)])
    case(f"{p}_no_dims", "roll", {"shifts": -4}, [In([3, 4], dt)])
    case(f"{p}_no_dims_transposed", "roll", {"shifts": 5}, [In([3, 4], dt, view=[T()])])
    case(f"{p}_repeated_dim", "roll", {"shifts": [1, 2], "dims": [1, 1]}, [In([2, 5], dt)])
    # repeat
    case(f"{p}_same_ndim", "repeat", {"sizes": [2, 3]}, [In([2, 3], dt)])
    case(f"{p}_more_sizes", "repeat", {"sizes": [2, 1, 3]}, [In([2, 3], dt)])
    case(f"{p}_transposed", "repeat", {"sizes": [3, 1, 2]}, [In([2, 3], dt, view=[T()])])
    case(f"{p}_of_1d", "repeat", {"sizes": [2, 3]}, [In([3], dt)])
    case(f"{p}_zero", "repeat", {"sizes": [0, 2]}, [In([2, 3], dt)])
    # tril / triu: square and not, batched, diagonals on both sides, a transposed input, NaN/Inf
    for op in ["tril", "triu"]:
        case(f"{p}_square", op, {}, [In([4, 4], dt)])
        case(f"{p}_wide_pos_diag", op, {"diagonal": 2}, [In([3, 5], dt)])
        case(f"{p}_tall_neg_diag", op, {"diagonal": -1}, [In([5, 3], dt)])
        case(f"{p}_batched_neg2", op, {"diagonal": -2}, [In([2, 3, 4], dt)])
        case(f"{p}_batched_transposed", op, {"diagonal": 1}, [In([2, 4, 3], dt, view=[T(1, 2)])])
        case(f"{p}_far_diag", op, {"diagonal": -7}, [In([3, 4], dt)])
        case(f"{p}_nonfinite", op, {}, [In([3, 3], dt, values=[NAN, INF, 1, "-inf", NAN, 2, 3, INF, NAN])])
    # chunk / split (views via slice)
    case(f"{p}_uneven", "chunk", {"chunks": 3, "dim": 1}, [In([2, 7], dt)])
    case(f"{p}_fewer", "chunk", {"chunks": 4}, [In([6, 2], dt)])
    case(f"{p}_transposed", "chunk", {"chunks": 2, "dim": 0}, [In([2, 5], dt, view=[T()])])
    case(f"{p}_size", "split", {"size": 2, "dim": -1}, [In([3, 5], dt)])
    case(f"{p}_sections", "split", {"size": [1, 3, 1], "dim": 1}, [In([5, 2], dt, view=[T()])])

case("int32_sort", "sort", {"descending": True}, [In([3, 4], "int32", "int", hi=4)])
case("int32_cumsum", "cumsum", {"dim": 1}, [In([2, 5], "int32", "int", hi=9)])
case("int32_cumprod", "cumprod", {"dim": 0}, [In([3, 4], "int32", "int", hi=5)])
case("int32_flip", "flip", {"dims": [1]}, [In([2, 3], "int32", "int")])
case("int32_tril", "tril", {"diagonal": 1}, [In([3, 4], "int32", "int")])
case("1d", "oneHot", {}, [In([5], "int32", "int", hi=4)])
case("2d_num_classes", "oneHot", {"numClasses": 6}, [In([2, 3], "int32", "int", hi=4)])
case("transposed", "oneHot", {"numClasses": 5}, [In([3, 2], "int32", "int", hi=5, view=[T()])])

with open(OUT, "w") as f:
    json.dump({"generator": "scripts/fixtures_ops_a.py", "torch": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(CASES)} cases to {OUT}")
