#!/usr/bin/python3
"""PyTorch reference values for convolution, pooling, batch norm, unfold and fold (issue 3, nn).

Run with Debian's python3-torch (PyTorch 1.13):  /usr/bin/python3 scripts/fixtures_conv.py
Writes test/fixtures/nn_conv.json; test/nn/conv.test.ts replays every case through Descent.

A case is { name, kind, args, dtype, state, steps, stateAfter? }:
  - `kind` is a layer class (Conv1d, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm1d,
    BatchNorm2d) or a functional form (F.unfold, F.fold); `args` are Descent's arguments:
    `positional` (PyTorch's required ones) and `options` (camelCase, tuples as arrays, None as null).
  - `state` is the module's state dict before the first step (weights drawn here, loaded by the test).
  - each step is { train, input, output, upstream, grads }: the module runs in train or eval mode on
    `input`; the scalar (output * upstream).sum() is differentiated, and `grads` holds the gradient
    w.r.t. "input" and every parameter by its state-dict name. Gradients are reset between steps.
  - `repr`: str(module) (layers only), which Descent's toString() must reproduce.
  - `stateAfter`: the buffers after all steps (BatchNorm's running statistics, num_batches_tracked).
Tensors are { shape, dtype, values } with flat row-major values; int64 is written as int32.
Each case draws from a generator seeded by its name, so adding a case does not change the others.
"""

import json
import os
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.use_deterministic_algorithms(True)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "nn_conv.json")
NAME = {torch.float32: "float32", torch.float64: "float64", torch.int32: "int32", torch.int64: "int32"}
DT = {"float32": torch.float32, "float64": torch.float64}


def enc(t):
    t = t.detach()
    dtype = NAME[t.dtype]
    vals = t.reshape(-1).tolist()
    if dtype == "float32":
        vals = [float("%.9g" % v) for v in vals]  # exact round trip for float32
    elif dtype == "int32":
        vals = [int(v) for v in vals]
    return {"shape": list(t.shape), "dtype": dtype, "values": vals}


def snake(k):
    return "".join("_" + c.lower() if c.isupper() else c for c in k)


def torch_kwargs(options):
    out = {}
    for k, v in options.items():
        if k == "dtype":
            continue
        out[snake(k)] = tuple(v) if isinstance(v, list) else v
    return out


LAYERS = {
    "Conv1d": nn.Conv1d,
    "Conv2d": nn.Conv2d,
    "MaxPool2d": nn.MaxPool2d,
    "AvgPool2d": nn.AvgPool2d,
    "AdaptiveAvgPool2d": nn.AdaptiveAvgPool2d,
    "BatchNorm1d": nn.BatchNorm1d,
    "BatchNorm2d": nn.BatchNorm2d,
}


class Functional(nn.Module):
    def __init__(self, fn, positional, kwargs):
        super().__init__()
        self.fn, self.positional, self.kwargs = fn, positional, kwargs

    def forward(self, x):
        return self.fn(x, *self.positional, **self.kwargs)


def build(kind, positional, options, dtype):
    pos = [tuple(p) if isinstance(p, list) else p for p in positional]
    if kind.startswith("F."):
        return Functional(getattr(F, kind[2:]), pos, torch_kwargs(options))
    return LAYERS[kind](*pos, **torch_kwargs(options)).to(dtype)


CASES = []


def case(name, kind, positional, options, shapes, dtype="float32", train=None, gen=None):
    """shapes: one input shape per step; train: the mode of each step (default all train)."""
    CASES.append((name, kind, positional, options, shapes, dtype, train or [True] * len(shapes), gen))


def run(name, kind, positional, options, shapes, dtype, train, gen):
    g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    dt = DT[dtype]
    m = build(kind, positional, options, dt)
    with torch.no_grad():
        for k, p in m.named_parameters():
            if k == "weight" and kind.startswith("BatchNorm"):
                p.copy_(torch.rand(p.shape, generator=g, dtype=dt) + 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g, dtype=dt) * 0.5)
    state = {k: enc(v) for k, v in m.state_dict().items()}
    steps = []
    for shape, tr in zip(shapes, train):
        m.train(tr)
        x = gen(shape, g, dt) if gen else torch.randn(shape, generator=g, dtype=dt) * 1.5 + 0.3
        x.requires_grad_(True)
        m.zero_grad()
        y = m(x)
        up = torch.randn(y.shape, generator=g, dtype=dt)
        (y * up).sum().backward()
        grads = {"input": enc(x.grad)}
        for k, p in m.named_parameters():
            grads[k] = enc(p.grad)
        steps.append({"train": tr, "input": enc(x), "output": enc(y), "upstream": enc(up), "grads": grads})
    out = {
        "name": name,
        "kind": kind,
        "args": {"positional": positional, "options": options},
        "dtype": dtype,
        "state": state,
        "steps": steps,
    }
    if not kind.startswith("F."):
        out["repr"] = str(m)
    if len(list(m.buffers())) > 0:
        out["stateAfter"] = {k: enc(v) for k, v in m.named_buffers()}
    return out


def ties(shape, g, dt):
    return torch.randint(0, 3, shape, generator=g).to(dt)


def distinct(shape, g, dt):
    n = 1
    for s in shape:
        n *= s
    return (torch.randperm(n, generator=g).to(dt) * 0.25 - n / 8).reshape(shape)


# ---- Conv2d ----
case("conv2d basic", "Conv2d", [3, 4, 3], {}, [[2, 3, 7, 6]])
case("conv2d stride 2 padding 1 kernel 3x2", "Conv2d", [3, 4, [3, 2]], {"stride": 2, "padding": 1}, [[2, 3, 9, 7]])
case("conv2d dilation 2 padding [2,1]", "Conv2d", [2, 3, 3], {"padding": [2, 1], "dilation": 2}, [[2, 2, 8, 9]])
case("conv2d groups 2 stride [2,1]", "Conv2d", [4, 6, 3], {"stride": [2, 1], "groups": 2}, [[2, 4, 7, 7]])
case("conv2d depthwise no bias", "Conv2d", [3, 6, 3], {"padding": 1, "groups": 3, "bias": False}, [[1, 3, 5, 6]])
case("conv2d same even kernel", "Conv2d", [2, 3, 4], {"padding": "same"}, [[2, 2, 6, 7]])
case("conv2d same dilated", "Conv2d", [2, 3, [3, 2]], {"padding": "same", "dilation": [2, 3]}, [[1, 2, 7, 8]])
case("conv2d valid", "Conv2d", [2, 2, [2, 3]], {"padding": "valid"}, [[1, 2, 5, 5]])
case("conv2d unbatched", "Conv2d", [3, 2, 3], {"padding": 1}, [[3, 5, 4]])
case("conv2d 1x1", "Conv2d", [5, 3, 1], {}, [[2, 5, 4, 4]])
case("conv2d float64", "Conv2d", [3, 4, 3], {"stride": 2, "padding": 1, "dtype": "float64"}, [[2, 3, 7, 7]], "float64")
# ---- Conv1d ----
case("conv1d basic", "Conv1d", [3, 4, 3], {}, [[2, 3, 10]])
case("conv1d stride padding dilation groups", "Conv1d", [4, 6, 3], {"stride": 2, "padding": 2, "dilation": 2, "groups": 2}, [[2, 4, 11]])
case("conv1d same even kernel", "Conv1d", [2, 3, 4], {"padding": "same"}, [[2, 2, 9]])
case("conv1d unbatched no bias", "Conv1d", [3, 2, 5], {"bias": False}, [[3, 12]])
case("conv1d float64", "Conv1d", [2, 3, 3], {"stride": 3, "padding": 1, "dtype": "float64"}, [[2, 2, 10]], "float64")
# ---- MaxPool2d ----
case("maxpool k2", "MaxPool2d", [2], {}, [[2, 3, 8, 8]], gen=distinct)
case("maxpool k3 s2 p1", "MaxPool2d", [3], {"stride": 2, "padding": 1}, [[2, 2, 9, 7]], gen=distinct)
case("maxpool dilation", "MaxPool2d", [[3, 2]], {"stride": [2, 1], "padding": 1, "dilation": 2}, [[1, 2, 9, 8]], gen=distinct)
case("maxpool ceil", "MaxPool2d", [3], {"stride": 2, "ceilMode": True}, [[1, 2, 8, 8]], gen=distinct)
case("maxpool ceil padding", "MaxPool2d", [3], {"stride": 2, "padding": 1, "ceilMode": True}, [[1, 2, 10, 7]], gen=distinct)
# Ties: the values are 0, 1, 2, so most windows hold several maxima; PyTorch's CPU kernel sends the
# gradient to the first maximum in row-major window order, and so does Descent (argmax takes the first).
case("maxpool ties", "MaxPool2d", [2], {"stride": 1}, [[1, 2, 5, 5]], gen=ties)
case("maxpool unbatched", "MaxPool2d", [2], {}, [[2, 6, 6]], gen=distinct)
case("maxpool float64", "MaxPool2d", [3], {"stride": 2, "padding": 1}, [[1, 2, 7, 7]], "float64", gen=distinct)
# ---- AvgPool2d ----
case("avgpool k2", "AvgPool2d", [2], {}, [[2, 3, 6, 6]])
case("avgpool k3 s2 p1 include pad", "AvgPool2d", [3], {"stride": 2, "padding": 1}, [[2, 2, 7, 8]])
case("avgpool k3 s2 p1 exclude pad", "AvgPool2d", [3], {"stride": 2, "padding": 1, "countIncludePad": False}, [[2, 2, 7, 8]])
case("avgpool ceil include pad", "AvgPool2d", [3], {"stride": 2, "padding": 1, "ceilMode": True}, [[1, 2, 8, 8]])
case("avgpool ceil exclude pad", "AvgPool2d", [3], {"stride": 2, "padding": 1, "ceilMode": True, "countIncludePad": False}, [[1, 2, 8, 8]])
case("avgpool ceil no pad", "AvgPool2d", [2], {"stride": 2, "ceilMode": True}, [[1, 1, 5, 5]])
case("avgpool divisor override", "AvgPool2d", [2], {"stride": 1, "divisorOverride": 3}, [[1, 2, 4, 5]])
case("avgpool unbatched", "AvgPool2d", [[2, 3]], {"stride": [1, 2]}, [[3, 4, 7]])
case("avgpool float64", "AvgPool2d", [3], {"stride": 2, "padding": 1, "countIncludePad": False}, [[1, 2, 7, 6]], "float64")
# ---- AdaptiveAvgPool2d ----
case("adaptive 3x4 from 7x9", "AdaptiveAvgPool2d", [[3, 4]], {}, [[2, 3, 7, 9]])
case("adaptive 1", "AdaptiveAvgPool2d", [1], {}, [[2, 3, 5, 6]])
case("adaptive None x 2", "AdaptiveAvgPool2d", [[None, 2]], {}, [[1, 2, 5, 7]])
case("adaptive larger than input", "AdaptiveAvgPool2d", [[5, 6]], {}, [[1, 1, 3, 4]])
case("adaptive divisible", "AdaptiveAvgPool2d", [[2, 2]], {}, [[1, 2, 8, 6]])
case("adaptive unbatched", "AdaptiveAvgPool2d", [[2, 3]], {}, [[3, 5, 7]])
case("adaptive float64", "AdaptiveAvgPool2d", [[3, 2]], {}, [[1, 2, 7, 5]], "float64")
# ---- BatchNorm: two training steps, then eval ----
TE = [True, True, False]
case("batchnorm1d [N,C]", "BatchNorm1d", [4], {}, [[6, 4]] * 3, train=TE)
case("batchnorm1d [N,C,L]", "BatchNorm1d", [3], {}, [[4, 3, 5]] * 3, train=TE)
case("batchnorm2d", "BatchNorm2d", [3], {}, [[4, 3, 5, 6]] * 3, train=TE)
case("batchnorm2d momentum eps", "BatchNorm2d", [3], {"momentum": 0.3, "eps": 1e-3}, [[3, 3, 4, 4]] * 3, train=TE)
case("batchnorm2d cumulative", "BatchNorm2d", [2], {"momentum": None}, [[3, 2, 4, 5]] * 3, train=TE)
case("batchnorm2d no affine", "BatchNorm2d", [3], {"affine": False}, [[2, 3, 4, 4]] * 3, train=TE)
case("batchnorm2d no running stats", "BatchNorm2d", [3], {"trackRunningStats": False}, [[2, 3, 4, 4]] * 3, train=TE)
case("batchnorm1d float64", "BatchNorm1d", [3], {"dtype": "float64"}, [[5, 3, 4]] * 3, "float64", train=TE)
# ---- unfold / fold ----
WIN = {"dilation": [1, 2], "padding": 1, "stride": [2, 1]}
case("unfold", "F.unfold", [[2, 3]], WIN, [[2, 3, 5, 6]])
case("unfold unbatched", "F.unfold", [2], {"stride": 2}, [[2, 5, 4]])
case("fold", "F.fold", [[5, 6], [2, 3]], WIN, [[2, 18, 12]])
case("fold float64", "F.fold", [[4, 5], 2], {"stride": 1}, [[1, 8, 12]], "float64")


def main():
    cases = [run(*c) for c in CASES]
    with open(OUT, "w") as f:
        json.dump({"generator": "scripts/fixtures_conv.py", "torch": torch.__version__, "cases": cases}, f)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
