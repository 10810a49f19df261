// safetensors and checkpoints in memory: the forms that need no file system, so they work in
// browsers (src/browser.ts) as in Node. saveToBytes gives the bytes that save writes to a file;
// loadFromBytes reads them from an ArrayBuffer or typed array at once, and from a Blob or a fetch
// Response (or its promise) asynchronously, with the same checks and limits as load.

import type { DType } from "../core/dtype.js";
import { DescentError } from "../core/errors.js";
import { Tensor } from "../tensor/tensor.js";
import { checkpointParts, checkTargets, restoreCheckpoint } from "./checkpoint_state.js";
import type { CheckpointContents, CheckpointInfo, CheckpointTargets } from "./checkpoint_state.js";
import { LITTLE, parseSafetensors, type LoadOptions, type SafetensorsFile } from "./safetensors_read.js";

const WRITE_DTYPE: Record<DType, string> = { float32: "F32", float64: "F64", int32: "I32" };
/** The little-endian bytes of t's elements in row-major order. */
export function tensorBytes(t: Tensor): Uint8Array {
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
export function buildHeader(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> | undefined,
  op = "save",
): { header: Uint8Array; order: [string, Tensor][] } {
  if (tensors === null || typeof tensors !== "object") {
    throw new DescentError(`${op}: expected an object mapping names to tensors`);
  }
  const order = Object.entries(tensors).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const head: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== "object") {
      throw new DescentError(`${op}: metadata must be an object of string values`);
    }
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string")
        throw new DescentError(`${op}: metadata "${k}" is a ${typeof v}; values must be strings`);
    }
    Object.defineProperty(head, "__metadata__", { value: { ...metadata }, enumerable: true });
  }
  let offset = 0;
  for (const [name, t] of order) {
    if (!(t instanceof Tensor)) throw new DescentError(`${op}: "${name}" is not a Tensor`);
    if (name === "__metadata__") throw new DescentError(`${op}: "__metadata__" cannot name a tensor`);
    const bytes = t.size * (t.dtype === "float64" ? 8 : 4);
    Object.defineProperty(head, name, {
      value: { dtype: WRITE_DTYPE[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes] },
      enumerable: true,
    });
    offset += bytes;
  }
  const utf8 = new TextEncoder();
  let json = JSON.stringify(head);
  json += " ".repeat((8 - (utf8.encode(json).length % 8)) % 8);
  return { header: utf8.encode(json), order };
}

/** Bytes in memory: what loadFromBytes reads synchronously. */
export type ByteSource = ArrayBuffer | ArrayBufferView;
/** A Blob (a File from an <input type="file">) or what it shares with fetch's Response. */
export interface BlobLike {
  /** The whole content, read once. */
  arrayBuffer(): Promise<ArrayBuffer>;
}
/** A fetch Response: its status is checked before its body is read. */
export interface ResponseLike extends BlobLike {
  /** Whether the status is 200-299; a response that is not ok is refused, naming url and status. */
  readonly ok: boolean;
  /** The HTTP status. */
  readonly status: number;
  /** The URL answered (named in the refusal). */
  readonly url: string;
}
/** Sources read asynchronously: a Blob or File, a Response, or the promise fetch returns. */
export type AsyncByteSource = BlobLike | ResponseLike | PromiseLike<ResponseLike>;

/**
 * The bytes of a safetensors file holding tensors (F32 / F64 / I32, in sorted-name order) and
 * optional string metadata: exactly what save writes, for a download, IndexedDB or a fetch body.
 *
 * @example
 * ```ts
 * const blob = new Blob([saveToBytes(model.stateDict())]); // in a page: a file to download
 * ```
 */
export function saveToBytes(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const { header, order } = buildHeader(tensors, metadata, "saveToBytes");
  let total = 8 + header.length;
  const parts = order.map(([, t]) => tensorBytes(t));
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let at = 8 + header.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function asBytes(where: string, src: unknown): Uint8Array {
  if (src instanceof Uint8Array) return src;
  if (ArrayBuffer.isView(src)) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  if (src instanceof ArrayBuffer || Object.prototype.toString.call(src) === "[object SharedArrayBuffer]")
    return new Uint8Array(src as ArrayBuffer);
  throw new DescentError(
    `${where}: expected an ArrayBuffer, a typed array, a Blob or a Response, got ${src === null ? "null" : typeof src}`,
  );
}

function isAsync(src: unknown): src is AsyncByteSource {
  if (src === null || typeof src !== "object") return false;
  return (
    typeof (src as BlobLike).arrayBuffer === "function" || typeof (src as PromiseLike<unknown>).then === "function"
  );
}

/** The bytes of a Blob, a Response (refused unless ok) or a promised Response. */
async function readAsync(where: string, src: AsyncByteSource): Promise<Uint8Array> {
  const got = await src;
  if (got === null || typeof got !== "object" || typeof got.arrayBuffer !== "function") return asBytes(where, got); // a promise of something else: refused with the same message
  const r = got as Partial<ResponseLike>;
  if (typeof r.ok === "boolean" && !r.ok)
    throw new DescentError(`${where}: the response for ${r.url || "the request"} has status ${r.status}`);
  return new Uint8Array(await got.arrayBuffer());
}

/**
 * The tensors and metadata of safetensors bytes (where the bytes come from is named in errors as
 * `name`). Synchronous for bytes in memory; a Blob or Response gives a Promise.
 */
export function readSafetensorsBytes(src: ByteSource, opts?: LoadOptions, name?: string): SafetensorsFile;
export function readSafetensorsBytes(src: AsyncByteSource, opts?: LoadOptions, name?: string): Promise<SafetensorsFile>;
export function readSafetensorsBytes(
  src: ByteSource | AsyncByteSource,
  opts?: LoadOptions,
  name = "bytes",
): SafetensorsFile | Promise<SafetensorsFile> {
  const where = `loadFromBytes: ${name}`;
  if (isAsync(src)) return readAsync(where, src).then((b) => parseSafetensors(where, b, opts));
  return parseSafetensors(where, asBytes(where, src), opts);
}

/**
 * Loads the tensors of safetensors bytes by name, as load does from a file (opts: load's limits).
 * An ArrayBuffer or typed array is read at once; a Blob (a File), a fetch Response or the promise
 * fetch returns gives a Promise.
 *
 * @example
 * ```ts
 * model.loadStateDict(await loadFromBytes(fetch("model.safetensors")));
 * model.loadStateDict(loadFromBytes(saveToBytes(model.stateDict())));
 * ```
 */
export function loadFromBytes(src: ByteSource, opts?: LoadOptions): Record<string, Tensor>;
export function loadFromBytes(src: AsyncByteSource, opts?: LoadOptions): Promise<Record<string, Tensor>>;
export function loadFromBytes(
  src: ByteSource | AsyncByteSource,
  opts?: LoadOptions,
): Record<string, Tensor> | Promise<Record<string, Tensor>> {
  if (isAsync(src)) return readSafetensorsBytes(src, opts).then((f) => f.tensors);
  return readSafetensorsBytes(src, opts).tensors;
}

/** The bytes of a checkpoint of c: what saveCheckpoint writes to a file. */
export function saveCheckpointToBytes(c: CheckpointContents): Uint8Array {
  const { tensors, meta } = checkpointParts("saveCheckpointToBytes", c);
  return saveToBytes(tensors, meta);
}

/**
 * Restores a checkpoint from bytes (as loadCheckpoint does from a file) into t; synchronous for
 * bytes in memory, a Promise for a Blob or Response.
 */
export function loadCheckpointFromBytes(src: ByteSource, t: CheckpointTargets, opts?: LoadOptions): CheckpointInfo;
export function loadCheckpointFromBytes(
  src: AsyncByteSource,
  t: CheckpointTargets,
  opts?: LoadOptions,
): Promise<CheckpointInfo>;
export function loadCheckpointFromBytes(
  src: ByteSource | AsyncByteSource,
  t: CheckpointTargets,
  opts?: LoadOptions,
): CheckpointInfo | Promise<CheckpointInfo> {
  const where = "loadCheckpointFromBytes";
  checkTargets(where, t);
  if (isAsync(src)) return readSafetensorsBytes(src, opts).then((f) => restoreCheckpoint(where, f, t));
  return restoreCheckpoint(where, readSafetensorsBytes(src, opts), t);
}
