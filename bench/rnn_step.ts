// Issue 6's W4 and its GRU twin: seq 32, batch 32, input 64, hidden 128, MSE of the last hidden
// state against a fixed target, Adam. Runs every available backend in one process (so ratios are
// measured together) and prints the median ms per training step, split into forward / backward /
// update, and the median process CPU time per step (all threads; steadier than wall time when other
// work shares the cores). `node --import tsx bench/rnn_step.ts [lstm|gru|all]`; STEPS and WARMUP
// override the counts, THREADS the native GEMM's thread count, BACKENDS=js,native which run.

import { availableBackends, manualSeed, randn, setBackend, type Tensor } from "../src/index.js";
import { Adam } from "../src/optim/index.js";
import { GRU, LSTM } from "../src/nn/layers/rnn.js";
import { nativeAddon } from "../src/backends/native/index.js";

const T = 32;
const N = 32;
const I = 64;
const H = 128;
const WARMUP = Number(process.env.WARMUP ?? 5);
const STEPS = Number(process.env.STEPS ?? 21);
const which = process.argv[2] ?? "all";
if (process.env.THREADS) nativeAddon()?.setThreads(Number(process.env.THREADS)); // native GEMM threads

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;

function bench(kind: "lstm" | "gru", backendName: string): number[] {
  setBackend(backendName);
  manualSeed(0);
  const m = kind === "lstm" ? new LSTM(I, H) : new GRU(I, H);
  const x = randn([T, N, I]);
  const target = randn([1, N, H]);
  const opt = new Adam(m.parameters(), { lr: 1e-3 });
  const last = (): Tensor => (m instanceof LSTM ? m.forward(x)[1][0] : (m as GRU).forward(x)[1]);
  const step = (): [number, number, number] => {
    const t0 = performance.now();
    const loss = last().sub(target).square().mean();
    const t1 = performance.now();
    opt.zeroGrad();
    loss.backward();
    const t2 = performance.now();
    opt.step();
    return [t1 - t0, t2 - t1, performance.now() - t2];
  };
  for (let i = 0; i < WARMUP; i++) step();
  const rows: number[][] = [[], [], [], [], []];
  for (let i = 0; i < STEPS; i++) {
    const c0 = process.cpuUsage();
    const r = step();
    const c = process.cpuUsage(c0);
    r.forEach((v, j) => rows[j]!.push(v));
    rows[3]!.push(r[0] + r[1] + r[2]);
    rows[4]!.push((c.user + c.system) / 1000);
  }
  return rows.map(median);
}

console.log(`T=${T} N=${N} I=${I} H=${H}, Adam; median of ${STEPS} steps after ${WARMUP} warm-up (ms)`);
console.log("model  backend   forward  backward  update    step     cpu");
for (const kind of ["lstm", "gru"] as const) {
  if (which !== "all" && which !== kind) continue;
  const res = new Map<string, number[]>();
  for (const b of availableBackends().filter((n) => (process.env.BACKENDS ?? n).split(",").includes(n))) {
    const r = bench(kind, b);
    res.set(b, r);
    console.log(`${kind.padEnd(6)} ${b.padEnd(8)} ${r.map((v) => v.toFixed(2).padStart(8)).join("  ")}`);
  }
  const js = res.get("js")?.[3];
  const nat = res.get("native")?.[3];
  if (js && nat) console.log(`${kind.padEnd(6)} js/native step ratio ${(js / nat).toFixed(1)}x`);
}
