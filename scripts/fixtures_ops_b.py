#!/usr/bin/python3
"""Reference values from PyTorch for einsum, baddbmm and nn.functional.pad (issue 13, ops-b).

Run with Debian's python3-torch (PyTorch 1.13):  /usr/bin/python3 scripts/fixtures_ops_b.py
Writes test/fixtures/ops_b.json, replayed by test/tensor/einsum.test.ts (einsum, baddbmm) and
test/nn/pad.test.ts (pad). Same case layout as scripts/make_fixtures.py: { name, op, args, inputs,
output, upstream, grads }; an input's `view` steps (transpose, permute, slice) are applied to the
leaf before the op, so non-contiguous operands are covered; grads are the leaves'. Every case runs
in float32 and float64 and seeds its inputs from a CRC of its name.
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

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "ops_b.json")
DT = {"float32": torch.float32, "float64": torch.float64}
NAME = {torch.float32: "float32", torch.float64: "float64"}

VIEWS = {
    "transpose": lambda x, a: x.transpose(a["dim0"], a["dim1"]),
    "permute": lambda x, a: x.permute(*a["dims"]),
    "slice": lambda x, a: x.narrow(a["dim"], a["start"], a["length"]),
}
OPS = {
    "einsum": lambda xs, a: torch.einsum(a["equation"], *xs),
    "baddbmm": lambda xs, a: torch.baddbmm(xs[0], xs[1], xs[2], beta=a.get("beta", 1), alpha=a.get("alpha", 1)),
    "pad": lambda xs, a: F.pad(xs[0], tuple(a["pad"]), mode=a.get("mode", "constant"), value=a.get("value", 0)),
}


def enc(t):
    t = t.detach()
    dtype = NAME[t.dtype]
    return {"shape": list(t.shape), "dtype": dtype, "values": [enc_value(v, dtype) for v in t.reshape(-1).tolist()]}


def T(d0, d1):
    return {"op": "transpose", "args": {"dim0": d0, "dim1": d1}}


def P(*dims):
    return {"op": "permute", "args": {"dims": list(dims)}}


def S(dim, start, length):
    return {"op": "slice", "args": {"dim": dim, "start": start, "length": length}}


CASES = []


def case(name, op, args, inputs, values=None):
    """inputs: list of (shape, view steps); values: optional per-input overrides {index: [values]}."""
    for dtype in ("float32", "float64"):
        full = f"{op}/{name}/{dtype[0]}{dtype[-2:]}"
        assert all(c["name"] != full for c in CASES), full
        g = torch.Generator().manual_seed(zlib.crc32(full.encode()))
        leaves, xs, specs = [], [], []
        for i, (shape, view) in enumerate(inputs):
            n = math.prod(shape)
            vals = (values or {}).get(i) or [round(float(v), 2) for v in torch.randn(n, generator=g, dtype=torch.float64)]
            t = torch.tensor(vals, dtype=torch.float64).to(DT[dtype]).reshape(shape).requires_grad_(True)
            x = t
            for step in view:
                x = VIEWS[step["op"]](x, step["args"])
            leaves.append(t)
            xs.append(x)
            spec = {"shape": list(shape), "dtype": dtype, "values": [enc_value(v, dtype) for v in vals], "requiresGrad": True}
            if view:
                spec["view"] = view
            specs.append(spec)
        out = OPS[op](xs, args)
        up = (torch.round(torch.randn(out.shape, generator=g, dtype=torch.float64) * 100) / 100).to(out.dtype)
        out.backward(up)
        grads = [enc(t.grad if t.grad is not None else torch.zeros_like(t)) for t in leaves]
        CASES.append({"name": full, "op": op, "args": args, "inputs": specs, "output": enc(out), "upstream": enc(up), "grads": grads})


def E(name, equation, *inputs):
    """Each input is a shape, or (shape, view steps) for a non-contiguous operand."""
    case(name, "einsum", {"equation": equation}, [i if isinstance(i, tuple) else (i, []) for i in inputs])


# ---- einsum: (shape, view steps) per operand ----
E("matmul", "ij,jk->ik", [2, 3], [3, 4])
E("matmul_implicit", "ij,jk", [2, 3], [3, 4])
E("matmul_spaces", " i j , j k -> i k ", [2, 3], [3, 4])
E("matmul_transposed_sliced", "ij,jk->ik", ([3, 2], [T(0, 1)]), ([3, 6], [S(1, 1, 4)]))
E("bmm", "bij,bjk->bik", [2, 3, 4], [2, 4, 5])
E("bmm_permuted", "bij,bjk->bik", ([3, 2, 4], [P(1, 0, 2)]), ([5, 4, 2], [P(2, 1, 0)]))
E("attention_scores", "bhqd,bhkd->bhqk", [2, 2, 3, 4], [2, 2, 5, 4])
E("attention_values", "bhqk,bhkd->bqhd", [2, 2, 3, 5], [2, 2, 5, 4])
E("diag", "ii->i", [3, 3])
E("diag_transposed", "ii->i", ([3, 3], [T(0, 1)]))
E("trace_implicit", "ii", [4, 4])
E("trace_explicit", "ii->", [3, 3])
E("diag_then_sum", "iij->j", [3, 3, 2])
E("diag_apart", "iji->j", [3, 2, 3])
E("diag_two_pairs", "iijj->ij", [2, 2, 3, 3])
E("sum_all", "ij->", [2, 3])
E("sum_rows", "ij->j", [2, 3])
E("transpose", "ij->ji", [2, 3])
E("permute_3d", "ijk->kij", [2, 3, 4])
E("dot", "i,i->", [4], [4])
E("dot_implicit", "i,i", [4], [4])
E("outer", "i,j->ij", [3], [4])
E("outer_implicit", "i,j", [3], [4])
E("hadamard", "ij,ij->ij", [2, 3], [2, 3])
E("broadcast_label", "i,i->i", [3], [1])
E("broadcast_summed_label", "ij,jk", [2, 1], [3, 4])
E("sum_single_operand_label", "ijk,jl->il", [2, 3, 4], [3, 5])
E("chain_three", "ij,jk,kl->il", [2, 3], [3, 4], [4, 5])
E("bilinear_three", "bn,anm,bm->ba", [2, 3], [4, 3, 5], [2, 5])
E("implicit_order_upper_first", "cA,cb", [3, 2], [3, 4])
E("implicit_upper_lower", "aB,Bc", [2, 3], [3, 4])
E("ellipsis_batch_broadcast", "...ij,...jk->...ik", [2, 1, 2, 3], [5, 3, 4])
E("ellipsis_implicit", "...ij,...jk", [2, 1, 2, 3], [5, 3, 4])
E("ellipsis_transpose", "...ij->...ji", ([2, 4, 3], [T(1, 2)]))
E("ellipsis_summed", "i...->i", [2, 3, 4])
E("ellipsis_middle", "i...j->j...i", [2, 3, 4, 5])
E("ellipsis_elementwise", "...,...->...", [2, 3], [3])
E("ellipsis_empty", "...i,...i->...", [4], [2, 4])
E("scalar_operand", "i,->i", [3], [])
E("scalar_only", "->", [])
E("empty_inner", "ij,jk->ik", [2, 0], [0, 3])
E("batch_kept_and_summed", "bik,bkj,bj->bi", [2, 3, 4], [2, 4, 5], [2, 5])

# ---- baddbmm ----
B3 = [[2, 3, 5], [2, 5, 4]]
case("basic", "baddbmm", {}, [([2, 3, 4], []), (B3[0], []), (B3[1], [])])
case("beta_alpha", "baddbmm", {"beta": 0.5, "alpha": -2.0}, [([2, 3, 4], []), (B3[0], []), (B3[1], [])])
case("broadcast_row", "baddbmm", {"beta": 2.0}, [([4], []), (B3[0], []), (B3[1], [])])
case("broadcast_col", "baddbmm", {}, [([3, 1], []), (B3[0], []), (B3[1], [])])
case("broadcast_batch", "baddbmm", {"alpha": 0.25}, [([1, 3, 4], []), (B3[0], []), (B3[1], [])])
case("transposed_batches", "baddbmm", {}, [([2, 3, 4], []), ([2, 5, 3], [T(1, 2)]), ([4, 5, 2], [P(2, 1, 0)])])
case("beta0_ignores_nan", "baddbmm", {"beta": 0.0, "alpha": 1.5}, [([1, 4], []), (B3[0], []), (B3[1], [])],
     values={0: [float("nan"), 1.0, float("inf"), -2.0]})

# ---- pad: (x shape, view) and args ----
def pad(name, shape, p, mode="constant", value=None, view=()):
    args = {"pad": p, "mode": mode}
    if value is not None:
        args["value"] = value
    case(name, "pad", args, [(shape, list(view))])


pad("constant_nchw", [2, 3, 4, 5], [1, 2, 0, 1])
pad("constant_value", [2, 3, 4, 5], [2, 1, 1, 2], value=1.5)
pad("constant_negative", [2, 3, 4, 5], [-1, 2, 1, -2])
pad("constant_all_dims", [2, 2, 2, 3], [1, 0, 0, 1, 1, 1, 2, 0], value=-0.5)
pad("constant_1d", [4], [2, 3])
pad("constant_transposed", [2, 5, 4], [1, 1, 2, 0], view=[T(1, 2)])
pad("constant_crop_to_empty", [2, 4], [-2, -2])
pad("reflect_2d_input", [2, 5], [2, 3], "reflect")
pad("reflect_1d_batched", [2, 3, 5], [1, 4], "reflect")
pad("reflect_2d_unbatched", [3, 4, 5], [1, 2, 3, 1], "reflect")
pad("reflect_2d_batched", [2, 2, 4, 5], [3, 1, 2, 3], "reflect")
pad("reflect_3d_batched", [1, 2, 3, 4, 5], [1, 2, 1, 2, 2, 1], "reflect")
pad("reflect_3d_unbatched", [2, 3, 4, 3], [2, 0, 1, 3, 2, 1], "reflect")
pad("reflect_negative", [2, 6], [-1, 3], "reflect")
pad("reflect_transposed", [2, 5, 4], [2, 1, 1, 3], "reflect", view=[T(1, 2)])
pad("replicate_1d", [2, 3, 3], [4, 5], "replicate")
pad("replicate_2d", [2, 2, 3, 4], [2, 3, 4, 1], "replicate")
pad("replicate_3d", [1, 2, 2, 3, 2], [1, 1, 2, 0, 3, 1], "replicate")
pad("replicate_negative", [2, 5], [-2, 1], "replicate")
pad("replicate_crop_past_edge", [1, 2, 4], [-4, 1, 2, -1], "replicate")
pad("reflect_crop_right", [2, 6], [3, -2], "reflect")
pad("circular_1d", [2, 2, 5], [2, 3], "circular")
pad("circular_full_wrap", [1, 2, 4], [4, 4], "circular")
pad("circular_2d", [2, 1, 3, 4], [1, 2, 3, 0], "circular")
pad("circular_3d", [1, 2, 3, 3, 4], [1, 2, 2, 1, 0, 3], "circular")
pad("circular_negative", [1, 2, 5], [-1, 2], "circular")
pad("circular_crop_right", [1, 2, 5], [2, -1], "circular")
pad("circular_crop_both_2d", [1, 1, 4, 5], [-1, -1, 3, -1], "circular")
pad("circular_sliced", [2, 2, 6], [2, 1], "circular", view=[S(2, 1, 4)])

with open(OUT, "w") as f:
    json.dump({"generator": "scripts/fixtures_ops_b.py", "torch": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(CASES)} cases to {OUT}")
