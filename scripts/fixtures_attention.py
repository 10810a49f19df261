#!/usr/bin/python3
"""Reference values from PyTorch for attention: scaled dot-product attention, MultiheadAttention and
the Transformer layers.

Run with Debian's python3-torch (PyTorch 1.13):  /usr/bin/python3 scripts/fixtures_attention.py
Writes test/fixtures/attention.json, replayed by test/nn/attention.test.ts and test/nn/transformer.test.ts.

- "sdpa": torch 1.13 has no F.scaled_dot_product_attention, so the reference is PyTorch 2's
  definition written with torch ops: softmax(q·kᵀ·scale + mask)·v, a bool mask (True = attend)
  filling −∞ where False, a float mask added, is_causal the top-left lower-triangular mask.
- "modules": MultiheadAttention and the Transformer layers built with PyTorch's own classes; each
  case holds the Descent constructor (cls, args, opts in camelCase), the forward options (masks),
  the state dict PyTorch wrote (loaded unchanged into the Descent module), the inputs, PyTorch's
  outputs, the upstream gradients R (the loss is sum(output_i * R_i)) and the input and
  parameter gradients.
Bool masks are written as int32 0/1. Each case seeds torch from a CRC of its name.
"""

import json
import math
import os
import sys
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_encoding import enc_value  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "attention.json")
NAME = {torch.float32: "float32", torch.float64: "float64", torch.int32: "int32", torch.int64: "int32", torch.bool: "int32"}


def seed(name):
    torch.manual_seed(zlib.crc32(name.encode()))


def enc(t):
    if t is None:
        return None
    t = t.detach()
    dtype = NAME[t.dtype]
    if t.dtype == torch.bool:
        t = t.to(torch.int32)
    return {"shape": list(t.shape), "dtype": dtype, "values": [enc_value(v, dtype) for v in t.reshape(-1).tolist()]}


def sdpa_ref(q, k, v, attn_mask=None, is_causal=False, scale=None):
    L, S = q.shape[-2], k.shape[-2]
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.transpose(-2, -1) * scale
    if is_causal:
        scores = scores.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        else:
            scores = scores + attn_mask
    return scores.softmax(-1) @ v


def sdpa_case(name, qs, ks, vs, dtype=torch.float32, mask=None, is_causal=False, scale=None):
    seed(name)
    q, k, v = (torch.randn(s, dtype=dtype, requires_grad=True) for s in (qs, ks, vs))
    m = mask(dtype) if mask else None
    out = sdpa_ref(q, k, v, m, is_causal, scale)
    r = torch.randn_like(out)
    finite = bool(torch.isfinite(out).all())
    if finite:
        (out * r).sum().backward()
    opts = {"isCausal": is_causal}
    if scale is not None:
        opts["scale"] = scale
    return {
        "name": name,
        "inputs": [enc(t) for t in (q, k, v)],
        "mask": enc(m),
        "opts": opts,
        "output": enc(out),
        "upstream": enc(r),
        "grads": [enc(t.grad) for t in (q, k, v)] if finite else None,
    }


def bool_mask(shape, p=0.3):
    def make(_dtype):
        m = torch.rand(shape) > p
        m[..., 0] = True  # every row keeps a key: no NaN rows
        return m
    return make


def float_mask(shape):
    return lambda dtype: torch.randn(shape, dtype=dtype)


def sdpa_cases():
    c = [
        sdpa_case("3-D plain", [2, 3, 4], [2, 5, 4], [2, 5, 6]),
        sdpa_case("4-D bool mask [L,S]", [2, 2, 4, 8], [2, 2, 5, 8], [2, 2, 5, 8], mask=bool_mask([4, 5])),
        sdpa_case("4-D bool mask [N,1,1,S]", [2, 2, 4, 8], [2, 2, 5, 8], [2, 2, 5, 3], mask=bool_mask([2, 1, 1, 5])),
        sdpa_case("float mask [N,1,L,S]", [2, 2, 4, 8], [2, 2, 5, 8], [2, 2, 5, 8], mask=float_mask([2, 1, 4, 5])),
        sdpa_case("causal square", [2, 2, 5, 4], [2, 2, 5, 4], [2, 2, 5, 4], is_causal=True),
        sdpa_case("causal L<S top-left", [2, 3, 4], [2, 6, 4], [2, 6, 4], is_causal=True),
        sdpa_case("scale 0.3", [3, 4, 4], [3, 4, 4], [3, 4, 2], scale=0.3),
        sdpa_case("float64 bool mask", [2, 3, 4], [2, 5, 4], [2, 5, 6], torch.float64, bool_mask([2, 3, 5])),
        sdpa_case("float64 float mask causal-free", [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], torch.float64,
                  float_mask([3, 3])),
    ]
    # A row with every key masked out: NaN, as PyTorch 2's SDPA with a bool mask.
    def nan_row(_dtype):
        m = torch.ones(3, 4, dtype=torch.bool)
        m[1] = False
        return m
    c.append(sdpa_case("fully masked row gives NaN", [1, 3, 4], [1, 4, 4], [1, 4, 4], mask=nan_row))
    return c


def perturb_norms_(m):
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.LayerNorm):
                mod.weight.copy_(1 + 0.3 * torch.randn_like(mod.weight))
                mod.bias.copy_(0.3 * torch.randn_like(mod.bias))
            if isinstance(mod, nn.MultiheadAttention) and mod.in_proj_bias is not None:
                mod.in_proj_bias.copy_(0.2 * torch.randn_like(mod.in_proj_bias))  # zeros by default
                mod.out_proj.bias.copy_(0.2 * torch.randn_like(mod.out_proj.bias))


def module_case(name, make, cls, args, opts, inputs, fwd_opts=None, call=None, dtype=torch.float32):
    """fwd_opts: Descent's forward options {camelName: tensor | bool}; call(m, *inputs) runs PyTorch."""
    seed(name)
    m = make().to(dtype)
    perturb_norms_(m)
    m.train()  # dropout is 0 in every case; train mode keeps PyTorch off its inference fast paths
    xs = [torch.randn(s, dtype=dtype, requires_grad=True) for s in inputs]
    fwd_opts = {k: (v(dtype) if callable(v) else v) for k, v in (fwd_opts or {}).items()}
    outs = call(m, *xs, **fwd_opts)
    outs = [o for o in (outs if isinstance(outs, tuple) else (outs,))]
    present = [o for o in outs if o is not None]
    rs = [torch.randn_like(o) for o in present]
    sum((o * r).sum() for o, r in zip(present, rs)).backward()
    o = dict(opts)
    if dtype == torch.float64:
        o["dtype"] = "float64"
    return {
        "name": name,
        "cls": cls,
        "args": args,
        "opts": o,
        "forwardOpts": {k: (enc(v) if isinstance(v, torch.Tensor) else v) for k, v in fwd_opts.items()},
        "state": {k: enc(v) for k, v in m.state_dict().items()},
        "repr": str(m),
        "inputs": [enc(x) for x in xs],
        "outputs": [enc(x) for x in outs],
        "upstreams": [enc(r) for r in rs],
        "inputGrads": [enc(x.grad) for x in xs],
        "paramGrads": {k: enc(p.grad) for k, p in m.named_parameters()},
    }


def mha_call(m, q, k, v, keyPaddingMask=None, attnMask=None, needWeights=True, averageAttnWeights=True):
    return m(q, k, v, key_padding_mask=keyPaddingMask, attn_mask=attnMask, need_weights=needWeights,
             average_attn_weights=averageAttnWeights)


def self_call(fn):
    return lambda m, x, **o: fn(m, x, x, x, **o)


def kpm(shape):
    def make(_dtype):
        m = torch.rand(shape) < 0.3
        m[..., 0] = False  # every sequence keeps a key
        return m
    return make


def mha_cases():
    E, H, L, S, N = 8, 2, 4, 5, 3
    mha = lambda **kw: (lambda: nn.MultiheadAttention(E, H, **kw))  # noqa: E731
    c = [
        module_case("mha seq-first cross", mha(), "MultiheadAttention", [E, H], {}, [[L, N, E], [S, N, E], [S, N, E]],
                    call=mha_call),
        module_case("mha batchFirst needWeights off", mha(batch_first=True), "MultiheadAttention", [E, H],
                    {"batchFirst": True}, [[N, L, E], [N, S, E], [N, S, E]], {"needWeights": False}, mha_call),
        module_case("mha per-head weights", mha(), "MultiheadAttention", [E, H], {}, [[L, N, E], [S, N, E], [S, N, E]],
                    {"averageAttnWeights": False}, mha_call),
        module_case("mha bool attnMask and keyPaddingMask", mha(), "MultiheadAttention", [E, H], {},
                    [[L, N, E], [S, N, E], [S, N, E]],
                    {"attnMask": lambda d: torch.triu(torch.ones(L, S, dtype=torch.bool), 2),
                     "keyPaddingMask": kpm([N, S])}, mha_call),
        module_case("mha float 3-D attnMask", mha(), "MultiheadAttention", [E, H], {},
                    [[L, N, E], [S, N, E], [S, N, E]], {"attnMask": lambda d: torch.randn(N * H, L, S, dtype=d)},
                    mha_call),
        module_case("mha kdim vdim", lambda: nn.MultiheadAttention(E, H, kdim=6, vdim=3), "MultiheadAttention",
                    [E, H], {"kdim": 6, "vdim": 3}, [[L, N, E], [S, N, 6], [S, N, 3]], {"keyPaddingMask": kpm([N, S])},
                    mha_call),
        module_case("mha no bias", mha(bias=False), "MultiheadAttention", [E, H], {"bias": False},
                    [[L, N, E], [S, N, E], [S, N, E]], call=mha_call),
        module_case("mha unbatched with keyPaddingMask", mha(), "MultiheadAttention", [E, H], {},
                    [[L, E], [S, E], [S, E]], {"keyPaddingMask": kpm([S])}, mha_call),
        module_case("mha self float64", mha(), "MultiheadAttention", [E, H], {},
                    [[L, N, E]], {"attnMask": lambda d: torch.randn(L, L, dtype=d)}, self_call(mha_call),
                    torch.float64),
    ]
    return c


def enc_call(m, x, srcMask=None, srcKeyPaddingMask=None):
    return m(x, src_mask=srcMask, src_key_padding_mask=srcKeyPaddingMask)


def stack_call(m, x, srcMask=None, srcKeyPaddingMask=None):
    return m(x, mask=srcMask, src_key_padding_mask=srcKeyPaddingMask)


def dec_call(m, t, mem, tgtMask=None, memoryMask=None, tgtKeyPaddingMask=None, memoryKeyPaddingMask=None):
    return m(t, mem, tgt_mask=tgtMask, memory_mask=memoryMask, tgt_key_padding_mask=tgtKeyPaddingMask,
             memory_key_padding_mask=memoryKeyPaddingMask)


def causal_float(n):
    return lambda d: nn.Transformer.generate_square_subsequent_mask(n).to(d)


def transformer_cases():
    E, H, FF, L, S, N = 8, 2, 16, 4, 5, 3
    kw = dict(dim_feedforward=FF, dropout=0.0)
    o = {"dimFeedforward": FF, "dropout": 0}
    enc = lambda **k: (lambda: nn.TransformerEncoderLayer(E, H, **kw, **k))  # noqa: E731
    dec = lambda **k: (lambda: nn.TransformerDecoderLayer(E, H, **kw, **k))  # noqa: E731
    return [
        module_case("encoder layer relu post-norm masks", enc(), "TransformerEncoderLayer", [E, H], o, [[L, N, E]],
                    {"srcMask": lambda d: torch.triu(torch.ones(L, L, dtype=torch.bool), 1),
                     "srcKeyPaddingMask": kpm([N, L])}, enc_call),
        module_case("encoder layer gelu normFirst batchFirst", enc(activation="gelu", norm_first=True, batch_first=True),
                    "TransformerEncoderLayer", [E, H], {**o, "activation": "gelu", "normFirst": True, "batchFirst": True},
                    [[N, L, E]], {"srcMask": causal_float(L)}, enc_call),
        module_case("encoder layer float64 eps", enc(layer_norm_eps=1e-3), "TransformerEncoderLayer", [E, H],
                    {**o, "layerNormEps": 1e-3}, [[L, N, E]], {"srcKeyPaddingMask": kpm([N, L])}, enc_call,
                    torch.float64),
        module_case("encoder layer unbatched", enc(), "TransformerEncoderLayer", [E, H], o, [[L, E]], {}, enc_call),
        module_case("decoder layer post-norm masks", dec(), "TransformerDecoderLayer", [E, H], o,
                    [[L, N, E], [S, N, E]], {"tgtMask": causal_float(L), "memoryKeyPaddingMask": kpm([N, S])}, dec_call),
        module_case("decoder layer gelu normFirst batchFirst", dec(activation="gelu", norm_first=True, batch_first=True),
                    "TransformerDecoderLayer", [E, H], {**o, "activation": "gelu", "normFirst": True, "batchFirst": True},
                    [[N, L, E], [N, S, E]],
                    {"tgtKeyPaddingMask": kpm([N, L]), "memoryMask": lambda d: torch.randn(L, S, dtype=d)}, dec_call),
        module_case("encoder 2 layers with norm",
                    lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, **kw), 2, norm=nn.LayerNorm(E),
                                                  enable_nested_tensor=False),
                    "TransformerEncoder", [E, H], {**o, "numLayers": 2, "norm": True}, [[L, N, E]],
                    {"srcMask": causal_float(L), "srcKeyPaddingMask": kpm([N, L])}, stack_call),
        module_case("decoder 2 layers", lambda: nn.TransformerDecoder(nn.TransformerDecoderLayer(E, H, **kw), 2),
                    "TransformerDecoder", [E, H], {**o, "numLayers": 2}, [[L, N, E], [S, N, E]],
                    {"tgtMask": causal_float(L)}, dec_call),
    ]


def main():
    torch.set_default_dtype(torch.float32)
    out = {"sdpa": sdpa_cases(), "modules": mha_cases() + transformer_cases()}
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(out['sdpa'])} sdpa cases, {len(out['modules'])} module cases")


if __name__ == "__main__":
    main()
