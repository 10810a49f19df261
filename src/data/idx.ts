// The IDX format of MNIST and Fashion-MNIST (yann.lecun.com/exdb/mnist): a 4-byte magic (two zero
// bytes, a type code, the number of dimensions), each dimension as a big-endian int32, then the
// values big-endian in row-major order. Files may be gzipped (detected by the 1f 8b magic). The
// header is checked against the bytes actually there before anything is allocated, and a gzipped
// file is never inflated past the size its header announces.

import { readFileSync } from "node:fs";
import { constants as zc, gunzipSync } from "node:zlib";
import type { DType } from "../core/dtype.js";
import { DescentError } from "../core/errors.js";
import { fromRaw, type Tensor } from "../tensor/tensor.js";

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

/** The most bytes of values one IDX file may hold (the largest typed array Node allocates comfortably). */
const MAX_DATA_BYTES = 2 ** 31 - 1;

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
function parseHeader(where: string, head: Uint8Array, totalKnown: boolean, total: number): Header {
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
  if (dataBytes > MAX_DATA_BYTES) {
    throw new DescentError(
      `${where}: the header claims dims [${dims.join(", ")}] of ${type.name} (${dataBytes} bytes), more than the ${MAX_DATA_BYTES} bytes this reader accepts`,
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

/** Inflates a gzipped IDX file, reading its header first so the output is bounded by what it announces. */
function gunzipIdx(where: string, raw: Buffer): { bytes: Uint8Array; header: Header } {
  let head: Buffer;
  try {
    // A sync flush decompresses whatever prefix of the stream is there, without needing the end.
    head = gunzipSync(raw.subarray(0, 4096), { finishFlush: zc.Z_SYNC_FLUSH });
  } catch (e) {
    throw new DescentError(`${where}: corrupt gzip data: ${(e as Error).message}`);
  }
  const header = parseHeader(where, head, false, 0);
  const expected = header.headerBytes + header.dataBytes;
  let bytes: Buffer;
  try {
    bytes = gunzipSync(raw, { maxOutputLength: expected + 1 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ERR_BUFFER_TOO_LARGE" || err instanceof RangeError) {
      throw new DescentError(
        `${where}: trailing bytes: the gzip stream inflates to more than the ${expected} bytes its header describes`,
      );
    }
    throw new DescentError(`${where}: corrupt or truncated gzip data: ${err.message}`);
  }
  return { bytes, header: parseHeader(where, bytes, true, bytes.length) };
}

/**
 * Reads an IDX file (gzipped or not) into a tensor: ubyte/byte/short/int → int32, float → float32,
 * double → float64, with the file's dimensions as its shape.
 */
export function readIdx(path: string): Tensor {
  const where = `readIdx: ${path}`;
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw new DescentError(`${where}: cannot read the file: ${(e as Error).message}`);
  }
  const gz = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
  const { bytes, header } = gz
    ? gunzipIdx(where, raw)
    : { bytes: raw, header: parseHeader(where, raw, true, raw.length) };
  const { type, dims, headerBytes } = header;
  const t = fromRaw(type.dtype, dims);
  const out = t.data;
  const n = out.length;
  if (type.bytes === 1 && type.name === "ubyte") {
    for (let i = 0; i < n; i++) out[i] = bytes[headerBytes + i]!;
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset + headerBytes, n * type.bytes);
    for (let i = 0; i < n; i++) out[i] = type.read(view, i * type.bytes);
  }
  return t;
}
