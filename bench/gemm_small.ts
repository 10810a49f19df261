// Skinny and MLP-shaped products through the native addon: µs per call with one and two threads,
// optionally against another build of the addon in the same run (`--baseline path/to.node`, e.g.
// a copy of build/Release/descent_native.node from before a change). Source of the small-path
// and thread thresholds in native/gemm_small.cc and native/gemm.cc. Run
// `node --import tsx bench/gemm_small.ts [--baseline old.node] [--quick] [--f64] [--only substring]`; not a test. Repeats of
// all rows are interleaved and medians reported, the only comparison a shared machine supports.

import os from "node:os";
import { createRequire } from "node:module";
import { initNative, nativeAddon, type Addon } from "../src/backends/native/index.js";

const quick = process.argv.includes("--quick");
const REPEATS = quick ? 5 : 11;
const REPEAT_MS = quick ? 20 : 40;
initNative(false);
const addon = nativeAddon();
if (!addon) {
  console.log("The native addon is not built; nothing to measure.");
  process.exit(0);
}
const bi = process.argv.indexOf("--baseline");
const baseline = bi > 0 ? (createRequire(import.meta.url)(process.argv[bi + 1]!) as Addon) : undefined;
const dtype = process.argv.includes("--f64") ? "float64" : "float32";

/** [name, M, K, N, A transposed (stored [K,M]), B transposed (stored [N,K], a Linear weight)]. */
const SHAPES: [string, number, number, number, boolean, boolean][] = [
  ["x·Wᵀ b1", 1, 784, 256, false, true],
  ["x·W b1", 1, 784, 256, false, false],
  ["x·Wᵀ b2", 2, 784, 256, false, true],
  ["x·Wᵀ b4", 4, 784, 256, false, true],
  ["x·Wᵀ b8", 8, 784, 256, false, true],
  ["x·W b8", 8, 784, 256, false, false],
  ["x·Wᵀ b16", 16, 784, 256, false, true],
  ["x·W b16", 16, 784, 256, false, false],
  ["x·Wᵀ b32", 32, 784, 256, false, true],
  ["x·W b32", 32, 784, 256, false, false],
  ["h·Wᵀ b1", 1, 256, 128, false, true],
  ["logits N10", 128, 128, 10, false, true],
  ["logits N10 b32", 32, 128, 10, false, true],
  ["N16 Wᵀ", 128, 256, 16, false, true],
  ["N16 W", 128, 256, 16, false, false],
  ["N10 Aᵀ", 128, 128, 10, true, true],
  ["tall N10", 8192, 784, 10, false, true],
  ["tall N16", 8192, 784, 16, false, false],
  ["g·W K10", 128, 10, 128, false, false],
  ["gᵀ·h M10", 10, 128, 128, true, false],
  ["W2 fwd 784", 128, 784, 256, false, true],
  ["W2 fwd 256", 128, 256, 128, false, true],
  ["W2 dX g·W", 128, 256, 784, false, false],
  ["W2 dW xᵀ·g", 784, 128, 256, true, false],
  ["W2 dW gᵀ·x", 256, 128, 784, true, false],
  ["W2 dW 256", 128, 128, 256, true, false],
  ["sq 64", 64, 64, 64, false, false],
  ["sq 96", 96, 96, 96, false, false],
  ["sq 128", 128, 128, 128, false, false],
  ["sq 256", 256, 256, 256, false, false],
  ["sq 384", 384, 384, 384, false, false],
  ["sq 512", 512, 512, 512, false, false],
  ["sq 1024", 1024, 1024, 1024, false, false],
];

type Arr = Float32Array | Float64Array;
const alloc = (n: number): Arr => {
  const x = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = ((i * 7919) % 2003) / 1001.5 - 1;
  return x;
};

interface Row {
  name: string;
  system: string;
  threads: number;
  run: () => void;
  batch: number;
  samples: number[];
}
const rows: Row[] = [];
const threadCounts = Math.min(2, os.availableParallelism()) > 1 ? [1, 2] : [1];
const oi = process.argv.indexOf("--only");
const only = oi > 0 ? process.argv[oi + 1]! : "";
const shapes = SHAPES.filter(([name]) => name.includes(only));
for (const [name, M, K, N, ta, tb] of shapes) {
  const a = alloc(M * K);
  const b = alloc(K * N);
  const c = alloc(M * N);
  const [sAm, sAk] = ta ? [1, M] : [K, 1];
  const [sBk, sBn] = tb ? [1, K] : [N, 1];
  const meta = new Float64Array([0, M, K, N, 0, sAm, sAk, 0, sBk, sBn, 0]);
  for (const [system, lib] of [
    ["new", addon],
    ["base", baseline],
  ] as [string, Addon | undefined][]) {
    if (!lib) continue;
    for (const threads of threadCounts)
      rows.push({ name, system, threads, run: () => lib.matmul(a, b, c, meta), batch: 1, samples: [] });
  }
}

const libOf = (r: Row) => (r.system === "new" ? addon : baseline!);
for (const r of rows) {
  libOf(r).setThreads(r.threads);
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < REPEAT_MS || calls < 3) {
    r.run();
    calls++;
  }
  r.batch = Math.max(1, Math.round((calls * REPEAT_MS) / (performance.now() - t0)));
}
for (let k = 0; k < REPEATS; k++)
  for (const r of rows) {
    libOf(r).setThreads(r.threads);
    const t0 = performance.now();
    for (let i = 0; i < r.batch; i++) r.run();
    r.samples.push(((performance.now() - t0) * 1000) / r.batch);
  }
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
console.log(`${dtype}, µs per call, median of ${REPEATS}; isa ${addon.isa()}, load ${os.loadavg()[0]!.toFixed(2)}`);
console.log(
  `shape            ${rows
    .filter((r) => r.name === shapes[0]![0])
    .map((r) => `${r.system} ${r.threads}T`.padStart(10))
    .join("")}`,
);
for (const [name, M, K, N] of shapes) {
  const rs = rows.filter((r) => r.name === name);
  console.log(
    `${name.padEnd(15)} ${rs.map((r) => median(r.samples).toFixed(1).padStart(10)).join("")}   [${M},${K}]·[${K},${N}]`,
  );
}
