// Parity of the native backend's matmul with the js reference, on every instruction set this CPU
// has (avx512, avx2, portable) and with one and two threads: odd sizes around the register tiles
// and cache blocks, transposed / strided / offset / stride-0 broadcast views (padding reads NaN, so
// a stray read shows), NaN and ±Inf, K = 0, float32 and float64. Skipped, saying so, when the addon
// was not built (npm install prints why).
//
// Tolerance, per element: |native − js| ≤ γ · Σ_p |a_ip·b_pj|, the bound for a dot product summed in
// another order. native sums in the output dtype (FMA, in blocks of up to 256), js in doubles:
// float32 γ = (K + 2)·2⁻²⁴, float64 γ = 2(K + 2)·2⁻⁵³. Non-finite results must match exactly.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { Generator } from "../../src/core/random.js";
import { viewMaker, outView, type Layout } from "../helpers/views.js";
import type { View } from "../../src/backends/backend.js";
import { jsBackend } from "../../src/backends/js/index.js";
import { magnitudes } from "../helpers/matmul.js";
import { nativeAddon, nativeBackend, initNative } from "../../src/backends/native/index.js";
import { availableBackends, backend, setBackend } from "../../src/backends/index.js";
import { randn } from "../../src/index.js";

const skip = initNative(false)
  ? false
  : "native addon not built (npm install could not compile native/); js backend only";
const addon = nativeAddon();
const gen = new Generator(99);
const makeView = viewMaker(gen);

const native = skip ? undefined : nativeBackend(addon!, 0); // every size through the addon

function check(what: string, a: View, b: View, out: View): void {
  const nd = a.shape.length;
  const K = a.shape[nd - 1]!;
  const want = outView(out.data instanceof Float32Array ? "float32" : "float64", out.shape, out.offset);
  jsBackend.kernels.matmul(a, b, want);
  native!.kernels.matmul(a, b, out);
  const gamma = out.data instanceof Float32Array ? (K + 2) * 2 ** -24 : 2 * (K + 2) * 2 ** -53;
  const mag = magnitudes(a, b);
  for (let i = 0; i < out.data.length; i++) {
    const g = out.data[i]!;
    const w = want.data[i]!;
    const inside = i >= out.offset && i < out.offset + mag.length;
    if (!inside) {
      assert.ok(Number.isNaN(g), `${what}: wrote outside out at ${i}`);
    } else if (!Number.isFinite(w) || !Number.isFinite(g)) {
      assert.ok(Object.is(g, w), `${what}: element ${i - out.offset}: native ${g}, js ${w}`);
    } else {
      const tol = gamma * mag[i - out.offset]!;
      assert.ok(Math.abs(g - w) <= tol, `${what}: element ${i - out.offset}: native ${g}, js ${w}, tol ${tol}`);
    }
  }
}

/** Runs `fn` on every instruction set this CPU has and with 1 and 2 threads. */
function everyPath(fn: (path: string) => void): void {
  for (const isa of ["avx512", "avx2", "portable"] as const) {
    try {
      addon!.setIsa(isa);
    } catch {
      continue; // not on this CPU
    }
    for (const threads of [1, 2]) {
      addon!.setThreads(threads);
      fn(`${isa}/${threads}T`);
    }
  }
  addon!.setIsa(best);
  addon!.setThreads(defaultThreads);
}
const best = (addon?.isa() ?? "portable") as "avx512" | "avx2" | "portable";
const defaultThreads = addon?.threads() ?? 1;

const SIZES: [number, number, number][] = [
  [1, 1, 1],
  [3, 3, 3],
  [1, 17, 3],
  [17, 1, 5],
  [5, 7, 1],
  [17, 33, 9],
  [31, 65, 257],
  [257, 3, 17],
  [100, 300, 130],
  [129, 257, 67],
];

for (const dtype of ["float32", "float64"] as const) {
  test(`native matmul ${dtype}: contiguous, transposed, strided and offset views, odd sizes`, { skip }, () => {
    everyPath((path) => {
      for (const [M, K, N] of SIZES) {
        for (const [la, lb] of [
          [{}, {}],
          [{ transpose: true }, {}],
          [{}, { transpose: true }],
          [
            { transpose: true, offset: 3 },
            { transpose: true, offset: 5 },
          ],
          [{ step: 2, offset: 1 }, { step: 3 }],
        ] as [Layout, Layout][]) {
          const a = makeView(dtype, [M, K], la);
          const b = makeView(dtype, [K, N], lb);
          check(`${path} ${M}x${K}x${N} ${JSON.stringify([la, lb])}`, a, b, outView(dtype, [M, N], 2));
        }
      }
    });
  });

  test(`native matmul ${dtype}: batches, stride-0 broadcast batch dims and expanded rows`, { skip }, () => {
    everyPath((path) => {
      for (const [batch, M, K, N] of [
        [[3], 5, 7, 9],
        [[2, 3], 17, 33, 40],
        [[4], 70, 70, 70],
        [[2, 1], 65, 129, 33],
      ] as [number[], number, number, number][]) {
        const nb = batch.length;
        const a = makeView(dtype, [...batch, M, K], { broadcast: [nb - 1] });
        const b = makeView(dtype, [...batch, K, N], { transpose: true, broadcast: [0] });
        check(`${path} broadcast ${JSON.stringify(batch)} ${M}x${K}x${N}`, a, b, outView(dtype, [...batch, M, N]));
        // An expanded row: every row of a is the same memory (row stride 0).
        const rowA = makeView(dtype, [...batch, M, K], { broadcast: [nb] });
        check(`${path} expanded row`, rowA, makeView(dtype, [...batch, K, N]), outView(dtype, [...batch, M, N]));
      }
    });
  });

  test(`native matmul ${dtype}: NaN, ±Inf and K = 0`, { skip }, () => {
    everyPath((path) => {
      for (const [M, K, N] of [
        [3, 4, 5],
        [40, 300, 70],
      ] as [number, number, number][]) {
        const special = [NaN, Infinity, -Infinity];
        const a = makeView(dtype, [M, K], {}, () => (gen.uniform() < 0.02 ? special[gen.randint(3)]! : gen.normal()));
        const b = makeView(dtype, [K, N], {}, () => (gen.uniform() < 0.02 ? special[gen.randint(3)]! : gen.normal()));
        check(`${path} non-finite ${M}x${K}x${N}`, a, b, outView(dtype, [M, N], 1));
      }
      const out = outView(dtype, [2, 5, 6], 1);
      native!.kernels.matmul(makeView(dtype, [2, 5, 0]), makeView(dtype, [2, 0, 6]), out);
      assert.deepEqual([...out.data.subarray(1, 61)], new Array(60).fill(0), `${path} K = 0 gives zeros`);
    });
  });
}

// The accepted difference (issue 11, item 7): native float32 products accumulate in float32, as
// PyTorch's CPU sgemm (MKL/OpenBLAS) does, so a partial sum past ±3.4e38 becomes ±Inf (then maybe
// NaN) even where the exact result is finite; js accumulates in float64 over depth blocks of 256 and
// rounds to float32 between them (so it overflows too, later: the two may differ in Inf vs NaN). This is
// allowed only where Σ|a·b| can exceed the float32 range; below it native must stay finite and
// within the usual bound. Conv2d is im2col + this product, so the same holds for it.
test(
  "native matmul float32: accumulates in float32 (as PyTorch's sgemm); overflow only where Σ|a·b| > 3.4e38",
  { skip },
  () => {
    const FLT_MAX = 3.4028234663852886e38;
    everyPath((path) => {
      // The reproducer: rows [3e38, 3e38, -3e38] times ones give 3e38 exactly; in float32 the first two overflow.
      const a = makeView("float32", [3, 3], {}, () => 0);
      const b = makeView("float32", [3, 4], {}, () => 1);
      for (let i = 0; i < 3; i++)
        [3e38, 3e38, -3e38].forEach((v, p) => (a.data[a.offset + i * a.strides[0]! + p * a.strides[1]!] = v));
      const [got, want] = [outView("float32", [3, 4]), outView("float32", [3, 4])];
      native!.kernels.matmul(a, b, got);
      jsBackend.kernels.matmul(a, b, want);
      assert.deepEqual(
        [...want.data.subarray(0, 12)],
        new Array(12).fill(Math.fround(3e38)),
        `${path}: js accumulates in float64`,
      );
      assert.deepEqual(
        [...got.data.subarray(0, 12)],
        new Array(12).fill(Infinity),
        `${path}: native accumulates in float32`,
      );
      // Random products near the top of the range, with odd sizes through every kernel path.
      for (const [M, K, N] of [
        [3, 5, 7],
        [40, 300, 70],
      ] as [number, number, number][]) {
        const huge = () => (gen.uniform() * 2 - 1) * 2 ** (gen.uniform() < 0.5 ? 62 : 66);
        const x = makeView("float32", [M, K], {}, huge);
        const y = makeView("float32", [K, N], { transpose: true }, huge);
        const out = outView("float32", [M, N]);
        const ref = outView("float32", [M, N]);
        native!.kernels.matmul(x, y, out);
        jsBackend.kernels.matmul(x, y, ref);
        const mag = magnitudes(x, y);
        const gamma = (K + 2) * 2 ** -24;
        for (let i = 0; i < mag.length; i++) {
          const [g, w] = [out.data[i]!, ref.data[i]!];
          if (mag[i]! * (1 + gamma) > FLT_MAX && !Number.isFinite(g)) continue; // the accepted difference
          assert.ok(
            Number.isFinite(g) || Object.is(g, w),
            `${path} ${M}x${K}x${N} [${i}]: native ${g}, js ${w}, Σ|a·b| ${mag[i]}`,
          );
          if (Number.isFinite(w))
            assert.ok(Math.abs(g - w) <= gamma * mag[i]!, `${path} ${M}x${K}x${N} [${i}]: native ${g}, js ${w}`);
        }
      }
    });
  },
);

test(
  "native matmul: int32 and mixed dtypes fall back to js; bad views throw instead of corrupting memory",
  { skip },
  () => {
    const a = makeView("int32", [3, 70], {}, () => gen.randint(11) - 5);
    const b = makeView("int32", [70, 80], {}, () => gen.randint(11) - 5);
    const [got, want] = [outView("int32", [3, 80]), outView("int32", [3, 80])];
    native!.kernels.matmul(a, b, got);
    jsBackend.kernels.matmul(a, b, want);
    assert.deepEqual(got.data, want.data);
    const f = new Float32Array(4);
    const meta = (m: number, k: number, n: number) => new Float64Array([0, m, k, n, 0, k, 1, 0, n, 1, 0]);
    assert.throws(() => addon!.matmul(f, f, new Float32Array(3), meta(2, 2, 2)), /out is too small/);
    assert.throws(() => addon!.matmul(f, new Float32Array(3), f, meta(2, 2, 2)), /outside its array/);
    assert.throws(() => addon!.matmul(f, new Float64Array(4), f, meta(2, 2, 2)), TypeError);
    // 2^40 batches of 2^12 × 2^12: count·M·N wrapped to 0, passed the size check and crashed the process.
    const wrap = new Float64Array([1, 2 ** 12, 1, 2 ** 12, 0, 0, 0, 0, 0, 0, 0, 2 ** 40, 0, 0]);
    assert.throws(() => addon!.matmul(f, f, f, wrap), /out is too small/);
    assert.throws(() => addon!.matmul(f, f, f, new Float64Array([0, 2 ** 70, 1, 1, 0, 0, 0, 0, 0, 0, 0])), TypeError);
    assert.throws(() => addon!.setIsa("sse9" as "avx2"), TypeError);
  },
);

test(
  "backend selection: native registered and default when built; setBackend switches; DESCENT_BACKEND is checked",
  { skip },
  () => {
    assert.ok(availableBackends().includes("native"));
    const before = backend().name;
    const x = randn([37, 70], { requiresGrad: true });
    const w = randn([70, 45], { requiresGrad: true });
    const results = ["js", "native"].map((name) => {
      setBackend(name);
      x.grad = null;
      w.grad = null;
      const y = x.matmul(w);
      y.sum().backward();
      return [y, x.grad!, w.grad!].map((t) => (t.toArray() as number[][]).flat());
    });
    setBackend(before);
    for (let k = 0; k < 3; k++)
      results[0]![k]!.forEach((v, i) => assert.ok(Math.abs(v - results[1]![k]![i]!) < 1e-4 * (1 + Math.abs(v))));
    // The variable is read at the first op, not at import (importing has no side effect).
    const run = (env: string, code = 'import("./src/index.ts").then((d) => d.zeros([2]).add(1))') =>
      spawnSync(process.execPath, ["--import", "tsx", "-e", code], {
        env: { ...process.env, DESCENT_BACKEND: env },
        encoding: "utf8",
      });
    const bad = run("cuda");
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /DESCENT_BACKEND: unknown backend "cuda"/);
    assert.equal(run("cuda", 'import("./src/index.ts")').status, 0);
    assert.equal(run("native").status, 0);
    // Benchmarks set the addon's threads before any op: nativeAddon() loads it then (it returned
    // undefined before the first op once selection became lazy, and bench:suite lost its native rows).
    const early = run(
      "native",
      'import("./src/backends/native/index.ts").then((n) => process.exit(n.nativeAddon() ? 0 : 3))',
    );
    assert.equal(early.status, 0, early.stderr);
  },
);
