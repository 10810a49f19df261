#!/usr/bin/python3
"""Reference values from PyTorch for nn.RNN / nn.LSTM / nn.GRU (src/nn/layers/rnn.ts).

Run with Debian's python3-torch (PyTorch 1.13):  /usr/bin/python3 scripts/fixtures_rnn.py
Writes test/fixtures/nn_rnn.json, replayed by test/nn/rnn.test.ts.

A case is { name, mode, dtype, options, inputSize, hiddenSize, keys, repr, state, input, h0?, c0?,
            output, hN, cN?, weights, upstream, grads }:
  - `mode` is "RNN_TANH" | "RNN_RELU" | "LSTM" | "GRU"; `options` are the Descent constructor options.
  - `state` is the module's state dict in PyTorch's order: [[key, tensor], ...] (keys also listed in `keys`).
  - `upstream` holds fixed random weights {output, hN, cN?}; the scalar
        L = sum(output * upstream.output) + sum(hN * upstream.hN) (+ sum(cN * upstream.cN))
    is differentiated; `grads` has dL/d input, h0, c0 and every parameter (by state-dict key).
Tensors are {shape, dtype, values} with flat row-major values. Every case seeds its own generator
from its name, so adding a case does not change the others.
"""

import json
import os
import zlib

import torch

torch.use_deterministic_algorithms(True)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "nn_rnn.json")
NAME = {torch.float32: "float32", torch.float64: "float64"}

CONFIGS = {
    "1layer": {},
    "2layers": {"numLayers": 2},
    "bidir": {"bidirectional": True},
    "batchFirst": {"batchFirst": True},
    "noBias": {"bias": False},
    "2layersBidir": {"numLayers": 2, "bidirectional": True},
}
MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]
T, N, I, H = 4, 3, 3, 3


def rnd(t):
    """Rounds a float64 tensor to the 15 digits enc() writes, so stored inputs are exactly what PyTorch used."""
    if t.dtype != torch.float64:
        return t
    return torch.tensor([float(format(v, ".15g")) for v in t.reshape(-1).tolist()], dtype=t.dtype).reshape(t.shape)


def enc(t):
    t = t.detach()
    vals = t.reshape(-1).tolist()
    if t.dtype == torch.float64:
        # 15 significant digits (exact for a double's shortest form): ample for rtol 1e-10, a smaller file.
        vals = [float(format(v, ".15g")) for v in vals]
    return {"shape": list(t.shape), "dtype": NAME[t.dtype], "values": vals}


def build(mode, opts, dtype):
    kw = dict(
        num_layers=opts.get("numLayers", 1),
        bias=opts.get("bias", True),
        batch_first=opts.get("batchFirst", False),
        bidirectional=opts.get("bidirectional", False),
        dtype=dtype,
    )
    if mode == "LSTM":
        return torch.nn.LSTM(I, H, **kw)
    if mode == "GRU":
        return torch.nn.GRU(I, H, **kw)
    return torch.nn.RNN(I, H, nonlinearity="tanh" if mode == "RNN_TANH" else "relu", **kw)


def make_case(name, mode, opts, dtype, with_state, unbatched=False):
    g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    m = build(mode, opts, dtype)
    with torch.no_grad():
        for p in m.parameters():
            # Wider than the default init so that relu and saturations take both branches.
            p.copy_(rnd(torch.rand(p.shape, generator=g, dtype=dtype) * 1.2 - 0.6))
    D = 2 if opts.get("bidirectional") else 1
    L = opts.get("numLayers", 1)
    if unbatched:
        xshape, sshape = [T, I], [L * D, H]
    else:
        xshape = [N, T, I] if opts.get("batchFirst") else [T, N, I]
        sshape = [L * D, N, H]
    x = rnd(torch.rand(xshape, generator=g, dtype=dtype) * 2 - 1).requires_grad_()
    h0 = rnd(torch.rand(sshape, generator=g, dtype=dtype) - 0.5).requires_grad_() if with_state else None
    c0 = rnd(torch.rand(sshape, generator=g, dtype=dtype) - 0.5).requires_grad_() if with_state and mode == "LSTM" else None

    if mode == "LSTM":
        out, (hn, cn) = m(x, (h0, c0)) if with_state else m(x)
    else:
        out, hn = m(x, h0) if with_state else m(x)
        cn = None
    up = {"output": rnd(torch.randn(out.shape, generator=g, dtype=dtype)), "hN": rnd(torch.randn(hn.shape, generator=g, dtype=dtype))}
    loss = (out * up["output"]).sum() + (hn * up["hN"]).sum()
    if cn is not None:
        up["cN"] = rnd(torch.randn(cn.shape, generator=g, dtype=dtype))
        loss = loss + (cn * up["cN"]).sum()
    loss.backward()

    sd = m.state_dict()
    params = dict(m.named_parameters())
    case = {
        "name": name,
        "mode": mode,
        "dtype": NAME[dtype],
        "options": opts,
        "inputSize": I,
        "hiddenSize": H,
        "keys": list(sd.keys()),
        "repr": repr(m),
        "state": [[k, enc(v)] for k, v in sd.items()],
        "input": enc(x),
        "output": enc(out),
        "hN": enc(hn),
        "upstream": {k: enc(v) for k, v in up.items()},
        "grads": {"input": enc(x.grad)},
    }
    if h0 is not None:
        case["h0"] = enc(h0)
        case["grads"]["h0"] = enc(h0.grad)
    if c0 is not None:
        case["c0"] = enc(c0)
        case["grads"]["c0"] = enc(c0.grad)
    if cn is not None:
        case["cN"] = enc(cn)
    for k in sd.keys():
        case["grads"][k] = enc(params[k].grad)
    return case


def main():
    cases = []
    for mode in MODES:
        for cname, opts in CONFIGS.items():
            for with_state in (False, True):
                name = f"{mode}/{cname}/{'h0' if with_state else 'zeroState'}"
                cases.append(make_case(name, mode, opts, torch.float64, with_state))
        # float32 (the default dtype) once per mode: the same algorithm at float32 tolerances.
        cases.append(make_case(f"{mode}/2layersBidir/h0/float32", mode, CONFIGS["2layersBidir"], torch.float32, True))
        # Unbatched 2-D input [T, I] with a 2-D state [layers·D, H].
        cases.append(make_case(f"{mode}/bidir/unbatched", mode, {"bidirectional": True}, torch.float64, True, True))
    with open(OUT, "w") as f:
        json.dump({"generator": "scripts/fixtures_rnn.py", "torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
