// Issue 6's W2: one training step of the MLP 784-256-128-10 with ReLU, cross-entropy and Adam at
// batch 128, on every loaded backend in one run (steps interleaved between backends so machine
// noise hits both alike). Prints per backend the median step split into forward / backward /
// update, and the native/js ratio. Not a test; run
// `node --import tsx bench/mlp_step.ts [steps]` on an otherwise idle machine.

import os from "node:os";
import { availableBackends, manualSeed, randint, randn, setBackend, type Tensor } from "../src/index.js";
import { Linear } from "../src/nn/layers/linear.js";
import { crossEntropy } from "../src/nn/functional/loss.js";
import { Adam } from "../src/optim/adam.js";

const BATCH = 128;
const WARMUP = 5;
const STEPS = Number(process.argv[2] ?? 30);

interface Model {
  step(): { fwd: number; bwd: number; upd: number; loss: number };
}

function makeModel(): Model {
  manualSeed(0);
  const fc1 = new Linear(784, 256);
  const fc2 = new Linear(256, 128);
  const fc3 = new Linear(128, 10);
  const opt = new Adam(
    [fc1, fc2, fc3].flatMap((m) => m.parameters()),
    { lr: 1e-3 },
  );
  const x = randn([BATCH, 784]);
  const target = randint(0, 10, [BATCH], { dtype: "int32" });
  const forward = (input: Tensor) => crossEntropy(fc3.forward(fc2.forward(fc1.forward(input).relu()).relu()), target);
  return {
    step() {
      opt.zeroGrad();
      const t0 = performance.now();
      const loss = forward(x);
      const t1 = performance.now();
      loss.backward();
      const t2 = performance.now();
      opt.step();
      const t3 = performance.now();
      return { fwd: t1 - t0, bwd: t2 - t1, upd: t3 - t2, loss: loss.item() };
    },
  };
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;

const names = (process.env["BENCH_BACKENDS"]?.split(",") ?? ["native", "js"]).filter((n) =>
  availableBackends().includes(n),
);
console.log(
  `mlp_step (W2): batch ${BATCH}, ${names.join(" vs ")}, node ${process.version}, ${os.cpus()[0]?.model ?? "?"}`,
);
const models = new Map<string, Model>();
for (const n of names) {
  setBackend(n);
  models.set(n, makeModel());
}
const rows = new Map<string, ReturnType<Model["step"]>[]>(names.map((n) => [n, []]));
for (let i = 0; i < WARMUP + STEPS; i++) {
  for (const n of names) {
    setBackend(n);
    const r = models.get(n)!.step();
    if (i >= WARMUP) rows.get(n)!.push(r);
  }
}
const totals = new Map<string, number>();
for (const n of names) {
  const rs = rows.get(n)!;
  const col = (k: "fwd" | "bwd" | "upd") => median(rs.map((r) => r[k])).toFixed(3);
  const t = rs.map((r) => r.fwd + r.bwd + r.upd);
  totals.set(n, median(t));
  console.log(
    `${n.padEnd(7)} step median ${median(t).toFixed(3)} ms (min ${Math.min(...t).toFixed(3)}): forward ${col("fwd")}, backward ${col("bwd")}, update ${col("upd")}; loss ${rs[0]!.loss.toFixed(4)} → ${rs[rs.length - 1]!.loss.toFixed(4)}`,
  );
}
if (totals.has("native") && totals.has("js"))
  console.log(
    `native/js ratio ${(totals.get("native")! / totals.get("js")!).toFixed(3)} (${STEPS} steps after ${WARMUP} warm-up)`,
  );
