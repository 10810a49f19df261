// The Backend contract: typed-array storage plus a fixed table of primitive kernels. Every kernel
// receives views (buffer + shape + strides + offset), so transposes, slices and broadcasts reach
// it without a copy. The js backend implements all of them; a faster backend may replace any.

import type { DType, TypedArray } from "../core/dtype.js";
import type { Layout } from "../core/shape.js";

/** A strided window onto a typed array. A Tensor is one; so is a kernel's output. */
export interface View extends Layout {
  readonly data: TypedArray;
}

export type UnaryOp =
  | "neg"
  | "abs"
  | "sign"
  | "exp"
  | "expm1"
  | "log"
  | "log1p"
  | "sqrt"
  | "reciprocal"
  | "sin"
  | "cos"
  | "tanh"
  | "sigmoid"
  | "relu"
  | "erf"
  | "floor"
  | "ceil"
  | "round"
  | "isnan"
  | "isinf";

export type BinaryOp =
  "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum" | "eq" | "ne" | "lt" | "le" | "gt" | "ge";

export type ReduceOp = "sum" | "max" | "min";

/**
 * The kernels. Shapes of `x`, `a`, `b`, `out` passed together are equal unless stated (the ops
 * layer broadcasts with stride-0 views first). Outputs may be strided views too, except where a
 * kernel says `contiguous`. dtypes of inputs and outputs may differ only in `copy`.
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
  /** a: [...batch, M, K], b: [...batch, K, N] (same batch shape, any strides); out contiguous [...batch, M, N]. */
  matmul(a: View, b: View, out: View): void;
  /** out[..., i, ...] = x[..., index[..., i, ...], ...] along dim; index int32, already range-checked; out shaped as index. */
  gather(x: View, dim: number, index: View, out: View): void;
  /** out[..., index[..., i, ...], ...] += src[..., i, ...] along dim; index range-checked, shaped as src. */
  scatterAdd(out: View, dim: number, index: View, src: View): void;
  /**
   * im2col: x [N, C, H, W] (any strides) → out contiguous [N, C·kh·kw, outH·outW], row
   * (c·kh + i)·kw + j holding x[n, c, oh·sh - ph + i·dh, ow·sw - pw + j·dw] (0 outside the image).
   */
  im2col(x: View, p: Window2d, out: View): void;
  /** col2im, the adjoint: adds each column entry of cols [N, C·kh·kw, L] back into out [N, C, H, W] (contiguous, zeroed by the caller). */
  col2im(cols: View, p: Window2d, out: View): void;
  /**
   * LSTM cell, gates i, f, g, o (all views 2-D, any strides): xg, hg [B, 4H] pre-activations whose
   * sum is the gates, c [B, H] → out contiguous [B, 7H] = [h' | c' | σi σf tanh g σo | tanh c'].
   */
  lstmCell(xg: View, hg: View, c: View, out: View): void;
  /** From ws (lstmCell's out), c and the gradients dh, dc [B, H] of h', c': dgates [B, 4H], dcPrev [B, H]. */
  lstmCellBackward(ws: View, c: View, dh: View, dc: View, dgates: View, dcPrev: View): void;
  /**
   * GRU cell, gates r, z, n: xg, hg [B, 3H] input- and hidden-side pre-activations, h [B, H], bhn
   * [B, H] (may be stride-0) or null, added to hg's n part → out contiguous [B, 5H] =
   * [h' | r | z | n | hg_n + bhn], with n = tanh(xg_n + r·(hg_n + bhn)), h' = (1 − z)·n + z·h.
   */
  gruCell(xg: View, hg: View, h: View, bhn: View | null, out: View): void;
  /** From ws (gruCell's out), h and dh [B, H], the gradient of h': dxg, dhg [B, 3H] and dhPrev [B, H]. */
  gruCellBackward(ws: View, h: View, dh: View, dxg: View, dhg: View, dhPrev: View): void;
}

/** A 2-D sliding window: kernel size, stride, zero padding and dilation, each [rows, cols]. */
export interface Window2d {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
}

export type KernelName = keyof Kernels;

export interface Backend {
  readonly name: string;
  readonly kernels: Kernels;
  alloc(dtype: DType, size: number): TypedArray;
}
