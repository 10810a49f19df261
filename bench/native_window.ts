// Sliding-window kernels, js backend vs native (one and two threads), float32: im2col, col2im,
// maxPool2d and its backward at the shapes of the issue-6 W3 CNN (batch 64), plus small im2col
// calls that show where the native call starts to pay (NATIVE_MIN_WINDOW in
// src/backends/native/window.ts). Run `node --import tsx bench/native_window.ts [--quick]`; not a
// test. Figures are medians of interleaved repeats of this one run (µs per call); the machine is
// shared and noisy, so compare rows, not runs.

import os from "node:os";
import { allocArray } from "../src/core/dtype.js";
import { contiguousStrides, windowOut } from "../src/core/shape.js";
import type { Kernels, View, Window2d } from "../src/backends/backend.js";
import { jsBackend } from "../src/backends/js/index.js";
import { initNative, nativeAddon } from "../src/backends/native/index.js";
import { windowKernels } from "../src/backends/native/window.js";

const quick = process.argv.includes("--quick");
const REPEATS = quick ? 3 : 7;
const REPEAT_MS = quick ? 40 : 120;

const native = initNative(false);
const addon = nativeAddon();
if (!native || !addon) {
  console.log("The native addon is not built (npm install builds it); nothing to compare.");
  process.exit(0);
}
// Every call through the addon (no size threshold), over the js kernels for the rest of the table.
const natNoMin: Kernels = { ...jsBackend.kernels, ...windowKernels(addon, jsBackend.kernels, 0) };

function view(shape: readonly number[], fill = true): View {
  const n = shape.reduce((x, y) => x * y, 1);
  const data = allocArray("float32", n);
  if (fill) for (let i = 0; i < n; i++) data[i] = ((i * 7919) % 2003) / 1001.5 - 1;
  return { data, shape, strides: contiguousStrides(shape), offset: 0 };
}

const win = (k: number, s = 1): Window2d => ({ kernel: [k, k], stride: [s, s], padding: [0, 0], dilation: [1, 1] });

/** One row: a label and a call taking a kernel table. */
interface Case {
  label: string;
  run: (k: Kernels) => void;
}

function im2colCase(label: string, n: number, c: number, h: number, k: number): Case {
  const x = view([n, c, h, h]);
  const o = windowOut(h, k, 1, 0, 1);
  const out = view([n, c * k * k, o * o], false);
  return { label, run: (ks) => ks.im2col(x, win(k), out) };
}

const cases: Case[] = [
  im2colCase("im2col W3 conv1 [64,1,28,28] 3x3", 64, 1, 28, 3),
  im2colCase("im2col W3 conv2 [64,32,13,13] 3x3", 64, 32, 13, 3),
  (() => {
    const cols = view([64, 32 * 9, 121]);
    const out = view([64, 32, 13, 13], false);
    return { label: "col2im W3 conv2", run: (ks: Kernels) => (out.data.fill(0), ks.col2im(cols, win(3), out)) };
  })(),
  ...[
    [64, 32, 26],
    [64, 64, 11],
  ]
    .map(([n, c, h]) => {
      const x = view([n!, c!, h!, h!]);
      const o = h! >> 1;
      const out = view([n!, c!, o, o], false);
      const ind = { ...view([n!, c!, o, o], false), data: new Int32Array(n! * c! * o * o) };
      const g = view([n!, c!, o, o]);
      const gx = view([n!, c!, h!, h!], false);
      return [
        { label: `maxPool2d [${n},${c},${h},${h}] 2x2`, run: (ks: Kernels) => ks.maxPool2d(x, win(2, 2), out, ind) },
        {
          label: `maxPool2d backward [${n},${c},${h},${h}]`,
          run: (ks: Kernels) => (gx.data.fill(0), ks.maxPool2dBackward(g, ind, gx)),
        },
      ];
    })
    .flat(),
  ...[3, 4, 5, 6, 8, 12].map((h) => im2colCase(`im2col small [1,1,${h},${h}] 3x3`, 1, 1, h, 3)),
];

function time(f: () => void): number {
  f();
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f();
    const dt = performance.now() - t0;
    if (dt > REPEAT_MS) return (dt * 1000) / reps;
    reps = Math.ceil(reps * Math.max(2, (REPEAT_MS * 1.2) / Math.max(dt, 0.01)));
  }
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
const systems: [string, () => void, Kernels][] = [
  ["js", () => {}, jsBackend.kernels],
  ["native 1T", () => addon.setThreads(1), natNoMin],
  ["native 2T", () => addon.setThreads(Math.min(2, os.availableParallelism())), natNoMin],
];
const threads = addon.threads();
const results = cases.map(() => systems.map(() => [] as number[]));
for (let r = 0; r < REPEATS; r++)
  cases.forEach((c, i) =>
    systems.forEach(([, setup, ks], j) => {
      setup();
      results[i]![j]!.push(time(() => c.run(ks)));
    }),
  );
addon.setThreads(threads);

console.log(
  `native_window: float32, µs per call (median of ${REPEATS}), node ${process.version}, ${os.cpus()[0]?.model ?? "?"}, isa ${addon.isa()}`,
);
console.log(`${"case".padEnd(40)} ${systems.map(([s]) => s.padStart(10)).join(" ")}   js/native2T`);
cases.forEach((c, i) => {
  const m = results[i]!.map(median);
  console.log(
    `${c.label.padEnd(40)} ${m.map((v) => v.toFixed(1).padStart(10)).join(" ")}   ${(m[0]! / m[2]!).toFixed(1)}x`,
  );
});
