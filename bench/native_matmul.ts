// Matmul GFLOP/s, js backend vs native (one and two threads), float32 square products of 64, 256
// and 1024 (issue 6, W1), plus small sizes that show where the native call starts to pay (the
// source of NATIVE_MIN_WORK in src/backends/native/index.ts). Run `node --import tsx
// bench/native_matmul.ts [--quick]` on an otherwise idle machine; it is not a test. Each figure is
// the median of timed repeats after a warm-up; repeats of all rows are interleaved and ratios
// compare rows of this one run, the only comparison a shared, noisy machine supports. "1T new out"
// writes a freshly allocated output each call (what W1 of the suite does through the tensor API),
// zeroed; "new empty" an unzeroed one (the native door's allocEmpty, which the matmul op uses).

import os from "node:os";
import { allocArray, type DType } from "../src/core/dtype.js";
import type { View } from "../src/backends/backend.js";
import { jsBackend } from "../src/backends/js/index.js";
import { initNative, nativeAddon } from "../src/backends/native/index.js";

const quick = process.argv.includes("--quick");
const REPEATS = quick ? 3 : 7;
const REPEAT_MS = quick ? 60 : 150;

const native = initNative(false);
const addon = nativeAddon();
if (!native || !addon) {
  console.log("The native addon is not built (npm install builds it); nothing to compare.");
  process.exit(0);
}
const maxThreads = Math.min(2, os.availableParallelism());

function filled(dtype: DType, shape: readonly number[]): View {
  const n = shape.reduce((x, y) => x * y, 1);
  const data = allocArray(dtype, n);
  for (let i = 0; i < n; i++) data[i] = ((i * 7919) % 2003) / 1001.5 - 1;
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((x, y) => x * y, 1));
  return { data, shape, strides, offset: 0 };
}

interface Row {
  size: number;
  system: string;
  run: () => void;
  /** Threads the addon may use for this row. */
  threads: number;
  samples: number[];
  batch: number;
}

const rows: Row[] = [];
const SIZES = [2, 4, 8, 16, 32, 64, 256, 1024];
for (const n of SIZES) {
  const a = filled("float32", [n, n]);
  const b = filled("float32", [n, n]);
  const out = filled("float32", [n, n]);
  // The addon directly: the backend's wrapper would send products below NATIVE_MIN_WORK to JS.
  const call = () => nativeCall(a, b, out);
  rows.push({
    size: n,
    system: "js",
    run: () => jsBackend.kernels.matmul(a, b, out),
    threads: 1,
    samples: [],
    batch: 1,
  });
  rows.push({ size: n, system: "native 1T", run: call, threads: 1, samples: [], batch: 1 });
  if (maxThreads > 1 && n >= 64)
    rows.push({ size: n, system: `native ${maxThreads}T`, run: call, threads: maxThreads, samples: [], batch: 1 });
  // A new output each call, as a tensor's matmul allocates one: zeroed (the door's alloc) or left
  // unzeroed (its allocEmpty, what the matmul op uses); its pages are fresh unless the heap kept
  // them (native/gemm.cc's advise_huge and keep_freed_memory).
  if (n >= 1024)
    for (const t of maxThreads > 1 ? [1, maxThreads] : [1])
      for (const [label, fresh] of [
        ["new out", () => allocArray("float32", n * n)],
        ["new empty", () => native!.allocEmpty!("float32", n * n)],
      ] as const)
        rows.push({
          size: n,
          system: `${t}T ${label}`,
          run: () => nativeCall(a, b, { ...out, data: fresh() }),
          threads: t,
          samples: [],
          batch: 1,
        });
}

const meta = new Float64Array(11);
function nativeCall(a: View, b: View, out: View): void {
  const [M, K] = a.shape as [number, number];
  const N = b.shape[1]!;
  meta.set([0, M, K, N, a.offset, a.strides[0]!, a.strides[1]!, b.offset, b.strides[0]!, b.strides[1]!, out.offset]);
  addon!.matmul(a.data as Float32Array, b.data as Float32Array, out.data as Float32Array, meta);
}

function timeOnce(r: Row): number {
  addon!.setThreads(r.threads);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < r.batch; i++) r.run();
  return Number(process.hrtime.bigint() - t0) / 1e6 / r.batch;
}

// Warm-up, and calls per repeat so that each repeat lasts about REPEAT_MS.
for (const r of rows) {
  addon.setThreads(r.threads);
  const t0 = Date.now();
  let calls = 0;
  while (Date.now() - t0 < REPEAT_MS || calls < 2) {
    r.run();
    calls++;
  }
  r.batch = Math.max(1, Math.round((calls * REPEAT_MS) / Math.max(1, Date.now() - t0)));
}
for (let k = 0; k < REPEATS; k++) for (const r of rows) r.samples.push(timeOnce(r));
addon.setThreads(maxThreads);

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
console.log(`float32 matmul n×n·n×n, median of ${REPEATS} repeats; isa ${addon.isa()}, ${os.cpus()[0]?.model ?? "?"}`);
console.log("   n  system          time/call      GFLOP/s   vs js   vs native 1T");
for (const r of rows) {
  const ms = median(r.samples);
  const gflops = (2 * r.size ** 3) / (ms * 1e6);
  const js = median(rows.find((x) => x.size === r.size && x.system === "js")!.samples);
  const one = median(rows.find((x) => x.size === r.size && x.system === "native 1T")!.samples);
  const time = ms < 1 ? `${(ms * 1000).toFixed(2)} µs` : `${ms.toFixed(3)} ms`;
  console.log(
    `${String(r.size).padStart(4)}  ${r.system.padEnd(13)} ${time.padStart(12)} ${gflops.toFixed(1).padStart(10)}` +
      ` ${(js / ms).toFixed(2).padStart(7)}x ${(one / ms).toFixed(2).padStart(8)}x`,
  );
}
