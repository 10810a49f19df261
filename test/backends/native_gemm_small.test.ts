// Parity of the native GEMM's small-M / small-N path (native/gemm_small.cc) with the js reference:
// products with 1–8 rows (batch-1 inference, x·Wᵀ with W a transposed view) or up to 16 columns
// (the logits layer), on every instruction set this CPU has and with 1 and 2 threads; odd K and N
// around the vector widths, transposed / strided / offset views (padding reads NaN, so a stray
// read shows), stride-0 broadcast batches, NaN and ±Inf, float32 and float64. Layouts the path
// does not stream (B strided both ways) must still come out right through the general path.
// Skipped, saying so, when the addon was not built.
//
// Tolerance, per element: |native − js| ≤ γ · Σ_p |a_ip·b_pj| (the bound for a dot product summed
// in another order; the dot layout adds W partial sums at the end): float32 γ = (K + 2)·2⁻²⁴,
// float64 γ = 2(K + 2)·2⁻⁵³. Non-finite results must match exactly.

import { test } from "node:test";
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
const addon = nativeAddon();
const native = skip ? undefined : nativeBackend(addon!, 0); // every size through the addon
const gen = new Generator(7);
const makeView = viewMaker(gen);

/** Runs the product on every ISA and thread count and compares each result with the js one. */
function checkEveryPath(what: string, a: View, b: View, outShape: readonly number[], outOffset = 1): void {
  const dtype = a.data instanceof Float32Array ? "float32" : "float64";
  const K = a.shape[a.shape.length - 1]!;
  const want = outView(dtype, outShape, outOffset);
  jsBackend.kernels.matmul(a, b, want);
  const gamma = dtype === "float32" ? (K + 2) * 2 ** -24 : 2 * (K + 2) * 2 ** -53;
  const mag = magnitudes(a, b);
  for (const isa of ["avx512", "avx2", "portable"] as const) {
    try {
      addon!.setIsa(isa);
    } catch {
      continue; // not on this CPU
    }
    for (const threads of [1, 2]) {
      addon!.setThreads(threads);
      const out = outView(dtype, outShape, outOffset);
      native!.kernels.matmul(a, b, out);
      for (let i = 0; i < out.data.length; i++) {
        const [g, w] = [out.data[i]!, want.data[i]!];
        const where = `${isa}/${threads}T ${what}: element ${i - outOffset}`;
        if (i < outOffset || i >= outOffset + mag.length) assert.ok(Number.isNaN(g), `${where}: wrote outside out`);
        else if (!Number.isFinite(w) || !Number.isFinite(g))
          assert.ok(Object.is(g, w), `${where}: native ${g}, js ${w}`);
        else {
          const tol = gamma * mag[i - outOffset]!;
          assert.ok(Math.abs(g - w) <= tol, `${where}: native ${g}, js ${w}, tol ${tol}`);
        }
      }
    }
  }
  addon!.setIsa(best);
  addon!.setThreads(defaultThreads);
}
const best = (addon?.isa() ?? "portable") as "avx512" | "avx2" | "portable";
const defaultThreads = addon?.threads() ?? 1;

// [A layout, B layout]: dot layout (B transposed), axpy layout (B contiguous), A packed from a
// transposed or strided view, and B strided both ways (general path).
const LAYOUTS: [Layout, Layout][] = [
  [{}, { transpose: true }],
  [{}, {}],
  [
    { transpose: true, offset: 3 },
    { transpose: true, offset: 5 },
  ],
  [{ step: 2, offset: 1 }, { offset: 2 }],
  [{}, { step: 2 }],
];

for (const dtype of ["float32", "float64"] as const) {
  test(`native small-M matmul ${dtype}: M = 1..8, odd K and N, every layout`, { skip }, () => {
    for (const M of [1, 2, 3, 5, 8])
      for (const K of [1, 3, 17, 257])
        for (const N of [1, 3, 17, 257])
          for (const [la, lb] of LAYOUTS) {
            const a = makeView(dtype, [M, K], la);
            const b = makeView(dtype, [K, N], lb);
            checkEveryPath(`${M}x${K}x${N} ${JSON.stringify([la, lb])}`, a, b, [M, N]);
          }
    for (const M of [1, 3])
      // the batch-1 inference shape
      for (const [la, lb] of LAYOUTS.slice(0, 3))
        checkEveryPath(`${M}x784x256`, makeView(dtype, [M, 784], la), makeView(dtype, [784, 256], lb), [M, 256]);
  });

  test(`native small-N matmul ${dtype}: N = 1..16 with many rows`, { skip }, () => {
    for (const M of [9, 17, 130])
      for (const K of [3, 17, 129])
        for (const N of [1, 3, 10, 16])
          for (const [la, lb] of LAYOUTS) {
            const a = makeView(dtype, [M, K], la);
            const b = makeView(dtype, [K, N], lb);
            checkEveryPath(`${M}x${K}x${N} ${JSON.stringify([la, lb])}`, a, b, [M, N]);
          }
  });

  test(`native small matmul ${dtype}: batches with stride-0 broadcast, NaN and ±Inf`, { skip }, () => {
    for (const [batch, M, K, N] of [
      [[3], 1, 33, 19],
      [[2, 3], 5, 17, 40],
      [[4], 20, 65, 7],
    ] as [number[], number, number, number][]) {
      const nb = batch.length;
      const a = makeView(dtype, [...batch, M, K], { broadcast: [nb - 1] });
      for (const lb of [{ transpose: true, broadcast: [0] }, { broadcast: [0] }]) {
        const b = makeView(dtype, [...batch, K, N], lb);
        checkEveryPath(`broadcast ${JSON.stringify([batch, lb])} ${M}x${K}x${N}`, a, b, [...batch, M, N]);
      }
      // An expanded row of a (row stride 0).
      const rowA = makeView(dtype, [...batch, M, K], { broadcast: [nb] });
      checkEveryPath(`expanded row ${M}x${K}x${N}`, rowA, makeView(dtype, [...batch, K, N], { transpose: true }), [
        ...batch,
        M,
        N,
      ]);
    }
    // Enough work (> 64M multiply-adds) that two threads share the batch, matrix by matrix.
    const big = makeView(dtype, [64, 2, 1024]);
    checkEveryPath(
      "threaded batch",
      big,
      makeView(dtype, [64, 1024, 512], { transpose: true, broadcast: [0] }),
      [64, 2, 512],
    );
    const special = [NaN, Infinity, -Infinity];
    const draw = () => (gen.uniform() < 0.03 ? special[gen.randint(3)]! : gen.normal());
    for (const [M, K, N] of [
      [1, 100, 37],
      [4, 37, 100],
      [60, 70, 5],
    ] as [number, number, number][])
      for (const [la, lb] of LAYOUTS.slice(0, 3))
        checkEveryPath(
          `non-finite ${M}x${K}x${N} ${JSON.stringify([la, lb])}`,
          makeView(dtype, [M, K], la, draw),
          makeView(dtype, [K, N], lb, draw),
          [M, N],
        );
  });
}
