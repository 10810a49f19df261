// The GEMM's depth block (KC) on this machine: float32 products through the addon directly (one
// reused output, so only the kernel and its blocking are timed) with the L1 panel budget that sets
// KC overridden (setGemmTuning; 0 = what native/gemm_tune.cc derives here), at 1 and 2 threads.
// The source of gemm_tune.cc's Zen 5 rule. `node --import tsx bench/gemm_kc.ts [threads]
// [budgets-json] [shapes-json]`; prints GFLOP/s per shape and budget, medians of interleaved
// repeats (REPS, default 9). Not a test; run on an otherwise idle machine.

import os from "node:os";
import { nativeAddon } from "../src/backends/native/index.js";

interface TuningAddon {
  setThreads(n: number): void;
  setGemmTuning(l1Panel: number, l2Block: number, l3Block: number): void;
  gemmTuning(M: number, N: number, K: number): Record<string, unknown>;
  matmul(a: Float32Array, b: Float32Array, c: Float32Array, meta: Float64Array): void;
}
const addon = nativeAddon() as unknown as TuningAddon | undefined;
if (!addon) {
  console.log("The native addon is not built (npm install builds it); nothing to measure.");
  process.exit(0);
}
const threadList = process.argv[2] ? [Number(process.argv[2])] : [1, Math.min(2, os.availableParallelism())];
const budgets: number[] = JSON.parse(process.argv[3] ?? "[0, 32768, 65536, 131072]");
const shapes: [number, number, number][] = JSON.parse(
  process.argv[4] ??
    "[[256,256,256],[512,512,512],[1024,1024,1024],[2048,2048,2048],[128,784,256],[256,4096,256],[4096,256,1024],[1024,4096,1024]]",
);
const reps = Number(process.env["REPS"] ?? 9);
const fill = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => ((i * 7919 + seed) % 2003) / 1001.5 - 1);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;

const t = addon.gemmTuning(1024, 1024, 1024);
console.log(
  `${os.cpus()[0]?.model ?? "?"}; ${String(t["uarch"])}, L1d ${Number(t["l1d"]) >> 10} KiB, L2 ${Number(t["l2"]) >> 10} KiB`,
);
console.log(
  `GFLOP/s, median of ${reps}; columns: L1 panel budget in bytes (KC = budget / (NR · 4)), 0 = derived (KC ${String(t["kc"])} at 1024³)`,
);
console.log(`threads  M×K×N            ${budgets.map((b) => String(b).padStart(8)).join("")}`);
for (const threads of threadList) {
  addon.setThreads(threads);
  for (const [M, K, N] of shapes) {
    const A = fill(M * K, 1),
      B = fill(K * N, 2),
      C = new Float32Array(M * N);
    const meta = new Float64Array([0, M, K, N, 0, K, 1, 0, N, 1, 0]);
    const flops = 2 * M * K * N;
    const inner = Math.max(1, Math.round(3e8 / flops));
    const samples = budgets.map((): number[] => []);
    for (let r = 0; r < reps; r++)
      budgets.forEach((budget, i) => {
        addon.setGemmTuning(budget, 0, 0);
        addon.matmul(A, B, C, meta);
        const t0 = performance.now();
        for (let j = 0; j < inner; j++) addon.matmul(A, B, C, meta);
        samples[i]!.push((performance.now() - t0) / inner);
      });
    const cells = samples.map((s) => (flops / median(s) / 1e6).toFixed(0).padStart(8));
    console.log(`${String(threads).padStart(7)}  ${`${M}×${K}×${N}`.padEnd(17)}${cells.join("")}`);
  }
}
addon.setGemmTuning(0, 0, 0);
