// The Backend contract: what a new backend must write. Storage behind a door (storage.ts) plus sixteen primitive
// kernels, each receiving views (buffer + shape + strides + offset) so transposes, slices and
// broadcasts reach it without a copy. Everything fused (optimizer steps, softmax, RNN cells) is an
// optional acceleration (accelerations.ts) with an op-by-op fallback built from these kernels; the
// op names of unary/binary/reduce come from op_list.ts. The js backend is the reference.

import type { Layout } from "../core/shape.js";
import type { Accelerations } from "./accelerations.js";
import type { BinaryOp, ReduceOp, UnaryOp } from "./op_list.js";
import type { Storage, StorageDoor } from "./storage.js";

export type { BinaryOp, ReduceOp, UnaryOp } from "./op_list.js";

/** A strided window onto a backend's storage. A Tensor is one; so is a kernel's output. Only kernels index `data`. */
export interface View extends Layout {
  readonly data: Storage;
}

/**
 * The required kernels. Shapes of `x`, `a`, `b`, `out` passed together are equal unless stated
 * (the ops layer broadcasts with stride-0 views first). Outputs may be strided views too, except
 * where a kernel says `contiguous`, and an output may be one of the inputs (an in-place update).
 * dtypes of inputs and outputs may differ only in `copy`.
 */
export interface Kernels {
  /** out[i] = x[i], converting between dtypes (float→int32 truncates toward zero). */
  copy(x: View, out: View): void;
  fill(out: View, value: number): void;
  unary(op: UnaryOp, x: View, out: View): void;
  binary(op: BinaryOp, a: View, b: View, out: View): void;
  /** out[i] = cond[i] != 0 ? a[i] : b[i] */
  where(cond: View, a: View, b: View, out: View): void;
  /**
   * Reduces x over `dims` into out, whose shape is x's with those dims set to 1 (contiguous).
   * sum of an empty set is 0; max/min of an empty set is refused by the ops layer. NaN propagates.
   */
  reduce(op: ReduceOp, x: View, dims: readonly number[], out: View): void;
  /** Index of the first max/min along `dim` (NaN counts as the max/min); out is int32 with dim removed. */
  argReduce(op: "argmax" | "argmin", x: View, dim: number, out: View): void;
  /** a: [...batch, M, K], b: [...batch, K, N] (same batch shape, any strides); out contiguous [...batch, M, N], every element written (the matmul op allocates it unzeroed). */
  // float32 may accumulate in float32 (native, as PyTorch's sgemm: a partial sum past 3.4e38 gives ±Inf/NaN though
  // the exact result is finite) or in float64 (js, rounding to float32 every 256 of K); both are accepted (issue 11).
  matmul(a: View, b: View, out: View): void;
  /** out[..., i, ...] = x[..., index[..., i, ...], ...] along dim; index int32, already range-checked; out shaped as index. */
  gather(x: View, dim: number, index: View, out: View): void;
  /** out[..., index[..., i, ...], ...] += src[..., i, ...] along dim; index range-checked, shaped as src. */
  scatterAdd(out: View, dim: number, index: View, src: View): void;
  /**
   * im2col: x [N, C, H, W] (any strides) → out contiguous [N, C·kh·kw, outH·outW], row
   * (c·kh + i)·kw + j holding x[n, c, oh·sh - ph + i·dh, ow·sw - pw + j·dw] (0 outside the image).
   * Writes every element of out (the unfold op allocates it unzeroed).
   */
  im2col(x: View, p: Window2d, out: View): void;
  /** col2im, the adjoint: adds each column entry of cols [N, C·kh·kw, L] back into out [N, C, H, W] (contiguous, zeroed by the caller). */
  col2im(cols: View, p: Window2d, out: View): void;
  /**
   * Max pooling, the window primitive (im2col pads with 0, pooling needs -Inf and a NaN that ends
   * the scan, so it is not im2col + argReduce): x [N, C, H, W] (any strides) → out and int32
   * indices, contiguous [N, C, oh, ow] (their shape sets oh, ow; anything outside the image,
   * padding or ceil mode's extra row, reads -Inf). Each window is scanned row-major: the first
   * element, then any greater one or NaN (a NaN ends the scan). indices hold y·W + x of the winner
   * in its plane, or H·W when outside won.
   */
  maxPool2d(x: View, p: Window2d, out: View, indices: View): void;
  /** The adjoint: out[n, c, indices[n, c, o]] += g[n, c, o] (g any strides; out contiguous [N, C, H, W], zeroed by the caller; index H·W skipped). */
  maxPool2dBackward(g: View, indices: View, out: View): void;
  /**
   * The int32 positions along `dim` that sort each row of x (out shaped as x): ascending or
   * descending, NaN the largest value (last ascending, first descending), ties in input order (stable).
   */
  sort(x: View, dim: number, descending: boolean, out: View): void;
  /** Inclusive running sum or product along `dim`: out[.., i, ..] = x[.., 0, ..] op … op x[.., i, ..]; out shaped as x. */
  scan(op: ScanOp, x: View, dim: number, out: View): void;
}

export type ScanOp = "sum" | "prod";

/** A 2-D sliding window: kernel size, stride, zero padding and dilation, each [rows, cols]. */
export interface Window2d {
  /** Kernel size [kh, kw]. */
  readonly kernel: readonly [number, number];
  /** Stride [sh, sw]. */
  readonly stride: readonly [number, number];
  /** Zero padding [ph, pw] on each side. */
  readonly padding: readonly [number, number];
  /** Dilation [dh, dw]. */
  readonly dilation: readonly [number, number];
}

export type KernelName = keyof Kernels;

/** Kernels plus the storage door (storage.ts: alloc, adopt, read, write) through which every value enters and leaves. */
export interface Backend extends StorageDoor {
  readonly name: string;
  readonly kernels: Kernels;
  /** The fused kernels this backend offers; the others run their fallback (fallback/). */
  readonly accelerations: Partial<Accelerations>;
  /** The intra-op thread pool, for a backend that has one (setNumThreads / getNumThreads); absent: one thread. */
  readonly threads?: { get(): number; set(n: number): void };
}
