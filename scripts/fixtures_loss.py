#!/usr/bin/python3
"""Reference values from PyTorch for every loss (src/nn/functional/loss.ts, ctc.ts, src/nn/layers/loss.ts).

Run with Debian's python3-torch (PyTorch 1.13):  /usr/bin/python3 scripts/fixtures_loss.py
Writes test/fixtures/nn_loss.json, replayed by test/nn/loss.test.ts through test/helpers/checkOp.ts.

A case is { name, op, args, inputs, output, upstream?, grads? } (checkOp's format):
  - `op` is the Descent function (camelCase); `args` are its options (reduction, ignoreIndex, ...)
    plus `roles`: the name of each input in order ("input", "target", "weight", "posWeight",
    "logits", "targets", "inputLengths", "targetLengths").
  - CTC cases start from free logits: the Descent side (like this script) computes
    logits.logSoftmax(-1) and feeds that to ctcLoss, so the gradient compared is the one through
    log_softmax (PyTorch's CTC backward is only the true derivative up to that normalisation).
  - MAPE is not in PyTorch: its reference is the formula mean(|(x - t) / max(|t|, eps)|) * 100
    written with torch ops and differentiated by torch.autograd.
  - `upstream` is the gradient handed to out.backward(); grads[i] is the leaf's .grad or null.
Values are flat, row-major; NaN/Infinity are the strings "nan"/"inf"/"-inf". Every case seeds its
own generator from its name, so adding a case does not change the others.
"""

import json
import math
import os
import zlib

import numpy as np
import torch
import torch.nn.functional as F
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_encoding import enc_value  # noqa: E402

torch.use_deterministic_algorithms(True)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "nn_loss.json")
DT = {"float32": torch.float32, "float64": torch.float64, "int32": torch.int64}
NAME = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int32", torch.int32: "int32"}
REDUCTIONS = ["mean", "sum", "none"]




def enc(t):
    t = t.detach()
    dtype = NAME[t.dtype]
    return {"shape": list(t.shape), "dtype": dtype, "values": [enc_value(v, dtype) for v in t.reshape(-1).tolist()]}


class In:
    """An input: role, shape, dtype and how to fill it.
    kind: randn (2 decimals), prob (0.01..0.99), pos (0.1..2.1), sign (±1), cls (0..hi-1), or values=[...]."""

    def __init__(self, role, shape, dtype="float64", kind="randn", values=None, grad=None, hi=None, scale=1.0):
        self.role, self.shape, self.dtype, self.kind = role, list(shape), dtype, kind
        self.values, self.grad, self.hi, self.scale = values, grad, hi, scale

    def make(self, g):
        n = math.prod(self.shape)
        if self.values is not None:
            vals = [{"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(v, v) for v in self.values]
            assert len(vals) == n, (self.role, self.shape, len(vals))
        elif self.kind == "cls":
            vals = torch.randint(0, self.hi, (n,), generator=g).tolist()
        elif self.kind == "sign":
            vals = (torch.randint(0, 2, (n,), generator=g) * 2 - 1).double().tolist()
        else:
            r = torch.rand(n, generator=g, dtype=torch.float64)
            if self.kind == "randn":
                r = torch.randn(n, generator=g, dtype=torch.float64) * self.scale
            elif self.kind == "prob":
                r = r * 0.98 + 0.01
            elif self.kind == "pos":
                r = r * 2 + 0.1
            vals = [round(float(v), 2) for v in r]
        t = torch.tensor(vals, dtype=DT[self.dtype]).reshape(self.shape)
        return t, vals


def probs(role, shape, dtype, dim=1):
    """Class probabilities along dim, 3 decimals, each row summing to ~1 (written out as values)."""

    class P(In):
        def make(self, g):
            r = torch.rand(self.shape, generator=g, dtype=torch.float64) + 0.05
            r = r / r.sum(dim, keepdim=True)
            vals = [round(float(v), 3) for v in r.reshape(-1)]
            return torch.tensor(vals, dtype=DT[self.dtype]).reshape(self.shape), vals

    return P(role, shape, dtype, grad=False)


# ------------------------------------------------------------------------------------------------
# Descent name -> torch computation over the inputs by role.


def opt(a, *keys):
    m = {
        "ignoreIndex": "ignore_index",
        "labelSmoothing": "label_smoothing",
        "logTarget": "log_target",
        "zeroInfinity": "zero_infinity",
    }
    return {m.get(k, k): a[k] for k in keys if k in a}


def mape(r, a):
    x, t = r["input"], r["target"]
    denom = t.abs().clamp_min(a["eps"]) if "eps" in a else t.abs()
    loss = ((x - t).abs() / denom) * 100
    red = a.get("reduction", "mean")
    return loss.mean() if red == "mean" else loss.sum() if red == "sum" else loss


OPS = {
    "mseLoss": lambda r, a: F.mse_loss(r["input"], r["target"], **opt(a, "reduction")),
    "l1Loss": lambda r, a: F.l1_loss(r["input"], r["target"], **opt(a, "reduction")),
    "mapeLoss": mape,
    "huberLoss": lambda r, a: F.huber_loss(r["input"], r["target"], **opt(a, "reduction", "delta")),
    "smoothL1Loss": lambda r, a: F.smooth_l1_loss(r["input"], r["target"], **opt(a, "reduction", "beta")),
    "crossEntropy": lambda r, a: F.cross_entropy(
        r["input"], r["target"], weight=r.get("weight"), **opt(a, "reduction", "ignoreIndex", "labelSmoothing")
    ),
    "nllLoss": lambda r, a: F.nll_loss(r["input"], r["target"], weight=r.get("weight"), **opt(a, "reduction", "ignoreIndex")),
    "binaryCrossEntropy": lambda r, a: F.binary_cross_entropy(
        r["input"], r["target"], weight=r.get("weight"), **opt(a, "reduction")
    ),
    "binaryCrossEntropyWithLogits": lambda r, a: F.binary_cross_entropy_with_logits(
        r["input"], r["target"], weight=r.get("weight"), pos_weight=r.get("posWeight"), **opt(a, "reduction")
    ),
    "hingeEmbeddingLoss": lambda r, a: F.hinge_embedding_loss(r["input"], r["target"], **opt(a, "reduction", "margin")),
    "multiMarginLoss": lambda r, a: F.multi_margin_loss(
        r["input"], r["target"], weight=r.get("weight"), **opt(a, "reduction", "p", "margin")
    ),
    "klDiv": lambda r, a: F.kl_div(r["input"], r["target"], **opt(a, "reduction", "logTarget")),
    "ctcLoss": lambda r, a: F.ctc_loss(
        r["logits"].log_softmax(-1),
        r["targets"],
        r["inputLengths"],
        r["targetLengths"],
        **opt(a, "reduction", "blank", "zeroInfinity"),
    ),
}

CASES = []


def case(name, op, args, inputs):
    full = f"{op}/{name}"
    assert all(c["name"] != full for c in CASES), f"duplicate case {full}"
    g = torch.Generator().manual_seed(zlib.crc32(full.encode()))
    args = dict(args)
    args["roles"] = [s.role for s in inputs]
    roles, leaves, specs = {}, [], []
    for s in inputs:
        t, vals = s.make(g)
        rg = s.dtype != "int32" and s.grad is not False and s.role in ("input", "logits") or s.grad is True
        if rg:
            t.requires_grad_(True)
        roles[s.role] = t
        leaves.append((t, rg))
        specs.append(
            {"shape": s.shape, "dtype": s.dtype, "values": [enc_value(v, s.dtype) for v in vals], "requiresGrad": rg}
        )
    out = OPS[op](roles, args)
    up = torch.round(torch.randn(out.shape, generator=g, dtype=torch.float64) * 100) / 100 + 0.5
    up = up.to(out.dtype)
    out.backward(up)
    grads = [enc(t.grad if t.grad is not None else torch.zeros_like(t)) if rg else None for t, rg in leaves]
    CASES.append({"name": full, "op": op, "args": args, "inputs": specs, "output": enc(out), "upstream": enc(up), "grads": grads})


FLOATS = ["float32", "float64"]

# ---- element-wise regression losses -------------------------------------------------------------
for op, variants in [
    ("mseLoss", [{}]),
    ("l1Loss", [{}]),
    ("huberLoss", [{}, {"delta": 0.5}, {"delta": 2.5}]),
    ("smoothL1Loss", [{}, {"beta": 0.5}, {"beta": 0.0}, {"beta": 2.5}]),
    ("mapeLoss", [{}, {"eps": 0.5}]),
]:
    for v in variants:
        tag = "_".join(f"{k}{val}" for k, val in v.items()) or "default"
        for dt in FLOATS:
            for red in REDUCTIONS:
                tkind = "pos" if op == "mapeLoss" else "randn"
                case(f"{tag}_{dt}_{red}", op, {**v, "reduction": red}, [In("input", [3, 4], dt), In("target", [3, 4], dt, tkind)])
        # gradient with respect to the target too, and a 3-D / 0-d shape
        case(f"{tag}_target_grad", op, v, [In("input", [2, 3, 2]), In("target", [2, 3, 2], kind="pos" if op == "mapeLoss" else "randn", grad=True)])
        case(f"{tag}_0d", op, v, [In("input", []), In("target", [], kind="pos")])
    # hostile: large magnitudes, exact ties (x == t), kinks exactly at delta / beta
    big = [1e4, -1e4, 3e3, 0.5, 1.0, -2.0, 0.25, 7.0]
    tgt = [-1e4, 1e4, 3e3, 0.5, 0.0, -1.0, 0.75, 4.5]
    if op == "mapeLoss":
        tgt = [-1e4, 1e4, 3e3, 0.5, 2.0, -1.0, 0.75, 4.5]
    for dt in FLOATS:
        for red in ["mean", "none"]:
            case(f"hostile_{dt}_{red}", op, {**variants[0], "reduction": red}, [In("input", [8], dt, values=big), In("target", [8], dt, values=tgt)])

# MAPE with a zero target under the eps guard
for dt in FLOATS:
    case(f"zero_target_eps_{dt}", "mapeLoss", {"eps": 1e-3, "reduction": "none"},
         [In("input", [4], dt, values=[0.5, 0.0, -2.0, 1.0]), In("target", [4], dt, values=[0.0, 0.0, 1.0, -0.0])])

# ---- cross entropy / nll -------------------------------------------------------------------------
N, C = 5, 4
for dt in FLOATS:
    for red in REDUCTIONS:
        case(f"index_{dt}_{red}", "crossEntropy", {"reduction": red}, [In("input", [N, C], dt), In("target", [N], "int32", "cls", hi=C)])
        case(f"weight_{dt}_{red}", "crossEntropy", {"reduction": red},
             [In("input", [N, C], dt), In("target", [N], "int32", "cls", hi=C), In("weight", [C], dt, "pos")])
        case(f"ignore_{dt}_{red}", "crossEntropy", {"reduction": red},
             [In("input", [N, C], dt), In("target", [N], "int32", values=[0, -100, 3, 2, -100]), In("weight", [C], dt, "pos")])
        case(f"ignore_custom_{dt}_{red}", "crossEntropy", {"reduction": red, "ignoreIndex": 1},
             [In("input", [N, C], dt), In("target", [N], "int32", values=[0, 1, 3, 1, 2])])
        case(f"smoothing_{dt}_{red}", "crossEntropy", {"reduction": red, "labelSmoothing": 0.1},
             [In("input", [N, C], dt), In("target", [N], "int32", "cls", hi=C)])
        case(f"smoothing_weight_ignore_{dt}_{red}", "crossEntropy", {"reduction": red, "labelSmoothing": 0.25},
             [In("input", [N, C], dt), In("target", [N], "int32", values=[2, -100, 0, 3, 1]), In("weight", [C], dt, "pos")])
        case(f"smoothing_ignore_{dt}_{red}", "crossEntropy", {"reduction": red, "labelSmoothing": 0.3},
             [In("input", [N, C], dt), In("target", [N], "int32", values=[2, -100, 0, 3, 1])])
        case(f"probs_{dt}_{red}", "crossEntropy", {"reduction": red}, [In("input", [N, C], dt), probs("target", [N, C], dt)])
        case(f"probs_weight_smoothing_{dt}_{red}", "crossEntropy", {"reduction": red, "labelSmoothing": 0.2},
             [In("input", [N, C], dt), probs("target", [N, C], dt), In("weight", [C], dt, "pos")])
        case(f"kdim_{dt}_{red}", "crossEntropy", {"reduction": red},
             [In("input", [2, C, 3, 2], dt), In("target", [2, 3, 2], "int32", "cls", hi=C)])
        case(f"kdim_weight_ignore_smoothing_{dt}_{red}", "crossEntropy", {"reduction": red, "labelSmoothing": 0.15},
             [In("input", [2, C, 3], dt), In("target", [2, 3], "int32", values=[0, -100, 3, 2, 1, -100]), In("weight", [C], dt, "pos")])
        case(f"kdim_probs_{dt}_{red}", "crossEntropy", {"reduction": red},
             [In("input", [2, C, 3], dt), probs("target", [2, C, 3], dt)])
        # hostile logits: ±100 and ±1e4 (finite in PyTorch, so they must be finite here)
        for mag in [100, 1e4]:
            hv = [mag, -mag, 0.0, 1.0, -mag, mag, mag, -mag, 0.5, -mag, -mag, -mag]
            case(f"hostile{mag:g}_{dt}_{red}", "crossEntropy", {"reduction": red, "labelSmoothing": 0.1},
                 [In("input", [3, C], dt, values=hv), In("target", [3], "int32", values=[1, 0, 2])])
            case(f"hostile{mag:g}_probs_{dt}_{red}", "crossEntropy", {"reduction": red},
                 [In("input", [3, C], dt, values=hv), probs("target", [3, C], dt)])
    case(f"unbatched_{dt}", "crossEntropy", {}, [In("input", [C], dt), In("target", [], "int32", values=[2])])
    case(f"unbatched_probs_{dt}", "crossEntropy", {}, [In("input", [C], dt), probs("target", [C], dt, dim=0)])
    case(f"all_ignored_{dt}", "crossEntropy", {}, [In("input", [2, C], dt), In("target", [2], "int32", values=[-100, -100])])
    case(f"all_ignored_sum_{dt}", "crossEntropy", {"reduction": "sum"}, [In("input", [2, C], dt), In("target", [2], "int32", values=[-100, -100])])

    for red in REDUCTIONS:
        case(f"basic_{dt}_{red}", "nllLoss", {"reduction": red}, [In("input", [N, C], dt), In("target", [N], "int32", "cls", hi=C)])
        case(f"weight_ignore_{dt}_{red}", "nllLoss", {"reduction": red},
             [In("input", [N, C], dt), In("target", [N], "int32", values=[3, -100, 0, 1, 3]), In("weight", [C], dt, "pos")])
        case(f"ignore_custom_{dt}_{red}", "nllLoss", {"reduction": red, "ignoreIndex": 0},
             [In("input", [N, C], dt), In("target", [N], "int32", values=[3, 0, 0, 1, 2])])
        case(f"kdim_weight_{dt}_{red}", "nllLoss", {"reduction": red},
             [In("input", [2, C, 2, 3], dt), In("target", [2, 2, 3], "int32", "cls", hi=C), In("weight", [C], dt, "pos")])
        case(f"hostile_{dt}_{red}", "nllLoss", {"reduction": red},
             [In("input", [3, C], dt, values=[-1e4, 0, -100, -1e-7, 0, -1e4, -1e4, -1e4, -50, -50, -0.0, -1e4]),
              In("target", [3], "int32", values=[0, 1, 3])])
    case(f"unbatched_{dt}", "nllLoss", {}, [In("input", [C], dt), In("target", [], "int32", values=[1])])

# ---- binary cross entropy ------------------------------------------------------------------------
for dt in FLOATS:
    for red in REDUCTIONS:
        case(f"basic_{dt}_{red}", "binaryCrossEntropy", {"reduction": red}, [In("input", [3, 4], dt, "prob"), In("target", [3, 4], dt, "prob")])
        case(f"weight_{dt}_{red}", "binaryCrossEntropy", {"reduction": red},
             [In("input", [3, 4], dt, "prob"), In("target", [3, 4], dt, "prob"), In("weight", [4], dt, "pos")])
        # log clamped at -100; gradient denominator clamped at 1e-12 (PyTorch's backward)
        case(f"hostile_{dt}_{red}", "binaryCrossEntropy", {"reduction": red},
             [In("input", [8], dt, values=[0.0, 1.0, 0.0, 1.0, 1e-30, 1e-7, 0.9999, 0.5]),
              In("target", [8], dt, values=[1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.3])])
        case(f"basic_{dt}_{red}", "binaryCrossEntropyWithLogits", {"reduction": red}, [In("input", [3, 4], dt), In("target", [3, 4], dt, "prob")])
        case(f"weight_posweight_{dt}_{red}", "binaryCrossEntropyWithLogits", {"reduction": red},
             [In("input", [3, 4], dt), In("target", [3, 4], dt, "prob"), In("weight", [3, 1], dt, "pos"), In("posWeight", [4], dt, "pos")])
        case(f"posweight_{dt}_{red}", "binaryCrossEntropyWithLogits", {"reduction": red},
             [In("input", [3, 4], dt), In("target", [3, 4], dt, "prob"), In("posWeight", [4], dt, "pos")])
        for mag in [100, 1e4]:
            hv = [mag, -mag, mag, -mag, 0.0, 0.0, mag, -mag]
            case(f"hostile{mag:g}_{dt}_{red}", "binaryCrossEntropyWithLogits", {"reduction": red},
                 [In("input", [8], dt, values=hv), In("target", [8], dt, values=[1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.3, 0.7])])
            case(f"hostile{mag:g}_posweight_{dt}_{red}", "binaryCrossEntropyWithLogits", {"reduction": red},
                 [In("input", [2, 4], dt, values=hv), In("target", [2, 4], dt, values=[1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.3, 0.7]),
                  In("posWeight", [4], dt, values=[2.0, 0.5, 3.0, 1.0])])
    case(f"target_grad_{dt}", "binaryCrossEntropy", {}, [In("input", [2, 3], dt, "prob"), In("target", [2, 3], dt, "prob", grad=True)])
    case(f"target_grad_{dt}", "binaryCrossEntropyWithLogits", {},
         [In("input", [2, 3], dt), In("target", [2, 3], dt, "prob", grad=True), In("posWeight", [3], dt, "pos")])

# ---- hinge embedding, multi margin, KL divergence ------------------------------------------------
for dt in FLOATS:
    for red in REDUCTIONS:
        for m in [1.0, 0.5, 2.0]:
            case(f"margin{m}_{dt}_{red}", "hingeEmbeddingLoss", {"reduction": red, "margin": m},
                 [In("input", [3, 4], dt, scale=1.5), In("target", [3, 4], dt, "sign")])
        # ties: margin - x == 0 exactly (the gradient passes, as clamp_min's does); a target that is neither ±1
        case(f"ties_{dt}_{red}", "hingeEmbeddingLoss", {"reduction": red},
             [In("input", [6], dt, values=[1.0, 1.0, -0.5, 2.0, 0.25, 3.0]), In("target", [6], dt, values=[-1, 1, -1, -1, 0.5, 1])])
        for p in [1, 2]:
            case(f"p{p}_{dt}_{red}", "multiMarginLoss", {"reduction": red, "p": p},
                 [In("input", [N, C], dt), In("target", [N], "int32", "cls", hi=C)])
            case(f"p{p}_weight_margin_{dt}_{red}", "multiMarginLoss", {"reduction": red, "p": p, "margin": 0.7},
                 [In("input", [N, C], dt), In("target", [N], "int32", "cls", hi=C), In("weight", [C], dt, "pos")])
        case(f"ties_{dt}_{red}", "multiMarginLoss", {"reduction": red},
             [In("input", [2, 3], dt, values=[1.0, 2.0, 3.0, 0.0, 0.5, 1.5]), In("target", [2], "int32", values=[2, 1])])
        for lt in [False, True]:
            for kl_red in ([red, "batchmean"] if red == "mean" else [red]):
                tgt = In("target", [3, 4], dt, "randn", grad=True) if lt else probs("target", [3, 4], dt)
                case(f"logTarget{lt}_{dt}_{kl_red}", "klDiv", {"reduction": kl_red, "logTarget": lt},
                     [In("input", [3, 4], dt), tgt])
    case(f"unbatched_{dt}", "multiMarginLoss", {"p": 2}, [In("input", [C], dt), In("target", [], "int32", values=[3])])
    case(f"zero_target_{dt}", "klDiv", {"reduction": "none"},
         [In("input", [4], dt, values=[-1e4, -0.5, -2.0, -1e4]), In("target", [4], dt, values=[0.0, 0.5, 0.5, 0.0])])
    case(f"hostile_{dt}", "klDiv", {"reduction": "sum"},
         [In("input", [4], dt, values=[-1e4, -100, -2.0, 0.0]), In("target", [4], dt, values=[0.1, 0.2, 0.3, 0.4])])
    case(f"hostile_logTarget_{dt}", "klDiv", {"reduction": "sum", "logTarget": True},
         [In("input", [4], dt, values=[-1e4, -100, -2.0, 0.0]), In("target", [4], dt, values=[-1e4, -100, -1.0, -0.5])])

# ---- CTC ------------------------------------------------------------------------------------------
T, B, K = 8, 3, 5
for dt in FLOATS:
    for red in REDUCTIONS:
        # variable input and target lengths, padded [N, S] targets (padding filled with junk labels)
        case(f"padded_{dt}_{red}", "ctcLoss", {"reduction": red},
             [In("logits", [T, B, K], dt, scale=2.0), In("targets", [B, 4], "int32", values=[1, 2, 3, 9, 4, 4, 7, 7, 2, 3, 3, 1]),
              In("inputLengths", [B], "int32", values=[8, 6, 7]), In("targetLengths", [B], "int32", values=[3, 2, 4])])
        # concatenated 1-D targets with repeated labels (need an extra blank between equal neighbours)
        case(f"concat_repeats_{dt}_{red}", "ctcLoss", {"reduction": red},
             [In("logits", [T, B, K], dt, scale=2.0), In("targets", [9], "int32", values=[1, 1, 2, 3, 3, 3, 4, 2, 2]),
              In("inputLengths", [B], "int32", values=[7, 8, 5]), In("targetLengths", [B], "int32", values=[3, 3, 3])])
        # blank in the last class, and an empty target
        case(f"blank_last_empty_{dt}_{red}", "ctcLoss", {"reduction": red, "blank": K - 1},
             [In("logits", [T, B, K], dt), In("targets", [B, 3], "int32", values=[0, 1, 2, 3, 3, 0, 0, 0, 0]),
              In("inputLengths", [B], "int32", values=[8, 8, 4]), In("targetLengths", [B], "int32", values=[3, 2, 0])])
        # an impossible alignment in sample 1 (3 steps for "2 2 2", which needs 5)
        for zi in [False, True]:
            case(f"impossible_zeroInf{zi}_{dt}_{red}", "ctcLoss", {"reduction": red, "zeroInfinity": zi},
                 [In("logits", [5, 2, 4], dt), In("targets", [2, 3], "int32", values=[1, 2, 3, 2, 2, 2]),
                  In("inputLengths", [2], "int32", values=[5, 3]), In("targetLengths", [2], "int32", values=[3, 3])])
    for mag in [100, 1e4]:
        # hostile logits: log_softmax gives logProbs down to -2·mag
        case(f"hostile{mag:g}_{dt}", "ctcLoss", {},
             [In("logits", [4, 2, 3], dt, values=[mag, -mag, 0.0, -mag, mag, mag, 0.5, -mag, mag, mag, 0.0, -mag,
                                                   -mag, mag, -mag, 0.0, 0.0, mag, mag, -mag, 0.0, -mag, -mag, mag]),
              In("targets", [2, 2], "int32", values=[1, 2, 2, 1]), In("inputLengths", [2], "int32", values=[4, 4]),
              In("targetLengths", [2], "int32", values=[2, 2])])
    case(f"unbatched_{dt}", "ctcLoss", {},
         [In("logits", [6, K], dt), In("targets", [3], "int32", values=[2, 2, 4]), In("inputLengths", [], "int32", values=[6]),
          In("targetLengths", [], "int32", values=[3])])
    case(f"exact_fit_{dt}", "ctcLoss", {"reduction": "sum"},
         [In("logits", [5, 1, 3], dt), In("targets", [1, 3], "int32", values=[1, 1, 1]), In("inputLengths", [1], "int32", values=[5]),
          In("targetLengths", [1], "int32", values=[3])])


def main():
    doc = {"generator": "scripts/fixtures_loss.py", "torch": torch.__version__, "cases": CASES}
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"nn_loss.json: {len(CASES)} cases, {os.path.getsize(OUT) // 1024} KiB")


if __name__ == "__main__":
    main()
