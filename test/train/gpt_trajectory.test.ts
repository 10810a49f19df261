// The GPT trajectory check: from the same initial weights (test/fixtures/gpt_trajectory/
// init.safetensors, made by Descent) and the same batches, Descent's trainLanguageModel (AdamW,
// clipping, warm-up + cosine schedule) follows PyTorch 1.13's first 20 losses, learning rates and
// gradient norms (trajectory.json, written by scripts/gpt_trajectory.py). The norms exceed clip 0.5
// at every step, so clipping is exercised; measured differences were ~2.4e-7.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load, nn, tensor } from "../../src/index.js";
import { trainLanguageModel } from "../../src/train/lm.js";

const DIR = join(import.meta.dirname, "..", "fixtures", "gpt_trajectory");

interface Spec {
  config: nn.GPTConfig;
  train: { steps: number; lr: number; warmupSteps: number; weightDecay: number; betas: [number, number]; clip: number };
  batches: number[][][];
}

test("GPT training follows PyTorch's first 20 losses from the same weights and batches", () => {
  const spec = JSON.parse(readFileSync(join(DIR, "batches.json"), "utf8")) as Spec;
  const ref = JSON.parse(readFileSync(join(DIR, "trajectory.json"), "utf8")) as {
    losses: number[];
    lrs: number[];
    gradNorms: number[];
  };
  const model = new nn.GPT(spec.config);
  model.loadStateDict(load(join(DIR, "init.safetensors")));
  const logs = trainLanguageModel(model, {
    ...spec.train,
    nextBatch: (s) => tensor(spec.batches[s]!, { dtype: "int32" }),
  });
  assert.equal(logs.length, 20);
  logs.forEach((l, i) => {
    assert.ok(Math.abs(l.lr - ref.lrs[i]!) <= 1e-12 * ref.lrs[i]!, `lr at step ${i}: ${l.lr} vs ${ref.lrs[i]}`);
    assert.ok(Math.abs(l.loss - ref.losses[i]!) < 1e-5, `loss at step ${i}: ${l.loss} vs ${ref.losses[i]}`);
    assert.ok(
      Math.abs(l.gradNorm - ref.gradNorms[i]!) < 1e-5 * ref.gradNorms[i]!,
      `grad norm at step ${i}: ${l.gradNorm} vs ${ref.gradNorms[i]}`,
    );
  });
  // The losses fall, so a wrong update would show.
  assert.ok(ref.losses[19]! < ref.losses[0]! - 0.5);
});
