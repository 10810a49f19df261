// Storage: a backend's buffer handle and the one door through which the layers above read and
// write it. Above src/backends/ a tensor's buffer is opaque (a lint rule refuses `.data` there):
// values leave through `read` and enter through `write`/`adopt`, so a backend whose memory is not
// the JS heap (WebGPU, a wasm heap) can hold its own handle and copy at the door. For the js and
// native backends the handle is the host typed array the kernels index, so the door costs one
// copy at read-out and nothing on the kernel path.

import { allocArray, dtypeOfArray, type DType, type TypedArray } from "../core/dtype.js";

/**
 * A backend's buffer: what `View.data` holds. Host backends (js, native) use a TypedArray; the
 * type names the role, so a device backend can widen it without the layers above changing.
 * Identity matters: the autograd version counters key on it (views share it).
 */
export type Storage = TypedArray;

/** The host door, one per backend (`Backend` extends it). */
export interface StorageDoor {
  /** A zero-filled storage of `size` elements. */
  alloc(dtype: DType, size: number): Storage;
  /**
   * Optional: a storage of `size` elements whose values are unspecified (torch.empty), for an
   * output its kernel overwrites in full (`Kernels.matmul`'s and `Kernels.im2col`'s). Without
   * it, `alloc` serves. A backend offers it where zeroing costs: see native/index.ts.
   */
  allocEmpty?(dtype: DType, size: number): Storage;
  /** A storage holding src's values, in src's dtype. The caller gives src up (a host backend keeps it; no copy). */
  adopt(src: TypedArray): Storage;
  /** A fresh host copy of elements [offset, offset + length) (the caller owns it). */
  read(s: Storage, offset: number, length: number): TypedArray;
  /** Writes src (same dtype) into elements [offset, offset + src.length). */
  write(s: Storage, src: TypedArray, offset: number): void;
  /** The element type of s. */
  dtypeOf(s: Storage): DType;
}

/** The door of host backends, whose storage is the typed array itself. */
export const hostStorage: StorageDoor = {
  alloc: allocArray,
  adopt: (src) => src,
  read: (s, offset, length) => s.slice(offset, offset + length),
  write: (s, src, offset) => s.set(src, offset),
  dtypeOf: dtypeOfArray,
};
