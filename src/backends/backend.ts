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
   */
  im2col(x: View, p: Window2d, out: View): void;
  /** col2im, the adjoint: adds each column entry of cols [N, C·kh·kw, L] back into out [N, C, H, W] (contiguous, zeroed by the caller). */
  col2im(cols: View, p: Window2d, out: View): void;
  /**
   * Max pooling: x [N, C, H, W] (any strides) → out and int32 indices, contiguous [N, C, oh, ow]
   * (their shape sets oh, ow; anything outside the image, padding or ceil mode's extra row, reads
   * -Inf). Each window is scanned row-major: the first element, then any greater one or NaN (a NaN
   * ends the scan). indices hold y·W + x of the winner in its plane, or H·W when outside won.
   */
  maxPool2d(x: View, p: Window2d, out: View, indices: View): void;
  /** The adjoint: out[n, c, indices[n, c, o]] += g[n, c, o] (g any strides; out contiguous [N, C, H, W], zeroed by the caller; index H·W skipped). */
  maxPool2dBackward(g: View, indices: View, out: View): void;
  /**
   * Fused optimizer updates (kernels of src/tensor/fused.ts): each updates a parameter and its
   * state buffers in place in one pass, rounding to the dtype wherever the op-by-op form of
   * src/optim/ rounds, so both give the same numbers. Every view is contiguous, all of one float
   * dtype, none aliasing another; the constants are float64 and the kernel rounds them to the dtype.
   */
  adamStep(p: View, grad: View, m: View, v: View, vmax: View | null, c: AdamConsts): void;
  /** buf is null without momentum; with c.first it is overwritten by the gradient (its first step). */
  sgdStep(p: View, grad: View, buf: View | null, c: SgdConsts): void;
  /** gradAvg: the centered variant's ḡ, or null; buf: the momentum buffer, or null. */
  rmspropStep(p: View, grad: View, sq: View, gradAvg: View | null, buf: View | null, c: RmspropConsts): void;
  adagradStep(p: View, grad: View, sum: View, c: AdagradConsts): void;
  /** Softmax (log: log-softmax) along the last dim of x; x and out contiguous, same shape, float. */
  softmax(x: View, log: boolean, out: View): void;
  /** Its input gradient from the output y and the output's gradient g (all contiguous, one shape). */
  softmaxBackward(g: View, y: View, log: boolean, out: View): void;
  /** ReLU's backward from its output y: out = y ≤ 0 ? 0 : g (NaN in y passes g); any strides. */
  reluBackward(g: View, y: View, out: View): void;
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

/** Adam/AdamW: p ← p·decay (AdamW; 1 for Adam), then the update of src/optim/adam.ts. */
export interface AdamConsts {
  readonly decay: number;
  /** Adam's L2 term (0: none). */
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** −lr / (1 − β1^t) */
  readonly negStepSize: number;
  /** √(1 − β2^t) */
  readonly bc2Sqrt: number;
  readonly maximize: boolean;
}

export interface SgdConsts {
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  readonly maximize: boolean;
  /** The momentum buffer's first step: it becomes the gradient. */
  readonly first: boolean;
}

export interface RmspropConsts {
  readonly lr: number;
  readonly alpha: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly momentum: number;
  readonly maximize: boolean;
}

export interface AdagradConsts {
  /** The decayed learning rate lr / (1 + (t − 1)·lrDecay). */
  readonly clr: number;
  readonly weightDecay: number;
  readonly eps: number;
  readonly maximize: boolean;
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
