// Parity of the native sliding-window kernels (im2col, col2im, maxPool2d, maxPool2dBackward;
// native/window.cc) with the js reference, which they must match bit for bit: same loops, same
// accumulation order. Sizes 1, 3, 17 (and one large enough to split over threads), windows with
// stride, padding, dilation and ceil-mode overhang, transposed / sliced / offset / stride-0
// inputs, NaN and ±Inf (a NaN first in a window, later in it, windows of -Inf only), float32 and
// float64, every instruction set the CPU has and 1 and 2 threads. Outputs are pre-filled with a
// marker so a stray or missing write shows. Skipped, saying so, when the addon was not built.

import { test } from "node:test";
import assert from "node:assert/strict";
import { allocArray, type DType } from "../../src/core/dtype.js";
import { contiguousStrides, windowOut } from "../../src/core/shape.js";
import { Generator } from "../../src/core/random.js";
import type { View, Window2d } from "../../src/backends/backend.js";
import { jsBackend } from "../../src/backends/js/index.js";
import { initNative, nativeAddon, nativeBackend } from "../../src/backends/native/index.js";

const skip = initNative(false)
  ? false
  : "native addon not built (npm install could not compile native/); js backend only";
const addon = nativeAddon();
const native = addon ? nativeBackend(addon, 0).kernels : undefined; // every size through the addon
const js = jsBackend.kernels;
const gen = new Generator(7);

type Layout = "contiguous" | "transposed" | "sliced" | "broadcast";

/** x [n, c, h, w] stored as `layout` says, values from `draw`; unused storage reads NaN. */
function input(dtype: DType, shape: readonly number[], layout: Layout, draw: () => number): View {
  const [n, c, h, w] = shape as [number, number, number, number];
  if (layout === "transposed") {
    // stored [n, c, w, h], seen with the last two dims swapped
    const data = allocArray(dtype, n * c * h * w);
    for (let i = 0; i < data.length; i++) data[i] = draw();
    return { data, shape, strides: [c * h * w, h * w, 1, h], offset: 0 };
  }
  if (layout === "broadcast") {
    // one [h, w] plane seen by every image and channel (stride 0)
    const data = allocArray(dtype, h * w);
    for (let i = 0; i < data.length; i++) data[i] = draw();
    return { data, shape, strides: [0, 0, w, 1], offset: 0 };
  }
  const step = layout === "sliced" ? 2 : 1;
  const offset = layout === "sliced" ? 5 : 0;
  const strides = contiguousStrides([n, c, h, w * step]);
  strides[3] = step;
  const data = allocArray(dtype, offset + n * c * h * w * step + 3).fill(NaN);
  for (let b = 0; b < n * c * h; b++) for (let x = 0; x < w; x++) data[offset + b * w * step + x * step] = draw();
  return { data, shape, strides, offset };
}

function output(dtype: DType | "int32", shape: readonly number[], fill: number): View {
  const size = shape.reduce((a, b) => a * b, 1);
  return { data: allocArray(dtype, size).fill(fill), shape, strides: contiguousStrides(shape), offset: 0 };
}

/** Values with NaN and ±Inf sprinkled in (`special` of them), otherwise uniform in [-1, 1). */
function drawer(special: number): () => number {
  const pick = [NaN, Infinity, -Infinity];
  return () => (gen.uniform() < special ? pick[Math.floor(gen.uniform() * 3)]! : gen.uniform() * 2 - 1);
}

function same(what: string, got: View, want: View): void {
  assert.equal(got.data.length, want.data.length);
  for (let i = 0; i < got.data.length; i++)
    if (!Object.is(got.data[i], want.data[i]))
      assert.fail(`${what}: element ${i}: native ${got.data[i]}, js ${want.data[i]}`);
}

/** Runs `fn` on every instruction set this CPU has and with 1 and 2 threads. */
function everyPath(fn: (path: string) => void): void {
  const best = addon!.isa() as "avx512" | "avx2" | "portable";
  const threads = addon!.threads();
  try {
    for (const isa of ["avx512", "avx2", "portable"] as const) {
      try {
        addon!.setIsa(isa);
      } catch {
        continue; // not on this CPU
      }
      for (const t of [1, 2]) {
        addon!.setThreads(t);
        fn(`${isa}/${t}T`);
      }
    }
  } finally {
    addon!.setIsa(best);
    addon!.setThreads(threads);
  }
}

const win = (k: [number, number], s: [number, number], p: [number, number], d: [number, number]): Window2d => ({
  kernel: k,
  stride: s,
  padding: p,
  dilation: d,
});

const SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1],
  [1, 3, 3, 3],
  [3, 1, 17, 3],
  [2, 3, 17, 17],
  [4, 17, 33, 31], // large enough to be split over threads
];
const WINDOWS: Window2d[] = [
  win([1, 1], [1, 1], [0, 0], [1, 1]),
  win([3, 3], [1, 1], [1, 1], [1, 1]),
  win([2, 3], [2, 1], [1, 0], [1, 2]),
  win([3, 2], [3, 2], [1, 1], [2, 1]),
];

test("native im2col and col2im match js bit for bit", { skip }, () => {
  everyPath((path) => {
    for (const dtype of ["float32", "float64"] as const)
      for (const shape of SHAPES)
        for (const p of WINDOWS) {
          const [n, c, h, w] = shape;
          const oh = windowOut(h, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0]);
          const ow = windowOut(w, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]);
          if (oh <= 0 || ow <= 0) continue;
          const colsShape = [n, c * p.kernel[0] * p.kernel[1], oh * ow];
          for (const layout of ["contiguous", "transposed", "sliced", "broadcast"] as const) {
            const what = `${path} ${dtype} ${JSON.stringify(shape)} ${JSON.stringify(p)} ${layout}`;
            const x = input(dtype, shape, layout, drawer(0.05));
            const want = output(dtype, colsShape, 7);
            const got = output(dtype, colsShape, 7);
            js.im2col(x, p, want);
            native!.im2col(x, p, got);
            same(`im2col ${what}`, got, want);
            // col2im from a transposed view of the columns ([n, L, rows] storage), into zeros.
            const rows = colsShape[1]!;
            const l = colsShape[2]!;
            const colsT = input(dtype, [n, 1, l, rows], "contiguous", drawer(0.05));
            const cols: View = { data: colsT.data, shape: colsShape, strides: [l * rows, 1, rows], offset: 0 };
            const imWant = output(dtype, shape, 0);
            const imGot = output(dtype, shape, 0);
            js.col2im(cols, p, imWant);
            native!.col2im(cols, p, imGot);
            same(`col2im ${what}`, imGot, imWant);
          }
        }
  });
});

/** Output sizes to try: the floor formula's, and one more row/column (ceil mode's overhang). */
function poolOuts(h: number, w: number, p: Window2d): [number, number][] {
  const oh = windowOut(h, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0]);
  const ow = windowOut(w, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]);
  return oh > 0 && ow > 0
    ? [
        [oh, ow],
        [oh + 1, ow + 1],
      ]
    : [];
}

test("native maxPool2d and its backward match js bit for bit (values, indices, gradients)", { skip }, () => {
  const special: [string, () => number][] = [
    ["finite", drawer(0)],
    ["NaN/Inf", drawer(0.15)],
    ["all -Inf", () => -Infinity],
    ["ties", () => Math.floor(gen.uniform() * 3)],
  ];
  everyPath((path) => {
    for (const dtype of ["float32", "float64"] as const)
      for (const shape of SHAPES)
        for (const p of [...WINDOWS, win([2, 2], [2, 2], [0, 0], [1, 1])])
          for (const out of poolOuts(shape[2], shape[3], p))
            for (const layout of ["contiguous", "transposed", "sliced", "broadcast"] as const)
              for (const [kind, draw] of special) {
                // The threaded shape is slow on js: two windows, two kinds of values suffice there.
                const large = shape[0] * shape[1] * shape[2] * shape[3] > 10_000;
                if (
                  large &&
                  (p.kernel[0] === 1 || p.kernel[1] === 3 || out[0] !== poolOuts(shape[2], shape[3], p)[0]![0])
                )
                  continue;
                if (large && (kind === "finite" || kind === "all -Inf")) continue;
                const what = `${path} ${dtype} ${JSON.stringify(shape)} ${JSON.stringify(p)} out ${out} ${layout} ${kind}`;
                const x = input(dtype, shape, layout, draw);
                const oShape = [shape[0], shape[1], ...out];
                const [vWant, vGot] = [output(dtype, oShape, 7), output(dtype, oShape, 7)];
                const [iWant, iGot] = [output("int32", oShape, -7), output("int32", oShape, -7)];
                js.maxPool2d(x, p, vWant, iWant);
                native!.maxPool2d(x, p, vGot, iGot);
                same(`maxPool2d values ${what}`, vGot, vWant);
                same(`maxPool2d indices ${what}`, iGot, iWant);
                const g = input(dtype, oShape, layout, drawer(0.05));
                const [gWant, gGot] = [output(dtype, shape, 0), output(dtype, shape, 0)];
                js.maxPool2dBackward(g, iWant, gWant);
                native!.maxPool2dBackward(g, iWant, gGot);
                same(`maxPool2dBackward ${what}`, gGot, gWant);
              }
  });
});

test("maxPool2d picks the first maximum, a NaN anywhere in the window, and H·W for padding", { skip }, () => {
  const p = win([2, 2], [2, 2], [1, 1], [1, 1]);
  // 1 image, 1 channel, 2x2: windows are the four corners, each with 3 padding cells.
  const x: View = {
    data: new Float32Array([-Infinity, 2, NaN, 2]),
    shape: [1, 1, 2, 2],
    strides: [4, 4, 2, 1],
    offset: 0,
  };
  for (const k of [js, native!]) {
    const v = output("float32", [1, 1, 2, 2], 7);
    const i = output("int32", [1, 1, 2, 2], -7);
    k.maxPool2d(x, p, v, i);
    assert.deepEqual([...v.data], [-Infinity, 2, NaN, 2]);
    assert.deepEqual([...i.data], [4, 1, 2, 3]); // -Inf ties the padding before it: padding (H·W) wins
  }
});

test("native window entry points refuse views outside their arrays", { skip }, () => {
  const meta = new Float64Array([1, 1, 4, 4, 3, 3, 1, 1, 0, 0, 1, 1, 2, 2, 0, 16, 16, 4, 1, 0, 36, 4, 1]);
  assert.throws(() => addon!.im2col(new Float32Array(15), new Float32Array(36), meta), /outside/);
  assert.throws(() => addon!.im2col(new Float32Array(16), new Float32Array(35), meta), /outside/);
  assert.throws(() => addon!.im2col(new Float32Array(16), new Float64Array(36), meta), /Float32Array/);
  assert.throws(() => addon!.col2im(new Float32Array(36), new Float32Array(16), meta.subarray(0, 5)), /meta/);
  const bad = meta.slice();
  bad[12] = 3; // oh disagreeing with the window count
  assert.throws(() => addon!.im2col(new Float32Array(16), new Float32Array(54), bad), /size mismatch/);
  const pm = new Float64Array([1, 1, 4, 4, 2, 2, 2, 2, 0, 0, 1, 1, 2, 2, 0, 16, 16, 4, 1]);
  assert.throws(() => addon!.maxPool2d(new Float32Array(15), new Float32Array(4), new Int32Array(4), pm), /outside/);
  assert.throws(() => addon!.maxPool2d(new Float32Array(16), new Float32Array(4), new Int32Array(3), pm), /outside/);
  const um = new Float64Array([1, 1, 2, 2, 16, 0, 4, 4, 2, 1]);
  assert.throws(
    () => addon!.maxPool2dBackward(new Float32Array(4), new Int32Array(4), new Float32Array(15), um),
    /outside/,
  );
  // An index past the plane is skipped, never written.
  const out = new Float32Array(16);
  addon!.maxPool2dBackward(new Float32Array([1, 1, 1, 1]), new Int32Array([0, 16, 99, -5]), out, um);
  assert.deepEqual([...out], [1, ...new Array<number>(15).fill(0)]);
});
