// Parity of the native element-wise kernels (copy, fill, unary, binary, where, reduce, argReduce;
// native/elementwise.cc) with the js reference, on every instruction set this CPU has, run on the
// calling thread alone and split across the pool: sizes 1, 3, 17, 257 and a few thousand, views
// contiguous / offset / transposed / stepped / stride-0 broadcast, outputs contiguous and strided,
// NaN, ±Inf, ±0, float32 and float64. Whole output buffers are compared, padding included (it holds
// a sentinel), so a stray write shows. Skipped, saying so, when the addon was not built.
//
// Tolerances: + − × ÷ sqrt, comparisons, max/min, relu, copies and selections are exact (Object.is:
// NaN equals NaN, +0 differs from −0). Transcendentals (and pow, sigmoid) come from glibc here and
// V8's fdlibm port in js: float64 within 4 ulp (erf 16: the js erf is a series, a few ulp off
// itself), float32 within 1 float ulp (both round a double that may differ in its last bits).
// Sums: native adds in other order (16 lanes) than js, both in float64, so |native − js| ≤
// (n + 2)·2⁻⁵²·Σ|x|, plus 1 float ulp of the result for float32. max/min reductions are exact up
// to which zero wins a ±0 tie. float32 exp, sigmoid, tanh and log are polynomials in double (not libm):
// a separate test checks them on 2¹⁸ random floats.

import { test } from "node:test";
import assert from "node:assert/strict";
import { allocArray, type DType } from "../../src/core/dtype.js";
import { Generator } from "../../src/core/random.js";
import type { BinaryOp, UnaryOp, View } from "../../src/backends/backend.js";
import { BINARY_OPS, UNARY_OPS } from "../../src/backends/op_list.js";
import { jsBackend } from "../../src/backends/js/index.js";
import { initNative, nativeAddon, nativeBackend } from "../../src/backends/native/index.js";
import { elementwiseKernels } from "../../src/backends/native/elementwise.js";

const skip = initNative(false) ? false : "native addon not built (npm install could not compile native/); js only";
const addon = nativeAddon();
const js = jsBackend.kernels;
const gen = new Generator(7);
const SENTINEL = 7.25;
const never = Number.POSITIVE_INFINITY;
const all = { minElements: 0, minCostlyElements: 0, minCopyElements: 0 };
const modes = addon
  ? {
      serial: elementwiseKernels(addon, js, { ...all, parallelElements: never, parallelCostlyElements: never }),
      parallel: elementwiseKernels(addon, js, { ...all, parallelElements: 0, parallelCostlyElements: 0 }),
    }
  : {};

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, 2.5, -2.5, 1e30, -1e-30, 88.5, -100, 3e-40];
const draw = () => (gen.uniform() < 0.15 ? SPECIAL[gen.randint(SPECIAL.length)]! : gen.normal() * 3);

type Layout = "contiguous" | "offset" | "transposed" | "stepped" | "broadcast" | "scalar";
const LAYOUTS: Layout[] = ["contiguous", "offset", "transposed", "stepped", "broadcast", "scalar"];

/** A view of `shape` laid out as named, over a buffer whose padding holds the sentinel. */
function makeView(dtype: DType, shape: readonly number[], layout: Layout, fill = draw): View {
  const nd = shape.length;
  const stored = shape.map((d, i) => (layout === "scalar" || (layout === "broadcast" && i === 0) ? 1 : d));
  const step = layout === "stepped" ? 2 : 1;
  const order = [...shape.keys()];
  if (layout === "transposed" && nd >= 2) [order[nd - 2], order[nd - 1]] = [order[nd - 1]!, order[nd - 2]!];
  const strides = new Array<number>(nd).fill(0);
  let size = 1;
  for (let j = nd - 1; j >= 0; j--) {
    const d = order[j]!;
    strides[d] = stored[d] === 1 && shape[d] !== 1 ? 0 : size * step;
    size *= stored[d]! * step;
  }
  const offset = layout === "offset" || layout === "stepped" ? 3 : 0;
  const data = allocArray(dtype, offset + size + 2).fill(SENTINEL);
  for (let i = 0; i < size; i += step) data[offset + i] = fill();
  return { data, shape, strides, offset };
}

/** An output: contiguous (offset 2) or, when `strided`, every other element of a bigger buffer. */
function outView(dtype: DType, shape: readonly number[], strided = false): View {
  const step = strided ? 2 : 1;
  const strides = shape.map((_, i) => step * shape.slice(i + 1).reduce((x, y) => x * y, 1));
  const n = shape.reduce((x, y) => x * y, 1);
  return { data: allocArray(dtype, 2 + n * step + 2).fill(SENTINEL), shape, strides, offset: 2 };
}

const copyOf = (v: View): View => ({ ...v, data: v.data.slice() });

type Close = (got: number, want: number, i: number) => boolean;
const exact: Close = (g, w) => Object.is(g, w);
function ulps(dtype: DType, k: number): Close {
  const eps = dtype === "float32" ? 2 ** -23 : 2 ** -52;
  const tiny = dtype === "float32" ? 2 ** -149 : 2 ** -1074;
  return (g, w) => g === w || (g !== g && w !== w) || Math.abs(g - w) <= k * (eps * Math.abs(w) + tiny);
}

function compare(what: string, got: View, want: View, close: Close): void {
  for (let i = 0; i < want.data.length; i++) {
    const [g, w] = [got.data[i]!, want.data[i]!];
    if (!close(g, w, i)) assert.fail(`${what}: element ${i - want.offset}: native ${g}, js ${w}`);
  }
}

/** Runs fn on every ISA of this CPU, with the serial and the parallel kernel set. */
function everyPath(fn: (path: string, k: typeof js) => void): void {
  const best = addon!.isa() as "avx512" | "avx2" | "portable";
  const threads = addon!.threads();
  try {
    addon!.setThreads(2);
    for (const isa of ["avx512", "avx2", "portable"] as const) {
      try {
        addon!.setIsa(isa);
      } catch {
        continue; // not on this CPU
      }
      for (const [mode, k] of Object.entries(modes)) fn(`${isa}/${mode}`, k as typeof js);
    }
  } finally {
    addon!.setIsa(best);
    addon!.setThreads(threads);
  }
}

const SHAPES = [[1], [3], [17], [257], [3, 17], [17, 3], [5, 17, 3], [2, 257], [67, 129]];
const COSTLY = new Set(["exp", "expm1", "log", "log1p", "sin", "cos", "tanh", "sigmoid", "erf", "pow"]);
const tolerance = (dtype: DType, op: string): Close =>
  !COSTLY.has(op) ? exact : ulps(dtype, dtype === "float32" ? 1 : op === "erf" ? 16 : 4);

// Every op of the one list (src/backends/op_list.ts); an op the addon lacks runs in js and passes trivially.
const UNARY: readonly UnaryOp[] = UNARY_OPS;
const BINARY: readonly BinaryOp[] = BINARY_OPS;

for (const dtype of ["float32", "float64"] as const) {
  test(`native unary ${dtype}: every op, layout and size`, { skip }, () => {
    everyPath((path, k) => {
      for (const shape of SHAPES)
        for (const layout of LAYOUTS) {
          const x = makeView(dtype, shape, layout);
          for (const strided of [false, true]) {
            const want = outView(dtype, shape, strided);
            for (const op of UNARY) {
              const got = copyOf(want);
              js.unary(op, x, want);
              k.unary(op, x, got);
              compare(
                `${path} ${op} ${JSON.stringify(shape)} ${layout} strided out ${strided}`,
                got,
                want,
                tolerance(dtype, op),
              );
              want.data.fill(SENTINEL);
            }
          }
        }
    });
  });

  test(`native binary ${dtype}: every op, mixed layouts (broadcast both sides), in place`, { skip }, () => {
    everyPath((path, k) => {
      for (const shape of SHAPES)
        for (const [la, lb] of [
          ["contiguous", "contiguous"],
          ["contiguous", "scalar"],
          ["scalar", "contiguous"],
          ["offset", "broadcast"],
          ["transposed", "stepped"],
          ["broadcast", "transposed"],
        ] as [Layout, Layout][]) {
          const a = makeView(dtype, shape, la);
          const b = makeView(dtype, shape, lb);
          for (const op of BINARY) {
            const want = outView(dtype, shape, la === "transposed");
            const got = copyOf(want);
            js.binary(op, a, b, want);
            k.binary(op, a, b, got);
            compare(`${path} ${op} ${JSON.stringify(shape)} ${la}/${lb}`, got, want, tolerance(dtype, op));
          }
          if (la === "contiguous" && lb !== "scalar") {
            const [x, y] = [copyOf(a), copyOf(a)];
            js.binary("add", x, b, x);
            k.binary("add", y, b, y);
            compare(`${path} add_ in place ${JSON.stringify(shape)}`, y, x, exact);
          }
        }
    });
  });

  test(`native where, copy and fill ${dtype}`, { skip }, () => {
    everyPath((path, k) => {
      for (const shape of SHAPES)
        for (const layout of LAYOUTS) {
          for (const cdtype of ["float32", "float64", "int32"] as const) {
            const pick = [0, -0, NaN, 1, -3];
            const cond = makeView(cdtype, shape, layout === "scalar" ? "contiguous" : layout, () =>
              cdtype === "int32" ? gen.randint(3) - 1 : pick[gen.randint(pick.length)]!,
            );
            for (const [a, b] of [
              [makeView(dtype, shape, layout), makeView(dtype, shape, "contiguous")],
              [makeView(dtype, shape, "scalar"), makeView(dtype, shape, "offset")],
              [makeView(dtype, shape, "stepped"), makeView(dtype, shape, "scalar")],
            ] as [View, View][]) {
              const want = outView(dtype, shape);
              const got = copyOf(want);
              js.where(cond, a, b, want);
              k.where(cond, a, b, got);
              compare(`${path} where ${cdtype} ${JSON.stringify(shape)} ${layout}`, got, want, exact);
            }
          }
          const x = makeView(dtype, shape, layout);
          for (const strided of [false, true]) {
            const want = outView(dtype, shape, strided);
            const got = copyOf(want);
            js.copy(x, want);
            k.copy(x, got);
            compare(`${path} copy ${JSON.stringify(shape)} ${layout} strided out ${strided}`, got, want, exact);
            for (const value of [1.1, NaN, -0, -Infinity, 1e300]) {
              js.fill(want, value);
              k.fill(got, value);
              compare(`${path} fill ${value} ${JSON.stringify(shape)}`, got, want, exact);
            }
          }
        }
    });
  });

  test(`native reduce ${dtype}: sum/max/min over every dim subset, any layout`, { skip }, () => {
    const cases: [number[], number[][]][] = [
      [[1], [[0]]],
      [[257], [[0], []]],
      [
        [2, 257],
        [[0], [1], [0, 1]],
      ],
      [
        [5, 17, 3],
        [[], [0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]],
      ],
      [
        [67, 129],
        [[0], [1], [0, 1]],
      ],
      [
        [3, 0, 4],
        [[1], [0, 2]],
      ],
    ];
    everyPath((path, k) => {
      for (const [shape, dimSets] of cases)
        for (const layout of LAYOUTS) {
          const x = makeView(dtype, shape, layout, () =>
            gen.uniform() < 0.03 ? SPECIAL[gen.randint(5)]! : gen.normal(),
          );
          for (const dims of dimSets) {
            const kept = shape.map((d, i) => (dims.includes(i) ? 1 : d));
            let n = 1;
            for (const d of dims) n *= shape[d]!;
            const mag = outView("float64", kept);
            js.reduce("sum", { ...x, data: Float64Array.from(x.data, Math.abs) }, dims, mag);
            for (const op of ["sum", "max", "min"] as const) {
              if (op !== "sum" && n === 0) continue;
              const want = outView(dtype, kept);
              const got = copyOf(want);
              js.reduce(op, x, dims, want);
              k.reduce(op, x, dims, got);
              const close: Close =
                op !== "sum"
                  ? (g, w) => g === w || (g !== g && w !== w)
                  : (g, w, i) =>
                      Object.is(g, w) ||
                      Math.abs(g - w) <=
                        (n + 2) * 2 ** -52 * (mag.data[i]! as number) +
                          (dtype === "float32" ? 2 ** -23 * Math.abs(w) : 0);
              compare(
                `${path} ${op} ${JSON.stringify(shape)} dims ${JSON.stringify(dims)} ${layout}`,
                got,
                want,
                close,
              );
            }
          }
        }
    });
  });

  test(`native argmax/argmin ${dtype}: every dim, layouts, NaN and ties`, { skip }, () => {
    everyPath((path, k) => {
      for (const shape of [[1], [257], [5, 17, 3], [67, 129]])
        for (const layout of LAYOUTS) {
          const x = makeView(dtype, shape, layout, () =>
            gen.uniform() < 0.1 ? SPECIAL[gen.randint(7)]! : gen.randint(5),
          );
          for (let dim = 0; dim < shape.length; dim++)
            for (const op of ["argmax", "argmin"] as const) {
              const rows = shape.filter((_, d) => d !== dim);
              const want = outView("int32", rows);
              const got = copyOf(want);
              js.argReduce(op, x, dim, want);
              k.argReduce(op, x, dim, got);
              compare(`${path} ${op} ${JSON.stringify(shape)} dim ${dim} ${layout}`, got, want, exact);
            }
        }
    });
  });
}

test("native float32 exp/sigmoid/tanh/log (vectorised in double) against js on 2^18 random floats", { skip }, () => {
  // Random bit patterns (every exponent, NaN, ±Inf, subnormals) plus the ranges that matter most.
  // The native forms are polynomials, not libm: each result must be within 1 float ulp of js, and
  // differ at all in at most 1 element in 10⁵ (none differed in 2²¹ when this was written).
  const n = 1 << 18;
  const x = new Float32Array(n);
  const bits = new Uint32Array(x.buffer);
  for (let i = 0; i < n; i++) bits[i] = gen.randint(2 ** 16) * 2 ** 16 + gen.randint(2 ** 16);
  for (let i = 0; i < n / 2; i++) x[i] = (gen.uniform() - 0.5) * (i < n / 4 ? 40 : 0.2);
  for (let i = n / 2; i < (3 * n) / 4; i++) x[i] = 1 + (gen.uniform() - 0.5) * (i % 2 ? 0.01 : 1.5); // log near 1
  const v: View = { data: x, shape: [n], strides: [1], offset: 0 };
  const asInt = new Int32Array(1);
  const asFloat = new Float32Array(asInt.buffer);
  const ordinal = (f: number) => ((asFloat[0] = f), asInt[0]!);
  everyPath((path, k) => {
    for (const op of ["exp", "sigmoid", "tanh", "log"] as const) {
      const [want, got] = [outView("float32", [n]), outView("float32", [n])];
      js.unary(op, v, want);
      k.unary(op, v, got);
      let differ = 0;
      for (let i = 0; i < want.data.length; i++) {
        const [g, w] = [got.data[i]!, want.data[i]!];
        if (Object.is(g, w)) continue;
        differ++;
        const ok = Number.isFinite(w) && Math.sign(g) === Math.sign(w) && Math.abs(ordinal(g) - ordinal(w)) <= 1;
        assert.ok(ok, `${path} ${op}(${x[i - 2]}): native ${g}, js ${w}`);
      }
      assert.ok(differ <= n / 1e5, `${path} ${op}: ${differ} of ${n} differ from js`);
    }
  });
});

test("native element-wise: int32 and mixed dtypes fall back to js; bad calls throw", { skip }, () => {
  const k = nativeBackend(addon!).kernels;
  const a = makeView("int32", [300], "contiguous", () => gen.randint(1 << 30));
  const b = makeView("int32", [300], "transposed", () => gen.randint(1 << 30));
  const [want, got] = [outView("int32", [300]), outView("int32", [300])];
  js.binary("mul", a, b, want);
  k.binary("mul", a, b, got);
  compare("int32 mul", got, want, exact);
  const f = makeView("float64", [300], "contiguous");
  const [w2, g2] = [outView("float32", [300]), outView("float32", [300])];
  js.copy(f, w2);
  k.copy(f, g2);
  compare("float64 → float32 copy", g2, w2, exact);

  const meta = new Float64Array([0, 1, 0, 1, 10, 0, 1, 5, 1, 0, 1]);
  const x = new Float32Array(10);
  assert.throws(() => addon!.binary(x, x, new Float32Array(10), meta), /outside/); // a reaches 5..14
  assert.throws(() => addon!.binary(x, x, new Float64Array(10), meta.fill(0, 7, 8)), /binary/); // dtype mix
  assert.throws(() => addon!.unary(x, x, new Float64Array([99, 1, 0, 1, 10, 0, 1, 0, 1])), /unary/); // no op 99
  assert.throws(() => addon!.unary(x, x, new Float64Array([0, 1, 0, 1, 10.5, 0, 1, 0, 1])), /unary/); // size
  assert.throws(() => addon!.copy(x, x, new Float64Array([0, 1])), /copy/); // meta too short
  assert.throws(() => addon!.reduce(x, x, new Float64Array([0, 1, 0, 1, 4, 12, 0, 0, 1])), /outside/); // out at 12
  assert.throws(
    () => addon!.argReduce(new Int32Array(2), x, new Float64Array([0, 1, 0, 1, 2, 0, 1, 0, 1, 1])),
    /argReduce/,
  ); // len 0
});
