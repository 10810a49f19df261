// The IDX format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist): a 4-byte magic (two zero
// bytes, a type code, the number of dimensions), each dimension as a big-endian int32, then the
// values big-endian in row-major order. Files may be gzipped (detected by the 1f 8b magic). The
// header is checked against the bytes actually there, and against maxBytes, before anything is
// allocated; a gzipped file's header is inflated first, so the stream is never inflated past the
// size its header announces (itself at most maxBytes).

import { allocArray, type DType } from "../core/dtype.js";
import { DescentError } from "../core/errors.js";
import { checkLimit, readFileLimited, tooLarge } from "../core/files.js";
import { checkOptions, keysOf } from "../core/options.js";
import { fromHost, type Tensor } from "../tensor/tensor.js";

/** Options of readIdx. */
export interface IdxOptions {
  /**
   * The most bytes read: the file, its decompressed contents, and the tensor made from them
   * (ubyte values become 4-byte int32). Default DEFAULT_IDX_MAX_BYTES.
   */
  maxBytes?: number;
}

/** The keys of IdxOptions, for checkOptions. */
const IDX_KEYS = keysOf<IdxOptions>()({ maxBytes: true });

/** 1 GiB: twenty times Fashion-MNIST's training images as int32, small enough for any machine. */
export const DEFAULT_IDX_MAX_BYTES = 2 ** 30;

interface IdxType {
  name: string;
  bytes: number;
  dtype: DType;
  read: (v: DataView, at: number) => number;
}

const TYPES: Record<number, IdxType> = {
  0x08: { name: "ubyte", bytes: 1, dtype: "int32", read: (v, at) => v.getUint8(at) },
  0x09: { name: "byte", bytes: 1, dtype: "int32", read: (v, at) => v.getInt8(at) },
  0x0b: { name: "short", bytes: 2, dtype: "int32", read: (v, at) => v.getInt16(at, false) },
  0x0c: { name: "int", bytes: 4, dtype: "int32", read: (v, at) => v.getInt32(at, false) },
  0x0d: { name: "float", bytes: 4, dtype: "float32", read: (v, at) => v.getFloat32(at, false) },
  0x0e: { name: "double", bytes: 8, dtype: "float64", read: (v, at) => v.getFloat64(at, false) },
};

interface Header {
  type: IdxType;
  dims: number[];
  headerBytes: number;
  dataBytes: number;
}

function hex(b: number | undefined): string {
  return b === undefined ? "--" : b.toString(16).padStart(2, "0");
}

/** Parses and checks the header from the first bytes of the (inflated) file. */
function parseHeader(where: string, head: Uint8Array, totalKnown: boolean, total: number, maxBytes: number): Header {
  if (head.length < 4) {
    throw new DescentError(`${where}: truncated: ${head.length} byte(s), too short for the 4-byte magic number`);
  }
  const [z0, z1, code, ndims] = [head[0]!, head[1]!, head[2]!, head[3]!];
  const type = TYPES[code];
  if (z0 !== 0 || z1 !== 0 || !type) {
    throw new DescentError(
      `${where}: not an IDX file: magic bytes ${hex(z0)} ${hex(z1)} ${hex(code)} ${hex(ndims)} at byte offset 0 (expected 00 00, a type code 08/09/0b/0c/0d/0e, and the number of dimensions)`,
    );
  }
  if (ndims === 0) throw new DescentError(`${where}: the header at byte offset 3 says 0 dimensions`);
  const headerBytes = 4 + 4 * ndims;
  if (head.length < headerBytes) {
    throw new DescentError(
      `${where}: truncated: the header needs ${headerBytes} bytes for ${ndims} dimension(s), the file has ${head.length}`,
    );
  }
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let d = 0; d < ndims; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    if (size > 0x7fffffff) {
      throw new DescentError(`${where}: dimension ${d} (byte offset ${4 + 4 * d}) is ${size}, more than 2^31-1`);
    }
    dims.push(size);
    count *= size;
  }
  const dataBytes = count * type.bytes;
  // The tensor's memory: 1- and 2-byte values are widened to int32.
  const tensorBytes = count * (type.dtype === "float64" ? 8 : 4);
  if (headerBytes + dataBytes > maxBytes || tensorBytes > maxBytes) {
    throw tooLarge(
      where,
      `the header claims dims [${dims.join(", ")}] of ${type.name} (${headerBytes + dataBytes} bytes, ${tensorBytes} as a tensor), which`,
      maxBytes,
    );
  }
  if (totalKnown && total !== headerBytes + dataBytes) {
    const what = total < headerBytes + dataBytes ? "truncated" : "trailing bytes";
    throw new DescentError(
      `${where}: ${what}: dims [${dims.join(", ")}] of ${type.name} need ${dataBytes} data bytes from byte offset ${headerBytes}, the file has ${total - headerBytes}`,
    );
  }
  return { type, dims, headerBytes, dataBytes };
}

/** Where the deflate data of a gzip member starts (RFC 1952: the optional fields may be any length). */
function deflateStart(where: string, raw: Uint8Array): number {
  const flg = raw[3] ?? 0;
  let at = 10;
  if (flg & 4) at += 2 + (raw[10] ?? 0) + 256 * (raw[11] ?? 0); // FEXTRA: a 2-byte length, then data
  for (const bit of [8, 16]) {
    // FNAME, FCOMMENT: zero-terminated
    if (flg & bit) {
      const end = raw.indexOf(0, at);
      at = end < 0 ? raw.length + 1 : end + 1;
    }
  }
  if (flg & 2) at += 2; // FHCRC
  if (raw[2] !== 8 || at > raw.length) {
    throw new DescentError(`${where}: corrupt or truncated gzip data: the gzip header is malformed or cut short`);
  }
  return at;
}

/** node:zlib, loaded when a gzipped file is read, not at import: loading it took 10-40 ms of start-up here. */
const zlib = () => process.getBuiltinModule("node:zlib");

/** The first bytes the deflate stream inflates to: at least `want` of them unless the stream is shorter. */
function inflatePrefix(where: string, deflate: Uint8Array, want: number): Uint8Array {
  // Inflating k input bytes yields at most ~1032k output bytes, so each try is bounded.
  for (let k = 256; ; k *= 2) {
    let out: Buffer;
    try {
      out = zlib().inflateRawSync(deflate.subarray(0, k), { finishFlush: zlib().constants.Z_SYNC_FLUSH });
    } catch (e) {
      throw new DescentError(`${where}: corrupt gzip data: ${(e as Error).message}`);
    }
    if (out.length >= want || k >= deflate.length) return out;
  }
}

/** Inflates a gzipped IDX file, reading its header first so the output is bounded by what it announces. */
function gunzipIdx(where: string, raw: Buffer, maxBytes: number): { bytes: Uint8Array; header: Header } {
  const deflate = raw.subarray(deflateStart(where, raw));
  let head = inflatePrefix(where, deflate, 4);
  if (head.length >= 4) head = inflatePrefix(where, deflate, 4 + 4 * head[3]!);
  const header = parseHeader(where, head, false, 0, maxBytes);
  const expected = header.headerBytes + header.dataBytes;
  let bytes: Buffer;
  try {
    bytes = zlib().gunzipSync(raw, { maxOutputLength: expected + 1 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ERR_BUFFER_TOO_LARGE" || err instanceof RangeError) {
      throw new DescentError(
        `${where}: trailing bytes: the gzip stream inflates to more than the ${expected} bytes its header describes`,
      );
    }
    throw new DescentError(`${where}: corrupt or truncated gzip data: ${err.message}`);
  }
  return { bytes, header: parseHeader(where, bytes, true, bytes.length, maxBytes) };
}

/**
 * Reads an IDX file (gzipped or not) into a tensor: ubyte/byte/short/int → int32, float → float32,
 * double → float64, with the file's dimensions as its shape. Refuses, before allocating, a file
 * whose size, decompressed size or tensor exceeds opts.maxBytes.
 */
export function readIdx(path: string, opts: IdxOptions = {}): Tensor {
  checkOptions("readIdx", opts, IDX_KEYS);
  const where = `readIdx: ${path}`;
  const maxBytes = opts.maxBytes ?? DEFAULT_IDX_MAX_BYTES;
  checkLimit(where, "maxBytes", maxBytes);
  const raw = readFileLimited(where, path, maxBytes);
  const gz = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
  const { bytes, header } = gz
    ? gunzipIdx(where, raw, maxBytes)
    : { bytes: raw, header: parseHeader(where, raw, true, raw.length, maxBytes) };
  const { type, dims, headerBytes } = header;
  // Decoded into a host array that the backend then adopts (a host backend keeps it: no copy).
  let n = 1;
  for (const d of dims) n *= d;
  const out = allocArray(type.dtype, n);
  if (type.bytes === 1 && type.name === "ubyte") {
    for (let i = 0; i < n; i++) out[i] = bytes[headerBytes + i]!;
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset + headerBytes, n * type.bytes);
    for (let i = 0; i < n; i++) out[i] = type.read(view, i * type.bytes);
  }
  return fromHost(out, dims);
}
