#!/usr/bin/python3
"""PyTorch reference values for the issue-13 layers: ConvTranspose1d/2d, GroupNorm, InstanceNorm2d,
Upsample (F.interpolate), PixelShuffle, PixelUnshuffle, Unflatten.

Run with Debian's python3-torch (PyTorch 1.13):  /usr/bin/python3 scripts/fixtures_layers.py
Writes test/fixtures/layers.json; test/nn/layers_new.test.ts replays every case through Descent.

The case format is scripts/fixtures_conv.py's: { name, kind, args, dtype, state, steps, repr,
stateAfter? }, where `kind` is a layer class and `args` are Descent's arguments (`positional` and
camelCase `options`, tuples as arrays, None as null). Each step runs in train or eval mode on
`input` and holds the output and the gradients of (output * upstream).sum() w.r.t. "input" and every
parameter by its state-dict name. `forward` (optional) holds extra forward arguments (ConvTranspose's
outputSize). Dropout1d/Dropout2d are random and tested by their statistics instead.
Each case draws from a generator seeded by a CRC of its name, so adding a case changes no other.
"""

import json
import os
import zlib

import torch
import torch.nn as nn

from fixture_encoding import enc_value

torch.use_deterministic_algorithms(True)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "layers.json")
NAME = {torch.float32: "float32", torch.float64: "float64", torch.int32: "int32", torch.int64: "int32"}
DT = {"float32": torch.float32, "float64": torch.float64}


def enc(t):
    t = t.detach()
    dtype = NAME[t.dtype]
    return {"shape": list(t.shape), "dtype": dtype, "values": [enc_value(v, dtype) for v in t.reshape(-1).tolist()]}


def snake(k):
    return "".join("_" + c.lower() if c.isupper() else c for c in k)


def torch_kwargs(options):
    return {snake(k): tuple(v) if isinstance(v, list) else v for k, v in options.items() if k != "dtype"}


LAYERS = {
    "ConvTranspose1d": nn.ConvTranspose1d,
    "ConvTranspose2d": nn.ConvTranspose2d,
    "GroupNorm": nn.GroupNorm,
    "InstanceNorm2d": nn.InstanceNorm2d,
    "Upsample": nn.Upsample,
    "PixelShuffle": nn.PixelShuffle,
    "PixelUnshuffle": nn.PixelUnshuffle,
    "Unflatten": nn.Unflatten,
}
NORMS = ("GroupNorm", "InstanceNorm2d")

CASES = []


def case(name, kind, positional, options, shapes, dtype="float32", train=None, forward=None):
    """shapes: one input shape per step; train: the mode of each step (default all train)."""
    CASES.append((name, kind, positional, options, shapes, dtype, train or [True] * len(shapes), forward))


def run(name, kind, positional, options, shapes, dtype, train, forward):
    g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    dt = DT[dtype]
    pos = [tuple(p) if isinstance(p, list) else p for p in positional]
    m = LAYERS[kind](*pos, **torch_kwargs(options)).to(dt)
    with torch.no_grad():
        for k, p in m.named_parameters():
            if k == "weight" and kind in NORMS:
                p.copy_(torch.rand(p.shape, generator=g, dtype=dt) + 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g, dtype=dt) * 0.5)
    state = {k: enc(v) for k, v in m.state_dict().items()}
    fwd = {snake(k): v for k, v in (forward or {}).items()}
    steps = []
    for shape, tr in zip(shapes, train):
        m.train(tr)
        x = (torch.randn(shape, generator=g, dtype=dt) * 1.5 + 0.3).requires_grad_(True)
        m.zero_grad()
        y = m(x, **fwd)
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
        "repr": str(m),
    }
    if forward:
        out["forward"] = forward
    if len(list(m.buffers())) > 0:
        out["stateAfter"] = {k: enc(v) for k, v in m.named_buffers()}
    return out


F64 = {"dtype": "float64"}
# ---- ConvTranspose2d ----
case("convT2d basic", "ConvTranspose2d", [3, 4, 3], {}, [[2, 3, 4, 5]])
case("convT2d stride 2 padding 1 outputPadding 1", "ConvTranspose2d", [3, 2, 3], {"stride": 2, "padding": 1, "outputPadding": 1}, [[2, 3, 4, 3]])
case("convT2d kernel [3,2] stride [2,1] padding [0,1]", "ConvTranspose2d", [2, 3, [3, 2]], {"stride": [2, 1], "padding": [0, 1]}, [[1, 2, 3, 4]])
# outputPadding 2 ≥ stride 2 is allowed because dilation is 3: the zero-pixel path of col2im.
case("convT2d dilation 3 stride 2 outputPadding 2", "ConvTranspose2d", [2, 2, 2], {"stride": 2, "dilation": 3, "outputPadding": 2, "padding": 1}, [[1, 2, 3, 3]])
case("convT2d groups 2 no bias", "ConvTranspose2d", [4, 6, 3], {"groups": 2, "bias": False, "stride": [1, 2]}, [[2, 4, 3, 3]])
case("convT2d depthwise", "ConvTranspose2d", [3, 3, 2], {"groups": 3, "stride": 2}, [[1, 3, 3, 2]])
case("convT2d unbatched", "ConvTranspose2d", [2, 3, 2], {"stride": 2}, [[2, 3, 3]])
case("convT2d outputSize", "ConvTranspose2d", [2, 2, 3], {"stride": 3, "padding": 1}, [[1, 2, 3, 3]], forward={"outputSize": [9, 8]})
case("convT2d float64", "ConvTranspose2d", [3, 4, 3], {"stride": 2, "padding": 1, "outputPadding": [1, 0], **F64}, [[2, 3, 3, 4]], "float64")
# ---- ConvTranspose1d ----
case("convT1d basic", "ConvTranspose1d", [3, 4, 3], {}, [[2, 3, 6]])
case("convT1d stride padding outputPadding dilation groups", "ConvTranspose1d", [4, 6, 3], {"stride": 3, "padding": 2, "outputPadding": 1, "dilation": 2, "groups": 2}, [[2, 4, 5]])
case("convT1d unbatched no bias", "ConvTranspose1d", [2, 3, 4], {"bias": False, "stride": 2}, [[2, 5]])
case("convT1d outputSize", "ConvTranspose1d", [2, 1, 3], {"stride": 2}, [[1, 2, 4]], forward={"outputSize": [10]})
case("convT1d float64", "ConvTranspose1d", [2, 3, 3], {"stride": 2, "padding": 1, **F64}, [[2, 2, 5]], "float64")
# ---- GroupNorm ----
case("groupnorm 2 groups of 3", "GroupNorm", [2, 6], {}, [[3, 6, 4, 5]])
case("groupnorm [N,C,L] no affine eps", "GroupNorm", [3, 6], {"affine": False, "eps": 1e-3}, [[2, 6, 7]])
case("groupnorm [N,C]", "GroupNorm", [2, 8], {}, [[5, 8]])
case("groupnorm one group per channel", "GroupNorm", [3, 3], {}, [[2, 3, 3, 3]])
case("groupnorm float64", "GroupNorm", [2, 4], F64, [[2, 4, 3, 5]], "float64")
# ---- InstanceNorm2d: two training steps, then eval ----
TE = [True, True, False]
case("instancenorm2d default", "InstanceNorm2d", [3], {}, [[2, 3, 4, 5]] * 3, train=TE)
case("instancenorm2d affine", "InstanceNorm2d", [3], {"affine": True}, [[2, 3, 4, 4]] * 2)
case("instancenorm2d tracked", "InstanceNorm2d", [3], {"trackRunningStats": True}, [[3, 3, 4, 5]] * 3, train=TE)
case("instancenorm2d affine tracked momentum eps", "InstanceNorm2d", [2], {"affine": True, "trackRunningStats": True, "momentum": 0.3, "eps": 1e-3}, [[2, 2, 3, 4]] * 3, train=TE)
case("instancenorm2d unbatched", "InstanceNorm2d", [3], {"affine": True}, [[3, 4, 5]])
case("instancenorm2d float64 tracked", "InstanceNorm2d", [2], {"trackRunningStats": True, **F64}, [[2, 2, 3, 3]] * 3, "float64", train=TE)
# ---- Upsample / interpolate ----
case("nearest 2d size", "Upsample", [], {"size": [5, 7]}, [[2, 3, 3, 4]])
case("nearest 2d scale 2", "Upsample", [], {"scaleFactor": 2}, [[1, 2, 3, 4]])
case("nearest 2d scale 1.5", "Upsample", [], {"scaleFactor": 1.5}, [[1, 2, 5, 7]])
case("nearest 2d scale [0.5, 1.7] downsample", "Upsample", [], {"scaleFactor": [0.5, 1.7]}, [[1, 2, 9, 6]])
case("nearest 2d size 3/7", "Upsample", [], {"size": [7, 3]}, [[1, 1, 3, 7]])
case("nearest 1d size", "Upsample", [], {"size": 11}, [[2, 3, 4]])
case("nearest 1d scale 2.5", "Upsample", [], {"scaleFactor": 2.5}, [[2, 2, 5]])
case("linear 1d size", "Upsample", [], {"size": 9, "mode": "linear"}, [[2, 3, 4]])
case("linear 1d scale 1.5", "Upsample", [], {"scaleFactor": 1.5, "mode": "linear"}, [[1, 2, 7]])
case("linear 1d downsample", "Upsample", [], {"size": 3, "mode": "linear"}, [[1, 2, 8]])
case("linear 1d align corners", "Upsample", [], {"size": 7, "mode": "linear", "alignCorners": True}, [[2, 2, 4]])
case("bilinear size", "Upsample", [], {"size": [6, 9], "mode": "bilinear"}, [[2, 2, 4, 5]])
case("bilinear scale 2", "Upsample", [], {"scaleFactor": 2, "mode": "bilinear"}, [[1, 2, 3, 4]])
case("bilinear scale [1.5, 0.6]", "Upsample", [], {"scaleFactor": [1.5, 0.6], "mode": "bilinear"}, [[1, 2, 5, 8]])
case("bilinear downsample size", "Upsample", [], {"size": [3, 2], "mode": "bilinear"}, [[1, 1, 7, 5]])
case("bilinear align corners", "Upsample", [], {"size": [7, 5], "mode": "bilinear", "alignCorners": True}, [[2, 1, 4, 3]])
case("bilinear align corners to 1", "Upsample", [], {"size": [1, 4], "mode": "bilinear", "alignCorners": True}, [[1, 2, 3, 3]])
case("bilinear float64", "Upsample", [], {"size": [5, 6], "mode": "bilinear", **F64}, [[1, 2, 3, 4]], "float64")
case("bilinear align corners float64", "Upsample", [], {"scaleFactor": 1.7, "mode": "bilinear", "alignCorners": True, **F64}, [[1, 2, 3, 4]], "float64")
case("nearest float64", "Upsample", [], {"scaleFactor": [1.5, 2.5], **F64}, [[1, 2, 3, 3]], "float64")
# ---- PixelShuffle / PixelUnshuffle / Unflatten ----
case("pixelshuffle 2", "PixelShuffle", [2], {}, [[2, 8, 3, 4]])
case("pixelshuffle 3 with two leading dims", "PixelShuffle", [3], {}, [[2, 2, 9, 2, 3]])
case("pixelshuffle unbatched", "PixelShuffle", [2], {}, [[4, 2, 3]])
case("pixelunshuffle 2", "PixelUnshuffle", [2], {}, [[2, 2, 4, 6]])
case("pixelunshuffle 3 float64", "PixelUnshuffle", [3], F64, [[1, 1, 6, 3]], "float64")
case("unflatten dim 1", "Unflatten", [1, [2, 3]], {}, [[4, 6, 5]])
case("unflatten dim -1 with -1", "Unflatten", [-1, [2, -1]], {}, [[3, 8]])


def main():
    cases = [run(*c) for c in CASES]
    with open(OUT, "w") as f:
        json.dump({"generator": "scripts/fixtures_layers.py", "torch": torch.__version__, "cases": cases}, f)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
