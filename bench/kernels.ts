// Kernel benchmark for the js backend: matmul GFLOP/s and element-wise throughput, contiguous and
// through transposed views. Run `node --import tsx bench/kernels.ts` (or `npm run bench`) on an
// otherwise idle machine; it is not a test. Every figure is the median of several timed repeats
// after a warm-up (so V8 has optimised the kernel); repeats of all rows are interleaved, and each
// row's ratio compares it with another row of the same run, which is the only comparison a
// shared, noisy machine supports.

import os from "node:os";
import { allocArray, type DType } from "../src/core/dtype.js";
import type { View } from "../src/backends/backend.js";
import { jsBackend } from "../src/backends/js/index.js";

const kernels = jsBackend.kernels;
const REPEATS = 7;
/** Each timed repeat runs the kernel for at least this long, so timer resolution does not matter. */
const REPEAT_MS = 150;

/** A contiguous view of `shape` filled with values in [-1, 1) (deterministic, no PRNG needed). */
function filled(dtype: DType, shape: readonly number[]): View {
  const n = shape.reduce((x, y) => x * y, 1);
  const data = allocArray(dtype, n);
  for (let i = 0; i < n; i++) data[i] = ((i * 7919) % 2003) / 1001.5 - 1;
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((x, y) => x * y, 1));
  return { data, shape, strides, offset: 0 };
}

/** The transpose of a 2-d view, as the ops layer would hand it to a kernel: same buffer, swapped strides. */
function transposed(v: View): View {
  return { data: v.data, shape: [v.shape[1]!, v.shape[0]!], strides: [v.strides[1]!, v.strides[0]!], offset: v.offset };
}

interface Case {
  name: string;
  run: () => void;
  /** Work per call: flops for matmul, elements for element-wise. */
  work: number;
  unit: "GFLOP/s" | "Melem/s";
  /** Name of the case this one is compared with. */
  versus?: string;
  batch: number;
  samples: number[];
}

const cases: Case[] = [];

function add(name: string, run: () => void, work: number, unit: Case["unit"], versus?: string): void {
  cases.push({ name, run, work, unit, versus, batch: 1, samples: [] });
}

function addMatmul(name: string, dtype: DType, n: number, ta = false, tb = false, versus?: string): void {
  // The transposed cases store the operand as its transpose, so the kernel sees the same values.
  const a = ta ? transposed(filled(dtype, [n, n])) : filled(dtype, [n, n]);
  const b = tb ? transposed(filled(dtype, [n, n])) : filled(dtype, [n, n]);
  const out = filled(dtype, [n, n]);
  add(name, () => kernels.matmul(a, b, out), 2 * n ** 3, "GFLOP/s", versus);
}

/** Warms a case up for about one repeat (so V8 has optimised it) and sizes its timed batches. */
function warm(c: Case): void {
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < REPEAT_MS || calls < 3) {
    c.run();
    calls++;
  }
  c.batch = Math.max(1, Math.round(REPEAT_MS / ((performance.now() - start) / calls)));
}

function timeOnce(c: Case): void {
  const t0 = performance.now();
  for (let k = 0; k < c.batch; k++) c.run();
  c.samples.push((performance.now() - t0) / 1000 / c.batch);
}

function rate(c: Case): number {
  const sorted = [...c.samples].sort((x, y) => x - y);
  const seconds = sorted[sorted.length >> 1]!;
  return c.work / seconds / (c.unit === "GFLOP/s" ? 1e9 : 1e6);
}

const side = 1024; // 1M elements as a 1024×1024 matrix, so a transposed view is meaningful.
const x = filled("float32", [side, side]);
const y = filled("float32", [side, side]);
const out = filled("float32", [side, side]);
const xT = transposed(x);

addMatmul("matmul f32 64", "float32", 64, false, false, "matmul f32 256");
addMatmul("matmul f32 256", "float32", 256);
addMatmul("matmul f32 256 Aᵀ·Bᵀ", "float32", 256, true, true, "matmul f32 256");
addMatmul("matmul f32 1024", "float32", 1024, false, false, "matmul f32 256");
addMatmul("matmul f64 256", "float64", 256, false, false, "matmul f32 256");
add("add f32 1M contiguous", () => kernels.binary("add", x, y, out), side * side, "Melem/s");
add("add f32 1M xᵀ + y", () => kernels.binary("add", xT, y, out), side * side, "Melem/s", "add f32 1M contiguous");
add("exp f32 1M contiguous", () => kernels.unary("exp", x, out), side * side, "Melem/s");
add("exp f32 1M of xᵀ", () => kernels.unary("exp", xT, out), side * side, "Melem/s", "exp f32 1M contiguous");

for (const c of cases) warm(c);
// Round-robin: each round times every case once, so a slow patch of a shared machine lands on
// all rows alike instead of on whichever row happened to run then.
for (let r = 0; r < REPEATS; r++) for (const c of cases) timeOnce(c);

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
console.log(`js backend kernels — node ${process.version}, ${cpu}; median of ${REPEATS} interleaved repeats\n`);
const width = Math.max(...cases.map((c) => c.name.length));
console.log(`${"kernel".padEnd(width)}  ${"median".padStart(9)}  unit      ratio`);
for (const c of cases) {
  const base = cases.find((o) => o.name === c.versus);
  const ratio = base ? `${(rate(c) / rate(base)).toFixed(2)}× ${base.name}` : "";
  console.log(`${c.name.padEnd(width)}  ${rate(c).toFixed(2).padStart(9)}  ${c.unit.padEnd(8)}  ${ratio}`);
}
