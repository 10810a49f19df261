// fitAsync (issue 17, item 3): the same training as fit, step for step, while timers keep firing;
// async onEpochEnd callbacks are awaited; an AbortSignal stops it. The reference for "the same
// training" is fit itself, run from the same seed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { DescentError, fit, fitAsync, manualSeed, randn, randint } from "../../src/index.js";
import { Sequential } from "../../src/nn/layers/container.js";
import { Linear } from "../../src/nn/layers/linear.js";
import { ReLU } from "../../src/nn/layers/activation.js";
import { Dropout } from "../../src/nn/layers/dropout.js";
import { CrossEntropyLoss } from "../../src/nn/layers/loss.js";
import { Adam } from "../../src/optim/adam.js";
import { DataLoader, TensorDataset } from "../../src/data/index.js";

function setup(n = 256, width = 64) {
  manualSeed(3);
  const x = randn([n, 20]);
  const y = randint(0, 4, [n]);
  const model = new Sequential(new Linear(20, width), new ReLU(), new Dropout(0.1), new Linear(width, 4));
  const train = new DataLoader(new TensorDataset(x, y), { batchSize: 8, shuffle: true });
  const optimizer = new Adam(model.parameters(), { lr: 1e-2 });
  // The model is fit's first argument, not one of its options (an unknown option is an error).
  return { model, opts: { train, optimizer, loss: new CrossEntropyLoss(), log: "silent" as const } };
}

test("fitAsync trains exactly as fit does: same losses, same weights", async () => {
  const a = setup();
  const ha = fit(a.model, { ...a.opts, epochs: 3 });
  const b = setup();
  const hb = await fitAsync(b.model, { ...b.opts, epochs: 3 });
  assert.deepEqual(hb.loss, ha.loss);
  assert.equal(hb.steps, ha.steps);
  for (const [k, t] of Object.entries(a.model.stateDict()))
    assert.deepEqual(b.model.stateDict()[k]!.toFlatArray(), t.toFlatArray(), k);
});

test("timers fire while fitAsync trains, and not while fit does", async () => {
  const count = async (run: () => unknown) => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      await run();
    } finally {
      clearInterval(timer);
    }
    return ticks;
  };
  const s = setup(2048, 256);
  const sync = await count(() => fit(s.model, { ...s.opts, epochs: 1 }));
  const t = setup(2048, 256);
  const started = performance.now();
  const asyncTicks = await count(() => fitAsync(t.model, { ...t.opts, epochs: 1 }));
  const ms = performance.now() - started;
  assert.equal(sync, 0, "fit blocks the event loop, so the interval cannot fire during it");
  // Slices are 8 ms of work, so a run of ms milliseconds hands the loop back about ms/8 times;
  // a quarter of that leaves room for a loaded machine.
  assert.ok(asyncTicks >= Math.max(2, Math.floor(ms / 32)), `${asyncTicks} ticks in ${ms.toFixed(0)} ms`);
});

test("an async onEpochEnd is awaited and its false stops training; fit refuses one", async () => {
  const s = setup();
  const seen: number[] = [];
  const h = await fitAsync(s.model, {
    ...s.opts,
    epochs: 5,
    onEpochEnd: async (log) => {
      await new Promise((r) => setTimeout(r, 5));
      seen.push(log.epoch);
      return log.epoch < 2;
    },
  });
  assert.deepEqual(seen, [1, 2]);
  assert.equal(h.epochs.length, 2);
  assert.equal(h.stopped, true);
  const t = setup();
  assert.throws(
    () => fit(t.model, { ...t.opts, epochs: 2, onEpochEnd: async () => {} }),
    (e: unknown) => e instanceof DescentError && /onEpochEnd returned a Promise; use fitAsync/.test(e.message),
  );
});

test("an AbortSignal rejects fitAsync with its reason; an aborted one takes no step", async () => {
  const s = setup();
  const before = s.model.stateDict()["0.weight"]!.toFlatArray();
  const pre = new AbortController();
  pre.abort(new Error("stop before"));
  await assert.rejects(fitAsync(s.model, { ...s.opts, epochs: 1, signal: pre.signal }), /stop before/);
  assert.deepEqual(s.model.stateDict()["0.weight"]!.toFlatArray(), before);

  const ctl = new AbortController();
  let epochs = 0;
  const run = fitAsync(s.model, {
    ...s.opts,
    epochs: 50,
    signal: ctl.signal,
    onEpochEnd: () => {
      if (++epochs === 2) ctl.abort(new Error("user stop"));
    },
  });
  await assert.rejects(run, /user stop/);
  assert.equal(epochs, 2);
  assert.notDeepEqual(s.model.stateDict()["0.weight"]!.toFlatArray(), before);
});
