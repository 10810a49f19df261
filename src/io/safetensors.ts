// safetensors (huggingface/safetensors), the format PyTorch and Hugging Face exchange weights in:
// an 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}}
// with an optional "__metadata__" {string: string}, padded with spaces to 8-byte alignment, then
// the raw little-endian data, each tensor a contiguous [begin, end) range of the data section.
// Writing is atomic (temporary file in the same directory, fsync, rename); reading (in
// safetensors_read.ts) treats the file as hostile: every size and offset is checked against the
// file and against raisable limits before anything is allocated.

// This file holds the path forms (Node); bytes.ts the in-memory ones that browsers use.

import { closeSync } from "node:fs";
import { openRegularFile, readExactly } from "../core/files.js";
import { fromHost, type Tensor } from "../tensor/tensor.js";
import { buildHeader, tensorBytes } from "./bytes.js";
import { writeAll, writeFileAtomic } from "./atomic.js";
import {
  decode,
  hostArray,
  headerLength,
  limits,
  parseHeader,
  put,
  sameBytes,
  type LoadOptions,
  type SafetensorsFile,
} from "./safetensors_read.js";

export { parseSafetensors, MAX_HEADER_BYTES, DEFAULT_MAX_LOAD_BYTES, DEFAULT_MAX_TENSORS } from "./safetensors_read.js";
export type { LoadOptions, SafetensorsFile } from "./safetensors_read.js";

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
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(header.length), true);
    writeAll(fd, len);
    writeAll(fd, header);
    for (const [, t] of order) writeAll(fd, tensorBytes(t));
  });
}

/**
 * Reads a safetensors file: its tensors (in header order) and its metadata. Refuses malformed
 * files, and files past the limits of opts, before allocating tensor memory; each tensor's bytes
 * are read straight into it (the file is never held whole in memory).
 */
export function loadFile(path: string, opts?: LoadOptions): SafetensorsFile {
  const where = `load: ${path}`;
  const lim = limits(where, opts);
  const { fd, size } = openRegularFile(where, path);
  try {
    const first8 = Buffer.alloc(Math.min(size, 8));
    readExactly(where, fd, first8, 0);
    const n = headerLength(where, first8, size, lim);
    const header = Buffer.allocUnsafe(n);
    readExactly(where, fd, header, 8);
    const { entries, metadata } = parseHeader(where, header, size - 8 - n, lim);
    const tensors: Record<string, Tensor> = {};
    for (const e of entries) {
      const at = 8 + n + e.begin;
      let t: Tensor;
      if (sameBytes(e)) {
        const out = hostArray(e);
        readExactly(where, fd, new Uint8Array(out.buffer, out.byteOffset, e.end - e.begin), at);
        t = fromHost(out, e.shape);
      } else {
        const bytes = Buffer.allocUnsafe(e.end - e.begin);
        readExactly(where, fd, bytes, at);
        t = decode(where, e, bytes);
      }
      put(tensors, e.name, t);
    }
    return { tensors, metadata };
  } finally {
    closeSync(fd);
  }
}

/**
 * Loads the tensors of a safetensors file by name (opts: the limits of loadFile); reads files that
 * PyTorch's safetensors.torch.save_file wrote (the counterpart of torch.load).
 *
 * @example
 * ```ts
 * const sd = load("model.safetensors"); // { "0.weight": Tensor, "0.bias": Tensor, … }
 * model.loadStateDict(sd);
 * ```
 */
export function load(path: string, opts?: LoadOptions): Record<string, Tensor> {
  return loadFile(path, opts).tensors;
}
