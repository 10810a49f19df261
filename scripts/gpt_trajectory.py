"""The GPT trajectory check: PyTorch 1.13 trains the same GPT from the same initial weights on the
same batches as Descent, and writes its first 20 losses (and learning rates) as a fixture that
test/train/gpt_trajectory.test.ts replays with Descent's trainLanguageModel.

    /usr/bin/python3 scripts/gpt_trajectory.py

1. runs `node --import tsx scripts/gpt_trajectory_init.ts test/fixtures/gpt_trajectory`, which
   writes init.safetensors (Descent's initial weights) and batches.json (config, hyper-parameters,
   batches);
2. loads the weights into the torch model below (nanoGPT's, with Descent's parameter names), and
   trains 20 steps: AdamW with decay on >= 2-D weights only, OneCycleLR (cosine warm-up and decay,
   no momentum cycling, min lr = lr/10), clip_grad_norm_, cross-entropy on the next token;
3. writes test/fixtures/gpt_trajectory/trajectory.json.
"""

import json
import math
import os
import struct
import subprocess

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(ROOT, "test", "fixtures", "gpt_trajectory")


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", e
        a, b = e["data_offsets"]
        buf = bytearray(raw[8 + n + a : 8 + n + b])
        out[name] = torch.frombuffer(buf, dtype=torch.float32).reshape(e["shape"]).clone()
    return out


class Attention(torch.nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.proj = torch.nn.Linear(d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        q, k, v = (u.view(b, t, self.h, d // self.h).transpose(1, 2) for u in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // self.h))
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)
        att = att.masked_fill(mask, float("-inf")).softmax(dim=-1)
        return self.proj((att @ v).transpose(1, 2).reshape(b, t, d))


class MLP(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = torch.nn.Linear(d, 4 * d)
        self.proj = torch.nn.Linear(4 * d, d)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x)))


class Block(torch.nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(d)
        self.attn = Attention(d, h)
        self.ln2 = torch.nn.LayerNorm(d)
        self.mlp = MLP(d)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["dModel"]
        self.tokEmb = torch.nn.Embedding(c["vocabSize"], d)
        self.posEmb = torch.nn.Embedding(c["contextLength"], d)
        self.blocks = torch.nn.ModuleList([Block(d, c["nHeads"]) for _ in range(c["nLayers"])])
        self.lnF = torch.nn.LayerNorm(d)
        self.head = torch.nn.Linear(d, c["vocabSize"], bias=False)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tokEmb(idx) + self.posEmb(torch.arange(t))
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.lnF(x))


def main():
    subprocess.run(
        ["node", "--import", "tsx", "scripts/gpt_trajectory_init.ts", DIR], cwd=ROOT, check=True
    )
    with open(os.path.join(DIR, "batches.json")) as f:
        spec = json.load(f)
    c, tr = spec["config"], spec["train"]
    torch.set_num_threads(1)
    model = GPT(c)
    model.load_state_dict(load_safetensors(os.path.join(DIR, "init.safetensors")), strict=True)
    params = list(model.parameters())
    opt = torch.optim.AdamW(
        [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": tr["weightDecay"]},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ],
        lr=tr["lr"],
        betas=tuple(tr["betas"]),
    )
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=tr["lr"],
        total_steps=tr["steps"],
        pct_start=tr["warmupSteps"] / tr["steps"],
        anneal_strategy="cos",
        cycle_momentum=False,
        div_factor=25.0,
        final_div_factor=10.0 / 25.0,
    )
    losses, lrs, norms = [], [], []
    for step in range(tr["steps"]):
        batch = torch.tensor(spec["batches"][step], dtype=torch.long)
        lrs.append(opt.param_groups[0]["lr"])
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(params, tr["clip"])))
        opt.step()
        sched.step()
        losses.append(float(loss))
    out = {"torch": torch.__version__, "losses": losses, "lrs": lrs, "gradNorms": norms}
    with open(os.path.join(DIR, "trajectory.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("losses", " ".join(f"{x:.4f}" for x in losses))


if __name__ == "__main__":
    main()
