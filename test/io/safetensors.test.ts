// safetensors save/load: round trips of every dtype Descent writes (0-d, empty, non-contiguous
// views), the byte layout the reference writer produces, the dtypes read by conversion (I64 with a
// range check, F16, BF16, small integers), hostile files (every check of the loader), and atomic
// writes that leave the previous file intact when a save fails midway.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { arange, randn, tensor, manualSeed, DescentError, type Tensor } from "../../src/index.js";
import { load, loadFile, save } from "../../src/io/safetensors.js";

const dir = mkdtempSync(join(tmpdir(), "descent-io-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const fresh = (): string => join(dir, `t${counter++}.safetensors`);

/** A safetensors file from a header object (or raw header text) and data bytes. */
function raw(header: object | string, data: Uint8Array = new Uint8Array(0), lenOverride?: bigint): string {
  const text = typeof header === "string" ? header : JSON.stringify(header);
  const h = Buffer.from(text, "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lenOverride ?? BigInt(h.length));
  const p = fresh();
  writeFileSync(p, Buffer.concat([len, h, data]));
  return p;
}

function same(a: Tensor, b: Tensor): void {
  assert.equal(a.dtype, b.dtype);
  assert.deepEqual(a.shape, b.shape);
  assert.deepEqual(Array.from(a.toFlatArray()), Array.from(b.toFlatArray()));
}

test("save/load round trip: float32, float64, int32, 0-d, empty, views, metadata", () => {
  manualSeed(1);
  const w = randn([3, 4]);
  const tensors: Record<string, Tensor> = {
    "layer.weight": w,
    "layer.bias": randn([4], { dtype: "float64" }),
    counts: tensor([-2147483648, 0, 7, 2147483647], { dtype: "int32" }),
    scalar: tensor(2.5),
    empty: randn([0, 3]),
    transposed: w.transpose(0, 1), // a non-contiguous view
    sliced: arange(0, 10).slice(0, 2, 8, 2), // offset and stride
    special: tensor([NaN, Infinity, -Infinity, -0, 1e-45]),
  };
  const p = fresh();
  save(tensors, p, { format: "pt", note: "ünïcode ✓" });
  const { tensors: back, metadata } = loadFile(p);
  assert.deepEqual(metadata, { format: "pt", note: "ünïcode ✓" });
  assert.deepEqual(Object.keys(back).sort(), Object.keys(tensors).sort());
  for (const [k, t] of Object.entries(tensors)) same(back[k]!, t.contiguous());
  assert.ok(Object.is(back.special!.toFlatArray()[3], -0));
  assert.deepEqual(Object.keys(load(p)).sort(), Object.keys(tensors).sort());
});

test("save: the byte layout of the reference writer", () => {
  const p = fresh();
  save({ b: tensor([1, 2], { dtype: "int32" }), a: tensor([0.5]) }, p, { k: "v" });
  const bytes = readFileSync(p);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0, "the data section starts 8-byte aligned");
  const text = bytes.subarray(8, 8 + n).toString("utf8");
  assert.match(text, / *$/);
  assert.equal(
    text.trimEnd(),
    '{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I32","shape":[2],"data_offsets":[4,12]}}',
  );
  // tensors contiguous in sorted-name order, little-endian
  const data = bytes.subarray(8 + n);
  assert.equal(data.length, 12);
  assert.equal(data.readFloatLE(0), 0.5);
  assert.equal(data.readInt32LE(4), 1);
  assert.equal(data.readInt32LE(8), 2);
});

test("save: refuses what it cannot write", () => {
  assert.throws(() => save({ x: [1, 2] as unknown as Tensor }, fresh()), /save: "x" is not a Tensor/);
  assert.throws(() => save({ __metadata__: tensor([1]) }, fresh()), /"__metadata__" cannot name a tensor/);
  assert.throws(() => save({ x: tensor([1]) }, fresh(), { n: 3 as unknown as string }), /metadata "n" is a number/);
  assert.throws(() => save({ x: tensor([1]) }, join(dir, "no", "such", "dir.safetensors")), /save: cannot write/);
});

test("load: dtypes read by conversion (I64 with a range check, U8, I8, I16, U16, U32, BOOL, F16, BF16)", () => {
  const parts: [string, string, number[], Buffer][] = [];
  const i64 = Buffer.alloc(24);
  [-2147483648n, 0n, 2147483647n].forEach((v, i) => i64.writeBigInt64LE(v, 8 * i));
  parts.push(["i64", "I64", [3], i64]);
  parts.push(["u8", "U8", [3], Buffer.from([0, 128, 255])]);
  parts.push(["i8", "I8", [3], Buffer.from([0x80, 0xff, 0x7f])]);
  const i16 = Buffer.alloc(4);
  i16.writeInt16LE(-300, 0);
  i16.writeInt16LE(300, 2);
  parts.push(["i16", "I16", [2], i16]);
  const u16 = Buffer.alloc(2);
  u16.writeUInt16LE(65535);
  parts.push(["u16", "U16", [1], u16]);
  const u32 = Buffer.alloc(4);
  u32.writeUInt32LE(123456);
  parts.push(["u32", "U32", [1], u32]);
  parts.push(["bool", "BOOL", [2], Buffer.from([0, 1])]);
  // F16: 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal), +inf, nan
  const f16 = Buffer.alloc(12);
  [0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x7e00].forEach((h, i) => f16.writeUInt16LE(h, 2 * i));
  parts.push(["f16", "F16", [2, 3], f16]);
  // BF16: 1.0, -0.5, 3.140625
  const bf16 = Buffer.alloc(6);
  [0x3f80, 0xbf00, 0x4049].forEach((h, i) => bf16.writeUInt16LE(h, 2 * i));
  parts.push(["bf16", "BF16", [3], bf16]);
  const header: Record<string, object> = {};
  let off = 0;
  for (const [name, dtype, shape, b] of parts) {
    header[name] = { dtype, shape, data_offsets: [off, off + b.length] };
    off += b.length;
  }
  const t = load(raw(header, Buffer.concat(parts.map((x) => x[3]))));
  const vals = (k: string): number[] => Array.from(t[k]!.toFlatArray());
  assert.equal(t.i64!.dtype, "int32");
  assert.deepEqual(vals("i64"), [-2147483648, 0, 2147483647]);
  assert.deepEqual(vals("u8"), [0, 128, 255]);
  assert.deepEqual(vals("i8"), [-128, -1, 127]);
  assert.deepEqual(vals("i16"), [-300, 300]);
  assert.deepEqual(vals("u16"), [65535]);
  assert.deepEqual(vals("u32"), [123456]);
  assert.deepEqual(vals("bool"), [0, 1]);
  assert.equal(t.f16!.dtype, "float32");
  assert.deepEqual(t.f16!.shape, [2, 3]);
  assert.deepEqual(vals("f16"), [1, -2, 65504, 2 ** -24, Infinity, NaN]);
  assert.deepEqual(vals("bf16"), [1, -0.5, 3.140625]);

  const big = Buffer.alloc(16);
  big.writeBigInt64LE(5n, 0);
  big.writeBigInt64LE(2147483648n, 8);
  assert.throws(
    () => load(raw({ n: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, big)),
    /tensor "n" \(I64\) holds 2147483648 at element 1, outside the int32 range/,
  );
  assert.throws(
    () => load(raw({ n: { dtype: "F8_E4M3", shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1))),
    /dtype "F8_E4M3" is not supported \(supported: F64, F32/,
  );
});

test("load: hostile headers are refused with a DescentError", () => {
  const f32 = { dtype: "F32", shape: [2], data_offsets: [0, 8] };
  const d8 = Buffer.alloc(8);
  const cases: [string, () => unknown, RegExp][] = [
    ["missing file", () => load(join(dir, "nope.safetensors")), /cannot open the file/],
    ["directory", () => load(dir), /not a regular file/],
    ["empty header", () => load(raw("")), /not valid JSON: unexpected end at character 0/],
    ["header length > file", () => load(raw({ x: f32 }, d8, 10_000n)), /header length 10000 runs past the end/],
    [
      "header length > limit",
      () => load(raw({ x: f32 }, d8, 2n ** 63n)),
      /header length 9223372036854775808 exceeds maxHeaderBytes \(100000000\); pass \{maxHeaderBytes\} to raise it/,
    ],
    ["not JSON", () => load(raw("{nope", d8)), /header is not valid JSON: expected a string key at character 1/],
    ["trailing JSON", () => load(raw('{"x":1} {', d8)), /not valid JSON: unexpected text after the value/],
    ["not an object", () => load(raw("[1,2]", d8)), /header must be a JSON object/],
    ["string header", () => load(raw('"x"')), /header must be a JSON object/],
    [
      "duplicate keys",
      () => load(raw(`{"x":${JSON.stringify(f32)},"x":${JSON.stringify(f32)}}`, d8)),
      /duplicate key "x"/,
    ],
    ["deep nesting", () => load(raw("[".repeat(100000) + "]".repeat(100000))), /nesting deeper than 64/],
    ["entry not object", () => load(raw({ x: 3 }, d8)), /tensor "x": expected \{dtype, shape, data_offsets\}/],
    ["unknown field", () => load(raw({ x: { ...f32, extra: 1 } }, d8)), /unexpected field\(s\) extra/],
    ["no dtype", () => load(raw({ x: { shape: [2], data_offsets: [0, 8] } }, d8)), /dtype is missing/],
    [
      "negative dim",
      () => load(raw({ x: { ...f32, shape: [-2] } }, d8)),
      /shape must be a list of non-negative integers, got \[-2\]/,
    ],
    ["fractional dim", () => load(raw({ x: { ...f32, shape: [1.5] } }, d8)), /non-negative integers/],
    ["string dim", () => load(raw({ x: { ...f32, shape: ["2"] } }, d8)), /non-negative integers/],
    ["bad offsets", () => load(raw({ x: { ...f32, data_offsets: [0] } }, d8)), /data_offsets must be \[begin, end\]/],
    ["negative offset", () => load(raw({ x: { ...f32, data_offsets: [-8, 0] } }, d8)), /data_offsets must be/],
    [
      "end < begin",
      () => load(raw({ x: { ...f32, data_offsets: [8, 0] } }, d8)),
      /do not lie inside the 8-byte data section/,
    ],
    [
      "past the data",
      () => load(raw({ x: { ...f32, data_offsets: [0, 16] } }, d8)),
      /\[0, 16\] do not lie inside the 8-byte data section/,
    ],
    [
      "shape vs bytes",
      () => load(raw({ x: { ...f32, shape: [3] } }, d8)),
      /dtype F32 and shape \[3\] need 12 bytes, data_offsets \[0, 8\] give 8/,
    ],
    [
      "overlap",
      () =>
        load(raw({ x: { ...f32, data_offsets: [0, 8] }, y: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, d8)),
      /tensor "y" overlaps the tensor before it/,
    ],
    [
      "gap",
      () => load(raw({ x: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, d8)),
      /a gap of 4 byte\(s\) in the data section before tensor "x"/,
    ],
    [
      "trailing data",
      () => load(raw({ x: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, d8)),
      /4 byte\(s\) that no tensor covers/,
    ],
    ["metadata not strings", () => load(raw({ __metadata__: { a: 1 } })), /__metadata__ "a" is not a string/],
    ["metadata not object", () => load(raw({ __metadata__: [] })), /__metadata__ must be an object/],
  ];
  for (const [what, fn, re] of cases) {
    assert.throws(
      fn,
      (e: unknown) => {
        assert.ok(e instanceof DescentError, `${what}: ${String(e)}`);
        assert.match(e.message, re, what);
        return true;
      },
      what,
    );
  }
  const short = fresh();
  writeFileSync(short, Buffer.alloc(5));
  assert.throws(() => load(short), /5 byte\(s\), too short for the 8-byte header length/);
  const badUtf8 = fresh();
  const b = Buffer.alloc(10);
  b.writeBigUInt64LE(2n);
  b[8] = 0xff;
  b[9] = 0xfe;
  writeFileSync(badUtf8, b);
  assert.throws(() => load(badUtf8), /header is not valid UTF-8/);
});

test("load: a lying header cannot make the loader allocate more than the file", () => {
  // 2^50 float64 elements claimed inside a 64-byte data section: refused by the byte-count check.
  const lie = raw({ x: { dtype: "F64", shape: [2 ** 25, 2 ** 25], data_offsets: [0, 64] } }, Buffer.alloc(64));
  assert.throws(() => load(lie), /dtype F64 and shape \[33554432,33554432\] need 9007199254740992 bytes/);
  const lie2 = raw({ x: { dtype: "F32", shape: [1e9], data_offsets: [0, 4e9] } }, Buffer.alloc(8));
  assert.throws(() => load(lie2), /do not lie inside the 8-byte data section/);
  // Empty tensors at the same offset tile the data section fine.
  const t = load(
    raw(
      {
        a: { dtype: "F32", shape: [0, 1000000], data_offsets: [0, 0] },
        b: { dtype: "I32", shape: [1], data_offsets: [0, 4] },
        c: { dtype: "F64", shape: [0], data_offsets: [4, 4] },
      },
      Buffer.from([1, 0, 0, 0]),
    ),
  );
  assert.deepEqual(t.a!.shape, [0, 1000000]);
  assert.equal(t.b!.item(), 1);
});

test("load: header fields named like Object.prototype members are plain names", () => {
  const p = raw({ __proto__x: { dtype: "I32", shape: [], data_offsets: [0, 4] } }, Buffer.from([9, 0, 0, 0]));
  assert.equal(load(p).__proto__x!.item(), 9);
  const q = raw(`{"__proto__":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}`, Buffer.from([3, 0, 0, 0]));
  const t = load(q);
  assert.equal(Object.getOwnPropertyDescriptor(t, "__proto__")!.value.item(), 3);
});

test("save is atomic: a failure after the temporary file exists leaves the old file and no temp file", () => {
  const sub = mkdtempSync(join(dir, "atomic-"));
  const p = join(sub, "model.safetensors");
  save({ w: tensor([1, 2, 3]) }, p, { v: "old" });
  const before = readFileSync(p);
  const bad = tensor([4, 5, 6]);
  let called = false;
  Object.defineProperty(bad, "toFlatArray", {
    value: () => {
      called = true;
      // the temporary file exists now: the header has already been written to it
      assert.equal(readdirSync(sub).filter((f) => f.endsWith(".tmp")).length, 1);
      throw new Error("disk on fire");
    },
  });
  assert.throws(
    () => save({ a: tensor([0]), w: bad }, p, { v: "new" }),
    /writing .*model.safetensors failed \(the previous file, if any, is unchanged\): disk on fire/,
  );
  assert.ok(called);
  assert.deepEqual(readFileSync(p), before);
  assert.deepEqual(readdirSync(sub), ["model.safetensors"]);
  assert.deepEqual(loadFile(p).metadata, { v: "old" });
  // a good save replaces it
  save({ w: tensor([7]) }, p);
  assert.deepEqual(Array.from(load(p).w!.toFlatArray()), [7]);
  assert.deepEqual(readdirSync(sub), ["model.safetensors"]);
});

test("save is atomic: a rename that fails (target is a directory) cleans up", () => {
  const sub = mkdtempSync(join(dir, "atomic2-"));
  const target = mkdtempSync(join(sub, "isdir-"));
  assert.throws(() => save({ w: tensor([1]) }, target), DescentError);
  assert.equal(readdirSync(sub).filter((f) => f.endsWith(".tmp")).length, 0);
});
