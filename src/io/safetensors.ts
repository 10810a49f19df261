// safetensors (huggingface/safetensors), the format PyTorch and Hugging Face exchange weights in:
// an 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}}
// with an optional "__metadata__" {string: string}, padded with spaces to 8-byte alignment, then
// the raw little-endian data, each tensor a contiguous [begin, end) range of the data section.
// Writing is atomic (temporary file in the same directory, fsync, rename); reading (in
// safetensors_read.ts) treats the file as hostile: every size and offset is checked against the
// file and against raisable limits before anything is allocated.

import type { DType } from "../core/dtype.js";
import { DescentError } from "../core/errors.js";
import { Tensor } from "../tensor/tensor.js";
import { LITTLE } from "./safetensors_read.js";
import { writeAll, writeFileAtomic } from "./atomic.js";

export {
  load,
  loadFile,
  parseSafetensors,
  MAX_HEADER_BYTES,
  DEFAULT_MAX_LOAD_BYTES,
  DEFAULT_MAX_TENSORS,
} from "./safetensors_read.js";
export type { LoadOptions, SafetensorsFile } from "./safetensors_read.js";

const WRITE_DTYPE: Record<DType, string> = { float32: "F32", float64: "F64", int32: "I32" };
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
 * string metadata. The write is atomic. PyTorch reads the file with safetensors.torch.load_file
 * (the counterpart of torch.save(model.state_dict(), f)).
 *
 * @example
 * ```ts
 * save(model.stateDict(), "model.safetensors");
 * model.loadStateDict(load("model.safetensors"));
 * ```
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
