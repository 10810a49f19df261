// Fuzz targets `idx` and `csv`. IDX: valid files (every type code, plain and gzipped) written here
// (the format is a 4-byte magic, big-endian dims and values), then header / dims / type-code edits,
// gzip header flags with bogus FEXTRA / FNAME lengths, multi-member streams, truncation, byte damage
// and small gzip bombs (megabytes of zeros behind a header that claims more or less).
// CSV: valid tables, then cell mutations (long digit runs, exotic numbers, quotes, ragged rows),
// BOM, CRLF, huge lines, odd options. Each input is read with the library's reader.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { data } from "../../../src/index.js";
import { concat, mutateBytes, weirdBig, writeUint } from "../mutate.js";
import type { Rng } from "../rng.js";

const IDX_TYPES: [number, number][] = [
  [0x08, 1],
  [0x09, 1],
  [0x0b, 2],
  [0x0c, 4],
  [0x0d, 4],
  [0x0e, 8],
];

function idxFile(rng: Rng): Uint8Array {
  const [code, bytes] = rng.pick(IDX_TYPES);
  const dims = Array.from({ length: rng.int(1, 4) }, () => rng.int(0, 6));
  const n = dims.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(4 + 4 * dims.length + n * bytes);
  const v = new DataView(out.buffer);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((d, i) => v.setInt32(4 + 4 * i, d, false));
  for (let i = 0; i < n * bytes; i++) out[4 + 4 * dims.length + i] = rng.int(0, 255);
  return out;
}

/** Edits of the IDX header: type code, ndim, one dim (as a big-endian int32), magic. */
function editIdxHeader(rng: Rng, f: Uint8Array): Uint8Array {
  const out = f.slice();
  const v = new DataView(out.buffer);
  switch (rng.int(0, 4)) {
    case 0:
      out[2] = rng.pick([0, 1, 7, 0x08, 0x0a, 0x0d, 0x0e, 0x0f, 0xff]);
      break;
    case 1:
      out[3] = rng.pick([0, 1, 2, 3, 4, 5, 16, 64, 255]);
      break;
    case 2:
      if (out.length >= 8)
        v.setUint32(
          4 + 4 * rng.int(0, Math.max(0, Math.min(out[3]!, (out.length - 8) >> 2) - 1)),
          Number(weirdBig(rng) & 0xffffffffn),
          false,
        );
      break;
    case 3:
      out[rng.int(0, 1)] = rng.int(1, 255);
      break;
    default: {
      // every dim huge: the claimed size is far beyond the bytes present
      for (let i = 0; i < out[3]! && 8 + 4 * i <= out.length; i++)
        v.setInt32(4 + 4 * i, rng.pick([65536, 2 ** 31 - 1, -1]), false);
    }
  }
  return out;
}

/** A gzip member with optional header fields (FEXTRA / FNAME / FCOMMENT / FHCRC), perhaps lying about their lengths. */
function gzipWithFlags(rng: Rng, payload: Uint8Array): Uint8Array {
  const gz = gzipSync(payload);
  const body = gz.subarray(10);
  const head = gz.slice(0, 10);
  let flags = 0;
  const extra: Uint8Array[] = [];
  if (rng.chance(0.4)) {
    flags |= 4; // FEXTRA: 2-byte length then that many bytes
    const len = rng.pick([0, 4, 65535, 200]);
    const x = new Uint8Array(2 + rng.pick([0, 4, len]));
    x[0] = len & 0xff;
    x[1] = len >> 8;
    extra.push(x);
  }
  if (rng.chance(0.4)) {
    flags |= 8; // FNAME: zero-terminated (or not)
    const name = new TextEncoder().encode("f".repeat(rng.pick([1, 1000, 100000])));
    extra.push(rng.chance(0.7) ? concat(name, new Uint8Array([0])) : name);
  }
  if (rng.chance(0.2)) {
    flags |= 16; // FCOMMENT
    extra.push(new Uint8Array([0x63, 0]));
  }
  if (rng.chance(0.2)) {
    flags |= 2; // FHCRC: a (wrong) header CRC16
    extra.push(new Uint8Array([rng.int(0, 255), rng.int(0, 255)]));
  }
  if (rng.chance(0.1)) flags |= rng.pick([0x20, 0x40, 0x80]); // reserved bits
  head[3] = flags;
  return concat(head, ...extra, body);
}

let zeroMember: Uint8Array | undefined;
/** A gzip member of 16 MiB of zeros (~16 KiB), made once: repeated members make small bombs. */
function zeros16M(): Uint8Array {
  return (zeroMember ??= gzipSync(new Uint8Array(16 * 2 ** 20), { level: 9 }));
}

function bomb(rng: Rng): Uint8Array {
  const members = rng.pick([1, 4, 16, 64]); // 16 MiB .. 1 GiB inflated
  const claimed = rng.pick([16, 2 ** 20, 2 ** 24, 2 ** 30, 2 ** 31 - 1]);
  const head = new Uint8Array(8);
  head[2] = 0x08;
  head[3] = 1;
  new DataView(head.buffer).setInt32(4, claimed, false);
  return concat(gzipSync(head), ...Array.from({ length: members }, zeros16M));
}

export function fuzzIdx(rng: Rng, dir: string): () => void {
  let f = idxFile(rng);
  const r = rng.int(0, 99);
  if (r < 30) f = editIdxHeader(rng, f);
  else if (r < 50) f = mutateBytes(rng, f);
  if (r >= 85) f = bomb(rng);
  else if (rng.chance(0.5)) {
    f = rng.chance(0.5) ? gzipWithFlags(rng, f) : gzipSync(f);
    const g = rng.int(0, 9);
    if (g < 3) f = mutateBytes(rng, f);
    else if (g < 4)
      f = concat(f, gzipSync(idxFile(rng))); // a second member
    else if (g < 5) f = f.subarray(0, rng.int(0, f.length));
    else if (g < 6) writeUint(f, f.length - 4, 4, weirdBig(rng)); // ISIZE lies
  }
  const path = join(dir, rng.chance(0.5) ? "input.idx.gz" : "input-idx3-ubyte");
  writeFileSync(path, f);
  return () => data.readIdx(path).toFlatArray();
}

// ---------------------------------------------------------------------------------------------

const CELLS = [
  "0",
  "-0",
  "1e400",
  "-1e-400",
  "nan",
  "NaN",
  "inf",
  "-Infinity",
  "+.5",
  ".5e",
  "0x1F",
  "1_000",
  " 1 ",
  '"1"',
  '"a""b"',
  '"unterminated',
  'x"y',
  "",
  "1,5",
  "١٢",
  "\u00a01",
  "1e",
  "--1",
  "1..2",
  "9007199254740993",
  "2147483648",
  "-2147483649",
];

function longCell(rng: Rng): string {
  const n = rng.pick([1000, 100_000, 2_000_000]);
  return rng.pick([
    "1".repeat(n),
    "1".repeat(n) + "x",
    "-" + "9".repeat(n) + "e",
    "0." + "0".repeat(n) + "1",
    "1e" + "9".repeat(n),
    '"' + "a".repeat(n) + '"',
    "1" + "e1".repeat(n >> 1),
  ]);
}

export function fuzzCsv(rng: Rng, dir: string): () => void {
  const cols = rng.int(1, 5);
  const rows = rng.int(0, 12);
  const delim = rng.chance(0.85) ? "," : rng.pick([";", "\t", "|"]);
  const table: string[][] = [];
  const header = rng.chance(0.8);
  if (header) table.push(Array.from({ length: cols }, (_, j) => (j === cols - 1 ? "label" : `f${j}`)));
  for (let i = 0; i < rows; i++)
    table.push(
      Array.from({ length: cols }, (_, j) =>
        j === cols - 1 ? String(rng.int(0, 3)) : (rng.normal() * 10).toFixed(rng.int(0, 6)),
      ),
    );
  const edits = rng.int(0, 4);
  for (let e = 0; e < edits && table.length; e++) {
    const row = rng.pick(table);
    const k = rng.int(0, 9);
    if (k < 5) row[rng.int(0, row.length - 1)] = rng.pick(CELLS);
    else if (k < 6) row[rng.int(0, row.length - 1)] = longCell(rng);
    else if (k < 7) row.pop();
    else if (k < 8) row.push(rng.pick(CELLS));
    else if (k < 9) row.push(...Array.from({ length: rng.pick([10, 10000]) }, () => "1"));
    else table.splice(rng.int(0, table.length), 0, []);
  }
  const eol = rng.chance(0.2) ? "\r\n" : rng.chance(0.05) ? "\r" : "\n";
  let text = table.map((r) => r.join(delim)).join(eol) + (rng.chance(0.7) ? eol : "");
  if (rng.chance(0.1)) text = "\ufeff" + text;
  let bytes: Uint8Array = new TextEncoder().encode(text);
  if (rng.chance(0.2)) bytes = mutateBytes(rng, bytes);
  const path = join(dir, "input.csv");
  writeFileSync(path, bytes);
  const labelColumn = rng.chance(0.6)
    ? rng.pick<string | number>(["label", cols - 1, -1, 0, "f0", "nope", cols, -cols - 1, 1.5, NaN])
    : undefined;
  const delimiter = rng.chance(0.9) ? delim : rng.pick(["", "ab", "\n", '"', "\r", ".", "1", "-"]);
  const opts = { header: rng.chance(0.9) ? header : !header, labelColumn, delimiter };
  return () => {
    const got = data.readCsv(path, opts);
    got.features.toFlatArray();
    got.labels?.toFlatArray();
  };
}
