// Parity of the native blocked GEMM (native/gemm.cc) with the js reference where the threads share
// one product: B's block packed once by both threads, rows of A split between them. Products past
// the one-thread limit (2²² multiply-adds) and the strip limit (more than 32 rows and columns), on
// every instruction set this CPU has, with 1 and 2 threads, with the derived block sizes and with
// tiny budgets (setGemmTuning) that force many column, depth and row blocks, panel groups and
// ragged edges at test sizes; odd M, N, K; transposed (x·Wᵀ: the transposing packer), strided,
// offset and stride-0 broadcast views (padding reads NaN, so a stray read shows); batches too few
// to split by matrix; NaN and ±Inf; float32 and float64. One and two threads must agree exactly:
// the threads change which rows a thread packs, never the order of any element's sum.
// Skipped, saying so, when the addon was not built.
//
// Tolerance against js, per element: |native − js| ≤ γ · Σ_p |a_ip·b_pj|, float32 γ = (K + 2)·2⁻²⁴,
// float64 γ = 2(K + 2)·2⁻⁵³ (a dot product summed in another order). Non-finite results match exactly.

import { test } from "node:test";
import { Worker } from "node:worker_threads";
import path from "node:path";
import assert from "node:assert/strict";
import { Generator } from "../../src/core/random.js";
import { viewMaker, outView, type Layout } from "../helpers/views.js";
import type { View } from "../../src/backends/backend.js";
import { jsBackend } from "../../src/backends/js/index.js";
import { magnitudes } from "../helpers/matmul.js";
import { nativeAddon, nativeBackend, initNative } from "../../src/backends/native/index.js";

const skip = initNative(false)
  ? false
  : "native addon not built (npm install could not compile native/); js backend only";

/** The tuning exports of native/probe.cc (not part of the backend's Addon interface). */
interface Tuning {
  gemmTuning(M?: number, N?: number, K?: number): Record<string, number | string>;
  setGemmTuning(l1Panel: number, l2Block: number, l3Block: number): void;
}
const addon = nativeAddon();
const tuning = addon as unknown as Tuning | undefined;
const native = skip ? undefined : nativeBackend(addon!, 0);
const makeView = viewMaker(new Generator(15));
const best = (addon?.isa() ?? "portable") as "avx512" | "avx2" | "portable";
const defaultThreads = addon?.threads() ?? 1;

/** Byte budgets [L1 panel, L2 block, L3 block]: derived (0), and tiny ones that cut test sizes into many blocks. */
const BUDGETS: [number, number, number][] = [
  [0, 0, 0],
  [2048, 8192, 65536],
];

function checkEveryPath(what: string, a: View, b: View, outShape: readonly number[]): void {
  const dtype = a.data instanceof Float32Array ? "float32" : "float64";
  const K = a.shape[a.shape.length - 1]!;
  const want = outView(dtype, outShape, 1);
  jsBackend.kernels.matmul(a, b, want);
  const gamma = dtype === "float32" ? (K + 2) * 2 ** -24 : 2 * (K + 2) * 2 ** -53;
  const mag = magnitudes(a, b);
  try {
    for (const isa of ["avx512", "avx2", "portable"] as const) {
      try {
        addon!.setIsa(isa);
      } catch {
        continue; // not on this CPU
      }
      for (const budget of BUDGETS) {
        tuning!.setGemmTuning(...budget);
        const outs = [1, 2].map((threads) => {
          addon!.setThreads(threads);
          const out = outView(dtype, outShape, 1);
          native!.kernels.matmul(a, b, out);
          return out;
        });
        const where = `${isa} budgets ${budget.join("/")} ${what}`;
        assert.deepEqual(outs[1]!.data, outs[0]!.data, `${where}: 2 threads differ from 1`);
        const out = outs[0]!;
        for (let i = 0; i < out.data.length; i++) {
          const [g, w] = [out.data[i]!, want.data[i]!];
          if (i < 1 || i > mag.length) assert.ok(Number.isNaN(g), `${where}: element ${i - 1} written outside out`);
          else if (!Number.isFinite(w) || !Number.isFinite(g))
            assert.ok(Object.is(g, w), `${where}: element ${i - 1}: native ${g}, js ${w}`);
          else {
            const tol = gamma * mag[i - 1]!;
            assert.ok(Math.abs(g - w) <= tol, `${where}: element ${i - 1}: native ${g}, js ${w}, tol ${tol}`);
          }
        }
      }
    }
  } finally {
    tuning!.setGemmTuning(0, 0, 0);
    addon!.setIsa(best);
    addon!.setThreads(defaultThreads);
  }
}

// [A layout, B layout]: row-major both; x·Wᵀ (B depth-contiguous: the transposing packer for B);
// Aᵀ·B (A row-contiguous); both strided and offset.
const LAYOUTS: [Layout, Layout][] = [
  [{}, {}],
  [{ offset: 3 }, { transpose: true, offset: 1 }],
  [{ transpose: true }, {}],
  [
    { step: 2, offset: 1 },
    { step: 2, offset: 2 },
  ],
];

for (const dtype of ["float32", "float64"] as const) {
  test(`native shared-B matmul ${dtype}: odd M, N, K past the thread limit, every layout`, { skip }, () => {
    for (const [M, K, N] of [
      [67, 1001, 71], // few rows: panel groups share the rows
      [131, 257, 129],
      [203, 97, 233], // K under one depth block
    ] as [number, number, number][])
      for (const [la, lb] of LAYOUTS)
        checkEveryPath(
          `${M}x${K}x${N} ${JSON.stringify([la, lb])}`,
          makeView(dtype, [M, K], la),
          makeView(dtype, [K, N], lb),
          [M, N],
        );
  });

  test(`native shared-B matmul ${dtype}: batches too few to split by matrix, broadcast, NaN and ±Inf`, { skip }, () => {
    // Two matrices (fewer than 2 per thread): each is shared by the threads in turn; A broadcast over the batch.
    const a = makeView(dtype, [2, 70, 300], { broadcast: [0] });
    checkEveryPath("batch of 2, A broadcast", a, makeView(dtype, [2, 300, 110], { transpose: true }), [2, 70, 110]);
    const specials = [NaN, Infinity, -Infinity];
    const x = makeView(dtype, [90, 260], {});
    const y = makeView(dtype, [260, 200], {});
    for (let i = 0; i < 6; i++) x.data[x.offset + 37 * i * 260 + 11 * i] = specials[i % 3]!;
    y.data[y.offset + 100 * 200 + 150] = NaN;
    checkEveryPath("NaN and ±Inf", x, y, [90, 200]);
  });
}

test(
  "native gemmTuning: cache sizes and block sizes that fit them; setGemmTuning refuses bad budgets",
  { skip },
  () => {
    const t = tuning!.gemmTuning(1024, 1024, 1024);
    for (const k of ["l1d", "l2", "mr", "nr", "kc", "mc", "mc2", "nc"])
      assert.ok((t[k] as number) > 0, `${k} = ${t[k]}`);
    const [mr, nr, kc, mc, nc] = ["mr", "nr", "kc", "mc", "nc"].map((k) => t[k] as number) as [
      number,
      number,
      number,
      number,
      number,
    ];
    assert.ok(
      kc * nr * 4 <= Math.max(t["l1Panel"] as number, 64 * nr * 4),
      `a KC×NR panel (${kc}×${nr}) overflows the L1 budget`,
    );
    assert.ok(mc % mr === 0 && nc % nr === 0 && mc * kc * 4 <= (t["l2Block"] as number), JSON.stringify(t));
    assert.ok((t["mc2"] as number) <= mc, "two threads take smaller row blocks");
    assert.throws(() => tuning!.setGemmTuning(-1, 0, 0), /setGemmTuning: expected byte budgets/);
    assert.throws(() => tuning!.gemmTuning(1.5, 2, 3), /gemmTuning: expected sizes/);
  },
);

// Node worker threads calling the addon while the main thread does: each caller that finds the pool
// busy runs its parts itself (pool.h), so every product must come out as it does alone. A start
// barrier (Atomics on shared memory) makes the three callers overlap.
test(
  "native shared-B matmul: concurrent callers (worker threads) get the same products as alone",
  { skip },
  async () => {
    const [M, K, N, R] = [150, 333, 170, 12];
    const meta = [0, M, K, N, 0, K, 1, 0, N, 1, 0];
    const filled = (n: number, seed: number) =>
      Float32Array.from({ length: n }, (_, i) => ((i * seed) % 1009) / 504.5 - 1);
    const addonPath = path.resolve("build/Release/descent_native.node");
    const sync = new Int32Array(new SharedArrayBuffer(8)); // [callers ready, go]
    const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    const addon = require(workerData.addonPath);
    const { M, K, N, R, meta, seed, sync } = workerData;
    const f = (n, s) => Float32Array.from({ length: n }, (_, i) => ((i * s) % 1009) / 504.5 - 1);
    const a = f(M * K, seed), b = f(K * N, seed + 2), outs = [];
    Atomics.add(sync, 0, 1);
    Atomics.notify(sync, 0);
    Atomics.wait(sync, 1, 0);
    for (let r = 0; r < R; r++) {
      const c = new Float32Array(M * N);
      addon.matmul(a, b, c, new Float64Array(meta));
      outs.push(c);
    }
    parentPort.postMessage(outs);`;
    addon!.setThreads(2);
    try {
      const seeds = [7, 11];
      const runs = seeds.map(
        (seed) =>
          new Promise<Float32Array[]>((resolve, reject) => {
            const w = new Worker(code, { eval: true, workerData: { addonPath, M, K, N, R, meta, seed, sync } });
            w.once("message", resolve);
            w.once("error", reject);
          }),
      );
      const [a, b] = [filled(M * K, 3), filled(K * N, 5)];
      for (let ready; (ready = Atomics.load(sync, 0)) < seeds.length;) Atomics.wait(sync, 0, ready, 5000);
      Atomics.store(sync, 1, 1);
      Atomics.notify(sync, 1);
      const mine: Float32Array[] = [];
      for (let r = 0; r < R; r++) {
        const c = new Float32Array(M * N);
        addon!.matmul(a, b, c, new Float64Array(meta));
        mine.push(c);
      }
      const theirs = await Promise.all(runs);
      const alone = (seed: number) => {
        const c = new Float32Array(M * N);
        addon!.matmul(filled(M * K, seed), filled(K * N, seed + 2), c, new Float64Array(meta));
        return c;
      };
      mine.forEach((c, r) => assert.deepEqual(c, alone(3), `the main thread's product ${r}`));
      seeds.forEach((seed, w) =>
        theirs[w]!.forEach((c, r) => assert.deepEqual(c, alone(seed), `worker ${w}, product ${r}`)),
      );
    } finally {
      addon!.setThreads(defaultThreads);
    }
  },
);
