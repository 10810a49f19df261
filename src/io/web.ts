// load and save as the browser entry (src/browser.ts) exports them: no file system there, so load
// reads bytes, a Blob or File, a fetch Response or a URL (fetched), and save gives a Blob to
// download or store. The bytes themselves are bytes.ts's saveToBytes / loadFromBytes.

import { DescentError } from "../core/errors.js";
import type { Tensor } from "../tensor/tensor.js";
import { loadFromBytes, saveToBytes, type AsyncByteSource, type ByteSource } from "./bytes.js";
import type { LoadOptions } from "./safetensors_read.js";

/**
 * Loads the tensors of a safetensors file by name (opts: the limits of Node's load): at once from
 * an ArrayBuffer or typed array; as a Promise from a URL (fetched), a Blob or File, or a Response.
 *
 * @example
 * ```ts
 * model.loadStateDict(await load("model.safetensors")); // fetched next to the page
 * model.loadStateDict(await load(fileInput.files[0]));
 * ```
 */
export function load(src: ByteSource, opts?: LoadOptions): Record<string, Tensor>;
export function load(src: string | URL | AsyncByteSource, opts?: LoadOptions): Promise<Record<string, Tensor>>;
export function load(
  src: string | URL | ByteSource | AsyncByteSource,
  opts?: LoadOptions,
): Record<string, Tensor> | Promise<Record<string, Tensor>> {
  if (typeof src === "string" || src instanceof URL) {
    if (typeof fetch !== "function") throw new DescentError(`load: ${String(src)}: no fetch here to read a URL with`);
    return loadFromBytes(fetch(src), opts);
  }
  return loadFromBytes(src as AsyncByteSource, opts);
}

/**
 * The safetensors file of tensors (and optional string metadata) as a Blob, to download or keep
 * in IndexedDB; saveToBytes gives the same bytes as a Uint8Array.
 *
 * @example
 * ```ts
 * const a = document.createElement("a");
 * a.href = URL.createObjectURL(save(model.stateDict()));
 * a.download = "model.safetensors";
 * a.click();
 * ```
 */
export function save(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Blob {
  if (typeof metadata === "string")
    throw new DescentError(
      `save: no file system in a browser to write "${metadata}" to; save(tensors) returns a Blob, saveToBytes(tensors) the bytes`,
    );
  return new Blob([saveToBytes(tensors, metadata) as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" });
}
