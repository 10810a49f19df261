// trainLanguageModel's time-fitted schedule (scheduleSeconds, what examples/char_gpt.ts uses with
// --minutes): by steps it is exactly the OneCycleLR schedule (lmSchedule); with a time budget the
// cosine runs on elapsed time, ends at lr/10 and stops training when the budget is spent.

import { test } from "node:test";
import assert from "node:assert/strict";
import { nn, manualSeed, tensor, DescentError } from "../../src/index.js";
import { trainLanguageModel } from "../../src/train/lm.js";

const model = () => (manualSeed(1), new nn.GPT({ vocabSize: 7, contextLength: 4, dModel: 8, nHeads: 2, nLayers: 1 }));
const batch = tensor(
  Int32Array.from({ length: 10 }, (_, i) => (i * 3) % 7),
  { shape: [2, 5] },
);
const base = { lr: 0.01, warmupSteps: 3, nextBatch: () => batch };

test("scheduleSeconds: a budget that is never reached gives lmSchedule's OneCycleLR rates step by step", () => {
  const want = trainLanguageModel(model(), { ...base, steps: 12 }).map((l) => l.lr);
  const got = trainLanguageModel(model(), { ...base, steps: 12, scheduleSeconds: 1e9 }).map((l) => l.lr);
  assert.equal(got.length, want.length);
  got.forEach((lr, i) => assert.ok(Math.abs(lr - want[i]!) <= 1e-12 * want[i]!, `step ${i}: ${lr} vs ${want[i]}`));
});

test("scheduleSeconds: the cosine runs on time, reaches lr/10 and stops well before the step cap", () => {
  const t0 = performance.now();
  const logs = trainLanguageModel(model(), { ...base, steps: 100000, scheduleSeconds: 0.3 });
  const seconds = (performance.now() - t0) / 1000;
  assert.ok(logs.length < 100000 && seconds >= 0.3 && seconds < 5, `${logs.length} steps in ${seconds} s`);
  const lrs = logs.map((l) => l.lr);
  assert.ok(Math.abs(Math.max(...lrs) - 0.01) <= 1e-15, `peak ${Math.max(...lrs)}`);
  for (let i = 3; i < lrs.length; i++) assert.ok(lrs[i]! <= lrs[i - 1]!, `step ${i} rose: ${lrs[i - 1]} → ${lrs[i]}`);
  assert.ok(Math.abs(lrs[lrs.length - 1]! - 0.001) <= 1e-12, `last lr ${lrs[lrs.length - 1]}`);
});

test("scheduleSeconds must be positive", () => {
  assert.throws(
    () => trainLanguageModel(model(), { ...base, steps: 5, scheduleSeconds: 0 }),
    (e: unknown) => e instanceof DescentError && /scheduleSeconds must be a positive number, got 0/.test(e.message),
  );
});
