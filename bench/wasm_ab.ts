// A/B of Descent's wasm backend against TF.js wasm (1 thread, XNNPACK) on W1's square products,
// in one process, interleaved in short rounds so both see the same machine load (the suite runs
// each system in its own process at different moments, which a shared 2-core machine distorts).
// Also prints the SIMD128 peak of one thread (wasm/probe.c), measured between the rounds too, and
// Descent's best 1024 round as a share of the best peak.
// --cpu times with the process's CPU time instead of the wall clock, so time spent waiting for a CPU
// that other processes hold does not count; it counts every thread of the process, though (V8's
// background compilation and GC too: TF.js's large module tiers up for a while), so it is for
// comparing Descent variants against the peak on a loaded machine, not for the TF.js ratio.
// Usage: node --import tsx bench/wasm_ab.ts [--rounds 7] [--threads 1] [--cpu]

import path from "node:path";
import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { setBackend, setNumThreads, tensor } from "../src/index.js";
import { readWasm } from "../src/backends/wasm/index.js";
import { wasmPeak } from "../src/backends/wasm/probe.js";
import { filledArray } from "./suite/measure.js";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const rounds = arg("--rounds", 7);
setBackend("wasm");
setNumThreads(arg("--threads", 1));
const main = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm");
setWasmPaths(path.join(path.dirname(main), "..", "wasm-out") + path.sep);
if (!(await tf.setBackend("wasm"))) throw new Error("TF.js wasm did not initialise");
await tf.ready();

const cpu = process.argv.includes("--cpu");
/** Milliseconds of the clock in use: wall, or (--cpu) this process's user + system CPU time. */
function now(): number {
  if (!cpu) return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Seconds per call of f, averaged over back-to-back calls for ≥ 50 ms (one sample). */
function sample(f: () => void): number {
  let reps = 0;
  const t0 = now();
  while (now() - t0 < 50 || reps < 1) {
    f();
    reps++;
  }
  return (now() - t0) / 1000 / reps;
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const probe = readWasm();
if ("error" in probe) throw new Error(probe.error);
let peak = wasmPeak(probe.module);

for (const n of [64, 256, 1024]) {
  const da = tensor(filledArray(n * n, 1), { shape: [n, n] });
  const db = tensor(filledArray(n * n, 2), { shape: [n, n] });
  const ta = tf.tensor(filledArray(n * n, 1), [n, n]);
  const tb = tf.tensor(filledArray(n * n, 2), [n, n]);
  const fd = () => void da.matmul(db);
  const ft = () => tf.matMul(ta, tb).dispose();
  fd();
  ft();
  const sd: number[] = [];
  const st: number[] = [];
  for (let r = 0; r < rounds; r++) {
    sd.push(sample(fd));
    st.push(sample(ft));
    peak = Math.max(peak, wasmPeak(probe.module, 50));
  }
  const g = (s: number) => ((2 * n ** 3) / s / 1e9).toFixed(1);
  const [md, mt] = [median(sd), median(st)];
  const best = (2 * n ** 3) / Math.min(...sd) / 1e9;
  process.stdout.write(
    `W1 ${n}: Descent wasm ${g(md)} GFLOP/s, TF.js wasm ${g(mt)} GFLOP/s, ratio ${(mt / md).toFixed(2)}x; ` +
      `Descent's best round ${best.toFixed(1)} = ${((100 * best) / peak).toFixed(0)}% of the wasm peak ${peak.toFixed(1)}\n`,
  );
}
