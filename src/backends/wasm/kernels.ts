// The wasm backend's kernels: the js backend's, with the float32 matrix product and the window
// kernels (im2col, col2im) run by descent.wasm (wasm/gemm.c, wasm/window.c). Anything else (other
// dtypes, odd layouts, calls too small to repay copying into the heap) runs in JS.

import { isContiguous, sizeOf, windowOut } from "../../core/shape.js";
import type { Kernels, View, Window2d } from "../backend.js";
import { matmulSizes } from "../js/matmul.js";
import type { Heap } from "./heap.js";
import type { ThreadPool } from "./threads.js";

/**
 * Below this many multiply-adds a product stays in JS: a wasm call copies its operands in and out
 * (~0.1 ns an element) on top of ~1 µs of fixed cost, and the js kernel does ~4 GFLOP/s.
 */
export const WASM_MIN_WORK = 4096;
/** Below this many multiply-adds a product runs on one thread (a job's hand-off costs ~20-50 µs). */
export const WASM_MIN_THREAD_WORK = 1 << 21;
/** wasm/gemm.c's register tile width: column ranges split on multiples of it. */
const NR = 16;
/** Below this many column entries im2col/col2im stay in JS (the js loop is within 2x of wasm's there). */
export const WASM_MIN_WINDOW = 2048;

const f32 = (...vs: View[]): boolean => vs.every((v) => v.data instanceof Float32Array);

/** The size thresholds below which a call stays in JS (tests set them to 0 to reach the wasm code at every size). */
export interface WasmLimits {
  readonly minWork: number;
  readonly minWindow: number;
  readonly minThreadWork: number;
}

export function wasmKernels(
  heap: Heap,
  js: Kernels,
  pool: ThreadPool | undefined,
  limits: Partial<WasmLimits> = {},
): Pick<Kernels, "matmul" | "im2col" | "col2im"> {
  const wasm = heap.exports;
  const { minWork = WASM_MIN_WORK, minWindow = WASM_MIN_WINDOW, minThreadWork = WASM_MIN_THREAD_WORK } = limits;

  function matmul(a: View, b: View, out: View): void {
    const { nd, batch, M, K, N } = matmulSizes(a, b);
    const work = batch * M * N * K;
    if (!f32(a, b, out) || work < minWork) return js.matmul(a, b, out);
    const threads = pool && work >= minThreadWork ? pool.prepare(N, NR) : 1; // before reset: it may reserve
    heap.reset();
    const meta = [
      nd - 2,
      M,
      K,
      N,
      0,
      a.strides[nd - 2]!,
      a.strides[nd - 1]!,
      0,
      b.strides[nd - 2]!,
      b.strides[nd - 1]!,
    ];
    for (let d = 0; d < nd - 2; d++) meta.push(a.shape[d]!, a.strides[d]!, b.strides[d]!);
    const m = heap.ints(meta);
    const pa = heap.input(a);
    const pb = heap.input(b);
    const pc = heap.alloc(4 * batch * M * N);
    if (threads > 1) pool!.matmul(threads, m, pa, pb, pc, N, NR);
    else wasm.matmul_f32(m, pa, pb, pc);
    heap.output(pc, out.data as Float32Array, out.offset, batch * M * N);
  }

  /** The window's int32 parameters (wasm/window.c's p) for image view `img`. */
  function params(img: View, p: Window2d): number[] {
    const [, , h, w] = img.shape as [number, number, number, number];
    const oh = windowOut(h, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0]);
    const ow = windowOut(w, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]);
    return [...img.shape, ...img.strides, ...p.kernel, ...p.stride, ...p.padding, ...p.dilation, oh, ow];
  }

  function im2col(x: View, p: Window2d, out: View): void {
    const n = sizeOf(out.shape);
    if (!f32(x, out) || n < minWindow || !isContiguous(out.shape, out.strides)) return js.im2col(x, p, out);
    heap.reset();
    const pp = heap.ints(params(x, p));
    const px = heap.input(x);
    const pc = heap.alloc(4 * n);
    wasm.im2col_f32(pp, px, pc);
    heap.output(pc, out.data as Float32Array, out.offset, n);
  }

  function col2im(cols: View, p: Window2d, out: View): void {
    const n = sizeOf(cols.shape);
    const contiguous = isContiguous(cols.shape, cols.strides) && isContiguous(out.shape, out.strides);
    if (!f32(cols, out) || n < minWindow || !contiguous) return js.col2im(cols, p, out);
    heap.reset();
    const pp = heap.ints(params(out, p));
    const pc = heap.input(cols);
    const po = heap.input(out); // the adjoint adds into out
    wasm.col2im_f32(pp, pc, po);
    heap.output(po, out.data as Float32Array, out.offset, sizeOf(out.shape));
  }

  return { matmul, im2col, col2im };
}
