// One LSTM training step on the js backend: seq 32, batch 32, input 64, hidden 128; MSE of the last
// hidden state against a fixed target, backward, plain SGD under noGrad. Prints the median step time
// after warm-up, split into forward / backward / update, and the GEMM rate it implies. Run
// `node --import tsx bench/lstm_step.ts` on an otherwise idle machine; it is not a test.

import os from "node:os";
import { manualSeed, noGrad, randn } from "../src/index.js";
import { LSTM } from "../src/nn/layers/rnn.js";

const T = 32;
const N = 32;
const I = 64;
const H = 128;
const LR = 0.01;
const WARMUP = Number(process.env.WARMUP ?? 5);
const STEPS = Number(process.env.STEPS ?? 15);

manualSeed(0);
const lstm = new LSTM(I, H);
const x = randn([T, N, I]);
const target = randn([1, N, H]);
const params = lstm.parameters();

function step(): [number, number, number] {
  const t0 = performance.now();
  const [, [h]] = lstm.forward(x);
  const loss = h.sub(target).square().mean();
  const t1 = performance.now();
  loss.backward();
  const t2 = performance.now();
  noGrad(() => {
    for (const p of params) {
      if (p.grad) p.sub_(p.grad.mul(LR));
      p.grad = null;
    }
  });
  return [t1 - t0, t2 - t1, performance.now() - t2];
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;

for (let i = 0; i < WARMUP; i++) step();
const fwd: number[] = [];
const bwd: number[] = [];
const upd: number[] = [];
const total: number[] = [];
for (let i = 0; i < STEPS; i++) {
  const [f, b, u] = step();
  fwd.push(f);
  bwd.push(b);
  upd.push(u);
  total.push(f + b + u);
}

// Multiply-adds ×2: forward = input projection + T hidden products; backward twice the forward.
const fwdFlops = 2 * T * N * 4 * H * (I + H);
const gflops = (3 * fwdFlops) / (median(total) * 1e6);
const cpu = os.cpus()[0]?.model ?? "unknown CPU";
console.log(`LSTM step (T=${T}, N=${N}, I=${I}, H=${H}), js backend, ${cpu}, node ${process.version}`);
console.log(`median of ${STEPS} after ${WARMUP} warm-up steps:`);
console.log(`  forward   ${median(fwd).toFixed(1)} ms`);
console.log(`  backward  ${median(bwd).toFixed(1)} ms`);
console.log(`  update    ${median(upd).toFixed(1)} ms`);
console.log(
  `  step      ${median(total).toFixed(1)} ms  (min ${Math.min(...total).toFixed(1)}, max ${Math.max(...total).toFixed(1)})`,
);
console.log(`  ≈ ${((3 * fwdFlops) / 1e6).toFixed(0)} MFLOP of GEMM per step → ${gflops.toFixed(2)} GFLOP/s overall`);
