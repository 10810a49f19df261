// Scaled dot-product attention, composed (matmul, scale, mask, softmax, matmul: the [T, T] scores
// and their gradients materialised) against the fused op (nn.functional.scaledDotProductAttention
// without dropout: the native flash-style kernel, or the op-by-op fallback on js), forward +
// backward, for B=16, H=4, E=32 and T = 128 and 1024, plain and causal. Prints the median ms per
// forward+backward and the process CPU time (all threads). `node --import tsx bench/attention.ts`;
// STEPS, WARMUP, T (comma list), THREADS (the native pool's), BACKENDS=js,native override.

import { availableBackends, manualSeed, randn, setBackend, type Tensor } from "../src/index.js";
import { scaledDotProductAttention, sdpaComposed } from "../src/nn/functional/attention.js";
import { nativeAddon } from "../src/backends/native/index.js";

const B = 16;
const H = 4;
const E = 32;
const WARMUP = Number(process.env.WARMUP ?? 1);
const STEPS = Number(process.env.STEPS ?? 5);
const TS = (process.env.T ?? "128,1024").split(",").map(Number);
if (process.env.THREADS) nativeAddon()?.setThreads(Number(process.env.THREADS));

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;

type Fn = (q: Tensor, k: Tensor, v: Tensor, causal: boolean) => Tensor;
const composed: Fn = (q, k, v, isCausal) => sdpaComposed(q, k, v, { isCausal })[0];
const fused: Fn = (q, k, v, isCausal) => scaledDotProductAttention(q, k, v, { isCausal });

function run(fn: Fn, T: number, causal: boolean): [number, number] {
  manualSeed(0);
  const [q, k, v] = [0, 1, 2].map(() => randn([B, H, T, E], { requiresGrad: true }));
  const g = randn([B, H, T, E]);
  const step = () => {
    for (const t of [q, k, v]) t!.grad = null;
    fn(q!, k!, v!, causal).backward(g);
  };
  for (let i = 0; i < WARMUP; i++) step();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    step();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return [median(wall), median(cpu)];
}

console.log(`B=${B} H=${H} E=${E} float32, forward + backward; median of ${STEPS} after ${WARMUP} warm-up (ms)`);
console.log("backend     T  causal   composed (cpu)      fused (cpu)     speed-up");
for (const b of availableBackends().filter((n) => (process.env.BACKENDS ?? n).split(",").includes(n))) {
  setBackend(b);
  for (const T of TS)
    for (const causal of [false, true]) {
      const [cw, cc] = run(composed, T, causal);
      const [fw, fc] = run(fused, T, causal);
      const f = (x: number) => x.toFixed(1).padStart(8);
      console.log(
        `${b.padEnd(7)} ${String(T).padStart(5)}  ${String(causal).padEnd(6)} ${f(cw)} (${f(cc)}) ${f(fw)} (${f(fc)})   ${(cw / fw).toFixed(2)}x`,
      );
    }
}
