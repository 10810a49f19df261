// The GPT model: cached generation against uncached full re-runs (logits and tokens, also past
// the context window), the causal mask (a later token never changes an earlier logit), nanoGPT's
// initialisation, the seeded sampler, input checks, and gradient health on its blocks.

import { test } from "node:test";
import assert from "node:assert/strict";
import { DescentError, manualSeed, nn, noGrad, randint, tensor, type Tensor } from "../../src/index.js";
import { sampleLogits } from "../../src/nn/models/generate.js";
import { Generator } from "../../src/core/random.js";
import { GradientMonitor } from "../../src/train/health.js";
import { blockGradNorms, lmLoss, lmOptimizer } from "../../src/train/lm.js";

const CFG = { vocabSize: 23, contextLength: 8, dModel: 16, nHeads: 2, nLayers: 2 };

function maxDiff(a: Tensor, b: Tensor): number {
  return a.sub(b).abs().max().item();
}

test("GPT: cached generation gives the tokens and logits of uncached full re-runs, past the window too", () => {
  manualSeed(3);
  const m = new nn.GPT(CFG);
  const prompt = randint(0, CFG.vocabSize, [2, 3], { dtype: "int32" });
  for (const opts of [{ temperature: 1 }, { temperature: 0 }, { temperature: 0.7, topK: 5 }]) {
    const logits: Tensor[][] = [[], []];
    const runs = [true, false].map((useCache, i) =>
      m.generate(prompt, { ...opts, maxNewTokens: 12, seed: 9, useCache, onLogits: (l) => logits[i]!.push(l) }),
    );
    assert.deepEqual(runs[0]!.shape, [2, 15]);
    assert.deepEqual(runs[0]!.toArray(), runs[1]!.toArray());
    assert.equal(logits[0]!.length, 12);
    for (let s = 0; s < 12; s++) assert.ok(maxDiff(logits[0]![s]!, logits[1]![s]!) < 1e-5, `step ${s}`);
  }
});

test("GPT: the uncached reference is a crop to the last contextLength tokens, as nanoGPT", () => {
  manualSeed(4);
  const m = new nn.GPT(CFG).eval();
  const ids: number[] = [1, 2];
  const seen: Tensor[] = [];
  const out = m.generate(ids, { maxNewTokens: 10, temperature: 0, onLogits: (l) => seen.push(l) });
  const all = Array.from(out.toFlatArray());
  for (let s = 0; s < 10; s++) {
    const t = 2 + s;
    const win = all.slice(Math.max(0, t - CFG.contextLength), t);
    const ref = m.forward(tensor(Int32Array.from(win), { shape: [1, win.length] })).select(1, win.length - 1);
    assert.ok(maxDiff(seen[s]!, ref) < 1e-5, `step ${s}`);
    assert.equal(all[t], ref.argmax(-1).item());
  }
});

test("GPT: a cached forward of several positions (mask aligned bottom-right) matches the full forward", () => {
  manualSeed(11);
  const m = new nn.GPT(CFG);
  const idx = randint(0, CFG.vocabSize, [2, 8], { dtype: "int32" });
  const full = m.forward(idx);
  const cache = m.newCache();
  const a = m.forward(idx.slice(1, 0, 5), cache);
  const b = m.forward(idx.slice(1, 5, 8), cache);
  assert.equal(cache.length, 8);
  assert.ok(maxDiff(full.slice(1, 0, 5), a) < 1e-5);
  assert.ok(maxDiff(full.slice(1, 5, 8), b) < 1e-5);
});

test("GPT: without autograd the cache fills preallocated buffers in place and still matches the full forward", () => {
  manualSeed(12);
  const m = new nn.GPT(CFG);
  const idx = randint(0, CFG.vocabSize, [2, 8], { dtype: "int32" });
  const full = noGrad(() => m.forward(idx));
  const cache = m.newCache();
  // a first chunk under autograd (concatenated), then in-place steps of 1 and 2 positions under noGrad
  const a = m.forward(idx.slice(1, 0, 3), cache);
  const hd = CFG.dModel / CFG.nHeads;
  const b = noGrad(() => m.forward(idx.slice(1, 3, 4), cache));
  assert.deepEqual(cache.k[0]!.shape, [2, CFG.nHeads, 4, hd]);
  assert.equal(cache.k[0]!.strides[1], CFG.contextLength * hd); // the prefix of a context-long buffer
  const [c, d] = noGrad(() => [m.forward(idx.slice(1, 4, 6), cache), m.forward(idx.slice(1, 6, 8), cache)]);
  assert.equal(cache.length, 8);
  assert.ok(maxDiff(full.slice(1, 0, 3), a) < 1e-5);
  assert.ok(maxDiff(full.slice(1, 3, 4), b!) < 1e-5);
  assert.ok(maxDiff(full.slice(1, 4, 6), c!) < 1e-5);
  assert.ok(maxDiff(full.slice(1, 6, 8), d!) < 1e-5);
  assert.throws(
    () => noGrad(() => cache.append(0, cache.k[0]!, cache.v[0]!)),
    /KVCache: 8 cached \+ 8 new positions exceed its capacity/,
  );
});

test("GPT: causal (changing token j leaves the logits of positions < j unchanged)", () => {
  manualSeed(5);
  const m = new nn.GPT(CFG);
  const a = randint(0, CFG.vocabSize, [1, 8], { dtype: "int32" });
  const flat = Array.from(a.toFlatArray());
  flat[5] = (flat[5]! + 1) % CFG.vocabSize;
  const b = tensor(Int32Array.from(flat), { shape: [1, 8] });
  const la = m.forward(a);
  const lb = m.forward(b);
  assert.equal(maxDiff(la.slice(1, 0, 5), lb.slice(1, 0, 5)), 0);
  assert.ok(maxDiff(la.slice(1, 5, 8), lb.slice(1, 5, 8)) > 1e-4);
});

test("GPT: nanoGPT initialisation (std 0.02, residual projections 0.02/sqrt(2 nLayers), zero biases)", () => {
  manualSeed(6);
  const m = new nn.GPT({ vocabSize: 64, contextLength: 64, dModel: 64, nHeads: 4, nLayers: 8 });
  const std = (t: Tensor) => t.std().item();
  const p = Object.fromEntries(m.namedParameters());
  assert.ok(Math.abs(std(p["blocks.0.attn.qkv.weight"]!) - 0.02) < 0.002);
  assert.ok(Math.abs(std(p["tokEmb.weight"]!) - 0.02) < 0.002);
  assert.ok(Math.abs(std(p["blocks.3.mlp.proj.weight"]!) - 0.02 / 4) < 0.0005);
  assert.ok(Math.abs(std(p["blocks.3.attn.proj.weight"]!) - 0.02 / 4) < 0.001);
  assert.equal(p["blocks.1.mlp.fc.bias"]!.abs().max().item(), 0);
  assert.equal(p["head.bias"], undefined);
});

test("GPT: bad configs and inputs are refused with the field named", () => {
  assert.throws(() => new nn.GPT({ ...CFG, dModel: 15 }), /dModel \(15\) must be divisible by config.nHeads \(2\)/);
  assert.throws(() => new nn.GPT({ ...CFG, nLayers: 0 }), /config.nLayers must be a positive integer/);
  const m = new nn.GPT(CFG);
  assert.throws(() => m.forward(tensor([[1, 2]])), /expected int32 token ids \[B, T\], got float32 \[1,2\]/);
  assert.throws(
    () => m.forward(randint(0, 5, [1, 9], { dtype: "int32" })),
    /0 cached \+ 9 new positions exceed config.contextLength 8/,
  );
  assert.throws(() => m.generate([1, 99], { maxNewTokens: 1 }), /prompt token 99 is outside the vocabulary \[0, 23\)/);
  assert.throws(() => m.generate([1], { maxNewTokens: 1, topK: 0 }), DescentError);
  assert.throws(
    () => m.generate([1], { maxNewTokens: 1, temperature: -1 }),
    /temperature must be a finite number >= 0/,
  );
});

test("sampleLogits: greedy at temperature 0 and top-1; seeded; frequencies follow the softmax", () => {
  const logits = tensor([[0.1, 2, -1, 0.5]]);
  assert.deepEqual(sampleLogits(logits, { temperature: 0 }, new Generator(1)), [1]);
  assert.deepEqual(sampleLogits(logits, { topK: 1 }, new Generator(1)), [1]);
  const draw = (seed: number, n: number, o = {}) => {
    const g = new Generator(seed);
    return Array.from({ length: n }, () => sampleLogits(logits, o, g)[0]!);
  };
  assert.deepEqual(draw(7, 50), draw(7, 50));
  const n = 20000;
  const counts = [0, 0, 0, 0];
  for (const k of draw(8, n)) counts[k]!++;
  const e = [0.1, 2, -1, 0.5].map(Math.exp);
  const z = e.reduce((s, x) => s + x, 0);
  e.forEach((x, i) => assert.ok(Math.abs(counts[i]! / n - x / z) < 0.015, `token ${i}: ${counts[i]! / n} vs ${x / z}`));
  // top-2 never draws the two least likely tokens
  assert.ok(draw(9, 500, { topK: 2 }).every((k) => k === 1 || k === 3));
});

test("GradientMonitor on a GPT: every block's parameters get gradient norms and update ratios", () => {
  manualSeed(10);
  const m = new nn.GPT({ ...CFG, nLayers: 3 });
  const mon = new GradientMonitor(m);
  const opt = lmOptimizer(m, { lr: 1e-3 });
  for (let step = 0; step < 3; step++) {
    const batch = randint(0, CFG.vocabSize, [4, 9], { dtype: "int32" });
    opt.zeroGrad();
    lmLoss(m, batch).backward();
    mon.recordGradients(step);
    opt.step();
    mon.recordUpdate(step);
  }
  const rec = mon.records[2]!;
  assert.equal(Object.keys(rec.gradNorms).length, m.parameters().length);
  for (const [name, v] of Object.entries(rec.gradNorms)) assert.ok(Number.isFinite(v) && v > 0, name);
  assert.ok(rec.updateRatios["blocks.2.attn.qkv.weight"]! > 0);
  const blocks = blockGradNorms(rec);
  assert.deepEqual(Object.keys(blocks), ["embeddings", "blocks.0", "blocks.1", "blocks.2", "head"]);
  // The per-block norm is the norm of that block's parameter norms.
  const b1 = Object.entries(rec.gradNorms).filter(([k]) => k.startsWith("blocks.1."));
  assert.ok(Math.abs(blocks["blocks.1"]! - Math.hypot(...b1.map(([, v]) => v))) < 1e-9);
  assert.equal(mon.diagnose().filter((d) => d.kind === "vanishing" || d.kind === "exploding").length, 0);
  assert.match(mon.summary(), /no problems found in 3 recorded steps/);
});
