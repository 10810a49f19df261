"""PyTorch's side of the GPT workloads W7 and W8 (bench/suite/gpt.ts is Descent's): the same
nanoGPT-shaped model (4 layers, 4 heads, d = 128, exact GELU, pre-LayerNorm, untied head), W7 one
AdamW training step on 16 x 128 tokens, W8 256 tokens generated after a one-token prompt with its
own key/value cache loop (batch 1, context 256, temperature 1, torch.multinomial)."""

import math

import torch
import torch.nn.functional as F
from torch import nn

VOCAB = 96


def token_ids(n, seed):
    return (torch.arange(n, dtype=torch.long) + seed) * 7919 % VOCAB


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.fc_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x, cache=None):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (u.view(b, t, self.h, d // self.h).transpose(1, 2) for u in (q, k, v))
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // self.h))
        if t > 1:
            s = k.shape[2]
            att = att.masked_fill(torch.ones(t, s, dtype=torch.bool).triu(s - t + 1), float("-inf"))
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        return x + self.fc_proj(F.gelu(self.fc(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self, context, d=128, h=4, layers=4):
        super().__init__()
        self.tok, self.pos = nn.Embedding(VOCAB, d), nn.Embedding(context, d)
        self.blocks = nn.ModuleList([Block(d, h) for _ in range(layers)])
        self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, VOCAB, bias=False)

    def forward(self, idx, caches=None, past=0):
        x = self.tok(idx) + self.pos(torch.arange(past, past + idx.shape[1]))
        for i, blk in enumerate(self.blocks):
            x = blk(x, None if caches is None else caches[i])
        return self.head(self.ln(x))


def train_step():
    b, t = 16, 128
    model = GPT(t)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x, y = token_ids(b * t, 1).view(b, t), token_ids(b * t, 2)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x).reshape(b * t, VOCAB), y)
        loss.backward()
        opt.step()
        loss.item()

    return step


def generate():
    model = GPT(256).eval()

    def run():
        with torch.no_grad():
            caches = [{} for _ in model.blocks]
            idx = torch.tensor([[1]])
            out = [1]
            for s in range(256):
                logits = model(idx, caches, past=s)[:, -1, :]
                idx = torch.multinomial(logits.softmax(-1), 1)
                out.append(int(idx))

    return run
