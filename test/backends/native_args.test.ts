// The argument checks of the addon's layerNorm, attention, linear and gelu entry points
// (native/layernorm.cc, attention.cc, linear.cc, gelu.cc, which share napi_util.h's unpacking):
// each bad argument gets its own message and error class, word for word, instead of a read out of
// bounds. The kernels' values are tested in test/backends/accelerations.test.ts. Skipped when the
// addon is not built.

import { test } from "node:test";
import assert from "node:assert/strict";
import { initNative, nativeAddon } from "../../src/backends/native/index.js";

const skip = initNative(false) ? false : "native addon not built (npm install could not compile native/)";
type Entry = (...args: unknown[]) => unknown;
const addon = nativeAddon() as unknown as Record<string, Entry> | null;

/** Calls addon[name](...args), which must throw `message` as a TypeError (or, with type false, an Error). */
function refuses(name: string, args: unknown[], message: string, type = true): void {
  assert.throws(
    () => addon![name]!(...args),
    (e: unknown) => {
      assert.ok(e instanceof Error, String(e));
      assert.equal(e.message, message);
      assert.equal(e.constructor, type ? TypeError : Error, `${name}: ${message}: ${e.constructor.name}`);
      return true;
    },
  );
}

const f32 = (n: number) => new Float32Array(n);
const meta = (...m: number[]) => new Float64Array(m);

test("layerNorm and layerNormBackward refuse bad arguments, each with its message", { skip }, () => {
  // [R, N, eps, xOff, xRowStride, gOff, gRowStride, wOff, bOff, outOff, statsOff, dwOff, dbOff]
  const ok = (R = 2, N = 3) => meta(R, N, 1e-5, 0, N, 0, N, 0, 0, 0, 0, 0, 0);
  const x = f32(6);
  refuses("layerNorm", [x, null, null, x, f32(4)], "layerNorm: too few arguments");
  refuses("layerNormBackward", [x, x, null, x, x, null, null], "layerNormBackward: too few arguments");
  refuses("layerNorm", [x, null, null, x, f32(4), f32(13)], "layerNorm: expected meta: Float64Array(13)");
  refuses("layerNorm", [x, null, null, x, f32(4), meta(2, 3)], "layerNorm: expected meta: Float64Array(13)");
  const half = ok();
  half[3] = 0.5;
  refuses("layerNorm", [x, null, null, x, f32(4), half], "layerNorm: meta must hold integers");
  refuses("layerNorm", [x, null, null, x, f32(4), ok(-1)], "layerNorm: negative size");
  refuses("layerNorm", [[1, 2], null, null, x, f32(4), ok()], "layerNorm: expected typed arrays");
  refuses(
    "layerNorm",
    [new Int32Array(6), null, null, x, f32(4), ok()],
    "layerNorm: expected Float32Array or Float64Array",
  );
  refuses("layerNorm", [x, null, null, new Float64Array(6), f32(4), ok()], "layerNorm: all arrays must have one dtype");
  refuses("layerNorm", [x, null, null, f32(5), f32(4), ok()], "layerNorm: a view reaches outside its array");
  refuses("layerNorm", [x, f32(2), null, x, f32(4), ok()], "layerNorm: a view reaches outside its array");
  refuses("layerNorm", [f32(5), null, null, x, f32(4), ok()], "layerNorm: a view reaches outside its array");
  // eps (meta[2]) is the one slot that is not an integer; a valid call returns nothing.
  assert.equal(addon!.layerNorm!(x, null, null, x, f32(4), ok()), undefined);
  const g = f32(6);
  refuses(
    "layerNormBackward",
    [g, x, null, f32(3), x, null, null, ok()],
    "layerNormBackward: a view reaches outside its array",
  );
  refuses(
    "layerNormBackward",
    [g, x, null, f32(4), x, f32(2), null, ok()],
    "layerNormBackward: a view reaches outside its array",
  );
});

test("attention and attentionBackward refuse bad arguments, each with its message", { skip }, () => {
  // B = H = 1, L = S = 2, E = Ev = 2: q, k, v [1,1,2,2] with strides [4, 4, 2]; ws L·(Ev + 1) = 6.
  const ok = (mask = [0, 0, 0, 0]) =>
    meta(1, 1, 2, 2, 2, 2, 0.5, 0, ...mask, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 2, 4, 4, 2, 4, 4, 2);
  const q = f32(4);
  const ws = f32(6);
  refuses("attention", [q, q, q, null, ws], "attention: too few arguments");
  refuses("attentionBackward", [q, q, q, null, ws, ws, q, q, q], "attentionBackward: too few arguments");
  refuses("attention", [q, q, q, null, ws, meta(1, 2, 3)], "attention: expected meta: Float64Array(30)");
  const half = ok();
  half[2] = 1.5;
  refuses("attention", [q, q, q, null, ws, half], "attention: meta must hold integers");
  const neg = ok();
  neg[5] = -2;
  refuses("attention", [q, q, q, null, ws, neg], "attention: negative size");
  refuses("attention", [q, "q", q, null, ws, ok()], "attention: expected typed arrays");
  refuses("attention", [q, q, new Uint8Array(4), null, ws, ok()], "attention: expected Float32Array or Float64Array");
  refuses("attention", [q, q, q, null, new Float64Array(6), ok()], "attention: all arrays must have one dtype");
  refuses("attention", [q, f32(3), q, null, ws, ok()], "attention: a view reaches outside its array");
  refuses("attention", [q, q, q, null, f32(5), ok()], "attention: a view reaches outside its array");
  refuses("attention", [q, q, q, f32(3), ws, ok([4, 4, 2, 1])], "attention: the mask reaches outside its array");
  refuses(
    "attentionBackward",
    [q, q, q, null, ws, ws, q, q, f32(3), ok()],
    "attentionBackward: a view reaches outside its array",
  );
});

test("linear refuses bad arguments, each with its message", { skip }, () => {
  // [M, K, N, xOff, sXm, sXk, wOff, sWn, sWk, bOff, sB, outOff]: x [2, 3], w [4, 3], b [4], out [2, 4].
  const ok = (M = 2) => meta(M, 3, 4, 0, 3, 1, 0, 3, 1, 0, 1, 0);
  const [x, w, b, out] = [f32(6), f32(12), f32(4), f32(8)];
  refuses("linear", [x, w, b, out], "linear: too few arguments");
  refuses("linear", [x, w, b, out, meta(1, 2)], "linear: expected meta: Float64Array(12)");
  const nan = ok();
  nan[7] = NaN;
  refuses("linear", [x, w, b, out, nan], "linear: meta must hold integers");
  refuses("linear", [x, {}, b, out, ok()], "linear: expected Float32Array or Float64Array");
  refuses("linear", [x, w, new Int16Array(4), out, ok()], "linear: expected Float32Array or Float64Array");
  refuses("linear", [x, w, b, new Float64Array(8), ok()], "linear: all arrays must have one dtype");
  refuses("linear", [x, w, b, out, ok(-2)], "linear: negative size");
  refuses("linear", [x, w, b, f32(7), ok()], "linear: a view reaches outside its array", false);
  refuses("linear", [x, w, f32(3), out, ok()], "linear: a view reaches outside its array", false);
  refuses("linear", [x, f32(11), null, out, ok()], "linear: a view reaches outside its array", false);
  assert.equal(addon!.linear!(x, w, null, out, ok()), undefined);
});

test("gelu refuses bad arguments, each with its message", { skip }, () => {
  // [n, xOff, gOff, outOff, tanh]
  const x = f32(4);
  refuses("gelu", [x, null, x], "gelu: too few arguments");
  const shape = "gelu: expected (x, g | null, out, meta: Float64Array(5))";
  refuses("gelu", [x, null, x, meta(4, 0, 0, 0)], shape);
  refuses("gelu", [x, null, [0], meta(4, 0, 0, 0, 0)], shape);
  refuses("gelu", [x, 7, x, meta(4, 0, 0, 0, 0)], shape);
  const dtype = "gelu: x, g and out must all be Float32Array or all Float64Array";
  refuses("gelu", [new Int8Array(4), null, new Int8Array(4), meta(4, 0, 0, 0, 0)], dtype);
  refuses("gelu", [x, new Float64Array(4), x, meta(4, 0, 0, 0, 0)], dtype);
  refuses("gelu", [x, null, x, meta(4, -1, 0, 0, 0)], "gelu: meta must hold non-negative integers");
  refuses("gelu", [x, null, x, meta(2.5, 0, 0, 0, 0)], "gelu: meta must hold non-negative integers");
  refuses("gelu", [x, null, f32(3), meta(4, 0, 0, 0, 0)], "gelu: a view reaches outside its array", false);
  refuses("gelu", [x, f32(4), x, meta(4, 0, 1, 0, 1)], "gelu: a view reaches outside its array", false);
  assert.equal(addon!.gelu!(x, null, x, meta(4, 0, 0, 0, 1)), undefined);
});
