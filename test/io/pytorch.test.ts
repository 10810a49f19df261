// The safetensors round trip through PyTorch (test/fixtures/io/, made by scripts/make_io_fixture.ts
// and scripts/fixtures_io.py): the Descent-written file still comes out byte for byte the same, and
// PyTorch read exactly the values Descent wrote; files written from PyTorch state dicts (F32 with
// the int64 num_batches_tracked, and every other dtype) load into Descent with the values PyTorch
// recorded, into a Descent model with loadStateDict(strict) that then computes PyTorch's outputs.
//
// Tolerance for model outputs: float32 rtol 1e-5 / atol 1e-6 (matmul accumulation order);
// every stored value is compared exactly.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { tensor, type Tensor } from "../../src/index.js";
import { Sequential } from "../../src/nn/layers/container.js";
import { Linear } from "../../src/nn/layers/linear.js";
import { BatchNorm1d } from "../../src/nn/layers/batchnorm.js";
import { load, loadFile, save } from "../../src/io/safetensors.js";
import { FIXTURE_PATH, ioFixture } from "../../scripts/make_io_fixture.js";
import { assertAllclose } from "../helpers/allclose.js";

const FIX = fileURLToPath(new URL("../fixtures/io/", import.meta.url));
type Recorded = { dtype: string; shape: number[]; values: (number | string)[]; stored?: string };
const fixture = JSON.parse(readFileSync(join(FIX, "torch_io.json"), "utf8")) as {
  descentRead: {
    metadata: Record<string, string>;
    tensors: Record<string, Recorded>;
    input: Recorded;
    output: Recorded;
    numBatchesTracked: number;
  };
  torchWritten: { stateDict: Record<string, Recorded>; input: Recorded; output: Recorded };
  torchMixed: Record<string, Recorded>;
};

function num(v: number | string): number {
  if (typeof v === "number") return v;
  return { nan: NaN, inf: Infinity, "-inf": -Infinity }[v] ?? Number.NaN;
}

function toTensor(r: Recorded): Tensor {
  return tensor(Float64Array.from(r.values, num), { shape: r.shape, dtype: r.dtype as "float32" });
}

/** Exact equality (NaN equals NaN, -0 differs from 0) of a tensor and a recorded one. */
function assertExact(t: Tensor, r: Recorded, what: string): void {
  assert.equal(t.dtype, r.dtype, `${what}: dtype`);
  assert.deepEqual(t.shape, r.shape, `${what}: shape`);
  const got = Array.from(t.toFlatArray());
  // float32 values are recorded as the shortest decimal that rounds back to the same float32
  const want = r.values.map((v) => (r.dtype === "float32" ? Math.fround(num(v)) : num(v)));
  assert.equal(got.length, want.length, what);
  got.forEach((v, i) => assert.ok(Object.is(v, want[i]), `${what}[${i}]: ${v} vs ${want[i]}`));
}

function model(): Sequential {
  return new Sequential(new Linear(4, 3), new BatchNorm1d(3));
}

test("the Descent-written fixture is what save() writes today, byte for byte", () => {
  const dir = mkdtempSync(join(tmpdir(), "descent-pt-"));
  try {
    const { tensors, metadata } = ioFixture();
    const p = join(dir, "again.safetensors");
    save(tensors, p, metadata);
    assert.deepEqual(readFileSync(p), readFileSync(FIXTURE_PATH));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("PyTorch read the Descent-written file as Descent wrote it, and its model computes the same", () => {
  const rec = fixture.descentRead;
  const { tensors, metadata } = loadFile(FIXTURE_PATH);
  assert.deepEqual(metadata, rec.metadata);
  assert.deepEqual(Object.keys(tensors).sort(), Object.keys(rec.tensors).sort());
  const expectedStored: Record<string, string> = { float32: "F32", float64: "F64", int32: "I32" };
  for (const [k, r] of Object.entries(rec.tensors)) {
    assertExact(tensors[k]!, r, k);
    assert.equal(r.stored, expectedStored[tensors[k]!.dtype], `${k}: stored dtype`);
  }
  assert.equal(rec.numBatchesTracked, 2);
  const m = model();
  const sd = Object.fromEntries(Object.entries(tensors).filter(([k]) => !k.startsWith("extra.")));
  m.loadStateDict(sd);
  m.eval();
  assertAllclose(m.forward(toTensor(rec.input)) as Tensor, toTensor(rec.output), { rtol: 1e-5, atol: 1e-6 });
});

test("a file written from a PyTorch state dict (F32 + int64 num_batches_tracked) loads into a Descent model", () => {
  const rec = fixture.torchWritten;
  const { tensors, metadata } = loadFile(join(FIX, "torch_written.safetensors"));
  assert.deepEqual(metadata, { format: "pt" });
  assert.equal(rec.stateDict["1.num_batches_tracked"]!.stored, "I64");
  for (const [k, r] of Object.entries(rec.stateDict)) assertExact(tensors[k]!, r, k);
  assert.equal(tensors["1.num_batches_tracked"]!.item(), 2);
  const m = model();
  const res = m.loadStateDict(tensors, { strict: true });
  assert.deepEqual(res, { missingKeys: [], unexpectedKeys: [] });
  m.eval();
  assertAllclose(m.forward(toTensor(rec.input)) as Tensor, toTensor(rec.output), { rtol: 1e-5, atol: 1e-6 });
});

test("every other dtype PyTorch writes loads with PyTorch's values", () => {
  const t = load(join(FIX, "torch_mixed.safetensors"));
  assert.deepEqual(Object.keys(t).sort(), Object.keys(fixture.torchMixed).sort());
  for (const [k, r] of Object.entries(fixture.torchMixed)) assertExact(t[k]!, r, `${k} (${r.stored})`);
});
