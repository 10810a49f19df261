#!/usr/bin/python3
"""Reference values from PyTorch for the core nn layers, nn.init and nn.utils clipping.

Run with Debian's python3-torch (PyTorch 1.13):  /usr/bin/python3 scripts/fixtures_nn_core.py
Writes test/fixtures/nn_core.json, replayed by test/nn/core.test.ts.

- "layers": each case names the Descent constructor (cls, args, opts), the module's state dict
  (loaded into the Descent module), the input, PyTorch's output, the upstream gradient R (the
  gradient of sum(output * R)), and PyTorch's gradients w.r.t. the input and every parameter.
- "reprs": str(module) and the state-dict key order for containers.
- "fans", "gains", "initStats": fan-in/fan-out, calculate_gain and empirical statistics of
  PyTorch's initialisers and default layer initialisation.
- "clip": clip_grad_norm_ / clip_grad_value_ results.
Each case seeds torch from a CRC of its name, so adding a case does not change the others.
"""

import json
import math
import os
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.init as init
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_encoding import enc_value  # noqa: E402

torch.set_default_dtype(torch.float32)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "nn_core.json")
NAME = {torch.float32: "float32", torch.float64: "float64", torch.int32: "int32", torch.int64: "int32"}


def seed(name):
    torch.manual_seed(zlib.crc32(name.encode()))




def enc(t):
    t = t.detach()
    dtype = NAME[t.dtype]
    return {"shape": list(t.shape), "dtype": dtype, "values": [enc_value(v, dtype) for v in t.reshape(-1).tolist()]}


def perturb_(module):
    """Non-trivial values for parameters that default to constants (LayerNorm ones/zeros, PReLU 0.25)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "weight" in name and isinstance(module, nn.LayerNorm):
                p.copy_(1 + 0.3 * torch.randn_like(p))
            elif "bias" in name and isinstance(module, nn.LayerNorm):
                p.copy_(0.3 * torch.randn_like(p))
            elif isinstance(module, nn.PReLU):
                p.copy_(0.1 + 0.4 * torch.rand_like(p))


def layer_case(name, make, cls, args, opts, x, perturb=False, train=False):
    seed(name)
    m = make()
    if perturb:
        perturb_(m)
    m.train(train)
    if x.is_floating_point():
        x = x.clone().requires_grad_(True)
    out = m(x)
    r = torch.randn_like(out)
    (out * r).sum().backward()
    return {
        "name": name,
        "cls": cls,
        "args": args,
        "opts": opts,
        "train": train,
        "state": {k: enc(v) for k, v in m.state_dict().items()},
        "input": enc(x),
        "output": enc(out),
        "upstream": enc(r),
        "inputGrad": enc(x.grad) if x.is_floating_point() else None,
        "paramGrads": {k: enc(p.grad) if p.grad is not None else None for k, p in m.named_parameters()},
        "repr": str(m),
    }


def layers():
    cases = []

    def add(name, make, cls, args, opts, shape=None, x=None, **kw):
        seed(name + ":input")
        if x is None:
            x = torch.randn(*shape)
        cases.append(layer_case(name, make, cls, args, opts, x, **kw))

    add("linear", lambda: nn.Linear(5, 3), "Linear", [5, 3], {}, [4, 5])
    add("linear_nobias_3d", lambda: nn.Linear(5, 3, bias=False), "Linear", [5, 3], {"bias": False}, [2, 3, 5])
    add("linear_1d", lambda: nn.Linear(4, 2), "Linear", [4, 2], {}, [4])
    add("identity", lambda: nn.Identity(), "Identity", [], {}, [2, 3])
    add("flatten", lambda: nn.Flatten(), "Flatten", [], {}, [2, 3, 2, 2])
    add("flatten_0_1", lambda: nn.Flatten(0, 1), "Flatten", [0, 1], {}, [2, 3, 2])
    add("relu", lambda: nn.ReLU(), "ReLU", [], {}, [3, 4])
    add("leaky_relu", lambda: nn.LeakyReLU(0.2), "LeakyReLU", [0.2], {}, [3, 4])
    add("leaky_relu_default", lambda: nn.LeakyReLU(), "LeakyReLU", [], {}, [3, 4])
    add("prelu_shared", lambda: nn.PReLU(), "PReLU", [], {}, [4, 3, 5], perturb=True)
    add("prelu_channels", lambda: nn.PReLU(3), "PReLU", [3], {}, [4, 3, 5], perturb=True)
    add("prelu_channels_2d", lambda: nn.PReLU(3, 0.1), "PReLU", [3, 0.1], {}, [5, 3], perturb=True)
    add("prelu_1d", lambda: nn.PReLU(), "PReLU", [], {}, [6], perturb=True)
    add("elu", lambda: nn.ELU(0.7), "ELU", [0.7], {}, [3, 4])
    add("gelu", lambda: nn.GELU(), "GELU", [], {}, [3, 4])
    add("gelu_tanh", lambda: nn.GELU(approximate="tanh"), "GELU", [], {"approximate": "tanh"}, [3, 4])
    add("silu", lambda: nn.SiLU(), "SiLU", [], {}, [3, 4])
    add("sigmoid", lambda: nn.Sigmoid(), "Sigmoid", [], {}, [3, 4])
    add("tanh", lambda: nn.Tanh(), "Tanh", [], {}, [3, 4])
    add("softmax", lambda: nn.Softmax(dim=1), "Softmax", [1], {}, [2, 4, 3])
    add("log_softmax", lambda: nn.LogSoftmax(dim=-1), "LogSoftmax", [-1], {}, [2, 4, 3])
    add("dropout_eval", lambda: nn.Dropout(0.3), "Dropout", [0.3], {}, [3, 4])
    idx = torch.tensor([[1, 2, 9, 0, 2], [4, 4, 7, 3, 2], [8, 0, 1, 5, 6]], dtype=torch.int64)
    add("embedding", lambda: nn.Embedding(10, 4), "Embedding", [10, 4], {}, x=idx)
    add("embedding_pad", lambda: nn.Embedding(10, 4, padding_idx=2), "Embedding", [10, 4], {"paddingIdx": 2}, x=idx)
    add("embedding_pad_neg", lambda: nn.Embedding(10, 4, padding_idx=-1), "Embedding", [10, 4],
        {"paddingIdx": -1}, x=torch.tensor([9, 3, 9, 1]))
    add("embedding_0d", lambda: nn.Embedding(5, 3), "Embedding", [5, 3], {}, x=torch.tensor(3))
    add("layernorm", lambda: nn.LayerNorm(6), "LayerNorm", [6], {}, [3, 6], perturb=True)
    add("layernorm_2d_shape", lambda: nn.LayerNorm([3, 4], eps=1e-3), "LayerNorm", [[3, 4]], {"eps": 1e-3},
        [2, 3, 4], perturb=True)
    add("layernorm_no_affine", lambda: nn.LayerNorm(5, elementwise_affine=False), "LayerNorm", [5],
        {"elementwiseAffine": False}, [4, 5])

    def ln_no_bias():  # PyTorch 1.13 has no bias flag: drop the bias parameter (as bias=False does in 2.1+)
        m = nn.LayerNorm(5)
        m.bias = None
        return m

    add("layernorm_no_bias", ln_no_bias, "LayerNorm", [5], {"bias": False}, [4, 5], perturb=True)
    return cases


def nested():
    seed("nested")
    model = nn.Sequential(
        nn.Linear(4, 8),
        nn.ReLU(),
        nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.LayerNorm(8)),
        nn.Dropout(0.1),
        nn.PReLU(8),
        nn.Linear(8, 2, bias=False),
        nn.LogSoftmax(dim=1),
    )
    model.eval()
    seed("nested:input")
    x = torch.randn(5, 4, requires_grad=True)
    out = model(x)
    r = torch.randn_like(out)
    (out * r).sum().backward()
    ml = nn.ModuleList([nn.Linear(2, 3), nn.GELU(), nn.Embedding(4, 2, padding_idx=0), nn.Flatten(),
                        nn.ELU(), nn.LeakyReLU(), nn.Identity(), nn.SiLU(), nn.Softmax(dim=0)])
    ml.append(nn.LayerNorm([2, 3], elementwise_affine=False))
    return {
        "state": {k: enc(v) for k, v in model.state_dict().items()},
        "keys": list(model.state_dict().keys()),
        "paramNames": [k for k, _ in model.named_parameters()],
        "repr": str(model),
        "input": enc(x),
        "output": enc(out),
        "upstream": enc(r),
        "inputGrad": enc(x.grad),
        "paramGrads": {k: enc(p.grad) for k, p in model.named_parameters()},
        "moduleListRepr": str(ml),
        "moduleListKeys": list(ml.state_dict().keys()),
    }


def fans():
    out = []
    for shape in [[3, 5], [8, 4, 3, 3], [6, 2, 5], [4, 3, 2, 2, 2], [7, 1]]:
        t = torch.empty(*shape)
        fi, fo = init._calculate_fan_in_and_fan_out(t)
        out.append({"shape": shape, "fanIn": fi, "fanOut": fo})
    return out


def gains():
    names = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
             "sigmoid", "tanh", "relu", "leaky_relu", "selu"]
    out = [{"nonlinearity": n, "param": None, "gain": init.calculate_gain(n)} for n in names]
    out += [{"nonlinearity": "leaky_relu", "param": p, "gain": init.calculate_gain("leaky_relu", p)}
            for p in [0.2, math.sqrt(5), 0.0]]
    return out


def stats(t):
    t = t.detach().double()
    return {"mean": t.mean().item(), "std": t.std().item(), "min": t.min().item(), "max": t.max().item(),
            "n": t.numel()}


def init_stats():
    """Each case: the init call (Descent name + options), the tensor shape, PyTorch's theoretical bound/std
    (from its own fan and gain functions) and the statistics of one PyTorch draw."""
    cases = []

    def add(name, shape, fn, descent, opts, bound=None, std=None):
        seed(name)
        t = torch.empty(*shape)
        fn(t)
        cases.append({"name": name, "shape": shape, "fn": descent, "opts": opts, "bound": bound, "std": std,
                      "torch": stats(t)})

    def kstd(shape, a=0.0, mode="fan_in", nl="leaky_relu"):
        return init.calculate_gain(nl, a) / math.sqrt(init._calculate_correct_fan(torch.empty(*shape), mode))

    def xstd(shape, gain=1.0):
        fi, fo = init._calculate_fan_in_and_fan_out(torch.empty(*shape))
        return gain * math.sqrt(2.0 / (fi + fo))

    s = [256, 128]
    c = [64, 32, 3, 3]
    add("uniform", [20000], lambda t: init.uniform_(t, -2, 3), "uniform_", {"a": -2, "b": 3}, bound=[-2, 3],
        std=5 / math.sqrt(12))
    add("normal", [20000], lambda t: init.normal_(t, 1.5, 0.5), "normal_", {"mean": 1.5, "std": 0.5}, std=0.5)
    add("xavier_uniform", s, lambda t: init.xavier_uniform_(t), "xavierUniform_", {},
        bound=[-math.sqrt(3) * xstd(s), math.sqrt(3) * xstd(s)], std=xstd(s))
    add("xavier_uniform_gain", c, lambda t: init.xavier_uniform_(t, gain=init.calculate_gain("tanh")),
        "xavierUniform_", {"gain": 5 / 3}, bound=[-math.sqrt(3) * xstd(c, 5 / 3), math.sqrt(3) * xstd(c, 5 / 3)],
        std=xstd(c, 5 / 3))
    add("xavier_normal", c, lambda t: init.xavier_normal_(t), "xavierNormal_", {}, std=xstd(c))
    ks = kstd(s, nl="relu")
    add("kaiming_uniform_relu", s, lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), "kaimingUniform_",
        {"nonlinearity": "relu"}, bound=[-math.sqrt(3) * ks, math.sqrt(3) * ks], std=ks)
    ks = kstd(s, a=math.sqrt(5))
    add("kaiming_uniform_sqrt5", s, lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), "kaimingUniform_",
        {"a": math.sqrt(5)}, bound=[-math.sqrt(3) * ks, math.sqrt(3) * ks], std=ks)
    ks = kstd(c, mode="fan_out", nl="relu")
    add("kaiming_normal_fan_out", c, lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
        "kaimingNormal_", {"mode": "fanOut", "nonlinearity": "relu"}, std=ks)
    ks = kstd(c, a=0.1)
    add("kaiming_normal_leaky", c, lambda t: init.kaiming_normal_(t, a=0.1), "kaimingNormal_", {"a": 0.1}, std=ks)
    add("constant", [10, 10], lambda t: init.constant_(t, 0.3), "constant_", {"val": 0.3}, bound=[0.3, 0.3], std=0.0)
    # Default layer initialisation: the layer's parameter drawn by PyTorch's reset_parameters.
    seed("default_linear")
    lin = nn.Linear(100, 2000)
    b = 1 / math.sqrt(100)
    cases.append({"name": "default_linear_weight", "layer": "Linear", "args": [100, 2000], "param": "weight",
                  "shape": [2000, 100], "bound": [-b, b], "std": b / math.sqrt(3), "torch": stats(lin.weight)})
    cases.append({"name": "default_linear_bias", "layer": "Linear", "args": [100, 2000], "param": "bias",
                  "shape": [2000], "bound": [-b, b], "std": b / math.sqrt(3), "torch": stats(lin.bias)})
    seed("default_embedding")
    emb = nn.Embedding(1000, 64, padding_idx=3)
    w = torch.cat([emb.weight[:3], emb.weight[4:]])
    cases.append({"name": "default_embedding_weight", "layer": "Embedding", "args": [1000, 64],
                  "opts": {"paddingIdx": 3}, "param": "weight", "shape": [1000, 64], "bound": None, "std": 1.0,
                  "torch": stats(w), "paddingRow": enc(emb.weight[3])})
    return cases


def clip():
    out = []
    for name, norm_type, max_norm in [("l2", 2.0, 1.0), ("l2_noclip", 2.0, 100.0), ("inf", math.inf, 0.5),
                                      ("p1_5", 1.5, 0.7), ("l1", 1.0, 2.0), ("p3", 3.0, 0.1)]:
        seed("clip_" + name)
        ps = [torch.randn(3, 4, requires_grad=True), torch.randn(5, requires_grad=True),
              torch.randn(2, 2, requires_grad=True), torch.randn(2, requires_grad=True)]
        for p in ps[:3]:
            p.grad = torch.randn_like(p) * 2
        grads_before = [enc(p.grad) for p in ps[:3]]
        total = nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
        out.append({"name": name, "normType": "inf" if math.isinf(norm_type) else norm_type, "maxNorm": max_norm,
                    "grads": grads_before, "total": float(total), "clipped": [enc(p.grad) for p in ps[:3]]})
    seed("clip_value")
    ps = [torch.randn(3, 4, requires_grad=True), torch.randn(5, requires_grad=True)]
    for p in ps:
        p.grad = torch.randn_like(p) * 2
    before = [enc(p.grad) for p in ps]
    nn.utils.clip_grad_value_(ps, 1.1)
    out.append({"name": "value", "clipValue": 1.1, "grads": before, "clipped": [enc(p.grad) for p in ps]})
    return out


def main():
    doc = {
        "generator": "scripts/fixtures_nn_core.py",
        "torch": torch.__version__,
        "layers": layers(),
        "nested": nested(),
        "fans": fans(),
        "gains": gains(),
        "initStats": init_stats(),
        "clip": clip(),
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"), allow_nan=False)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
