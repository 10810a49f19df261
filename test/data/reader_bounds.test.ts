// readIdx and readCsv bounds (issue 11): a CSV cell that made the number regex backtrack
// quadratically, gzip headers with long optional fields, gzip bombs refused from the IDX header
// before inflating, the maxBytes options, and paths that are not regular files (FIFO, /dev/zero).

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

import { readIdx } from "../../src/data/idx.js";
import { readCsv } from "../../src/data/csv.js";
import { readFileLimited } from "../../src/core/files.js";
import { refuses, tempFiles } from "../helpers/files.js";

const { dir, file } = tempFiles("descent-bounds-");

/**
 * This process's CPU time in ms. The complexity checks below bound CPU time, not wall time: on a
 * loaded 2-core machine a linear read waited 2.1 s of wall time for a CPU, while the quadratic
 * behaviour they guard against costs seconds of CPU.
 */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** A ubyte IDX file of the given dims and values. */
function idx(dims: number[], values: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, values]);
}

// Fuzz findings csv:2026:16941 and csv:2026:7993 (2.1-2.8 s for a 4 MB file): cells were built a
// character at a time, and collecting those string chains dominated. Quoted cells with doubled
// quotes and embedded line breaks keep their meaning.
test("readCsv: cells of megabytes are read in one slice (4 MB cells took over 2 s)", () => {
  const t0 = cpuMs();
  const long = readCsv(file(`a,b\n${"7".repeat(4_000_000)},1\n2,3\n`), { labelColumn: "b" });
  assert.deepEqual(Array.from(long.labels!.toFlatArray()), [1, 3]);
  refuses(
    () => readCsv(file(`a,b\n1,"${'""'.repeat(1_000_000)}"\n`)),
    /line 2, column 2 \("b"\): "(?:\\"){40}…" is not a number/,
  );
  const ms = cpuMs() - t0;
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  refuses(() => readCsv(file('a,b\n"1\n2",3\n4,5\n"6')), /line 5: a quoted field is never closed/);
  // The doubled quotes decode to one and the line break stays (the message shows the cell).
  refuses(() => readCsv(file('a,b\n"x\n""y""",3\n4,z\n')), /line 2, column 1 \("a"\): "x\\n\\"y\\"" is not a number/);
});

// Fuzz finding csv:2026:12279 (2.3 s): a 2 MB line that the delimiter splits into 2 M columns.
// Without a header their names were made up front; a missing label column listed every name.
test("readCsv: 2 M columns are refused quickly, and an error lists at most 20 column names", () => {
  const t0 = cpuMs();
  const p = file(`-1.5;2;${"1".repeat(2_000_000)}\n`);
  refuses(() => readCsv(p, { delimiter: "1", header: false }), /line 1, column 1 \("0"\): "-" is not a number/);
  const ms = cpuMs() - t0;
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
  const wide = file(`${Array.from({ length: 30 }, (_, k) => `c${k}`).join(",")}\n${"1,".repeat(29)}1\n`);
  refuses(() => readCsv(wide, { labelColumn: "y" }), /\(columns: c0, c1, .*, c19, … \(30 in all\)\)$/);
  assert.deepEqual(readCsv(file("1,2\n3,4\n"), { header: false }).columns, ["0", "1"]);
});

test("readCsv: a cell of 80,000 digits and a letter is refused in linear time (took 7.7 s)", () => {
  const p = file(`a,b\n1,${"9".repeat(80000)}x\n`);
  const t0 = cpuMs();
  refuses(() => readCsv(p), /line 2, column 2 \("b"\): "9{40}…" is not a number/);
  const ms = cpuMs() - t0;
  assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
  // The scanner accepts what the regex accepted.
  const ok = readCsv(file("a\n1.\n.5\n-2e3\n+4E-1\n 7 \n"), { labelColumn: "a" });
  assert.deepEqual(Array.from(ok.labels!.toFlatArray()), [1, 0.5, -2000, 0.4000000059604645, 7]);
  for (const bad of [".", "1e", "e5", "1.2.3", "--1", "1e+", "0x10"]) {
    refuses(() => readCsv(file(`a\n${bad}\n`)), /is not a number/);
  }
});

test("readIdx: gzip headers with FEXTRA, FNAME and FCOMMENT fields of any length", () => {
  const plain = idx([2, 3], Uint8Array.from([1, 2, 3, 4, 5, 6]));
  const gz = gzipSync(plain);
  assert.equal(gz[3], 0, "the writer sets no flags");
  const name = Buffer.concat([Buffer.from("n".repeat(5000)), Buffer.from([0])]);
  const comment = Buffer.concat([Buffer.from("c".repeat(70000)), Buffer.from([0])]);
  const extra = Buffer.concat([Buffer.from([0x10, 0x27]), Buffer.alloc(10000, 7)]); // XLEN 10000
  const withFields = (flags: number, ...fields: Buffer[]): Buffer => {
    const head = Buffer.from(gz.subarray(0, 10));
    head[3] = flags;
    return Buffer.concat([head, ...fields, gz.subarray(10)]);
  };
  for (const g of [withFields(8, name), withFields(16, comment), withFields(4 | 8 | 16, extra, name, comment)]) {
    assert.deepEqual(Array.from(readIdx(file(g)).toFlatArray()), [1, 2, 3, 4, 5, 6]);
  }
  refuses(() => readIdx(file(withFields(8, Buffer.from("no terminator")).subarray(0, 23))), /gzip header/);
});

test("readIdx: a gzip bomb is refused from its header, before the rest is inflated (0.97 MB took 25 s, 5.8 GB)", () => {
  // 1,000,000 ubyte values are 4 MB as int32: past maxBytes 1e6. The stream is cut short after
  // its first bytes, so inflating it all would fail differently ("truncated").
  const gz = gzipSync(idx([1000, 1000], new Uint8Array(1e6)));
  const cut = file(gz.subarray(0, 300));
  refuses(
    () => readIdx(cut, { maxBytes: 1e6 }),
    /claims dims \[1000, 1000\] of ubyte \(1000012 bytes, 4000000 as a tensor\), which exceeds maxBytes \(1000000\); pass \{maxBytes\} to raise it/,
  );
  refuses(() => readIdx(cut), /truncated|corrupt/);
  const whole = file(gz);
  assert.equal(readIdx(whole, { maxBytes: 4e6 }).size, 1e6);
  // The compressed file itself is bounded too, and so is a plain file.
  refuses(() => readIdx(whole, { maxBytes: 100 }), /exceeds maxBytes \(100\)/);
  refuses(
    () => readIdx(file(idx([10], new Uint8Array(10))), { maxBytes: 39 }),
    /10 bytes? .*maxBytes \(39\)|maxBytes \(39\)/,
  );
  assert.equal(readIdx(file(idx([10], new Uint8Array(10))), { maxBytes: 40 }).size, 10);
});

test("readCsv: maxBytes bounds the file", () => {
  const p = file("a,b\n1,2\n3,4\n");
  assert.equal(readCsv(p, { maxBytes: 12 }).features.shape[0], 2);
  refuses(
    () => readCsv(p, { maxBytes: 11 }),
    /readCsv: .*the file's size 12 exceeds maxBytes \(11\); pass \{maxBytes\} to raise it/,
  );
});

test("readIdx and readCsv refuse a FIFO without blocking and /dev/zero without reading it", () => {
  const fifo = join(dir, "pipe");
  execFileSync("mkfifo", [fifo]);
  refuses(() => readIdx(fifo), /readIdx: .*a FIFO \(named pipe\), not a regular file/);
  refuses(() => readCsv(fifo), /readCsv: .*a FIFO \(named pipe\), not a regular file/);
  if (existsSync("/dev/zero")) {
    refuses(() => readIdx("/dev/zero"), /a character device, not a regular file/);
    refuses(() => readCsv("/dev/zero"), /a character device, not a regular file/);
  }
});

test("readFileLimited reads to the end, so a file whose stat size is wrong is still bounded", () => {
  // /proc files are regular files that report size 0.
  if (!existsSync("/proc/self/status")) return;
  assert.ok(readFileLimited("t", "/proc/self/status", 1 << 20).length > 10);
  refuses(() => readFileLimited("t", "/proc/self/status", 10), /^t: the file's size exceeds maxBytes \(10\)/);
});
