// The one list of element-wise op names (src/backends/op_list.ts) against the native addon: every
// op the addon reports (native/elementwise_ops.h's EW_*_OPS) is a listed name, each gets its own
// position as its code, and an op the addon lacks runs in js instead of failing. Also checks that
// importing the backends does no work (DESCENT_BACKEND is read, and the addon loaded, at first use).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { tensor } from "../../src/index.js";
import type { View } from "../../src/backends/backend.js";
import { jsBackend } from "../../src/backends/js/index.js";
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS } from "../../src/backends/op_list.js";
import { initNative, nativeAddon } from "../../src/backends/native/index.js";
import { elementwiseKernels, opCodes, type ElementwiseAddon } from "../../src/backends/native/elementwise.js";

const skip = initNative(false) ? false : "native addon not built (npm install could not compile native/)";

test("op names are unique in the list", () => {
  for (const list of [UNARY_OPS, BINARY_OPS, REDUCE_OPS]) assert.equal(new Set(list).size, list.length);
});

test("every op the addon implements is in the list, coded by its position there", { skip }, () => {
  const names = nativeAddon()!.opNames();
  for (const n of names.unary) assert.ok((UNARY_OPS as readonly string[]).includes(n), `native unary ${n} not listed`);
  for (const n of names.binary)
    assert.ok((BINARY_OPS as readonly string[]).includes(n), `native binary ${n} not listed`);
  for (const n of names.reduce!)
    assert.ok((REDUCE_OPS as readonly string[]).includes(n), `native reduce ${n} not listed`);
  const codes = opCodes(nativeAddon()!);
  for (const [op, code] of codes.unary) assert.equal(names.unary[code], op);
  for (const [op, code] of codes.binary) assert.equal(names.binary[code], op);
  for (const [op, code] of codes.reduce) assert.equal(names.reduce![code], op);
  assert.equal(codes.reduce.size, REDUCE_OPS.length);
});

test("an op the addon lacks runs in js; the others go to the addon with its codes", () => {
  const sent: number[] = [];
  // An addon that knows only "sqrt" and "mul" (at codes 1), recording what reaches it.
  const fake = {
    opNames: () => ({ unary: ["neg", "sqrt"], binary: ["add", "mul"] }),
    unary: (_o: unknown, _x: unknown, meta: Float64Array) => sent.push(meta[0]!),
    binary: (_o: unknown, _a: unknown, _b: unknown, meta: Float64Array) => sent.push(100 + meta[0]!),
  } as unknown as ElementwiseAddon;
  const k = elementwiseKernels(fake, jsBackend.kernels, {
    minElements: 0,
    minCostlyElements: 0,
    minCopyElements: 0,
    parallelElements: Infinity,
    parallelCostlyElements: Infinity,
  });
  const v = (vals: number[]): View => ({
    data: Float64Array.from(vals),
    shape: [vals.length],
    strides: [1],
    offset: 0,
  });
  const out = v([0, 0]);
  k.unary("erf", v([0.5, -1]), out); // not in the fake addon: js computes it
  assert.deepEqual([...out.data], [...tensor([0.5, -1], { dtype: "float64" }).erf().toFlatArray()]);
  k.unary("sqrt", v([4, 9]), out);
  k.binary("mul", v([1, 2]), v([3, 4]), out);
  k.binary("pow", v([2, 3]), v([2, 2]), out);
  assert.deepEqual(sent, [1, 101]);
  assert.deepEqual([...out.data], [4, 9]);
});

test("importing descent reads no environment and loads nothing: a bad DESCENT_BACKEND fails at the first op", () => {
  const run = (code: string) =>
    spawnSync(process.execPath, ["--import", "tsx", "-e", code], {
      env: { ...process.env, DESCENT_BACKEND: "bogus" },
      encoding: "utf8",
    });
  assert.equal(run('import("./src/index.ts")').status, 0);
  const used = run('import("./src/index.ts").then((d) => d.ones([2]).sum())');
  assert.notEqual(used.status, 0);
  assert.match(used.stderr, /DESCENT_BACKEND: unknown backend "bogus"/);
});

test("DESCENT_BACKEND=native without the addon: an error that says how to build it, not a silent js fallback", () => {
  const missing = () => ({ error: "Cannot find module descent_native.node" });
  assert.equal(initNative(false, missing), undefined);
  assert.throws(
    () => initNative(true, missing),
    /DESCENT_BACKEND=native: the native addon did not load \(Cannot find module descent_native.node\)\. Build it with `npm rebuild descent-nn`/,
  );
});
