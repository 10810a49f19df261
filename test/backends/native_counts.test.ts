// Element counts past 2^53 (issue 11, item 7). `ones([1]).expand(2**32, 2**32).sum()` gave 0 on
// native (the count 2^64 wrapped to 0 in the C++ loops) and ran forever on js; `expand(2**62, 4)`
// threw a plain Error. A JS number counts exactly only to 2^53, so expand refuses larger shapes
// with a DescentError on every backend, and the addon refuses a meta whose count overflows.
// The native cases are skipped, saying so, when the addon was not built.

import { test } from "node:test";
import assert from "node:assert/strict";
import { DescentError, ones, setBackend } from "../../src/index.js";
import { backend } from "../../src/backends/index.js";
import { initNative, nativeAddon } from "../../src/backends/native/index.js";

const skip = initNative(false) ? false : "native addon not built (npm install could not compile native/); js only";
const backends = skip ? ["js"] : ["js", "native"];

function onEach(fn: (name: string) => void): void {
  const before = backend().name;
  try {
    for (const name of backends) {
      setBackend(name);
      fn(name);
    }
  } finally {
    setBackend(before);
  }
}

test("expand: a shape of more than 2^53 - 1 elements is a DescentError naming the limit, on every backend", () => {
  onEach((name) => {
    for (const shape of [
      [2 ** 32, 2 ** 32],
      [2 ** 62, 4],
      [2 ** 27, 2 ** 27],
    ]) {
      assert.throws(
        () =>
          ones([1])
            .expand(...shape)
            .sum()
            .item(),
        (e: unknown) => e instanceof DescentError && /expand: .*MAX_SAFE_INTEGER \(2\^53 - 1\)/.test(e.message),
        `${name} ${JSON.stringify(shape)}`,
      );
    }
    // Binary ops broadcast through expand, so they are refused the same way.
    const [col, row] = [ones([1, 1]).expand(2 ** 26, 1), ones([1, 1]).expand(1, 2 ** 28)];
    assert.throws(() => col.add(row), DescentError, name);
  });
});

test("expand: counts up to 2^53 - 1 are views whose reductions are exact", () => {
  onEach((name) => {
    const e = ones([1]).expand(6361, 69431, 20394401); // 2^53 - 1 = 6361 · 69431 · 20394401
    assert.equal(e.size, Number.MAX_SAFE_INTEGER, name);
    // Summing 2^53 ones would take hours (as in PyTorch); a slice of the same view checks the loops.
    assert.equal(e.narrow(0, 0, 3).narrow(1, 0, 5000).narrow(2, 0, 2).sum().item(), 30000, name);
  });
});

test("native reduce: a meta whose element count overflows is refused instead of summing nothing", { skip }, () => {
  const addon = nativeAddon()!;
  const x = new Float32Array([1]);
  const out = new Float32Array(1);
  // meta = [op, nd, extra, parts, shape × nd, (offset, strides × nd) per operand]: a sum of x over
  // [2^32, 2^32] (every stride 0) into out. The count 2^64 wrapped to 0 and the sum came back 0.
  const meta = (a: number, b: number) => new Float64Array([0, 2, 0, 1, a, b, 0, 0, 0, 0, 0, 0]);
  assert.throws(() => addon.reduce(out, x, meta(2 ** 32, 2 ** 32)), /reduce/);
  assert.throws(() => addon.reduce(out, x, meta(2 ** 52, 4)), /reduce/);
  addon.reduce(out, x, meta(3, 7));
  assert.equal(out[0], 21);
});
