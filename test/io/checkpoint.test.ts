// Checkpoints: resuming from one gives bit-identical weights to the uninterrupted run (an MLP with
// dropout, Adam, StepLR and a shuffled DataLoader, so the generator state matters), state that
// JSON cannot hold directly (ReduceLROnPlateau's best = Infinity), and the refusals: wrong model,
// wrong optimizer kind, a file that is not a checkpoint.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { tensor, defaultGenerator, manualSeed, randn, DescentError, type Tensor } from "../../src/index.js";
import { Sequential } from "../../src/nn/layers/container.js";
import { Linear } from "../../src/nn/layers/linear.js";
import { ReLU } from "../../src/nn/layers/activation.js";
import { Dropout } from "../../src/nn/layers/dropout.js";
import { crossEntropy } from "../../src/nn/functional/index.js";
import { Adam } from "../../src/optim/adam.js";
import { SGD } from "../../src/optim/sgd.js";
import { ReduceLROnPlateau, StepLR } from "../../src/optim/lr_scheduler.js";
import { TensorDataset } from "../../src/data/dataset.js";
import { DataLoader } from "../../src/data/loader.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/io/checkpoint.js";
import { loadFile, save } from "../../src/io/safetensors.js";

const dir = mkdtempSync(join(tmpdir(), "descent-ckpt-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function setup(): { model: Sequential; opt: Adam; sched: StepLR; loader: DataLoader } {
  const model = new Sequential(new Linear(5, 16), new ReLU(), new Dropout(0.3), new Linear(16, 3));
  const opt = new Adam(model.parameters(), { lr: 0.01 });
  const sched = new StepLR(opt, 2, { gamma: 0.5 });
  return { model, opt, sched, loader: new DataLoader(data, { batchSize: 4, shuffle: true }) };
}

manualSeed(123);
const data = new TensorDataset(randn([12, 5]), tensor(Int32Array.from({ length: 12 }, (_, i) => i % 3)));

/** Runs `epochs` epochs of 3 steps each, stepping the scheduler every step. */
function train(s: ReturnType<typeof setup>, epochs: number): void {
  for (let e = 0; e < epochs; e++) {
    for (const [x, y] of s.loader) {
      s.opt.zeroGrad();
      crossEntropy(s.model.forward(x!) as never, y!).backward();
      s.opt.step();
      s.sched.step();
    }
  }
}

function weights(m: Sequential): number[][] {
  return m.parameters().map((p) => Array.from(p.toFlatArray()));
}

test("resuming from a checkpoint gives bit-identical weights to the uninterrupted run", () => {
  manualSeed(0);
  const straight = setup();
  train(straight, 2); // 6 steps
  const straightRng = defaultGenerator.getState();

  manualSeed(0);
  const first = setup();
  train(first, 1); // 3 steps
  const path = join(dir, "resume.safetensors");
  saveCheckpoint(path, {
    model: first.model,
    optimizer: first.opt,
    scheduler: first.sched,
    epoch: 1,
    step: 3,
    extra: { note: "x", best: Infinity },
  });
  defaultGenerator.manualSeed(999); // anything drawn from here on must not matter

  manualSeed(77); // fresh objects with different initial weights
  const resumed = setup();
  assert.notDeepEqual(weights(resumed.model), weights(first.model));
  const info = loadCheckpoint(path, { model: resumed.model, optimizer: resumed.opt, scheduler: resumed.sched });
  assert.deepEqual(info, { epoch: 1, step: 3, extra: { note: "x", best: Infinity } });
  assert.deepEqual(weights(resumed.model), weights(first.model));
  assert.deepEqual(resumed.sched.getLastLr(), first.sched.getLastLr());
  train(resumed, 1); // 3 more steps

  const a = weights(straight.model);
  const b = weights(resumed.model);
  assert.equal(a.length, 4);
  for (let i = 0; i < a.length; i++) assert.deepEqual(b[i], a[i], `parameter ${i} differs`);
  assert.deepEqual(resumed.sched.getLastLr(), straight.sched.getLastLr());
  assert.deepEqual(resumed.opt.stateDict().param_groups, straight.opt.stateDict().param_groups);
  assert.deepEqual(defaultGenerator.getState(), straightRng, "the generator ends where the straight run left it");
});

test("checkpoint layout: model tensors, optimizer tensors and JSON metadata", () => {
  manualSeed(1);
  const s = setup();
  train(s, 1);
  const path = join(dir, "layout.safetensors");
  saveCheckpoint(path, { model: s.model, optimizer: s.opt, scheduler: s.sched, epoch: 4 });
  const { tensors, metadata } = loadFile(path);
  assert.deepEqual(
    Object.keys(tensors)
      .filter((k) => k.startsWith("model."))
      .sort(),
    ["model.0.bias", "model.0.weight", "model.3.bias", "model.3.weight"],
  );
  assert.ok(tensors["optimizer.state.0.exp_avg"]);
  assert.ok(tensors["optimizer.state.3.exp_avg_sq"]);
  assert.equal(metadata.format, "descent-checkpoint");
  assert.equal(JSON.parse(metadata.optimizer!).type, "Adam");
  assert.equal(JSON.parse(metadata.scheduler!).type, "StepLR");
  assert.equal(metadata.epoch, "4");
  assert.equal(metadata.step, "0");
  // model only: optimizer and scheduler are optional on both sides
  const fresh = setup();
  assert.deepEqual(loadCheckpoint(path, { model: fresh.model }), { epoch: 4, step: 0, extra: {} });
  assert.deepEqual(weights(fresh.model), weights(s.model));
});

test("checkpoint: non-finite scheduler state (ReduceLROnPlateau) and SGD momentum survive", () => {
  manualSeed(2);
  const model = new Sequential(new Linear(2, 2));
  const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const plateau = new ReduceLROnPlateau(opt, { patience: 0 });
  const path = join(dir, "plateau.safetensors");
  saveCheckpoint(path, { model, optimizer: opt, scheduler: plateau });
  const opt2 = new SGD(model.parameters(), { lr: 0.5, momentum: 0.9 });
  const plateau2 = new ReduceLROnPlateau(opt2, { patience: 3 });
  plateau2.step(1);
  loadCheckpoint(path, { model, optimizer: opt2, scheduler: plateau2 });
  assert.deepEqual(plateau2.stateDict(), plateau.stateDict());
  assert.equal(plateau2.stateDict().best, Infinity);
  assert.equal(opt2.paramGroups[0]!.lr, 0.1);
});

test("checkpoint: refusals", () => {
  manualSeed(3);
  const s = setup();
  const path = join(dir, "refuse.safetensors");
  saveCheckpoint(path, { model: s.model, optimizer: s.opt });
  const other = new Sequential(new Linear(5, 8), new ReLU(), new Dropout(0.3), new Linear(8, 3));
  assert.throws(
    () => loadCheckpoint(path, { model: other }),
    /loadStateDict: size mismatch.*0\.weight: the checkpoint has shape \[16,5\], the model \[8,5\]/,
  );
  const sgd = new SGD(s.model.parameters(), { lr: 0.1 });
  assert.throws(() => loadCheckpoint(path, { model: s.model, optimizer: sgd }), /holds the state of Adam, not SGD/);
  assert.throws(
    () => loadCheckpoint(path, { model: s.model, scheduler: s.sched }),
    /loadCheckpoint: .*: the checkpoint has no scheduler/,
  );
  const plain = join(dir, "plain.safetensors");
  save({ w: randn([2]) }, plain);
  assert.throws(() => loadCheckpoint(plain, { model: s.model }), /not a Descent checkpoint/);
  assert.throws(
    () => saveCheckpoint(path, { model: s.model, extra: { f: (() => 1) as unknown } }),
    /saveCheckpoint: extra.f is function, which a checkpoint cannot hold/,
  );
  assert.throws(() => loadCheckpoint(join(dir, "none.safetensors"), { model: s.model }), DescentError);
});

// Issue 11 #9: malformed checkpoint metadata is refused by loadCheckpoint with a DescentError
// (not a TypeError, not a NaN at the next randn, not a failure at the next step()), and a refused
// load leaves the model, optimizer, scheduler and generator exactly as they were.
test("checkpoint: malformed metadata is refused before anything is changed", () => {
  manualSeed(5);
  const src = setup();
  train(src, 1);
  const path = join(dir, "good.safetensors");
  saveCheckpoint(path, { model: src.model, optimizer: src.opt, scheduler: src.sched, epoch: 1, step: 3 });
  const { tensors, metadata } = loadFile(path);
  const tampered = (name: string, edit: (m: Record<string, unknown>) => void): string => {
    const meta: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(metadata)) meta[k] = k === "format" || k === "version" ? v : JSON.parse(v);
    edit(meta);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(meta)) out[k] = typeof v === "string" ? v : JSON.stringify(v);
    const p = join(dir, `bad-${name}.safetensors`);
    save(tensors, p, out);
    return p;
  };
  type O = { state: Record<string, Record<string, unknown>>; param_groups: unknown[] };
  const opt = (m: Record<string, unknown>) => m.optimizer as O;
  const cases: [string, (m: Record<string, unknown>) => void, RegExp][] = [
    ["null-group", (m) => (opt(m).param_groups = [null]), /parameter group 0 is null, not an object/],
    [
      "proto",
      (m) => (opt(m).state["0"] = JSON.parse('{"__proto__": {"$tensor": "optimizer.state.0.exp_avg"}, "step": 3}')),
      /optimizer state 0 has the key "__proto__"/,
    ],
    [
      "constructor",
      (m) => (opt(m).state["0"] = { ...opt(m).state["0"], constructor: 1 }),
      /optimizer state 0 has the key "constructor"/,
    ],
    ["spare-nan", (m) => ((m.rng as { spare: unknown }).spare = { $number: "NaN" }), /rng state is malformed.*spare/],
    ["epoch-nan", (m) => (m.epoch = { $number: "NaN" }), /epoch must be a non-negative integer, got null/],
    ["epoch-neg", (m) => (m.epoch = -5.5), /epoch must be a non-negative integer, got -5\.5/],
    ["sched-empty", (m) => ((m.scheduler as { state: unknown }).state = {}), /StepLR\.loadStateDict: missing keys/],
  ];
  manualSeed(99);
  const dst = setup();
  train(dst, 1);
  const before = () => ({
    w: weights(dst.model),
    opt: JSON.stringify(dst.opt.stateDict(), (_, v) => (v instanceof Float32Array ? Array.from(v) : v)),
    optT: [...dst.opt.state.values()].map((st) =>
      Array.from((st.exp_avg as never as { toFlatArray(): Float32Array }).toFlatArray()),
    ),
    sched: dst.sched.stateDict(),
    rng: defaultGenerator.getState(),
  });
  const snap = before();
  for (const [name, edit, re] of cases) {
    const p = tampered(name, edit);
    assert.throws(
      () => loadCheckpoint(p, { model: dst.model, optimizer: dst.opt, scheduler: dst.sched }),
      (e: unknown) => e instanceof DescentError && re.test(e.message),
      name,
    );
    assert.deepEqual(before(), snap, `${name}: nothing changed`);
  }
  // The untampered file still loads, and gives the source's weights.
  loadCheckpoint(path, { model: dst.model, optimizer: dst.opt, scheduler: dst.sched });
  assert.deepEqual(weights(dst.model), weights(src.model));
});

// Issue 11 #12: a checkpoint written in the middle of an epoch with the loader given holds the
// loader's order and position; a hand-written loop resumed from it finishes that epoch with the
// batches the uninterrupted run had, and ends with bit-identical weights.
test("checkpoint with a loader mid-epoch: a hand-written loop resumes bit-exactly", () => {
  const step = (s: ReturnType<typeof setup>, x: Tensor, y: Tensor) => {
    s.opt.zeroGrad();
    crossEntropy(s.model.forward(x) as never, y).backward();
    s.opt.step();
    s.sched.step();
  };
  manualSeed(21);
  const ref = setup();
  train(ref, 3);
  const want = weights(ref.model);

  manualSeed(21);
  const run = setup();
  train(run, 1);
  const it = run.loader[Symbol.iterator]();
  const [x, y] = it.next().value!;
  step(run, x!, y!);
  const path = join(dir, "mid.safetensors");
  saveCheckpoint(path, { model: run.model, optimizer: run.opt, scheduler: run.sched, loader: run.loader, epoch: 1 });

  manualSeed(777);
  const again = setup();
  const info = loadCheckpoint(path, {
    model: again.model,
    optimizer: again.opt,
    scheduler: again.sched,
    loader: again.loader,
  });
  assert.equal(info.epoch, 1);
  for (const [bx, by] of again.loader) step(again, bx!, by!); // the rest of epoch 2
  train(again, 1); // epoch 3
  assert.deepEqual(weights(again.model), want);
});
