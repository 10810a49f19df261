// safetensors and checkpoints in memory (src/io/bytes.ts, what the browser entry's load and save
// use): saveToBytes gives exactly the bytes save writes to a file; loadFromBytes reads them from an
// ArrayBuffer, a typed array at an offset, a Blob, a Response and fetch's promise, with load's
// checks (a truncated file, a failed response, the limits); checkpoints round-trip through bytes as
// through files.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { tensor, manualSeed, randn, DescentError, nn, optim } from "../../src/index.js";
import {
  loadCheckpointFromBytes,
  loadFromBytes,
  readSafetensorsBytes,
  saveCheckpointToBytes,
  saveToBytes,
} from "../../src/io/bytes.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/io/checkpoint.js";
import { save } from "../../src/io/safetensors.js";
import { load as webLoad, save as webSave } from "../../src/io/web.js";

const dir = mkdtempSync(join(tmpdir(), "descent-bytes-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

manualSeed(7);
const tensors = {
  w: randn([3, 4]),
  "b.x": tensor([1, -2, 3], { dtype: "float64" }),
  idx: tensor(Int32Array.from([5, -6])),
  empty: randn([0, 2]),
};
const meta = { note: "ünïcode ✓", format: "pt" };

const same = (a: Record<string, { toArray(): unknown; dtype: string }>) => {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(tensors).sort());
  for (const [k, t] of Object.entries(tensors)) {
    assert.equal(a[k]!.dtype, t.dtype);
    assert.deepEqual(a[k]!.toArray(), t.toArray());
  }
};

test("saveToBytes gives the bytes save writes to a file", () => {
  const path = join(dir, "a.safetensors");
  save(tensors, path, meta);
  assert.deepEqual(saveToBytes(tensors, meta), new Uint8Array(readFileSync(path)));
});

test("loadFromBytes reads ArrayBuffers, typed arrays at an offset, Blobs, Responses and fetch promises", async () => {
  const bytes = saveToBytes(tensors, meta);
  same(loadFromBytes(bytes));
  same(loadFromBytes(bytes.slice().buffer));
  const padded = new Uint8Array(bytes.length + 13);
  padded.set(bytes, 5);
  same(loadFromBytes(padded.subarray(5, 5 + bytes.length)));
  same(loadFromBytes(new DataView(padded.buffer, 5, bytes.length)));
  same(await loadFromBytes(new Blob([bytes.slice()])));
  same(await loadFromBytes(new Response(bytes.slice())));
  same(await loadFromBytes(Promise.resolve(new Response(bytes.slice()))));
  assert.deepEqual(readSafetensorsBytes(bytes).metadata, meta);
  // The browser entry's forms: load of bytes and of a Blob, save to a Blob.
  same(webLoad(bytes));
  same(await webLoad(webSave(tensors, meta)));
});

test("loadFromBytes refuses what load refuses, naming itself", async () => {
  const bytes = saveToBytes(tensors);
  assert.throws(() => loadFromBytes(bytes.subarray(0, bytes.length - 1)), DescentError);
  assert.throws(() => loadFromBytes(bytes.subarray(0, 5)), /loadFromBytes: bytes: 5 byte\(s\), too short/);
  assert.throws(() => loadFromBytes(bytes, { maxTensors: 2 }), /exceeds maxTensors \(2\)/);
  assert.throws(() => loadFromBytes("model.safetensors" as never), /loadFromBytes: bytes: expected an ArrayBuffer/);
  await assert.rejects(
    loadFromBytes(new Response("missing", { status: 404 })),
    /loadFromBytes: bytes: the response for the request has status 404/,
  );
  await assert.rejects(loadFromBytes(new Blob([bytes.subarray(0, 9)])), DescentError);
  assert.throws(() => saveToBytes({ x: 3 } as never), /saveToBytes: "x" is not a Tensor/);
  assert.throws(() => webSave(tensors, "m.safetensors" as never), /save: no file system in a browser/);
});

test("checkpoints round-trip through bytes exactly as through files", () => {
  const build = () => {
    manualSeed(1);
    const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
    const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
    return { model, opt };
  };
  const a = build();
  const x = randn([5, 4]);
  for (let i = 0; i < 3; i++) {
    a.opt.zeroGrad();
    a.model.forward(x).pow(2).mean().backward();
    a.opt.step();
  }
  const bytes = saveCheckpointToBytes({
    model: a.model,
    optimizer: a.opt,
    epoch: 2,
    step: 3,
    extra: { best: Infinity },
  });
  const path = join(dir, "c.safetensors");
  saveCheckpoint(path, { model: a.model, optimizer: a.opt, epoch: 2, step: 3, extra: { best: Infinity } });
  const fromBytes = build();
  const fromFile = build();
  const infoB = loadCheckpointFromBytes(bytes, { model: fromBytes.model, optimizer: fromBytes.opt });
  const infoF = loadCheckpoint(path, { model: fromFile.model, optimizer: fromFile.opt });
  assert.deepEqual(infoB, infoF);
  assert.deepEqual(infoB, { epoch: 2, step: 3, extra: { best: Infinity } });
  for (const [k, t] of Object.entries(fromFile.model.stateDict())) {
    assert.deepEqual(fromBytes.model.stateDict()[k]!.toArray(), t.toArray());
    assert.deepEqual(a.model.stateDict()[k]!.toArray(), t.toArray());
  }
  assert.deepEqual(JSON.stringify(fromBytes.opt.stateDict()), JSON.stringify(fromFile.opt.stateDict()));
  assert.throws(() => loadCheckpointFromBytes(bytes, {} as never), /loadCheckpointFromBytes: expected \{model/);
  assert.throws(
    () => loadCheckpointFromBytes(saveToBytes(tensors), { model: build().model }),
    /loadCheckpointFromBytes: not a Descent checkpoint/,
  );
});
