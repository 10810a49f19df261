// safetensors (huggingface/safetensors), the format PyTorch and Hugging Face exchange weights in:
// an 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}}
// with an optional "__metadata__" {string: string}, padded with spaces to 8-byte alignment, then
// the raw little-endian data, each tensor a contiguous [begin, end) range of the data section.
// Writing is atomic (temporary file in the same directory, fsync, rename); reading treats the file
// as hostile: every size and offset is checked against the file before anything is allocated.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { endianness } from "node:os";
import type { DType } from "../core/dtype.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { fromRaw, Tensor } from "../tensor/tensor.js";
import { JsonError, parseStrictJson } from "./strict_json.js";
import { writeAll, writeFileAtomic } from "./atomic.js";

/** The largest header accepted (the reference implementation's limit is 100 MB too). */
export const MAX_HEADER_BYTES = 100_000_000;

const LITTLE = endianness() === "LE";

const WRITE_DTYPE: Record<DType, string> = { float32: "F32", float64: "F64", int32: "I32" };

/** How each stored dtype is read: its size and the Descent dtype and element decoder it maps to. */
interface ReadType {
  bytes: number;
  dtype: DType;
  /** Reads element i; may throw a RangeError-style message for values int32 cannot hold. */
  read: (v: DataView, i: number) => number;
}

const READ_TYPES: Record<string, ReadType> = {
  F64: { bytes: 8, dtype: "float64", read: (v, i) => v.getFloat64(8 * i, true) },
  F32: { bytes: 4, dtype: "float32", read: (v, i) => v.getFloat32(4 * i, true) },
  F16: { bytes: 2, dtype: "float32", read: (v, i) => halfToFloat(v.getUint16(2 * i, true)) },
  BF16: { bytes: 2, dtype: "float32", read: (v, i) => bf16ToFloat(v.getUint16(2 * i, true)) },
  I64: { bytes: 8, dtype: "int32", read: (v, i) => int32Range(v.getBigInt64(8 * i, true)) },
  U64: { bytes: 8, dtype: "int32", read: (v, i) => int32Range(v.getBigUint64(8 * i, true)) },
  I32: { bytes: 4, dtype: "int32", read: (v, i) => v.getInt32(4 * i, true) },
  U32: { bytes: 4, dtype: "int32", read: (v, i) => int32Range(v.getUint32(4 * i, true)) },
  I16: { bytes: 2, dtype: "int32", read: (v, i) => v.getInt16(2 * i, true) },
  U16: { bytes: 2, dtype: "int32", read: (v, i) => v.getUint16(2 * i, true) },
  I8: { bytes: 1, dtype: "int32", read: (v, i) => v.getInt8(i) },
  U8: { bytes: 1, dtype: "int32", read: (v, i) => v.getUint8(i) },
  BOOL: { bytes: 1, dtype: "int32", read: (v, i) => (v.getUint8(i) ? 1 : 0) },
};

class OutOfRange extends Error {
  constructor(readonly value: bigint | number) {
    super(String(value));
  }
}

function int32Range(x: bigint | number): number {
  if (x < -2147483648 || x > 2147483647) throw new OutOfRange(x);
  return Number(x);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function bf16ToFloat(b: number): number {
  u32[0] = b << 16;
  return f32[0]!;
}

/** What a safetensors file holds. */
export interface SafetensorsFile {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** The little-endian bytes of t's elements in row-major order. */
function tensorBytes(t: Tensor): Uint8Array {
  const flat = t.toFlatArray();
  if (LITTLE) return new Uint8Array(flat.buffer, flat.byteOffset, flat.byteLength);
  const out = new Uint8Array(flat.byteLength);
  const v = new DataView(out.buffer);
  for (let i = 0; i < flat.length; i++) {
    if (t.dtype === "float64") v.setFloat64(8 * i, flat[i]!, true);
    else if (t.dtype === "float32") v.setFloat32(4 * i, flat[i]!, true);
    else v.setInt32(4 * i, flat[i]!, true);
  }
  return out;
}

/** Header bytes (padded with spaces to a multiple of 8) and the tensors in file order. */
function buildHeader(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> | undefined,
): { header: Uint8Array; order: [string, Tensor][] } {
  if (tensors === null || typeof tensors !== "object") {
    throw new DescentError("save: expected an object mapping names to tensors");
  }
  const order = Object.entries(tensors).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const head: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== "object") {
      throw new DescentError("save: metadata must be an object of string values");
    }
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string")
        throw new DescentError(`save: metadata "${k}" is a ${typeof v}; values must be strings`);
    }
    Object.defineProperty(head, "__metadata__", { value: { ...metadata }, enumerable: true });
  }
  let offset = 0;
  for (const [name, t] of order) {
    if (!(t instanceof Tensor)) throw new DescentError(`save: "${name}" is not a Tensor`);
    if (name === "__metadata__") throw new DescentError('save: "__metadata__" cannot name a tensor');
    const bytes = t.size * (t.dtype === "float64" ? 8 : 4);
    Object.defineProperty(head, name, {
      value: { dtype: WRITE_DTYPE[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes] },
      enumerable: true,
    });
    offset += bytes;
  }
  let json = JSON.stringify(head);
  const len = Buffer.byteLength(json, "utf8");
  json += " ".repeat((8 - (len % 8)) % 8);
  return { header: Buffer.from(json, "utf8"), order };
}

// The atomic write (temporary file, fsync, rename, stale temp files of killed writers removed)
// lives in atomic.ts, shared with every other file Descent writes.
export { writeFileAtomic } from "./atomic.js";

/**
 * Saves tensors as a safetensors file (F32 / F64 / I32, in sorted-name order), with optional
 * string metadata. The write is atomic.
 */
export function save(tensors: Record<string, Tensor>, path: string, metadata?: Record<string, string>): void {
  const { header, order } = buildHeader(tensors, metadata);
  writeFileAtomic("save", path, (fd) => {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeAll(fd, len);
    writeAll(fd, header);
    for (const [, t] of order) writeAll(fd, tensorBytes(t));
  });
}

// ---------------------------------------------------------------------------------------------
// Reading

interface Entry {
  name: string;
  type: ReadType;
  dtypeName: string;
  shape: number[];
  begin: number;
  end: number;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Checks one header entry against the data section's size; allocates nothing. */
function checkEntry(where: string, name: string, info: unknown, dataBytes: number): Entry {
  const at = `${where}: tensor "${name}"`;
  if (!isPlainObject(info)) throw new DescentError(`${at}: expected {dtype, shape, data_offsets}`);
  const extra = Object.keys(info).filter((k) => k !== "dtype" && k !== "shape" && k !== "data_offsets");
  if (extra.length) throw new DescentError(`${at}: unexpected field(s) ${extra.join(", ")}`);
  const { dtype, shape, data_offsets: offs } = info;
  if (typeof dtype !== "string") throw new DescentError(`${at}: dtype is missing or not a string`);
  const type = READ_TYPES[dtype];
  if (!type) {
    throw new DescentError(
      `${at}: dtype ${JSON.stringify(dtype)} is not supported (supported: ${Object.keys(READ_TYPES).join(", ")})`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
    throw new DescentError(`${at}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (
    !Array.isArray(offs) ||
    offs.length !== 2 ||
    !offs.every((o) => typeof o === "number" && Number.isSafeInteger(o) && o >= 0)
  ) {
    throw new DescentError(
      `${at}: data_offsets must be [begin, end], two non-negative integers, got ${JSON.stringify(offs)}`,
    );
  }
  const [begin, end] = offs as [number, number];
  if (begin > end || end > dataBytes) {
    throw new DescentError(
      `${at}: data_offsets [${begin}, ${end}] do not lie inside the ${dataBytes}-byte data section`,
    );
  }
  // The product is compared with the range (itself bounded by the file) before anything is made.
  let count = 1;
  for (const d of shape as number[]) count *= d;
  if (count * type.bytes !== end - begin) {
    throw new DescentError(
      `${at}: dtype ${dtype} and shape ${shapeStr(shape as number[])} need ${count * type.bytes} bytes, data_offsets [${begin}, ${end}] give ${end - begin}`,
    );
  }
  return { name, type, dtypeName: dtype, shape: shape as number[], begin, end };
}

/** Decodes one checked entry into a tensor. */
function decode(where: string, e: Entry, data: Uint8Array): Tensor {
  const t = fromRaw(e.type.dtype, e.shape);
  const n = t.data.length;
  const stored = e.dtypeName;
  const same =
    LITTLE &&
    ((stored === "F32" && e.type.dtype === "float32") ||
      (stored === "F64" && e.type.dtype === "float64") ||
      (stored === "I32" && e.type.dtype === "int32"));
  if (same) {
    new Uint8Array(t.data.buffer, t.data.byteOffset, e.end - e.begin).set(data.subarray(e.begin, e.end));
    return t;
  }
  const view = new DataView(data.buffer, data.byteOffset + e.begin, e.end - e.begin);
  const out = t.data;
  let i = 0;
  try {
    for (; i < n; i++) out[i] = e.type.read(view, i);
  } catch (err) {
    if (err instanceof OutOfRange) {
      throw new DescentError(
        `${where}: tensor "${e.name}" (${stored}) holds ${err.value} at element ${i}, outside the int32 range Descent stores integers in`,
      );
    }
    throw err;
  }
  return t;
}

/** Reads a safetensors file: its tensors (in header order) and its metadata. Refuses malformed files. */
export function loadFile(path: string): SafetensorsFile {
  const where = `load: ${path}`;
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new DescentError(`${where}: cannot open the file: ${(e as Error).message}`);
  }
  let buf: Buffer;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new DescentError(`${where}: not a regular file`);
    const size = st.size;
    if (size < 8) throw new DescentError(`${where}: ${size} byte(s), too short for the 8-byte header length`);
    const lenBuf = Buffer.alloc(8);
    readFull(fd, lenBuf, 0);
    const n = lenBuf.readBigUInt64LE(0);
    if (n > BigInt(MAX_HEADER_BYTES)) {
      throw new DescentError(`${where}: the header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
    }
    if (n > BigInt(size - 8)) {
      throw new DescentError(`${where}: the header length ${n} runs past the end of the ${size}-byte file`);
    }
    buf = Buffer.alloc(size); // the file's real size, never a size the file claims
    readFull(fd, buf, 0);
  } finally {
    closeSync(fd);
  }
  return parseSafetensors(where, buf);
}

function readFull(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const got = readSync(fd, buf, done, buf.length - done, position + done);
    if (got === 0) throw new DescentError(`read: the file shrank while being read`);
    done += got;
  }
}

/** Parses the bytes of a whole safetensors file (where names it in errors). */
export function parseSafetensors(where: string, buf: Uint8Array): SafetensorsFile {
  if (buf.length < 8) throw new DescentError(`${where}: ${buf.length} byte(s), too short for the 8-byte header length`);
  const n = new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES) || n > BigInt(buf.length - 8)) {
    throw new DescentError(`${where}: the header length ${n} runs past the end of the ${buf.length}-byte file`);
  }
  const headerLen = Number(n);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(8, 8 + headerLen));
  } catch {
    throw new DescentError(`${where}: the header is not valid UTF-8`);
  }
  let head: unknown;
  try {
    head = parseStrictJson(text);
  } catch (e) {
    if (e instanceof JsonError) throw new DescentError(`${where}: the header is not valid JSON: ${e.message}`);
    throw e;
  }
  if (!isPlainObject(head)) throw new DescentError(`${where}: the header must be a JSON object`);
  const data = buf.subarray(8 + headerLen);
  const metadata: [string, string][] = [];
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(head)) {
    if (name === "__metadata__") {
      if (!isPlainObject(info)) throw new DescentError(`${where}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== "string") throw new DescentError(`${where}: __metadata__ "${k}" is not a string`);
        metadata.push([k, v]);
      }
      continue;
    }
    entries.push(checkEntry(where, name, info, data.length));
  }
  // The ranges must tile the data section exactly: no overlap, no gap, nothing after the last.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin < pos)
      throw new DescentError(
        `${where}: tensor "${e.name}" overlaps the tensor before it (data_offsets [${e.begin}, ${e.end}])`,
      );
    if (e.begin > pos)
      throw new DescentError(
        `${where}: a gap of ${e.begin - pos} byte(s) in the data section before tensor "${e.name}"`,
      );
    pos = e.end;
  }
  if (pos !== data.length) {
    throw new DescentError(
      `${where}: the data section has ${data.length - pos} byte(s) that no tensor covers, from data offset ${pos}`,
    );
  }
  return {
    tensors: Object.fromEntries(entries.map((e) => [e.name, decode(where, e, data)])),
    metadata: Object.fromEntries(metadata),
  };
}

/** Loads the tensors of a safetensors file by name. */
export function load(path: string): Record<string, Tensor> {
  return loadFile(path).tensors;
}
