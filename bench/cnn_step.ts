// One training step of a small MNIST-style CNN on the js backend: batch 64 of 1x28x28 →
// conv3x3(32)+ReLU+maxpool2 → conv3x3(64)+ReLU+maxpool2 → flatten → linear(128)+ReLU → linear(10),
// cross-entropy (nn.functional crossEntropy), backward, optim.Adam step. Prints the median
// over several steps after a warm-up, split into forward / backward / update. Not a test; run
// `node --import tsx bench/cnn_step.ts [steps]` on an otherwise idle machine.

import os from "node:os";
import { manualSeed, randint, randn, type Tensor } from "../src/index.js";
import { Conv2d } from "../src/nn/layers/conv.js";
import { MaxPool2d } from "../src/nn/layers/pooling.js";
import { Linear } from "../src/nn/layers/linear.js";
import { crossEntropy } from "../src/nn/functional/loss.js";
import { Adam } from "../src/optim/adam.js";

const BATCH = 64;
const WARMUP = 2;
const STEPS = Number(process.argv[2] ?? 7);
const LR = 1e-3;

manualSeed(0);
const conv1 = new Conv2d(1, 32, 3);
const conv2 = new Conv2d(32, 64, 3);
const pool = new MaxPool2d(2);
const fc1 = new Linear(64 * 5 * 5, 128);
const fc2 = new Linear(128, 10);
const params = [conv1, conv2, fc1, fc2].flatMap((m) => m.parameters());
const opt = new Adam(params, { lr: LR });

const x = randn([BATCH, 1, 28, 28]);
const target = randint(0, 10, [BATCH], { dtype: "int32" });

const layerTimes = new Map<string, number[]>();
function timed<T>(name: string, f: () => T): T {
  const t0 = performance.now();
  const r = f();
  const list = layerTimes.get(name) ?? [];
  list.push(performance.now() - t0);
  layerTimes.set(name, list);
  return r;
}

function forward(input: Tensor): Tensor {
  let h = timed("conv1", () => conv1.forward(input));
  h = timed("relu1", () => h.relu());
  h = timed("pool1", () => pool.forward(h)); // [64, 32, 13, 13]
  h = timed("conv2", () => conv2.forward(h));
  h = timed("relu2", () => h.relu());
  h = timed("pool2", () => pool.forward(h)); // [64, 64, 5, 5]
  h = timed("fc1+relu", () => fc1.forward(h.flatten(1)).relu());
  const logits = timed("fc2", () => fc2.forward(h));
  return timed("loss", () => crossEntropy(logits, target));
}

function step(): { fwd: number; bwd: number; upd: number; loss: number } {
  opt.zeroGrad();
  const t0 = performance.now();
  const loss = forward(x);
  const t1 = performance.now();
  loss.backward();
  const t2 = performance.now();
  opt.step();
  const t3 = performance.now();
  return { fwd: t1 - t0, bwd: t2 - t1, upd: t3 - t2, loss: loss.item() };
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;

console.log(`cnn_step: batch ${BATCH}, js backend, node ${process.version}, ${os.cpus()[0]?.model ?? "?"}`);
for (let i = 0; i < WARMUP; i++) step();
layerTimes.clear();
const rows: ReturnType<typeof step>[] = [];
for (let i = 0; i < STEPS; i++) rows.push(step());
const col = (k: "fwd" | "bwd" | "upd") => median(rows.map((r) => r[k]));
const totals = rows.map((r) => r.fwd + r.bwd + r.upd);
console.log(`loss ${rows[0]!.loss.toFixed(4)} → ${rows[rows.length - 1]!.loss.toFixed(4)} over ${STEPS} steps`);
console.log(
  `step median ${median(totals).toFixed(1)} ms (min ${Math.min(...totals).toFixed(1)}, max ${Math.max(...totals).toFixed(1)}; ${STEPS} steps after ${WARMUP} warm-up)`,
);
console.log(
  `  forward ${col("fwd").toFixed(1)} ms, backward ${col("bwd").toFixed(1)} ms, update ${col("upd").toFixed(1)} ms`,
);
console.log("  forward by layer (median ms):");
for (const [k, v] of layerTimes) console.log(`    ${k.padEnd(9)} ${median(v).toFixed(1)}`);
