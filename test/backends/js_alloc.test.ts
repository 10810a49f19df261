// Tests of the js backend's storage allocator (src/backends/js/alloc.ts): arrays cut from a shared
// slab must behave exactly like fresh typed arrays (zeroed, the right type and length, disjoint
// from each other) and start on 64-byte boundaries; tiny and large arrays keep their own buffers.

import assert from "node:assert/strict";
import { test } from "node:test";
import { allocStorage } from "../../src/backends/js/alloc.js";
import { DTYPES } from "../../src/core/dtype.js";
import { tensor } from "../../src/index.js";

const CTOR = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const;

test("allocStorage: zeroed, typed, disjoint, aligned arrays of every size class", () => {
  for (const dtype of DTYPES) {
    const sizes = [0, 1, 3, 16, 17, 100, 257, 511, 512, 513, 1024, 1025, 5000];
    const arrays = [...sizes, ...sizes, ...Array.from({ length: 200 }, (_, i) => 17 + ((i * 37) % 480))].map((n) => {
      const a = allocStorage(dtype, n);
      assert.ok(a instanceof CTOR[dtype], `${dtype} ${n}: wrong type`);
      assert.equal(a.length, n);
      assert.ok(
        a.every((v) => v === 0),
        `${dtype} ${n}: not zero-filled`,
      );
      if (a.byteLength > 64) assert.equal(a.byteOffset % 64, 0, `${dtype} ${n}: misaligned`);
      return a;
    });
    // Fill each with its own index; any overlap would overwrite an earlier array's values.
    arrays.forEach((a, i) => a.fill(i + 1));
    arrays.forEach((a, i) =>
      assert.ok(
        a.every((v) => v === i + 1),
        `${dtype} array ${i} (length ${a.length}) overlaps another`,
      ),
    );
  }
});

test("allocStorage: tiny and large arrays own their buffers", () => {
  const tiny = allocStorage("float32", 16);
  const large = allocStorage("float64", 1000);
  assert.equal(tiny.byteOffset, 0);
  assert.equal(tiny.buffer.byteLength, 64);
  assert.equal(large.byteOffset, 0);
  assert.equal(large.buffer.byteLength, 8000);
});

test("tensors on slab storage read, write and copy out as usual", () => {
  const a = tensor(Array.from({ length: 300 }, (_, i) => i)).reshape([3, 100]);
  const b = a.add(1);
  assert.equal(b.data.length, 300);
  const flat = b.toFlatArray();
  assert.equal(flat.byteOffset, 0);
  assert.deepEqual(Array.from(flat.subarray(0, 3)), [1, 2, 3]);
  assert.equal(a.sum().item(), (299 * 300) / 2);
});
