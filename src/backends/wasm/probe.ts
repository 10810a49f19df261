// The wasm peak: what one thread gets from SIMD128 on this machine (wasm/probe.c's independent
// f32x4 mul + add chains), measured like the native addon's fmaPeak (native/probe.cc): the best of
// many short timed runs, so a run that shared its core with another process does not count. The
// benchmark suite reports W1's wasm GEMM as a share of it (a SIMD128 kernel cannot pass it: no FMA,
// 128-bit vectors), next to the ratio to TF.js's wasm backend.

import { webAssembly, type WasmExports, type WasmModule } from "./heap.js";

/** Steps of the probe's loop per timed run (~0.16 ms at 60 GFLOP/s: short runs, so the best of them is rarely preempted). */
const ITERS = 100_000;

/** GFLOP/s of the best of `runs` runs of wasm/probe.c's peak_f32 on the calling thread. */
export function wasmPeak(module: WasmModule, runs = 200): number {
  const x = new webAssembly!.Instance(module, {}).exports as unknown as WasmExports;
  const flops = ITERS * x.peak_flops_per_iter();
  x.peak_f32(ITERS, 0.9999999, 1e-7); // compiled by V8's optimizing tier before the timed runs
  let best = Infinity;
  let sink = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    sink += x.peak_f32(ITERS, 0.9999999, 1e-7);
    best = Math.min(best, performance.now() - t0);
  }
  if (!Number.isFinite(sink)) throw new Error("wasm peak probe: the chains overflowed"); // they converge near 1
  return flops / best / 1e6;
}
