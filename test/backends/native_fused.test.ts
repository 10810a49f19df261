// Parity of the native fused kernels (native/fused.cc through src/backends/native/fused.ts, forced
// native at every size) with the js reference kernels, on every instruction set this CPU has and
// with one and two threads (the split threshold lowered): sizes 1, 3, 17, 257 and 40000, views at
// an offset inside a larger buffer (these kernels take contiguous views only; the tensor layer
// sends nothing else), NaN and ±Inf, float32 and float64, every option branch. The optimizer
// updates and ReLU's backward must agree bit for bit; softmax to 2 ulps of max(|y|, 1) (libm's exp/log against V8's). Skipped, saying
// so, when the addon was not built.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { allocArray } from "../../src/core/dtype.js";
import { Generator } from "../../src/core/random.js";
import type { View } from "../../src/backends/backend.js";
import type { Accelerations } from "../../src/backends/accelerations.js";
import { jsBackend } from "../../src/backends/js/index.js";
import { initNative, nativeAddon } from "../../src/backends/native/index.js";
import { nativeFused } from "../../src/backends/native/fused.js";

const skip = initNative(false)
  ? false
  : "native addon not built (npm install could not compile native/); js backend only";
const addon = nativeAddon();
const js = jsBackend.accelerations as Accelerations;
const gen = new Generator(7);
type DT = "float32" | "float64";

/** A contiguous view of n values at offset 5 in a buffer padded with NaN; `hostile` plants NaN, ±Inf, ±0. */
function view(dtype: DT, shape: number[], scale = 1, hostile = false, positive = false): View {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = allocArray(dtype, n + 9).fill(NaN);
  for (let i = 0; i < n; i++) {
    const u = gen.uniform();
    data[5 + i] = positive ? u * scale : (u * 2 - 1) * scale;
  }
  if (hostile) [NaN, Infinity, -Infinity, -0, 0].forEach((v, i) => i < n && (data[5 + ((i * 7) % n)] = v));
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  return { data, shape, strides, offset: 5 };
}
const copy = (v: View): View => ({ ...v, data: v.data.slice() });

/**
 * Whole buffers equal, padding included (a write outside the view shows). With `ulps`, floats may
 * differ by that many ulps of max(|js|, scale): an ulp of exp in softmax moves its outputs (at most
 * 1) by ulps of 1, and its gradients, which subtract exp(y)·Σg, by ulps of |Σg| ≤ n·max|g|.
 */
function assertClose(a: View, b: View, what: string, ulps = 0, scale = 1): void {
  const eps = a.data instanceof Float32Array ? 2 ** -23 : 2 ** -52;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i]!;
    const y = b.data[i]!;
    if (Object.is(x, y) || (x !== x && y !== y)) continue;
    if (ulps > 0 && Math.abs(x - y) <= ulps * eps * Math.max(Math.abs(y), scale)) continue;
    assert.fail(`${what}: element ${i}: native ${x}, js ${y}`);
  }
}

const SIZES = [1, 3, 17, 257, 40000];

/** Each ISA the CPU has × 1 and 2 threads (splitting above 1000 elements), restoring all after. */
function eachSetting(f: (label: string) => void): void {
  const isa0 = addon!.isa();
  const threads0 = addon!.threads();
  const parallelMin0 = addon!.setFusedParallelMin(1000);
  const isas = (["avx512", "avx2", "portable"] as const).filter((isa) => {
    try {
      addon!.setIsa(isa);
      return true;
    } catch {
      return false;
    }
  });
  try {
    for (const isa of isas) {
      addon!.setIsa(isa);
      for (const t of [1, 2]) {
        addon!.setThreads(t);
        f(`${isa}, ${t} thread(s)`);
      }
    }
  } finally {
    addon!.setIsa(isa0 as "avx512");
    addon!.setThreads(threads0);
    addon!.setFusedParallelMin(parallelMin0);
  }
}

/** Runs one kernel call on fresh copies through native and js and compares every buffer written. */
function compare(
  what: string,
  native: Pick<Accelerations, "adamStep">,
  call: (k: Accelerations, views: (View | null)[]) => void,
  views: (View | null)[],
  ulps = 0,
  scale = 1,
): void {
  const a = views.map((v) => v && copy(v));
  const b = views.map((v) => v && copy(v));
  call(native as Accelerations, a);
  call(js, b);
  a.forEach((v, i) => v && assertClose(v, b[i]!, `${what}, operand ${i}`, ulps, scale));
}

describe("native fused kernels match the js reference", { skip }, () => {
  const native = addon ? nativeFused(addon, 1) : undefined;

  test("optimizer updates, bit for bit", () => {
    eachSetting((label) => {
      for (const dtype of ["float32", "float64"] as const) {
        for (const n of SIZES) {
          for (const hostile of [false, true]) {
            const w = `${label}, ${dtype}, n ${n}${hostile ? ", NaN/Inf" : ""}`;
            const p = view(dtype, [n]);
            const g = view(dtype, [n], 2, hostile);
            const s = () => view(dtype, [n], 0.5, false, true);
            const k = native as unknown as Accelerations;
            for (const [decay, weightDecay, maximize] of [
              [1, 0, false],
              [1, 0.1, true],
              [0.999, 0, false],
            ] as const) {
              const c = {
                decay,
                weightDecay,
                beta1: 0.9,
                beta2: 0.99,
                eps: 1e-8,
                negStepSize: -0.01,
                bc2Sqrt: 0.3,
                maximize,
              };
              compare(`adam ${w}`, k, (x, [P, G, M, V, X]) => x.adamStep(P!, G!, M!, V!, X!, c), [
                p,
                g,
                s(),
                s(),
                null,
              ]);
              compare(`amsgrad ${w}`, k, (x, [P, G, M, V, X]) => x.adamStep(P!, G!, M!, V!, X!, c), [
                p,
                g,
                s(),
                s(),
                s(),
              ]);
            }
            for (const [momentum, dampening, weightDecay, nesterov, first] of [
              [0, 0, 0, false, false],
              [0.9, 0, 0.01, false, true],
              [0.9, 0, 0, true, true],
              [0.9, 0.2, 0.01, false, false],
              [0.8, 0, 0, true, false],
            ] as const) {
              const c = { lr: 0.1, momentum, dampening, weightDecay, nesterov, maximize: nesterov, first };
              const buf = momentum ? s() : null;
              compare(`sgd ${w}`, k, (x, [P, G, B]) => x.sgdStep(P!, G!, B!, c), [p, g, buf]);
            }
            for (const [centered, momentum, weightDecay] of [
              [false, 0, 0],
              [true, 0, 0.1],
              [false, 0.5, 0],
              [true, 0.5, 0.1],
            ] as const) {
              const c = { lr: 0.01, alpha: 0.9, eps: 1e-6, weightDecay, momentum, maximize: centered };
              const views = [p, g, s(), centered ? view(dtype, [n], 0.1) : null, momentum ? s() : null];
              compare(`rmsprop ${w}`, k, (x, [P, G, S, A, B]) => x.rmspropStep(P!, G!, S!, A!, B!, c), views);
            }
            for (const weightDecay of [0, 0.1]) {
              const c = { clr: 0.05, weightDecay, eps: 1e-10, maximize: weightDecay > 0 };
              compare(`adagrad ${w}`, k, (x, [P, G, S]) => x.adagradStep(P!, G!, S!, c), [p, g, s()]);
            }
          }
        }
      }
    });
  });

  test("softmax and log-softmax, forward and backward, to 2 ulps of max(|y|, 1)", () => {
    const shapes = [[1], [1, 1], [3, 17], [257, 3], [2, 257], [300, 200]];
    eachSetting((label) => {
      for (const dtype of ["float32", "float64"] as const) {
        for (const shape of shapes) {
          for (const hostile of [false, true]) {
            const w = `${label}, ${dtype}, [${shape.join(",")}]${hostile ? ", NaN/Inf" : ""}`;
            const x = view(dtype, shape, 30, hostile);
            const k = native as unknown as Accelerations;
            for (const log of [false, true]) {
              const out = view(dtype, shape);
              compare(`softmax(log ${log}) ${w}`, k, (m, [X, O]) => m.softmax(X!, log, O!), [x, out], 2);
              // y as the forward makes it: softmax in (0, 1], log-softmax ≤ 0.
              const y = view(dtype, shape, 1, false, true);
              if (log) y.data.forEach((v, i) => (y.data[i] = -3 * v));
              const g = view(dtype, shape, 1, hostile);
              compare(
                `backward(log ${log}) ${w}`,
                k,
                (m, [G, Y, O]) => m.softmaxBackward(G!, Y!, log, O!),
                [g, y, out],
                2,
                shape.at(-1),
              );
            }
          }
        }
      }
    });
  });

  test("ReLU's backward, bit for bit (strided views go to js)", () => {
    eachSetting((label) => {
      for (const dtype of ["float32", "float64"] as const) {
        for (const n of SIZES) {
          const w = `${label}, ${dtype}, n ${n}`;
          const k = native as unknown as Accelerations;
          const [g, y] = [view(dtype, [n], 1, true), view(dtype, [n], 1, true)];
          compare(`reluBackward ${w}`, k, (m, [G, Y, O]) => m.reluBackward(G!, Y!, O!), [g, y, view(dtype, [n])]);
          const bcast = { ...g, shape: [3, n], strides: [0, 1] };
          const y3 = view(dtype, [3, n], 1, true);
          compare(`reluBackward broadcast g ${w}`, k, (m, [G, Y, O]) => m.reluBackward(G!, Y!, O!), [
            bcast,
            y3,
            view(dtype, [3, n]),
          ]);
        }
      }
    });
  });

  test("the addon refuses views outside their arrays and mixed dtypes instead of touching memory", () => {
    const f = new Float32Array(10);
    const meta = new Float64Array([11, 0, 0, 0, 0, 0, 1, 0, 0.9, 0.99, 1e-8, -0.01, 0.3, 0]);
    assert.throws(() => addon!.optimStep(0, f, f.slice(), f.slice(), f.slice(), null, meta), /outside/);
    meta[0] = 10;
    meta[3] = 1;
    assert.throws(() => addon!.optimStep(0, f, f.slice(), f.slice(), f.slice(), null, meta), /outside/);
    meta[3] = 0;
    assert.throws(() => addon!.optimStep(0, f, new Float64Array(10), f.slice(), f.slice(), null, meta), /one type/);
    assert.throws(() => addon!.optimStep(0, f, f.slice(), null, f.slice(), null, meta), /missing/);
    assert.throws(() => addon!.optimStep(7, f, f.slice(), f.slice(), f.slice(), null, meta), /expected/);
    const sm = new Float64Array([2, 5, 1, 0, 0, 1, 0]);
    assert.throws(() => addon!.softmax(f, f, new Float32Array(10), sm), /outside/);
    assert.throws(() => addon!.softmax(f, f, new Float64Array(10), new Float64Array([2, 5, 0, 0, 0, 1, 0])), /Float/);
    assert.throws(() => addon!.reluBackward(f, f, f.slice(), new Float64Array([8, 0, 3, 0])), /outside/);
    assert.throws(
      () => addon!.reluBackward(f, new Float64Array(10), f.slice(), new Float64Array([8, 0, 0, 0])),
      /Float/,
    );
  });
});
