// The wasm backend's heap: its kernels' instance plus a scratch bump allocator in its linear memory.
// Tensor storage stays host typed arrays (hostStorage), so each kernel call copies its operands in
// (only the span of the buffer a view reaches, so a slice copies its slice and a broadcast its one
// row), runs, and copies its output back: O(n²) copying against O(n³) GEMM work. The scratch is
// reset at every call (kernels are synchronous and never nest), and memory only grows; growing
// detaches the old ArrayBuffer, so the typed views over it are rebuilt after each grow.

import type { View } from "../backend.js";

/** The parts of the WebAssembly API used here, typed locally: the project's lib (ES2022 + @types/node) has none. */
export interface WasmApi {
  Module: new (bytes: ArrayBuffer | ArrayBufferView) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: object };
  compile(bytes: ArrayBuffer | ArrayBufferView): Promise<WasmModule>;
  Memory: new (limits: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
/** A compiled module (WebAssembly.Module). */
export type WasmModule = object & { readonly __wasmModule?: never };

/** The WebAssembly global object of this runtime, or undefined where there is none. */
export const webAssembly = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** What descent.wasm exports (wasm/*.c). Pointers are byte addresses in `memory`. */
export interface WasmExports {
  /** Absent in descent-mt.wasm, which imports its (shared) memory. */
  readonly memory?: WasmMemory;
  readonly __heap_base: { readonly value: number };
  matmul_f32(meta: number, a: number, b: number, c: number): void;
  matmul_f32_cols(meta: number, a: number, b: number, c: number, j0: number, j1: number, scratch: number): void;
  matmul_scratch_floats(): number;
  im2col_f32(p: number, im: number, cols: number): void;
  col2im_f32(p: number, cols: number, im: number): void;
  /** wasm/probe.c: the SIMD128 throughput probe (bench/suite.ts's wasm peak). */
  peak_f32(iters: number, b: number, c: number): number;
  peak_flops_per_iter(): number;
}

/** A WebAssembly.Memory, exported by descent.wasm or made here (shared) for descent-mt.wasm. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

export class Heap {
  private base: number;
  private top: number;
  private buffer: ArrayBuffer | SharedArrayBuffer | undefined;
  private f32v: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private i32v: Int32Array<ArrayBufferLike> = new Int32Array(0);

  constructor(
    readonly exports: WasmExports,
    readonly memory: WasmMemory,
  ) {
    this.base = (exports.__heap_base.value + 15) & ~15;
    this.top = this.base;
  }

  /** Starts a kernel call: every earlier allocation is free again. */
  reset(): void {
    this.top = this.base;
  }

  /** `bytes` kept for good (a thread's scratch and stack), between calls; returns its byte address. */
  reserve(bytes: number): number {
    this.top = this.base;
    const at = this.alloc(bytes);
    this.base = this.top;
    return at;
  }

  /** `bytes` of scratch, 16-byte aligned, growing the memory when needed; returns its byte address. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top = (at + bytes + 15) & ~15;
    const mem = this.memory;
    const have = mem.buffer.byteLength;
    if (this.top > have) mem.grow(Math.ceil((this.top - have) / 65536));
    return at;
  }

  get f32(): Float32Array<ArrayBufferLike> {
    this.refresh();
    return this.f32v;
  }

  get i32(): Int32Array<ArrayBufferLike> {
    this.refresh();
    return this.i32v;
  }

  /** Copies int32 values in; returns their byte address. */
  ints(values: readonly number[]): number {
    const at = this.alloc(4 * values.length);
    this.i32.set(values, at >> 2);
    return at;
  }

  /**
   * Copies the part of a float32 view's buffer the view reaches into the heap; returns the byte
   * address of the view's element 0 (strides then apply unchanged, negative ones included).
   */
  input(v: View): number {
    let lo = v.offset;
    let hi = v.offset;
    for (let d = 0; d < v.shape.length; d++) {
      const span = (v.shape[d]! - 1) * v.strides[d]!;
      if (v.shape[d] === 0) return this.alloc(0);
      if (span < 0) lo += span;
      else hi += span;
    }
    const at = this.alloc(4 * (hi + 1 - lo));
    this.f32.set((v.data as Float32Array).subarray(lo, hi + 1), at >> 2);
    return at + 4 * (v.offset - lo);
  }

  /** Copies `n` floats at byte address `at` back into `out` from element `offset`. */
  output(at: number, out: Float32Array, offset: number, n: number): void {
    out.set(this.f32.subarray(at >> 2, (at >> 2) + n), offset);
  }

  private refresh(): void {
    const buf = this.memory.buffer;
    if (buf !== this.buffer) {
      this.buffer = buf;
      this.f32v = new Float32Array(buf);
      this.i32v = new Int32Array(buf);
    }
  }
}
