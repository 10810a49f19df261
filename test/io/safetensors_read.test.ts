// The safetensors reader's bounds (issue 11): header strings of millions of characters, headers of
// very many tensors, the maxBytes / maxHeaderBytes / maxTensors limits (each refusal names the
// option), dims past int32, and paths that are not regular files (FIFO, /dev/zero), for load and
// loadCheckpoint alike.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { ones, tensor } from "../../src/index.js";
import { Linear } from "../../src/nn/layers/linear.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/io/checkpoint.js";
import { load, loadFile, parseSafetensors, save } from "../../src/io/safetensors.js";
import { refuses, tempFiles } from "../helpers/files.js";

const { dir, path } = tempFiles("descent-ioread-");
const fresh = (): string => path(".safetensors");

/** A safetensors file from a header object (or text) and data bytes. */
function raw(header: object | string, data: Uint8Array = new Uint8Array(0)): string {
  const h = Buffer.from(typeof header === "string" ? header : JSON.stringify(header), "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  const p = fresh();
  writeFileSync(p, Buffer.concat([len, h, data]));
  return p;
}

test("load reads back a metadata value and a tensor name of 9 M characters (the string regex overflowed the stack)", () => {
  const p = fresh();
  const big = "x".repeat(9e6);
  save({ a: ones([1]) }, p, { big });
  assert.equal(loadFile(p).metadata.big, big);
  // With escapes, decoded by the same linear path.
  const q = fresh();
  const name = 'n"\\\u00e9'.repeat(2.5e6);
  save({ [name]: tensor([5]) }, q);
  assert.deepEqual(Object.keys(load(q)), [name]);
});

test("a header of many empty tensors loads; maxTensors bounds their number", () => {
  const n = 20000;
  const head: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) head[`t${i}`] = { dtype: "F32", shape: [0], data_offsets: [0, 0] };
  const p = raw(head);
  assert.equal(Object.keys(load(p)).length, n);
  assert.equal(Object.keys(load(p, { maxTensors: n })).length, n);
  refuses(() => load(p, { maxTensors: n - 1 }), /exceeds maxTensors \(19999\); pass \{maxTensors\} to raise it/);
  // __metadata__ does not count as a tensor.
  const m = raw({ __metadata__: { k: "v" }, a: { dtype: "F32", shape: [0], data_offsets: [0, 0] } });
  assert.equal(Object.keys(load(m, { maxTensors: 1 })).length, 1);
  refuses(() => load(m, { maxTensors: 0 }), /maxTensors \(0\)/);
});

test("maxBytes bounds the data read and the tensor memory made from it; maxHeaderBytes the header", () => {
  const f32 = raw({ x: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, Buffer.alloc(16));
  assert.equal(load(f32, { maxBytes: 16 }).x!.size, 4);
  refuses(
    () => load(f32, { maxBytes: 15 }),
    /the data section \(16 bytes\) exceeds maxBytes \(15\); pass \{maxBytes\} to raise it/,
  );
  // 4 U8 bytes become 16 bytes of int32.
  const u8 = raw({ x: { dtype: "U8", shape: [4], data_offsets: [0, 4] } }, Buffer.from([1, 2, 3, 4]));
  refuses(() => load(u8, { maxBytes: 15 }), /the tensors' memory \(16 bytes\) exceeds maxBytes \(15\)/);
  assert.deepEqual(Array.from(load(u8, { maxBytes: 16 }).x!.toFlatArray()), [1, 2, 3, 4]);
  refuses(() => load(u8, { maxHeaderBytes: 10 }), /exceeds maxHeaderBytes \(10\); pass \{maxHeaderBytes\}/);
  refuses(() => load(u8, { maxBytes: -1 }), /maxBytes must be a non-negative integer, got -1/);
  refuses(() => load(u8, { maxTensors: NaN }), /maxTensors must be a non-negative integer/);
  // The in-memory parser applies the same limits.
  const bytes = Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 0, 0, 0]), Buffer.from("{}      ")]);
  assert.deepEqual(parseSafetensors("mem", bytes).tensors, {});
  refuses(() => parseSafetensors("mem", bytes, { maxHeaderBytes: 4 }), /^mem: .*maxHeaderBytes \(4\)/);
});

test("load refuses a dim past 2^31-1 even in an empty tensor ([2147483648, 2147483648, 0] was accepted), and 65 dims", () => {
  const p = raw({ x: { dtype: "F32", shape: [2147483648, 2147483648, 0], data_offsets: [0, 0] } });
  refuses(() => load(p), /tensor "x": shape \[2147483648,2147483648,0\] has a dimension larger than 2147483647/);
  const deep = raw({ x: { dtype: "F32", shape: Array(65).fill(1), data_offsets: [0, 4] } }, Buffer.alloc(4));
  refuses(() => load(deep), /shape has 65 dimensions, more than the 64 load accepts/);
  const ok = raw({ x: { dtype: "F32", shape: [2147483647, 0], data_offsets: [0, 0] } });
  assert.deepEqual(load(ok).x!.shape, [2147483647, 0]);
});

test("the tiling check stays exact: empty tensors must sit on a boundary between tensors", () => {
  const d = Buffer.alloc(8);
  const two = {
    a: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
    b: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
  };
  for (const at of [0, 4, 8]) {
    assert.equal(
      Object.keys(load(raw({ ...two, e: { dtype: "F32", shape: [0], data_offsets: [at, at] } }, d))).length,
      3,
    );
  }
  refuses(
    () => load(raw({ ...two, e: { dtype: "F32", shape: [0], data_offsets: [2, 2] } }, d)),
    /tensor "e" overlaps the tensor before it \(data_offsets \[2, 2\]\)/,
  );
  refuses(
    () => load(raw({ ...two, c: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, d)),
    /tensor "(a|c)" overlaps the tensor before it/,
  );
});

test("load and loadCheckpoint refuse a FIFO without blocking, and /dev/zero without reading it", () => {
  const fifo = join(dir, "pipe.safetensors");
  execFileSync("mkfifo", [fifo]);
  refuses(() => load(fifo), /a FIFO \(named pipe\), not a regular file/);
  refuses(() => loadCheckpoint(fifo, { model: new Linear(2, 2) }), /^load: .*FIFO/);
  if (existsSync("/dev/zero")) refuses(() => load("/dev/zero"), /a character device, not a regular file/);
});

test("loadCheckpoint passes the limits through", () => {
  const p = fresh();
  const model = new Linear(3, 2);
  saveCheckpoint(p, { model });
  assert.equal(loadCheckpoint(p, { model }).epoch, 0);
  refuses(() => loadCheckpoint(p, { model }, { maxBytes: 8 }), /exceeds maxBytes \(8\); pass \{maxBytes\} to raise it/);
});
