// fit / evaluate / predict on tiny synthetic problems: learning, history, early stopping, keep-best
// checkpoints, gradient clipping, schedules, JSON lines and the progress bar, and modes restored.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { manualSeed, randn, tensor, type Tensor } from "../../src/index.js";
import { Sequential } from "../../src/nn/layers/container.js";
import { Linear } from "../../src/nn/layers/linear.js";
import { ReLU } from "../../src/nn/layers/activation.js";
import { Dropout } from "../../src/nn/layers/dropout.js";
import { CrossEntropyLoss } from "../../src/nn/layers/loss.js";
import { Adam } from "../../src/optim/adam.js";
import { SGD } from "../../src/optim/sgd.js";
import { OneCycleLR, StepLR } from "../../src/optim/lr_scheduler.js";
import { DataLoader, TensorDataset } from "../../src/data/index.js";
import { loadCheckpoint } from "../../src/io/index.js";
import { fit, evaluate, predict } from "../../src/train/fit.js";
import { accuracy } from "../../src/train/metrics.js";

/** Three Gaussian blobs in 2-D: n points each, well separated. */
function blobs(n: number): { x: Tensor; y: Tensor } {
  const centers = [
    [2, 0],
    [-1, 1.7],
    [-1, -1.7],
  ];
  const noise = randn([3 * n, 2])
    .mul(0.5)
    .toFlatArray();
  const xs = new Float32Array(6 * n);
  const ys = new Int32Array(3 * n);
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < n; i++) {
      const k = c * n + i;
      xs[2 * k] = centers[c]![0]! + noise[2 * k]!;
      xs[2 * k + 1] = centers[c]![1]! + noise[2 * k + 1]!;
      ys[k] = c;
    }
  return { x: tensor(xs, { shape: [3 * n, 2] }), y: tensor(ys) };
}

function setup(seed = 0) {
  manualSeed(seed);
  const tr = blobs(60);
  const va = blobs(20);
  const model = new Sequential(new Linear(2, 16), new ReLU(), new Dropout(0.1), new Linear(16, 3));
  const train = new DataLoader(new TensorDataset(tr.x, tr.y), { batchSize: 16, shuffle: true });
  const val = new DataLoader(new TensorDataset(va.x, va.y), { batchSize: 32 });
  return { model, train, val, tr, va };
}

function sink(isTTY = false): { write(s: string): boolean; isTTY: boolean; columns: number; text: () => string } {
  const parts: string[] = [];
  return { write: (s: string) => (parts.push(s), true), isTTY, columns: 120, text: () => parts.join("") };
}

test("fit learns a small classification problem and records its history", () => {
  const { model, train, val, va } = setup();
  const h = fit(model, {
    train,
    val,
    loss: new CrossEntropyLoss(),
    optimizer: new Adam(model.parameters(), { lr: 0.03 }),
    epochs: 8,
    metrics: ["loss", "accuracy"],
    log: "silent",
  });
  assert.equal(h.epochs.length, 8);
  for (const k of ["loss", "accuracy", "valLoss", "valAccuracy", "lr"] as const) assert.equal(h[k].length, 8, k);
  assert.ok(h.loss[7]! < h.loss[0]! * 0.5, `loss ${h.loss[0]} -> ${h.loss[7]}`);
  assert.ok(h.valAccuracy[7]! >= 0.95, `val accuracy ${h.valAccuracy[7]}`);
  assert.equal(h.steps, 8 * train.length);
  assert.equal(h.epochs[0]!.samples, 180);
  assert.ok(h.epochs.every((e, i) => e.epoch === i + 1 && e.seconds >= 0 && e.lr === 0.03));
  assert.equal(model.training, true);
  // evaluate agrees with the last epoch's validation numbers and with a direct computation.
  const r = evaluate(model, val, { loss: new CrossEntropyLoss(), metrics: ["loss", "accuracy"] });
  assert.equal(r.samples, 60);
  assert.ok(Math.abs(r.loss! - h.valLoss[7]!) < 1e-6);
  assert.equal(r.accuracy, h.valAccuracy[7]);
  assert.equal(r.accuracy, accuracy(predict(model, va.x), va.y));
});

test("early stopping ends training when the monitored value stops improving", () => {
  const { model, train, val } = setup(1);
  const h = fit(model, {
    train,
    val,
    loss: new CrossEntropyLoss(),
    optimizer: new SGD(model.parameters(), { lr: 1e-9 }),
    epochs: 20,
    earlyStopping: { patience: 2, monitor: "valLoss", minDelta: 1e-3 },
    log: "silent",
  });
  // Epoch 1 sets the best; 2, 3, 4 do not improve by minDelta; patience 2 is exceeded at epoch 4.
  assert.equal(h.epochs.length, 4);
  assert.equal(h.stopped, true);
  assert.equal(h.bestEpoch, 1);
  assert.throws(
    () =>
      fit(model, {
        train,
        loss: new CrossEntropyLoss(),
        optimizer: new SGD(model.parameters(), { lr: 0.1 }),
        epochs: 1,
        earlyStopping: { patience: 1, monitor: "valLoss" },
        log: "silent",
      }),
    /cannot monitor "valLoss".*no validation loader/,
  );
});

test("keep-best saves the best epoch's model in a checkpoint (and restoreBest brings it back)", () => {
  const dir = mkdtempSync(join(tmpdir(), "descent-fit-"));
  try {
    const { model, train, tr } = setup(2);
    // Validation labels are shifted by one class: the better the model fits, the worse valLoss gets
    // after the first epochs, so the best epoch is not the last.
    const yv = tensor(Int32Array.from(tr.y.toFlatArray(), (c) => (c + 1) % 3));
    const val = new DataLoader(new TensorDataset(tr.x, yv), { batchSize: 64 });
    const snapshots = new Map<number, Record<string, number[]>>();
    const h = fit(model, {
      train,
      val,
      loss: new CrossEntropyLoss(),
      optimizer: new Adam(model.parameters(), { lr: 0.02 }),
      epochs: 5,
      checkpoint: { dir, keepBest: true, restoreBest: true },
      log: "silent",
      onEpochEnd: (log) => {
        const s: Record<string, number[]> = {};
        for (const [k, t] of Object.entries(model.stateDict())) s[k] = Array.from(t.toFlatArray());
        snapshots.set(log.epoch, s);
      },
    });
    const best = h.valLoss.indexOf(Math.min(...h.valLoss)) + 1;
    assert.equal(h.bestEpoch, best);
    assert.ok(best < 5, `best epoch ${best}`);
    assert.equal(h.bestCheckpoint, join(dir, "best.safetensors"));
    assert.ok(existsSync(join(dir, "last.safetensors")));
    const fresh = new Sequential(new Linear(2, 16), new ReLU(), new Dropout(0.1), new Linear(16, 3));
    const info = loadCheckpoint(h.bestCheckpoint!, { model: fresh });
    assert.equal(info.epoch, best);
    for (const [k, t] of Object.entries(fresh.stateDict()))
      assert.deepEqual(Array.from(t.toFlatArray()), snapshots.get(best)![k]);
    // restoreBest: the model ends with the best epoch's weights.
    for (const [k, t] of Object.entries(model.stateDict()))
      assert.deepEqual(Array.from(t.toFlatArray()), snapshots.get(best)![k]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("gradient clipping bounds every step; schedules step per epoch or per batch", () => {
  const { model, train } = setup(3);
  const before = model.parameters().map((p) => Array.from(p.toFlatArray()));
  const maxNorm = 1e-3;
  const h = fit(model, {
    train,
    loss: new CrossEntropyLoss(),
    optimizer: new SGD(model.parameters(), { lr: 1 }),
    epochs: 1,
    clipGradNorm: maxNorm,
    log: "silent",
  });
  let moved = 0;
  model.parameters().forEach((p, i) => p.toFlatArray().forEach((v, j) => (moved += (v - before[i]![j]!) ** 2)));
  assert.ok(Math.sqrt(moved) <= h.steps * maxNorm * 1.001, `moved ${Math.sqrt(moved)}`);

  const opt = new SGD(model.parameters(), { lr: 0.1 });
  const h2 = fit(model, {
    train,
    loss: new CrossEntropyLoss(),
    optimizer: opt,
    scheduler: new StepLR(opt, 1, { gamma: 0.5 }),
    epochs: 3,
    log: "silent",
  });
  assert.deepEqual(h2.lr, [0.1, 0.05, 0.025]);
  const opt2 = new Adam(model.parameters(), { lr: 0.01 });
  const sched = new OneCycleLR(opt2, 0.05, { epochs: 2, stepsPerEpoch: train.length });
  fit(model, { train, loss: new CrossEntropyLoss(), optimizer: opt2, scheduler: sched, epochs: 2, log: "silent" });
  assert.equal(sched.lastEpoch, 2 * train.length); // stepped once per batch: one more step would throw
});

test("JSON lines: one object per epoch and per N batches, all parseable", () => {
  const { model, train, val } = setup(4);
  const out = sink();
  fit(model, {
    train,
    val,
    loss: new CrossEntropyLoss(),
    optimizer: new Adam(model.parameters(), { lr: 0.01 }),
    epochs: 2,
    metrics: ["accuracy"],
    log: "json",
    logStream: out,
    logEvery: 5,
  });
  const lines = out
    .text()
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const epochs = lines.filter((l) => l.event === "epoch");
  const batches = lines.filter((l) => l.event === "batch");
  assert.equal(epochs.length, 2);
  assert.equal(batches.length, 2 * Math.floor(train.length / 5));
  for (const e of epochs)
    for (const k of ["epoch", "loss", "accuracy", "valLoss", "valAccuracy", "lr", "samples", "seconds"])
      assert.equal(typeof e[k], "number", k);
  assert.equal(typeof batches[0]!.samplesPerSecond, "number");
  // "auto" on a stream that is not a terminal means JSON lines too.
  const auto = sink(false);
  fit(model, {
    train,
    loss: new CrossEntropyLoss(),
    optimizer: new SGD(model.parameters(), { lr: 0.01 }),
    epochs: 1,
    logStream: auto,
  });
  assert.equal((JSON.parse(auto.text().trim()) as { event: string }).event, "epoch");
});

test("the progress bar redraws one line with \\r on a terminal", () => {
  const { model, train } = setup(5);
  const out = sink(true);
  fit(model, {
    train,
    loss: new CrossEntropyLoss(),
    optimizer: new Adam(model.parameters(), { lr: 0.01 }),
    epochs: 2,
    log: "progress",
    logStream: out,
  });
  const text = out.text();
  assert.match(text, /\repoch 1\/2 \[=+\] 12\/12 {2}\d+ samples\/s {2}ETA 0\.0s {2}loss \d\.\d{4}/);
  assert.match(text, /\repoch 2\/2 {2}[\d.]+s {2}loss \d\.\d{4} {2}lr 0\.0100/);
  assert.equal(text.split("\n").length, 3); // two finished epochs, then the empty tail
});

test("predict runs batched in eval mode under noGrad and restores the modes", () => {
  const { model, tr } = setup(6);
  model.train();
  const whole = predict(model, tr.x, { batchSize: 1000 });
  const batched = predict(model, tr.x, { batchSize: 7 });
  assert.deepEqual(whole.shape, [180, 3]);
  // Same values up to float32 rounding (the matmul kernel blocks differently for other row counts).
  const close = (a: Tensor, b: Tensor) => a.toFlatArray().every((v, i) => Math.abs(v - b.toFlatArray()[i]!) <= 1e-6);
  assert.ok(close(batched, whole));
  assert.equal(whole.requiresGrad, false);
  assert.ok(model.modules().every((m) => m.training)); // dropout back in training mode
  // From a loader (targets ignored), and from a model in eval mode, which stays in eval mode.
  model.eval();
  const fromLoader = predict(model, new DataLoader(new TensorDataset(tr.x, tr.y), { batchSize: 50 }));
  assert.ok(close(fromLoader, whole));
  assert.ok(model.modules().every((m) => !m.training));
  assert.throws(() => predict(model, tr.x, { batchSize: 0 }), /predict: batchSize must be a positive integer/);
});

test("fit refuses bad options with messages that name them", () => {
  const { model, train } = setup(7);
  const base = {
    train,
    loss: new CrossEntropyLoss(),
    optimizer: new SGD(model.parameters(), { lr: 0.1 }),
    log: "silent" as const,
  };
  assert.throws(() => fit(model, { ...base, epochs: -1 }), /fit: opts.epochs must be a non-negative integer/);
  assert.throws(() => fit(model, { ...base, epochs: 1, metrics: ["f1" as never] }), /fit: unknown metric "f1"/);
  assert.throws(() => fit(model, { ...base, epochs: 1, clipGradNorm: 0 }), /clipGradNorm must be a positive number/);
});

test("fit drives a GradientMonitor every step and writes the HTML report", async () => {
  const { GradientMonitor } = await import("../../src/train/health.js");
  const { readFileSync } = await import("node:fs");
  manualSeed(3);
  const { x, y } = blobs(128);
  const model = new Sequential(new Linear(2, 16), new ReLU(), new Linear(16, 3));
  const monitor = new GradientMonitor(model);
  const dir = mkdtempSync(join(tmpdir(), "descent-fit-report-"));
  try {
    const report = join(dir, "report.html");
    const history = fit(model, {
      train: new DataLoader(new TensorDataset(x, y), { batchSize: 32, shuffle: true }),
      loss: new CrossEntropyLoss(),
      optimizer: new Adam(model.parameters(), { lr: 0.01 }),
      epochs: 2,
      log: "silent",
      gradientMonitor: monitor,
      report,
    });
    assert.equal(monitor.records.length, history.steps, "one record per optimizer step");
    assert.ok(monitor.records.every((r) => Number.isFinite(r.totalNorm) && r.totalNorm > 0));
    const html = readFileSync(report, "utf8");
    assert.ok(html.includes("<svg") && html.includes("Gradient"), "the report holds the gradient charts");
  } finally {
    monitor.detach();
    rmSync(dir, { recursive: true, force: true });
  }
});
