// The storage door (src/backends/storage.ts): every available backend's alloc/adopt/read/write, a
// counting backend that proves item, toFlatArray, init, the file readers and writeFlat_ go through
// it, and the lint rule that keeps the layers above src/backends/ off raw arrays.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ESLint } from "eslint";
import { DescentError, availableBackends, load, nn, noGrad, save, setBackend, tensor } from "../../src/index.js";
import { backend, registerBackend, type Backend } from "../../src/backends/index.js";
import { jsBackend } from "../../src/backends/js/index.js";
import { fromHost } from "../../src/tensor/tensor.js";

test("each backend's door: alloc zeroes, adopt keeps values and dtype, read copies, write writes", () => {
  const start = backend().name;
  try {
    for (const name of availableBackends()) {
      setBackend(name);
      const b = backend();
      const s = b.alloc("float64", 4);
      assert.equal(b.dtypeOf(s), "float64");
      assert.deepEqual([...b.read(s, 0, 4)], [0, 0, 0, 0], name);
      b.write(s, Float64Array.of(5, 6), 1);
      const r = b.read(s, 1, 3);
      assert.deepEqual([...r], [5, 6, 0], name);
      r[0] = 99; // a copy: the storage does not change
      assert.deepEqual([...b.read(s, 0, 2)], [0, 5], name);
      const a = b.adopt(Int32Array.of(7, -8));
      assert.equal(b.dtypeOf(a), "int32");
      assert.deepEqual([...b.read(a, 0, 2)], [7, -8], name);
    }
  } finally {
    setBackend(start);
  }
});

/** The js backend with its door counted: a stand-in for a backend whose memory is not the JS heap. */
function counting(): { b: Backend; calls: Record<string, number> } {
  const calls: Record<string, number> = { read: 0, write: 0, adopt: 0 };
  const b: Backend = {
    ...jsBackend,
    name: "counting",
    read: (s, o, n) => (calls["read"]!++, jsBackend.read(s, o, n)),
    write: (s, src, o) => (calls["write"]!++, jsBackend.write(s, src, o)),
    adopt: (src) => (calls["adopt"]!++, jsBackend.adopt(src)),
  };
  return { b, calls };
}

test("values enter and leave through the backend's door (item, toFlatArray, init, safetensors, writeFlat_)", () => {
  const start = backend().name;
  const { b, calls } = counting();
  const dir = mkdtempSync(join(tmpdir(), "descent-storage-"));
  try {
    registerBackend(b);
    setBackend("counting");
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.equal(calls["adopt"], 1);
    assert.equal(t.select(0, 1).select(0, 2).item(), 6);
    assert.equal(calls["read"], 1);
    assert.deepEqual([...t.transpose(0, 1).toFlatArray()], [1, 4, 2, 5, 3, 6]);
    assert.equal(calls["read"], 2);

    const w = tensor([
      [0, 0],
      [0, 0],
    ]);
    const adopts = calls["adopt"]!;
    nn.init.orthogonal_(w);
    assert.equal(calls["adopt"], adopts + 1, "orthogonal_ hands its host result to the backend");

    const writes = calls["write"]!;
    t.writeFlat_(Float32Array.of(6, 5, 4, 3, 2, 1));
    assert.equal(calls["write"], writes + 1);
    assert.deepEqual(t.toArray(), [
      [6, 5, 4],
      [3, 2, 1],
    ]);

    save({ t }, join(dir, "t.safetensors"));
    const adoptsBefore = calls["adopt"]!;
    const back = load(join(dir, "t.safetensors"))["t"]!;
    assert.equal(calls["adopt"], adoptsBefore + 1, "the reader decodes on the host and adopts");
    assert.deepEqual(back.toArray(), t.toArray());
  } finally {
    setBackend(start);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("writeFlat_ writes through a view's layout and bumps the version a saved tensor is checked against", () => {
  const base = tensor([
    [1, 2],
    [3, 4],
  ]);
  base.transpose(0, 1).writeFlat_(Float32Array.of(10, 20, 30, 40));
  assert.deepEqual(base.toArray(), [
    [10, 30],
    [20, 40],
  ]);
  const x = tensor([1, 2], { requiresGrad: true });
  const buf = tensor([3, 4]);
  const y = x.mul(buf).sum(); // mul saves buf
  buf.writeFlat_(Float32Array.of(0, 0));
  assert.throws(() => y.backward(), /modified|in-place|version/i);
});

test("writeFlat_ and fromHost refuse values that do not fit, naming the shapes", () => {
  const t = tensor([1, 2, 3]);
  assert.throws(
    () => t.writeFlat_(Float32Array.of(1, 2)),
    (e: unknown) => {
      assert.ok(e instanceof DescentError);
      assert.match(e.message, /writeFlat_: got 2 float32 values for a float32 tensor of shape \[3\]/);
      return true;
    },
  );
  assert.throws(() => t.writeFlat_(Float64Array.of(1, 2, 3)), /got 3 float64 values for a float32 tensor/);
  assert.throws(() => fromHost(Float32Array.of(1, 2), [3]), /fromHost: shape \[3\] needs 3 values, got 2/);
  const leaf = tensor([1, 2], { requiresGrad: true });
  assert.throws(
    () => leaf.writeFlat_(Float32Array.of(3, 4)),
    /writeFlat_: in-place operation on a tensor that requires grad/,
  );
  noGrad(() => leaf.writeFlat_(Float32Array.of(3, 4)));
  assert.deepEqual(leaf.toArray(), [3, 4]);
});

test("lint: above src/backends/ a tensor's data may be passed on but not indexed, sliced or bound", async () => {
  const eslint = new ESLint();
  const code = [
    'import type { Tensor } from "../tensor/tensor.js";',
    "export function probe(t: Tensor, u: Tensor): unknown {",
    "  t.data[0] = 1;", // indexed
    "  t.data.set([1]);", // reached through
    "  const o = t.data;", // bound
    "  const { data } = u;", // destructured
    "  return [(t.data as Float32Array)[0], t.data!.length, o, data, { data: t.data }];", // the last is allowed
    "}",
    "",
  ].join("\n");
  const [above] = await eslint.lintText(code, { filePath: "src/nn/storage_probe.ts" });
  const hits = above!.messages.filter((m) => m.ruleId === "no-restricted-syntax").map((m) => m.line);
  assert.deepEqual(hits, [3, 4, 5, 6, 7, 7]);
  const [inside] = await eslint.lintText(code.replace("../tensor/tensor.js", "../../tensor/tensor.js"), {
    filePath: "src/backends/js/storage_probe.ts",
  });
  assert.equal(inside!.messages.filter((m) => m.ruleId === "no-restricted-syntax").length, 0);
});
