// The training run the resume tests interrupt and continue (test/train/resume.test.ts and its
// child process fit_child.ts): a small MLP with BatchNorm and Dropout on three noisy blobs, a
// shuffled DataLoader whose last batch is partial, and two optimizer/schedule pairs: Adam with a
// per-batch OneCycleLR, and SGD with momentum, ReduceLROnPlateau on a validation loss and early
// stopping. Everything is built from the seed, so a fresh process builds the same run.

import { manualSeed, randn, tensor, type Tensor } from "../../../src/index.js";
import { Sequential } from "../../../src/nn/layers/container.js";
import { Linear } from "../../../src/nn/layers/linear.js";
import { ReLU } from "../../../src/nn/layers/activation.js";
import { Dropout } from "../../../src/nn/layers/dropout.js";
import { BatchNorm1d } from "../../../src/nn/layers/batchnorm.js";
import { CrossEntropyLoss } from "../../../src/nn/layers/loss.js";
import { Adam } from "../../../src/optim/adam.js";
import { SGD } from "../../../src/optim/sgd.js";
import { OneCycleLR, ReduceLROnPlateau } from "../../../src/optim/lr_scheduler.js";
import { DataLoader, TensorDataset } from "../../../src/data/index.js";
import type { FitOptions } from "../../../src/train/fit.js";
import type { Module } from "../../../src/nn/module.js";

export type Variant = "adam-onecycle" | "sgd-plateau";

function blobs(n: number): { x: Tensor; y: Tensor } {
  const x = randn([3 * n, 4]);
  const y = tensor(Int32Array.from({ length: 3 * n }, (_, i) => i % 3));
  const shift = tensor(
    Float32Array.from({ length: 3 * n * 4 }, (_, i) => (Math.floor(i / 4) % 3) * (i % 2 ? 1 : -1)),
    {
      shape: [3 * n, 4],
    },
  );
  return { x: x.add(shift), y };
}

/** A fresh run: the model, and fit's options (without epochs, checkpoint and resume). */
export function buildRun(
  variant: Variant,
  samples = 23,
  batchSize = 5,
): { model: Module; opts: Omit<FitOptions, "epochs"> } {
  manualSeed(7);
  const d = blobs(Math.ceil(samples / 3));
  const v = blobs(4);
  const model = new Sequential(new Linear(4, 12), new BatchNorm1d(12), new ReLU(), new Dropout(0.3), new Linear(12, 3));
  const train = new DataLoader(new TensorDataset(d.x.narrow(0, 0, samples), d.y.narrow(0, 0, samples)), {
    batchSize,
    shuffle: true,
  });
  const loss = new CrossEntropyLoss();
  if (variant === "adam-onecycle") {
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    const scheduler = new OneCycleLR(optimizer, 0.05, { totalSteps: 200 });
    return { model, opts: { train, loss, optimizer, scheduler, metrics: ["loss", "accuracy"], log: "silent" } };
  }
  const optimizer = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const scheduler = new ReduceLROnPlateau(optimizer, { patience: 0, factor: 0.5 });
  const val = new DataLoader(new TensorDataset(v.x, v.y), { batchSize: 4, shuffle: true });
  return {
    model,
    opts: { train, val, loss, optimizer, scheduler, earlyStopping: { patience: 3 }, log: "silent" },
  };
}

/** Every parameter and buffer, flattened, by name. */
export function weightsOf(model: Module): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(model.stateDict())) out[k] = Array.from(t.toFlatArray());
  return out;
}
