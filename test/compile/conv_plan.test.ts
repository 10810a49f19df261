// The native plan's convolution path (native/plan_window.h, plan_segment.h) against the eager
// forward (the native backend's own window.cc kernels and GEMM): im2col with and without padding,
// stride and dilation; max pooling on the tiled fast path (2×2: AVX-512 with a masked row tail;
// 3×3: the portable passes), on odd sizes (floor and ceil mode) and on the general path; NaN and
// infinities through pooling; and the image-by-image segments, on 1 and 2 threads, with a batch
// too small to share (run step by step) and with an intermediate that is also a forward output
// (it must still be written to its slot); the segment's own conv product (plan_conv.h) with
// ragged row and column panels. Every ISA this CPU has, as the GEMM tests do.

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { backend, setBackend } from "../../src/backends/index.js";
import { nativeAddon } from "../../src/backends/native/index.js";
import { planAddon } from "../../src/backends/plan/native.js";
import { compile, manualSeed, nn, noGrad, randn, tensor, type Tensor } from "../../src/index.js";
import { compare, describeComparison } from "../helpers/allclose.js";

const addon = nativeAddon();
const skip = !addon || !planAddon() ? "no native addon with plans" : false;

function close(actual: Tensor, expected: Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const c = compare(actual.toFlatArray(), expected.toFlatArray(), { rtol: 1e-5, atol: 1e-6 });
  assert.ok(c.ok, `${what}: ${describeComparison(c)}`);
}

function eager(model: nn.Module, x: Tensor): Tensor | Tensor[] {
  return noGrad(() => (model.forward as (a: Tensor) => Tensor | Tensor[])(x));
}

/** Plan vs eager for each case, on every ISA of this CPU and on 1 and 2 threads. */
function everyPath(cases: readonly { name: string; model: nn.Module; x: Tensor; steps?: string[] }[]): void {
  const best = addon!.isa() as "avx512" | "avx2" | "portable";
  const threads = addon!.threads();
  const isas = (["avx512", "avx2", "portable"] as const).slice(["avx512", "avx2", "portable"].indexOf(best));
  try {
    for (const isa of isas)
      for (const t of [1, 2]) {
        addon!.setIsa(isa);
        addon!.setThreads(t);
        for (const { name, model, x, steps } of cases) {
          const c = compile(model, x);
          const got = c.forward(x);
          const want = eager(model, x);
          const what = `${name} (${isa}, ${t} threads)`;
          if (Array.isArray(want)) want.forEach((w, i) => close((got as Tensor[])[i]!, w, `${what} output ${i}`));
          else close(got as Tensor, want, what);
          if (steps) assert.deepEqual(c.steps, steps, `${what}: steps`);
        }
      }
  } finally {
    addon!.setIsa(best);
    addon!.setThreads(threads);
  }
}

const seq = (...m: nn.Module[]): nn.Module => new nn.Sequential(...m).eval();

describe("native plan: convolution fast paths and image-by-image segments", { skip }, () => {
  test("conv + ReLU + 2×2 pooling (the tiled AVX-512 path with a row tail), twice, then a Linear", () => {
    setBackend("native");
    manualSeed(11);
    // 37×40 → conv 35×38 → pool 17×19 (odd rows dropped, 16 + 3 outputs a row) → conv 15×17 → pool 7×8.
    const model = seq(
      new nn.Conv2d(3, 10, 3),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Conv2d(10, 4, 3),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Flatten(),
      new nn.Linear(4 * 7 * 8, 6),
    );
    const steps = ["im2col", "gemm+relu", "maxPool", "im2col", "gemm+relu", "maxPool", "gemm"];
    // Batch 6: segments on 1 and 2 threads; batch 1 with 2 threads runs step by step.
    everyPath([
      { name: "batch 6", model, x: randn([6, 3, 37, 40]), steps },
      { name: "batch 1", model, x: randn([1, 3, 37, 40]), steps },
    ]);
  });

  test("padding, stride and dilation; 3×3 tiled pooling; general and ceil-mode pooling", () => {
    setBackend("native");
    manualSeed(12);
    everyPath([
      {
        name: "padded strided dilated conv, 3×3/3 pool",
        model: seq(new nn.Conv2d(2, 4, 3, { padding: 2, stride: 2, dilation: 2 }), new nn.MaxPool2d(3)),
        x: randn([4, 2, 23, 19]),
      },
      {
        // Alone, so every padded edge of the columns reaches the output (a pool drops some).
        name: "padded strided dilated conv",
        model: seq(new nn.Conv2d(2, 4, 3, { padding: 2, stride: 2, dilation: 2 })),
        x: randn([4, 2, 23, 19]),
      },
      { name: "padded conv", model: seq(new nn.Conv2d(3, 2, [3, 4], { padding: [1, 2] })), x: randn([3, 3, 9, 21]) },
      {
        name: "asymmetric kernel and padding, overlapping padded pool",
        model: seq(
          new nn.Conv2d(3, 4, [3, 2], { padding: [1, 0], stride: [1, 2] }),
          new nn.MaxPool2d(3, { stride: 2, padding: 1 }),
        ),
        x: randn([5, 3, 12, 15]),
      },
      {
        name: "ceil-mode 2×2 pool on odd sizes",
        model: seq(new nn.Conv2d(1, 3, 2), new nn.MaxPool2d(2, { ceilMode: true })),
        x: randn([4, 1, 10, 8]),
      },
    ]);
  });

  test("max pooling propagates the first NaN of each window and keeps infinities, on every path", () => {
    setBackend("native");
    manualSeed(13);
    // 1 × 2 × 6 × 36 with NaN in the first, second, third and last element of different 2×2
    // windows, ±Infinity elsewhere; 36 columns → 18 outputs a row: a full vector and a tail.
    const v = randn([1, 2, 6, 36]).toFlatArray();
    const W = 36;
    for (const [r, c] of [
      [0, 0],
      [0, 3],
      [1, 4],
      [3, 7],
      [5, 35],
      [4, 20],
    ])
      v[r! * W + c!] = NaN;
    v[72 + 2 * W + 9] = NaN;
    v[2 * W + 11] = Infinity;
    v[2 * W + 13] = -Infinity;
    v[72 + 0] = -Infinity;
    const x = tensor(v, { dtype: "float32" }).reshape([1, 2, 6, 36]);
    const x4 = noGrad(() => x.repeat([4, 1, 1, 1]));
    everyPath([
      // Two pools in a row form one segment; the 3×3/3 one takes the portable tiled passes.
      {
        name: "2×2 then 2×2",
        model: seq(new nn.MaxPool2d(2), new nn.MaxPool2d(2)),
        x: x4,
        steps: ["maxPool", "maxPool"],
      },
      { name: "3×3", model: seq(new nn.MaxPool2d(3)), x: x4 },
      { name: "padded 3×3/2", model: seq(new nn.MaxPool2d(3, { stride: 2, padding: 1 })), x: x4 },
      { name: "conv then pool", model: seq(new nn.Conv2d(2, 2, 1), new nn.MaxPool2d(2)), x: x4 },
    ]);
    assert.ok(backend().name === "native");
  });

  test("large images: window steps shared by the threads (no segment), past the scratch cap", () => {
    setBackend("native");
    manualSeed(16);
    // im2col of 2·98·98·9 values and pooling to 4·150·150: both past the plan's one-thread
    // limit (2^16 values); batch 1, so no image-by-image segment.
    everyPath([
      { name: "im2col", model: seq(new nn.Conv2d(2, 3, 3)), x: randn([1, 2, 100, 100]) },
      { name: "pool", model: seq(new nn.MaxPool2d(2)), x: randn([1, 4, 300, 300]) },
      // Two such images (a segment on one thread) whose columns (27·298² floats an image) pass
      // the thread scratch's cap: their intermediates stay in their slots.
      { name: "large segment", model: seq(new nn.Conv2d(3, 4, 3), new nn.ReLU()), x: randn([2, 3, 300, 300]) },
    ]);
  });

  test("an intermediate of a segment that the forward also returns is still written", () => {
    setBackend("native");
    manualSeed(14);
    class Two extends nn.Module {
      conv = new nn.Conv2d(2, 3, 3);
      pool = new nn.MaxPool2d(2);
      conv2 = new nn.Conv2d(3, 2, 2);
      forward(x: Tensor): Tensor[] {
        const h = this.conv.forward(x).relu();
        const p = this.pool.forward(h);
        return [this.conv2.forward(p), h];
      }
    }
    everyPath([{ name: "returns the first conv's output", model: new Two().eval(), x: randn([6, 2, 11, 12]) }]);
  });
});
