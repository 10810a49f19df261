// Reading safetensors files (the format is described in safetensors.ts). The file is hostile:
// every size and offset is checked against the file and against limits the caller can raise
// (LoadOptions) before anything is allocated, the header is parsed by a strict, linear JSON
// parser, and each tensor's bytes are read straight into its storage. Platform-free: the bytes
// come from memory here (parseSafetensors, used in browsers too) or from a file in safetensors.ts.

import { allocArray, DTYPE_BYTES, type DType, type TypedArray } from "../core/dtype.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { checkLimit, tooLarge } from "../core/limits.js";
import { checkOptions, keysOf } from "../core/options.js";
import { fromHost, type Tensor } from "../tensor/tensor.js";
import { JsonError, parseStrictJson, TooManyKeys } from "./strict_json.js";

/** The default largest header (maxHeaderBytes; the reference implementation's limit is 100 MB too). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Whether this machine stores numbers little-endian (as safetensors does): then F32 bytes are copied as they are. */
export const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

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
  /** The tensors by name. */
  tensors: Record<string, Tensor>;
  /** The header's `__metadata__` strings ({} when none). */
  metadata: Record<string, string>;
}

/** Limits on what load reads and allocates; each refusal names the option that raises it. */
export interface LoadOptions {
  /** The most bytes of tensor data read, and of tensor memory made from it (default DEFAULT_MAX_LOAD_BYTES). */
  maxBytes?: number;
  /** The largest JSON header accepted (default MAX_HEADER_BYTES). */
  maxHeaderBytes?: number;
  /** The most tensors (header entries) accepted (default DEFAULT_MAX_TENSORS). */
  maxTensors?: number;
}

/** The keys of LoadOptions, for checkOptions. */
const LOAD_KEYS = keysOf<LoadOptions>()({ maxBytes: true, maxHeaderBytes: true, maxTensors: true });

/**
 * 8 GiB. A file's size already bounds what it can make Descent allocate (at most 4x, when U8 or
 * BOOL data becomes int32), so this guards a machine from a file that is merely huge; it is far
 * above what a training run on this framework holds, and a user loading more says so explicitly.
 */
export const DEFAULT_MAX_LOAD_BYTES = 8 * 2 ** 30;
/**
 * Real checkpoints hold hundreds to thousands of tensors per file. Each tensor costs about 0.5 KB
 * and ~10 µs to make even when empty, so 100,000 keeps a hostile header of empty tensors (100 MB
 * holds 1.7 M) under ~50 MB and a second.
 */
export const DEFAULT_MAX_TENSORS = 100_000;
/** The most dims a loaded tensor may have (PyTorch's TensorIterator allows 25; nested code recurses per dim). */
const MAX_NDIM = 64;
/** The largest dimension load accepts: PyTorch's sizes are int64, Descent's are int32-indexable. */
const MAX_DIM = 2 ** 31 - 1;

export interface Limits {
  maxBytes: number;
  maxHeaderBytes: number;
  maxTensors: number;
}

export function limits(where: string, o: LoadOptions = {}): Limits {
  checkOptions(where, o, LOAD_KEYS);
  const l = {
    maxBytes: o.maxBytes ?? DEFAULT_MAX_LOAD_BYTES,
    maxHeaderBytes: o.maxHeaderBytes ?? MAX_HEADER_BYTES,
    maxTensors: o.maxTensors ?? DEFAULT_MAX_TENSORS,
  };
  for (const [k, v] of Object.entries(l)) checkLimit(where, k, v);
  return l;
}

export interface Entry {
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

/** Sets obj[k] = v as an own property even when k is "__proto__". */
export function put<T>(obj: Record<string, T>, k: string, v: T): void {
  if (k === "__proto__") Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true });
  else obj[k] = v;
}

/** Checks one header entry against the data section's size; allocates nothing. */
function checkEntry(where: string, name: string, info: unknown, dataBytes: number): Entry {
  const at = `${where}: tensor "${name}"`;
  if (!isPlainObject(info)) throw new DescentError(`${at}: expected {dtype, shape, data_offsets}`);
  for (const k in info) {
    if (k !== "dtype" && k !== "shape" && k !== "data_offsets") {
      const extra = Object.keys(info).filter((k) => k !== "dtype" && k !== "shape" && k !== "data_offsets");
      throw new DescentError(`${at}: unexpected field(s) ${extra.join(", ")}`);
    }
  }
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
  if (shape.length > MAX_NDIM) {
    throw new DescentError(`${at}: shape has ${shape.length} dimensions, more than the ${MAX_NDIM} load accepts`);
  }
  // Even an empty tensor is refused a dim past int32: toArray and every index would overflow.
  if (shape.some((d) => d > MAX_DIM)) {
    throw new DescentError(`${at}: shape ${shapeStr(shape as number[])} has a dimension larger than ${MAX_DIM}`);
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

/**
 * Checks that the ranges tile the data section exactly (no overlap, no gap, nothing after the
 * last), in linear time: a map from begin to the non-empty range starting there is walked from
 * offset 0; an empty tensor must sit on a boundary of that walk.
 */
function checkTiling(where: string, entries: readonly Entry[], dataBytes: number): void {
  const byBegin = new Map<number, Entry>();
  for (const e of entries) {
    if (e.begin === e.end) continue;
    const other = byBegin.get(e.begin);
    if (other) {
      const later = other.end > e.end ? other : e;
      throw new DescentError(
        `${where}: tensor "${later.name}" overlaps the tensor before it (data_offsets [${later.begin}, ${later.end}])`,
      );
    }
    byBegin.set(e.begin, e);
  }
  let pos = 0;
  const walked = new Set<Entry>();
  for (let e = byBegin.get(0); e; e = byBegin.get(pos)) {
    walked.add(e);
    pos = e.end; // strictly increasing, so the walk ends
  }
  if (walked.size < byBegin.size) {
    // The first range (by begin) the walk missed starts inside one it took, or after a gap at pos.
    let f: Entry | undefined;
    for (const e of byBegin.values()) if (!walked.has(e) && (!f || e.begin < f.begin)) f = e;
    if (f!.begin < pos)
      throw new DescentError(
        `${where}: tensor "${f!.name}" overlaps the tensor before it (data_offsets [${f!.begin}, ${f!.end}])`,
      );
    throw new DescentError(
      `${where}: a gap of ${f!.begin - pos} byte(s) in the data section before tensor "${f!.name}"`,
    );
  }
  if (pos !== dataBytes) {
    throw new DescentError(
      `${where}: the data section has ${dataBytes - pos} byte(s) that no tensor covers, from data offset ${pos}`,
    );
  }
  for (const e of entries) {
    if (e.begin === e.end && e.begin !== dataBytes && !byBegin.has(e.begin)) {
      throw new DescentError(
        `${where}: tensor "${e.name}" overlaps the tensor before it (data_offsets [${e.begin}, ${e.end}])`,
      );
    }
  }
}

/** The checked entries and metadata of a header, before any tensor memory is allocated. */
export function parseHeader(
  where: string,
  bytes: Uint8Array,
  dataBytes: number,
  lim: Limits,
): { entries: Entry[]; metadata: Record<string, string> } {
  if (dataBytes > lim.maxBytes) throw tooLarge(where, `the data section (${dataBytes} bytes)`, lim.maxBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new DescentError(`${where}: the header is not valid UTF-8`);
  }
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  // Each entry is checked as it is parsed, so no tree of the whole header is kept. The first
  // refusal waits until the parse is done: a JSON syntax error anywhere is reported before it.
  let refusal: unknown = null;
  const member = (name: string, info: unknown): void => {
    if (refusal) return;
    try {
      check(name, info);
    } catch (e) {
      refusal = e;
    }
  };
  const check = (name: string, info: unknown): void => {
    if (name !== "__metadata__") {
      entries.push(checkEntry(where, name, info, dataBytes));
      return;
    }
    if (!isPlainObject(info)) throw new DescentError(`${where}: __metadata__ must be an object of strings`);
    for (const k of Object.keys(info)) {
      const v = info[k];
      if (typeof v !== "string") throw new DescentError(`${where}: __metadata__ "${k}" is not a string`);
      put(metadata, k, v);
    }
  };
  let head: unknown;
  try {
    // One more key than maxTensors leaves room for __metadata__.
    head = parseStrictJson(text, 64, lim.maxTensors + 1, member);
  } catch (e) {
    if (e instanceof TooManyKeys) {
      throw tooLarge(where, "the number of header entries", lim.maxTensors, "maxTensors");
    }
    if (e instanceof JsonError) throw new DescentError(`${where}: the header is not valid JSON: ${e.message}`);
    throw e;
  }
  if (!isPlainObject(head)) throw new DescentError(`${where}: the header must be a JSON object`);
  if (refusal) throw refusal;
  if (entries.length > lim.maxTensors) {
    throw tooLarge(where, `the number of tensors (${entries.length})`, lim.maxTensors, "maxTensors");
  }
  checkTiling(where, entries, dataBytes);
  // What the tensors will occupy once decoded (F16 becomes float32, U8 becomes int32, …).
  let decoded = 0;
  for (const e of entries) decoded += ((e.end - e.begin) / e.type.bytes) * DTYPE_BYTES[e.type.dtype];
  if (decoded > lim.maxBytes) throw tooLarge(where, `the tensors' memory (${decoded} bytes)`, lim.maxBytes);
  return { entries, metadata };
}

/** True when the stored bytes are the tensor's own bytes (no conversion). */
export function sameBytes(e: Entry): boolean {
  const s = e.dtypeName;
  const d = e.type.dtype;
  return (
    LITTLE && ((s === "F32" && d === "float32") || (s === "F64" && d === "float64") || (s === "I32" && d === "int32"))
  );
}

/** Decodes one checked entry from `bytes`, exactly its [begin, end) range, into a tensor. */
export function decode(where: string, e: Entry, bytes: Uint8Array): Tensor {
  // Decoded into a host array that the backend then adopts (storage.ts: a host backend keeps it).
  const out = hostArray(e);
  if (sameBytes(e)) {
    new Uint8Array(out.buffer, out.byteOffset, bytes.length).set(bytes);
    return fromHost(out, e.shape);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const n = out.length;
  let i = 0;
  try {
    for (; i < n; i++) out[i] = e.type.read(view, i);
  } catch (err) {
    if (err instanceof OutOfRange) {
      throw new DescentError(
        `${where}: tensor "${e.name}" (${e.dtypeName}) holds ${err.value} at element ${i}, outside the int32 range Descent stores integers in`,
      );
    }
    throw err;
  }
  return fromHost(out, e.shape);
}

/** A zeroed host array for entry e's elements. */
export function hostArray(e: Entry): TypedArray {
  let n = 1;
  for (const d of e.shape) n *= d;
  return allocArray(e.type.dtype, n);
}

/** The header length from the first 8 bytes, checked against the limit and the file's size. */
export function headerLength(where: string, first8: Uint8Array, size: number, lim: Limits): number {
  if (size < 8) throw new DescentError(`${where}: ${size} byte(s), too short for the 8-byte header length`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(lim.maxHeaderBytes))
    throw tooLarge(where, `the header length ${n}`, lim.maxHeaderBytes, "maxHeaderBytes");
  if (n > BigInt(size - 8)) {
    throw new DescentError(`${where}: the header length ${n} runs past the end of the ${size}-byte file`);
  }
  return Number(n);
}

/** Parses the bytes of a whole safetensors file held in memory (where names it in errors). */
export function parseSafetensors(where: string, buf: Uint8Array, opts?: LoadOptions): SafetensorsFile {
  const lim = limits(where, opts);
  const n = headerLength(where, buf.subarray(0, 8), buf.length, lim);
  const data = buf.subarray(8 + n);
  const { entries, metadata } = parseHeader(where, buf.subarray(8, 8 + n), data.length, lim);
  const tensors: Record<string, Tensor> = {};
  for (const e of entries) put(tensors, e.name, decode(where, e, data.subarray(e.begin, e.end)));
  return { tensors, metadata };
}
