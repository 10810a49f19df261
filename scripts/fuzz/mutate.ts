// Mutations shared by the fuzz targets: byte-level edits of a whole file (bit flips, interesting
// bytes, truncation, splices, integer overwrites) and structure-aware edits of JSON values (a node
// replaced by a hostile value, duplicate keys, deep nesting, very long strings).

import type { Rng } from "./rng.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const BYTES = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x20, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x0a, 0x0d];

/** Writes v (an integer possibly beyond 2^53) as `width` little-endian bytes at `at`. */
export function writeUint(buf: Uint8Array, at: number, width: number, v: bigint): void {
  for (let i = 0; i < width && at + i < buf.length; i++) buf[at + i] = Number((v >> BigInt(8 * i)) & 0xffn);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Integers worth writing over a length or size field (as bigint: 2^64 - 1 included). */
export function weirdBig(rng: Rng): bigint {
  return rng.pick([
    0n,
    1n,
    2n,
    7n,
    8n,
    255n,
    0x7fffffffn,
    0x80000000n,
    0xffffffffn,
    2n ** 53n,
    2n ** 63n,
    2n ** 64n - 1n,
  ]);
}

/** One to a few byte-level mutations of buf (a copy is returned). */
export function mutateBytes(rng: Rng, src: Uint8Array, count = rng.int(1, 4)): Uint8Array {
  let buf: Uint8Array = src.slice();
  for (let m = 0; m < count; m++) {
    const n = buf.length;
    const at = n === 0 ? 0 : rng.int(0, n - 1);
    switch (rng.int(0, 8)) {
      case 0: // flip bits
        if (n) buf[at] = buf[at]! ^ (1 << rng.int(0, 7));
        break;
      case 1: // an interesting byte
        if (n) buf[at] = rng.pick(BYTES);
        break;
      case 2: // truncate
        buf = buf.slice(0, at);
        break;
      case 3: {
        // delete a chunk
        const len = rng.int(1, Math.max(1, Math.min(64, n - at)));
        buf = concat(buf.subarray(0, at), buf.subarray(at + len));
        break;
      }
      case 4: {
        // duplicate a chunk in place
        const len = rng.int(1, Math.max(1, Math.min(256, n - at)));
        buf = concat(buf.subarray(0, at + len), buf.subarray(at, at + len), buf.subarray(at + len));
        break;
      }
      case 5: {
        // insert random bytes
        const extra = new Uint8Array(rng.int(1, 32)).map(() => rng.int(0, 255));
        buf = concat(buf.subarray(0, at), extra, buf.subarray(at));
        break;
      }
      case 6: // overwrite an integer
        writeUint(buf, at, rng.pick([1, 2, 4, 8]), weirdBig(rng));
        break;
      case 7: // append garbage
        buf = concat(
          buf,
          new Uint8Array(rng.int(1, 4096)).map(() => rng.int(0, 255)),
        );
        break;
      default: // splice: the tail of the file moved to a random place
        if (n > 1) {
          const from = rng.int(0, n - 1);
          buf = concat(buf.subarray(0, at), buf.subarray(from));
        }
    }
  }
  return buf;
}

/** A value hostile to whoever reads the field it lands in. */
export function weirdJson(rng: Rng, depth = 0): Json {
  switch (rng.int(0, 11)) {
    case 0:
      return rng.weirdInt();
    case 1:
      return rng.pick([-0, 1e308, -1e308, 5e-324, 0.1, -3.5, 1e21, 123456789012345680000]);
    case 2:
      return rng.pick(["", "F32", "F64", "I32", "U8", "BOOL", "F16", "BF16", "I64", "U64", "x", "NaN", "1"]);
    case 3:
      return "é\u0000\ud800".repeat(rng.int(1, 8)) + "A".repeat(rng.pick([1, 100, 70000]));
    case 4:
      return null;
    case 5:
      return rng.chance(0.5);
    case 6:
      return depth > 3 ? [] : Array.from({ length: rng.int(0, 4) }, () => weirdJson(rng, depth + 1));
    case 7:
      return depth > 3 ? {} : { [rng.pick(["a", "dtype", "shape", "__proto__", ""])]: weirdJson(rng, depth + 1) };
    case 8:
      return Array.from({ length: rng.int(0, 6) }, () => rng.weirdInt());
    case 9:
      return [rng.weirdInt(), rng.weirdInt()];
    case 10:
      return String(rng.weirdInt());
    default:
      return rng.pick([[], {}, [[1]], [-1], [1.5], ["1"], [null]]);
  }
}

/** Paths to every node of v (object keys and array indices). */
function paths(v: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

/** A deep copy of v with a few nodes replaced, removed or added. */
export function mutateJson(rng: Rng, v: Json, count = rng.int(1, 3)): Json {
  let root = JSON.parse(JSON.stringify(v)) as Json;
  for (let m = 0; m < count; m++) {
    const all = paths(root);
    const p = rng.pick(all);
    if (p.length === 0) {
      if (rng.chance(0.1)) root = weirdJson(rng);
      continue;
    }
    let parent = root as Record<string | number, Json>;
    for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
    const key = p[p.length - 1]!;
    const r = rng.int(0, 9);
    if (r < 6) parent[key] = weirdJson(rng);
    else if (r < 8) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
    } else if (Array.isArray(parent)) parent.push(weirdJson(rng));
    else
      parent[rng.pick(["extra", "dtype", "shape", "data_offsets", "__metadata__", "type", String(key) + "x"])] =
        weirdJson(rng);
  }
  return root;
}

/** Text-level edits JSON.stringify cannot produce: duplicate keys, deep nesting, huge strings, junk. */
export function mutateJsonText(rng: Rng, text: string): string {
  const at = rng.int(0, text.length);
  switch (rng.int(0, 6)) {
    case 0: {
      // duplicate the first key/value pair right after itself
      const m = /"[^"]*":\s*(\{[^{}]*\}|"[^"]*"|[^,{}]*)/.exec(text);
      return m ? text.replace(m[0], `${m[0]},${m[0]}`) : text;
    }
    case 1: {
      const depth = rng.pick([100, 5000, 200000]);
      return text.slice(0, at) + "[".repeat(depth) + "]".repeat(depth) + text.slice(at);
    }
    case 2:
      return text.replace(/"([^"]*)"/, `"${"\\u0041".repeat(rng.pick([1000, 2_000_000]))}"`);
    case 3:
      return text.replace(/"([^"]*)"/, `"${"x".repeat(rng.pick([100_000, 8_000_000]))}"`);
    case 4:
      return (
        text.slice(0, at) +
        rng.pick(["\\", '"', ",", "}", "]", "NaN", "-", "1e99999", "\ud800", "\u0000"]) +
        text.slice(at)
      );
    case 5:
      return text.replace(/\d+/, rng.pick(["1e400", "-0", "1.0", "9".repeat(400), "0x10", "00"]));
    default:
      return text.slice(0, at);
  }
}
