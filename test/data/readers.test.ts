// readIdx and readCsv on files written here: every IDX type, plain and gzipped, and the malformed
// cases (truncated, wrong magic, trailing bytes, a header claiming far more than the file holds,
// a gzip stream inflating past its header); CSV headers, label columns, quoting, bad cells and
// ragged rows.

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

import { DescentError } from "../../src/index.js";
import { readIdx } from "../../src/data/idx.js";
import { readCsv } from "../../src/data/csv.js";
import { tempFiles } from "../helpers/files.js";

const { dir, file } = tempFiles("descent-data-");

const CODES = {
  ubyte: [0x08, 1],
  byte: [0x09, 1],
  short: [0x0b, 2],
  int: [0x0c, 4],
  float: [0x0d, 4],
  double: [0x0e, 8],
} as const;

/** An IDX file: magic, big-endian dims, big-endian values. */
function idx(type: keyof typeof CODES, dims: number[], values: number[]): Buffer {
  const [code, size] = CODES[type];
  const b = Buffer.alloc(4 + 4 * dims.length + size * values.length);
  b[2] = code;
  b[3] = dims.length;
  dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  const o = 4 + 4 * dims.length;
  values.forEach((v, i) => {
    const at = o + size * i;
    if (type === "ubyte") b.writeUInt8(v, at);
    else if (type === "byte") b.writeInt8(v, at);
    else if (type === "short") b.writeInt16BE(v, at);
    else if (type === "int") b.writeInt32BE(v, at);
    else if (type === "float") b.writeFloatBE(v, at);
    else b.writeDoubleBE(v, at);
  });
  return b;
}

test("readIdx: every type, plain and gzipped", () => {
  const cases: [keyof typeof CODES, number[], string][] = [
    ["ubyte", [0, 1, 127, 128, 255, 7], "int32"],
    ["byte", [-128, -1, 0, 1, 127, 5], "int32"],
    ["short", [-32768, -2, 0, 300, 32767, 9], "int32"],
    ["int", [-2147483648, -1, 0, 65536, 2147483647, 3], "int32"],
    ["float", [1.5, -2.25, 0, 1e-3, 3.4e38, -0.1], "float32"],
    ["double", [1.5, -2.25, 0, 1e-300, Math.PI, -0.1], "float64"],
  ];
  for (const [type, values, dtype] of cases) {
    const bytes = idx(type, [2, 3], values);
    for (const p of [file(bytes), file(gzipSync(bytes))]) {
      const t = readIdx(p);
      assert.equal(t.dtype, dtype, type);
      assert.deepEqual(t.shape, [2, 3]);
      const expect = type === "float" ? Array.from(new Float32Array(values)) : values;
      assert.deepEqual(Array.from(t.toFlatArray()), expect, type);
    }
  }
  // MNIST's layouts: labels [N], images [N, 28, 28]
  const labels = readIdx(file(gzipSync(idx("ubyte", [4], [5, 0, 4, 1]))));
  assert.deepEqual(labels.toArray(), [5, 0, 4, 1]);
  const images = readIdx(file(idx("ubyte", [2, 3, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])));
  assert.deepEqual(images.shape, [2, 3, 2]);
  assert.deepEqual(readIdx(file(idx("float", [0, 5], []))).shape, [0, 5]);
});

test("readIdx: malformed files are refused, saying what and where", () => {
  const good = idx("int", [2, 2], [1, 2, 3, 4]);
  assert.throws(() => readIdx(join(dir, "missing.idx")), /readIdx: .*missing.idx: cannot open the file/);
  assert.throws(() => readIdx(file(good.subarray(0, 2))), /truncated: 2 byte\(s\), too short for the 4-byte magic/);
  assert.throws(
    () => readIdx(file(good.subarray(0, 8))),
    /truncated: the header needs 12 bytes for 2 dimension\(s\), the file has 8/,
  );
  assert.throws(
    () => readIdx(file(good.subarray(0, good.length - 1))),
    /truncated: dims \[2, 2\] of int need 16 data bytes from byte offset 12, the file has 15/,
  );
  assert.throws(() => readIdx(file(Buffer.concat([good, Buffer.from([0])]))), /trailing bytes: dims \[2, 2\]/);
  const magic = Buffer.from(good);
  magic[0] = 1;
  assert.throws(() => readIdx(file(magic)), /not an IDX file: magic bytes 01 00 0c 02 at byte offset 0/);
  const code = Buffer.from(good);
  code[2] = 0x0a;
  assert.throws(() => readIdx(file(code)), /magic bytes 00 00 0a 02/);
  assert.throws(() => readIdx(file("hello world, not idx")), /not an IDX file/);
  const zeroDims = Buffer.from([0, 0, 8, 0]);
  assert.throws(() => readIdx(file(zeroDims)), /0 dimensions/);
  // dims whose product does not match the bytes present
  const lying = Buffer.from(good);
  lying.writeUInt32BE(3, 4);
  assert.throws(() => readIdx(file(lying)), /truncated: dims \[3, 2\] of int need 24 data bytes/);
  const tooBig = Buffer.from(good);
  tooBig.writeUInt32BE(0x80000000, 4);
  assert.throws(() => readIdx(file(tooBig)), /dimension 0 \(byte offset 4\) is 2147483648/);
});

test("readIdx: a header claiming a huge size is refused before anything is allocated", () => {
  // 60000 x 60000 x 60000 doubles: far beyond memory; must fail on the header, not in an allocation.
  const huge = idx("double", [60000, 60000, 60000], [1, 2, 3]);
  for (const p of [file(huge), file(gzipSync(huge))]) {
    assert.throws(
      () => readIdx(p),
      (e: unknown) => {
        assert.ok(e instanceof DescentError);
        assert.match(e.message, /claims dims \[60000, 60000, 60000\] of double/);
        return true;
      },
    );
  }
  // Plausible-sized but larger than the file: refused by comparing with the bytes present.
  const big = idx("float", [100000, 784], [1, 2]);
  assert.throws(() => readIdx(file(big)), /truncated: dims \[100000, 784\] of float need 313600000 data bytes/);
  assert.throws(() => readIdx(file(gzipSync(big))), /truncated: dims \[100000, 784\]/);
});

test("readIdx: gzip streams that are corrupt, truncated or inflate past their header", () => {
  const good = idx("ubyte", [2, 2], [1, 2, 3, 4]);
  const gz = gzipSync(good);
  assert.throws(() => readIdx(file(gz.subarray(0, gz.length - 6))), /readIdx: .*(truncated|corrupt)/);
  const corrupt = Buffer.from(gz);
  corrupt[12] = corrupt[12]! ^ 0xff;
  assert.throws(() => readIdx(file(corrupt)), DescentError);
  // A header announcing 4 bytes followed by a megabyte: inflation stops at the announced size.
  const bomb = gzipSync(Buffer.concat([good, Buffer.alloc(1 << 20)]));
  assert.throws(() => readIdx(file(bomb)), /trailing bytes: the gzip stream inflates to more than the 16 bytes/);
  assert.throws(() => readIdx(file(Buffer.from([0x1f, 0x8b]))), DescentError);
});

test("readCsv: header, label column by name or index, integer and float labels", () => {
  const p = file("a,b,label\n1,2,0\n3.5,-4e2,1\n\n5,6,2\n");
  const byName = readCsv(p, { labelColumn: "label" });
  assert.deepEqual(byName.features.shape, [3, 2]);
  assert.equal(byName.features.dtype, "float32");
  assert.deepEqual(byName.features.toArray(), [
    [1, 2],
    [3.5, -400],
    [5, 6],
  ]);
  assert.equal(byName.labels!.dtype, "int32");
  assert.deepEqual(byName.labels!.toArray(), [0, 1, 2]);
  assert.deepEqual(byName.columns, ["a", "b"]);
  const byIndex = readCsv(p, { labelColumn: 0 });
  assert.deepEqual(byIndex.columns, ["b", "label"]);
  assert.equal(byIndex.labels!.dtype, "float32");
  assert.deepEqual(byIndex.labels!.toArray(), [1, 3.5, 5]);
  assert.deepEqual(readCsv(p, { labelColumn: -1 }).labels!.toArray(), [0, 1, 2]);
  const none = readCsv(p);
  assert.equal(none.labels, null);
  assert.deepEqual(none.features.shape, [3, 3]);
  assert.deepEqual(none.columns, ["a", "b", "label"]);
});

test("readCsv: no header, other delimiter, CRLF, quoting, BOM, nan/inf", () => {
  const p = file("1;2\r\n3;4\r\n");
  const r = readCsv(p, { header: false, delimiter: ";", labelColumn: 1 });
  assert.deepEqual(r.features.toArray(), [[1], [3]]);
  assert.deepEqual(r.labels!.toArray(), [2, 4]);
  assert.deepEqual(r.columns, ["0"]);
  const q = readCsv(file('\ufeff"x, the first","y ""quoted""",z\n"1",2,3\n4," 5 ",nan\n-inf,inf,7'));
  assert.deepEqual(q.columns, ["x, the first", 'y "quoted"', "z"]);
  assert.deepEqual(q.features.toArray(), [
    [1, 2, 3],
    [4, 5, NaN],
    [-Infinity, Infinity, 7],
  ]);
  const multi = readCsv(file('"a\nb",c\n1,2\n'));
  assert.deepEqual(multi.columns, ["a\nb", "c"]);
  assert.deepEqual(readCsv(file("a,b\n")).features.shape, [0, 2]);
});

test("readCsv: malformed input names the line and column", () => {
  assert.throws(() => readCsv(file("a,b\n1,2\n3,x7\n")), /readCsv: .*: line 3, column 2 \("b"\): "x7" is not a number/);
  assert.throws(() => readCsv(file("a,b\n1,\n")), /line 2, column 2 \("b"\): "" is not a number/);
  assert.throws(() => readCsv(file("a,b\n1,0x10\n")), /"0x10" is not a number/);
  assert.throws(() => readCsv(file("a,b\n1,2\n3\n")), /line 3 has 1 field\(s\), expected 2 \(as the header\)/);
  assert.throws(
    () => readCsv(file("1,2\n3,4,5\n"), { header: false }),
    /line 2 has 3 field\(s\), expected 2 \(as the first row\)/,
  );
  assert.throws(() => readCsv(file('a,b\n"1,2\n')), /line 2: a quoted field is never closed/);
  assert.throws(() => readCsv(file('a,b\n"1"x,2\n')), /line 2: unexpected "x" after a closing quote/);
  assert.throws(() => readCsv(file("")), /empty \(expected a header row\)/);
  assert.throws(() => readCsv(file("a,b\n1,2\n"), { labelColumn: "c" }), /no column named "c" \(columns: a, b\)/);
  assert.throws(() => readCsv(file("1,2\n"), { header: false, labelColumn: "a" }), /has no header/);
  assert.throws(() => readCsv(file("a,b\n1,2\n"), { labelColumn: 2 }), /labelColumn 2 is out of range for 2 column/);
  assert.throws(() => readCsv(file("a\n1\n"), { delimiter: "ab" }), /delimiter must be one character/);
  assert.throws(() => readCsv(join(dir, "nope.csv")), /cannot open the file/);
});
