// The WebAssembly backend (src/backends/wasm/, wasm/*.c) against the js reference: the float32
// GEMM (register tile 2x16, blocks KC 256 / MC 96, so sizes 0, 1, odd, tile edges and past a K
// block) on contiguous, transposed, sliced, negative-stride and broadcast (stride-0 batch) views,
// within the float32 GEMM error bound K·2⁻²³·Σ|a||b| (js accumulates in float64); im2col and
// col2im bit for bit (same loops, same order). Every size goes through wasm here (thresholds 0);
// outputs sit at an offset in a NaN-filled buffer, so a stray write shows. Also: the heap growing
// mid-run (detached views), the loader's errors, and initWasm from bytes.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { contiguousStrides, windowOut } from "../../src/core/shape.js";
import { Generator } from "../../src/core/random.js";
import type { View, Window2d } from "../../src/backends/backend.js";
import { jsBackend } from "../../src/backends/js/index.js";
import { loadWasm, readWasm, WASM_URL, wasmBackend, wasmUnavailable } from "../../src/backends/wasm/index.js";
import { DescentError } from "../../src/core/errors.js";
import {
  availableBackends,
  backend,
  getNumThreads,
  initWasm,
  setBackend,
  setNumThreads,
} from "../../src/backends/index.js";
import { manualSeed, nn, randn } from "../../src/index.js";

const read = readWasm();
const skip = "error" in read ? `wasm/descent.wasm did not load (${read.error}); run node wasm/build.mjs` : false;
const wasm = "module" in read ? wasmBackend(read.module, { limits: { minWork: 0, minWindow: 0 } }).kernels : undefined;
// The threaded build on 3 threads (the caller and 2 workers) for every product, however small.
const readMt = readWasm(undefined, "descent-mt.wasm");
const skipMt = "error" in readMt ? `wasm/descent-mt.wasm did not load (${readMt.error})` : false;
const mtBackend =
  "module" in readMt
    ? wasmBackend(readMt.module, { threaded: true, threads: 3, limits: { minWork: 0, minThreadWork: 0 } })
    : undefined;
const js = jsBackend.kernels;
const gen = new Generator(14);

type Layout = "contiguous" | "transposed" | "sliced" | "reversed";

/** A float32 [rows, cols] view stored as `layout` says (unused storage reads NaN), batch dims in front with `batchStride`. */
function matrix(batch: number[], rows: number, cols: number, layout: Layout, broadcast = false): View {
  const nb = batch.reduce((a, b) => a * b, 1);
  const plane = rows * (2 * cols + 1) + 3;
  const data = new Float32Array(7 + (broadcast ? 1 : nb) * plane).fill(NaN);
  const strides: number[] = [];
  let s = broadcast ? 0 : plane;
  for (let d = batch.length - 1; d >= 0; d--) {
    strides.unshift(s);
    s *= broadcast ? 1 : batch[d]!;
  }
  let sr = cols;
  let sc = 1;
  let base = 7;
  if (layout === "transposed") [sr, sc] = [1, rows];
  if (layout === "sliced") [sr, sc] = [2 * cols + 1, 2];
  if (layout === "reversed") [sr, sc, base] = [cols, -1, 7 + cols - 1];
  for (let t = 0; t < (broadcast ? 1 : nb); t++)
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) data[base + t * plane + i * sr + j * sc] = gen.uniform() * 2 - 1;
  return { data, shape: [...batch, rows, cols], strides: [...strides, sr, sc], offset: base };
}

function output(shape: number[], offset = 3): View {
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: new Float32Array(offset + n + 2).fill(NaN), shape, strides: contiguousStrides(shape), offset };
}

/** |wasm − js| ≤ K·2⁻²³·(|a|·|b|) + tiny, elementwise, the bound of a float32 dot product of length K. */
function checkMatmul(a: View, b: View, label: string, kernels = wasm!): void {
  const nd = a.shape.length;
  const [M, K, N] = [a.shape[nd - 2]!, a.shape[nd - 1]!, b.shape[nd - 1]!];
  const shape = [...a.shape.slice(0, -1), N];
  const want = output(shape);
  const got = output(shape);
  js.matmul(a, b, want);
  kernels.matmul(a, b, got);
  const abs = (v: View): View => ({ ...v, data: v.data.map(Math.abs) });
  const bound = output(shape);
  js.matmul(abs(a), abs(b), bound);
  const [w, g, e] = [want.data, got.data, bound.data];
  for (let i = 0; i < w.length; i++) {
    if (i < 3 || i >= 3 + shape.reduce((x, y) => x * y, 1)) {
      assert.ok(Number.isNaN(g[i]), `${label}: wrote outside the output at ${i}`);
      continue;
    }
    const tol = K * 2 ** -23 * e[i]! + 1e-30;
    assert.ok(Math.abs(g[i]! - w[i]!) <= tol, `${label} [M${M} K${K} N${N}] at ${i}: wasm ${g[i]} js ${w[i]}`);
  }
}

// First of the file's tests to touch the backend registry: the wasm backend is not loaded yet.
test("setNumThreads before the wasm backend loads reaches it when it does", { skip: skipMt }, () => {
  const os = process.getBuiltinModule("node:os");
  const n = os.availableParallelism() + 1; // not the default, which is availableParallelism()
  setNumThreads(n);
  setBackend("wasm");
  try {
    assert.equal(getNumThreads(), n);
  } finally {
    setNumThreads(os.availableParallelism());
  }
});

test("wasm matmul matches js on edge sizes and every layout", { skip }, () => {
  const sizes: [number, number, number][] = [
    [0, 3, 4],
    [3, 0, 4],
    [3, 4, 0],
    [1, 1, 1],
    [1, 7, 9],
    [4, 8, 8],
    [5, 3, 9],
    [9, 17, 15],
    [6, 11, 16],
    [3, 5, 33],
    [33, 257, 31],
    [97, 70, 1],
  ];
  const layouts: Layout[] = ["contiguous", "transposed", "sliced", "reversed"];
  for (const [M, K, N] of sizes)
    for (const la of layouts)
      for (const lb of layouts) checkMatmul(matrix([], M, K, la), matrix([], K, N, lb), `${la}·${lb}`);
});

test("wasm matmul: batches, broadcast (stride-0) batch dims, and a heap that grows between calls", { skip }, () => {
  checkMatmul(matrix([2, 3], 5, 6, "contiguous"), matrix([2, 3], 6, 7, "transposed"), "batch");
  checkMatmul(matrix([4], 13, 6, "sliced"), matrix([4], 6, 10, "contiguous", true), "broadcast b");
  checkMatmul(matrix([3], 9, 20, "contiguous", true), matrix([3], 20, 11, "reversed"), "broadcast a");
  // ~5 MB of operands: more than the module's initial memory, so memory.grow detaches the views.
  checkMatmul(matrix([], 300, 600, "contiguous"), matrix([], 600, 500, "transposed"), "large");
  checkMatmul(matrix([], 6, 5, "contiguous"), matrix([], 5, 4, "contiguous"), "after growth");
});

test(
  "threaded wasm matmul (descent-mt.wasm, 3 threads) matches js; setNumThreads-style changes apply",
  { skip: skipMt },
  () => {
    const k = mtBackend!.kernels;
    for (const [M, K, N] of [
      [1, 1, 1],
      [7, 5, 8],
      [9, 17, 17],
      [33, 300, 50],
      [64, 64, 200],
    ] as const) {
      checkMatmul(matrix([], M, K, "contiguous"), matrix([], K, N, "transposed"), "mt", k);
      checkMatmul(matrix([2], M, K, "sliced"), matrix([2], K, N, "reversed", true), "mt batch", k);
    }
    mtBackend!.threads!.set(2);
    assert.equal(mtBackend!.threads!.get(), 2);
    checkMatmul(matrix([], 40, 70, "contiguous"), matrix([], 70, 90, "contiguous"), "mt 2 threads", k);
    mtBackend!.threads!.set(1);
    checkMatmul(matrix([], 40, 70, "contiguous"), matrix([], 70, 90, "contiguous"), "mt 1 thread", k);
    mtBackend!.threads!.set(3);
    checkMatmul(matrix([], 300, 600, "contiguous"), matrix([], 600, 500, "transposed"), "mt large (heap grows)", k);
    // The workers did take part (an empty range is not counted): 2 workers on each of the 3-thread products at least.
    assert.ok(mtBackend!.pool!.jobs >= 2, `the pool's workers ran ${mtBackend!.pool!.jobs} products`);
  },
);

function image(shape: [number, number, number, number], layout: "contiguous" | "transposed" | "sliced"): View {
  const [n, c, h, w] = shape;
  const data = new Float32Array(5 + n * c * h * w * 2 + 3).fill(NaN);
  for (let i = 0; i < data.length; i++) data[i] = gen.uniform() * 2 - 1;
  if (layout === "transposed") return { data, shape, strides: [c * h * w, h * w, 1, h], offset: 0 };
  if (layout === "sliced") return { data, shape, strides: [c * h * w * 2, h * w * 2, w * 2, 2], offset: 5 };
  return { data, shape, strides: contiguousStrides(shape), offset: 5 };
}

test("wasm im2col and col2im match js bit for bit (stride, padding, dilation, strided images)", { skip }, () => {
  const windows: [number[], Window2d][] = [
    [[1, 1, 1, 1], { kernel: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1] }],
    [[2, 3, 7, 5], { kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1] }],
    [[1, 2, 9, 11], { kernel: [3, 2], stride: [2, 3], padding: [2, 1], dilation: [2, 1] }],
    [[2, 1, 6, 6], { kernel: [5, 5], stride: [1, 1], padding: [0, 4], dilation: [1, 1] }],
    [[1, 3, 4, 4], { kernel: [2, 2], stride: [3, 3], padding: [0, 0], dilation: [3, 3] }],
  ];
  for (const [shape, p] of windows)
    for (const layout of ["contiguous", "transposed", "sliced"] as const) {
      const [n, c, h, w] = shape as [number, number, number, number];
      const x = image([n, c, h, w], layout);
      const oh = windowOut(h, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0]);
      const ow = windowOut(w, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]);
      const colShape = [n, c * p.kernel[0] * p.kernel[1], oh * ow];
      const [want, got] = [output(colShape), output(colShape)];
      js.im2col(x, p, want);
      wasm!.im2col(x, p, got);
      assert.deepEqual(got.data, want.data, `im2col ${shape} ${JSON.stringify(p)} ${layout}`);
      // col2im from those columns into a pre-filled image (it adds)
      const [imWant, imGot] = [output(shape), output(shape)];
      imWant.data.fill(0.5, 3, 3 + n * c * h * w);
      imGot.data.fill(0.5, 3, 3 + n * c * h * w);
      js.col2im(want, p, imWant);
      wasm!.col2im(want, p, imGot);
      assert.deepEqual(imGot.data, imWant.data, `col2im ${shape} ${JSON.stringify(p)}`);
    }
});

test(
  "wasm loader: a missing module is an error naming the file and the build command; initWasm takes bytes",
  { skip },
  async () => {
    const r = readWasm(new URL("./no-such-module.wasm", WASM_URL));
    assert.ok("error" in r && r.error.includes("no-such-module.wasm"), JSON.stringify(r));
    const e = wasmUnavailable("setBackend", "error" in r ? r.error : "");
    assert.ok(e instanceof DescentError);
    assert.match(
      e.message,
      /setBackend: the wasm backend is unavailable: .*descent\.wasm did not load .*node wasm\/build\.mjs/,
    );
    await initWasm(fs.readFileSync(fileURLToPath(WASM_URL)));
    assert.equal(loadWasm()?.name, "wasm");
  },
);

test('setBackend("wasm"): listed by availableBackends, and a conv + linear step agrees with js', { skip }, () => {
  assert.ok(availableBackends().includes("wasm"));
  const before = backend().name;
  const run = (name: string): number[] => {
    setBackend(name);
    manualSeed(3);
    const conv = new nn.Conv2d(3, 8, 3, { padding: 1 });
    const x = randn([2, 3, 12, 12], { requiresGrad: true });
    const y = conv
      .forward(x)
      .relu()
      .flatten(1)
      .matmul(randn([8 * 144, 5]));
    y.sum().backward();
    return [...y.toFlatArray(), ...x.grad!.toFlatArray(), ...conv.weight.grad!.toFlatArray()];
  };
  try {
    const [want, got] = [run("js"), run("wasm")];
    assert.equal(backend().name, "wasm");
    for (let i = 0; i < want.length; i++)
      assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-4 * (1 + Math.abs(want[i]!)), `at ${i}: ${got[i]} vs ${want[i]}`);
  } finally {
    setBackend(before);
  }
});
