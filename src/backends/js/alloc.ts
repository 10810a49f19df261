// Storage allocation for the js backend (and the native one, which shares it). A typed array of
// more than 64 bytes normally gets its own ArrayBuffer, whose creation and later collection cost
// ~0.6-1 µs here (a backing store, external-memory accounting) whatever its size: for the small
// results of batch-1 inference that is more than the op itself. Such arrays are instead cut from
// a shared zero-filled slab (fresh memory, never reused, so every array still starts at zeros).
// The cost is that a slab stays alive while any array cut from it does: SLAB_BYTES bounds what
// one long-lived small tensor can pin. Arrays of 64 bytes or less (V8 keeps them on its heap) and
// of more than MAX_POOLED_BYTES (whose own buffer is cheap relative to their work) are allocated
// as before.

import { allocArray, type DType, type TypedArray } from "../../core/dtype.js";

/**
 * From /tmp micro-benchmarks on this 2-vCPU EPYC (node 20): new Float32Array(256) ~700 ns, a
 * view into a slab ~110 ns; at 1024 elements ~1.1 µs vs ~0.3 µs; at 32768 the slab loses.
 */
const MAX_POOLED_BYTES = 4096;
const SLAB_BYTES = 65536;
/** Views start on 64-byte boundaries (a cache line; what SIMD kernels like). */
const ALIGN = 64;

// The slab being cut and the next free byte: an allocation cache, invisible to callers.
let slab = new ArrayBuffer(0);
let next = 0;

export function allocStorage(dtype: DType, n: number): TypedArray {
  const bytes = n * (dtype === "float64" ? 8 : 4);
  if (bytes <= 64 || bytes > MAX_POOLED_BYTES) return allocArray(dtype, n);
  if (next + bytes > slab.byteLength) {
    slab = new ArrayBuffer(SLAB_BYTES);
    next = 0;
  }
  const at = next;
  next = (at + bytes + ALIGN - 1) & ~(ALIGN - 1);
  switch (dtype) {
    case "float32":
      return new Float32Array(slab, at, n);
    case "float64":
      return new Float64Array(slab, at, n);
    case "int32":
      return new Int32Array(slab, at, n);
  }
}
