// The Tensor the user holds: TensorBase (storage, layout, dtype, autograd state, read-out,
// backward; base.ts) plus every op as a method. A method is one line: it applies a primitive op
// through apply.ts, or hands the tensor to the file of its concern (elementwise, composite,
// activation, reduce, matmul, views, indexing, window, inplace), whose functions apply the ops
// themselves. Those files see this class only as a type, so imports point one way, down.

import { isDType, type DType, type TypedArray } from "../core/dtype.js";
import { checkDType } from "../core/options.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { sizeOf } from "../core/shape.js";
import type { Window2d } from "../backends/index.js";
import { adopt, alloc, type RawTensor } from "../ops/op.js";
import * as U from "../ops/unary.js";
import * as B from "../ops/binary.js";
import { Copy } from "../ops/movement.js";
import { apply, hostFilled } from "./apply.js";
import { TensorBase } from "./base.js";
import { binary, maskedFill } from "./elementwise.js";
import * as C from "./composite.js";
import * as A from "./activation.js";
import * as R from "./reduce.js";
import type { VarOptions } from "./reduce.js";
import { matmul } from "./matmul.js";
import * as V from "./views.js";
import * as X from "./indexing.js";
import * as W from "./window.js";
import * as I from "./inplace.js";
import * as O from "./order.js";
import * as G from "./arrange.js";

export type { GradHook, HookHandle } from "./base.js";
export type { SortOptions, TopkOptions } from "./order.js";
export { apply } from "./apply.js";
export { where } from "./elementwise.js";
export { cat, stack } from "./views.js";
export { keptShape } from "../ops/reduce.js";
export { MAX_TO_ARRAY_ENTRIES } from "./base.js";
/** A plain number where a tensor operand is accepted (broadcast as a 0-d tensor of the other operand's dtype). */
export type Scalar = number;
/** One dimension or several; negative dimensions count from the end, as in PyTorch. */
export type Dims = number | readonly number[];

/**
 * An n-dimensional array with autograd (torch.Tensor): a dtype (float32, float64 or int32), a
 * shape such as [N, C, H, W], strides over shared storage (views share it), and `requiresGrad`,
 * `grad` and `gradFn` for reverse-mode differentiation. Ops broadcast as NumPy/PyTorch do and return
 * new tensors; methods ending in `_` work in place. Make tensors with {@link tensor}, {@link zeros},
 * {@link randn} and the other creation functions; there is no dispose() (the garbage collector frees them).
 *
 * @example
 * ```ts
 * import { tensor } from "descent-nn";
 * const w = tensor([[1, 2], [3, 4]], { requiresGrad: true }); // [2, 2]
 * const x = tensor([[1], [1]]);                              // [2, 1]
 * const loss = w.matmul(x).relu().sum();                     // 0-d
 * loss.backward();
 * w.grad?.toArray(); // [[1, 1], [1, 1]]
 * w.reshape(4).mean().item(); // 2.5
 * ```
 */
export class Tensor extends TensorBase {
  // ---- dtype ----
  /**
   * This tensor converted to dtype (itself when it already has it); differentiable between float dtypes. PyTorch's `x.to(dtype)`.
   */
  to(dtype: DType): Tensor {
    return dtype === this.dtype ? this : apply(U.Cast, [this], isDType(dtype) ? dtype : checkDType("to", dtype));
  }
  /** `to("float32")`. */
  float(): Tensor {
    return this.to("float32");
  }
  /** `to("float64")`. */
  double(): Tensor {
    return this.to("float64");
  }
  /** `to("int32")` (truncates toward zero). */
  int(): Tensor {
    return this.to("int32");
  }

  // ---- element-wise (elementwise.ts) ----
  /** this + o, broadcasting (torch.add). */
  add(o: Tensor | Scalar): Tensor {
    return binary(B.Add, this, o);
  }
  /** this − o, broadcasting (torch.sub). */
  sub(o: Tensor | Scalar): Tensor {
    return binary(B.Sub, this, o);
  }
  /** this · o element-wise, broadcasting (torch.mul). */
  mul(o: Tensor | Scalar): Tensor {
    return binary(B.Mul, this, o);
  }
  /** this / o, broadcasting; true division (torch.div). */
  div(o: Tensor | Scalar): Tensor {
    return binary(B.Div, this, o, true);
  }
  /** this ** o, broadcasting (torch.pow). */
  pow(o: Tensor | Scalar): Tensor {
    return binary(B.Pow, this, o);
  }
  /** Element-wise maximum, broadcasting; NaN propagates (torch.maximum). */
  maximum(o: Tensor | Scalar): Tensor {
    return binary(B.Maximum, this, o);
  }
  /** Element-wise minimum, broadcasting; NaN propagates (torch.minimum). */
  minimum(o: Tensor | Scalar): Tensor {
    return binary(B.Minimum, this, o);
  }
  /** this == o as 1/0 values (PyTorch gives bool), broadcasting (torch.eq). */
  eq(o: Tensor | Scalar): Tensor {
    return binary(B.Eq, this, o);
  }
  /** this != o as 1/0 values (PyTorch gives bool), broadcasting (torch.ne). */
  ne(o: Tensor | Scalar): Tensor {
    return binary(B.Ne, this, o);
  }
  /** this < o as 1/0 values (PyTorch gives bool), broadcasting (torch.lt). */
  lt(o: Tensor | Scalar): Tensor {
    return binary(B.Lt, this, o);
  }
  /** this <= o as 1/0 values (PyTorch gives bool), broadcasting (torch.le). */
  le(o: Tensor | Scalar): Tensor {
    return binary(B.Le, this, o);
  }
  /** this > o as 1/0 values (PyTorch gives bool), broadcasting (torch.gt). */
  gt(o: Tensor | Scalar): Tensor {
    return binary(B.Gt, this, o);
  }
  /** this >= o as 1/0 values (PyTorch gives bool), broadcasting (torch.ge). */
  ge(o: Tensor | Scalar): Tensor {
    return binary(B.Ge, this, o);
  }
  /** −this (torch.neg). */
  neg(): Tensor {
    return apply(U.Neg, [this]);
  }
  /** |this| (torch.abs). */
  abs(): Tensor {
    return apply(U.Abs, [this]);
  }
  /** −1, 0 or 1 by sign (torch.sign). */
  sign(): Tensor {
    return apply(U.Sign, [this]);
  }
  /** eˣ (torch.exp). */
  exp(): Tensor {
    return apply(U.Exp, [this]);
  }
  /** eˣ − 1, accurate near 0 (torch.expm1). */
  expm1(): Tensor {
    return apply(U.Expm1, [this]);
  }
  /** Natural logarithm (torch.log). */
  log(): Tensor {
    return apply(U.Log, [this]);
  }
  /** ln(1 + x), accurate near 0 (torch.log1p). */
  log1p(): Tensor {
    return apply(U.Log1p, [this]);
  }
  /** √x (torch.sqrt). */
  sqrt(): Tensor {
    return apply(U.Sqrt, [this]);
  }
  /** 1/√x (torch.rsqrt). */
  rsqrt(): Tensor {
    return this.sqrt().reciprocal();
  }
  /** 1/x (torch.reciprocal). */
  reciprocal(): Tensor {
    return apply(U.Reciprocal, [this]);
  }
  /** x² (torch.square). */
  square(): Tensor {
    return this.mul(this);
  }
  /** sin x (torch.sin). */
  sin(): Tensor {
    return apply(U.Sin, [this]);
  }
  /** cos x (torch.cos). */
  cos(): Tensor {
    return apply(U.Cos, [this]);
  }
  /** The error function (torch.erf). */
  erf(): Tensor {
    return apply(U.Erf, [this]);
  }
  /** Rounds down (torch.floor); zero gradient. */
  floor(): Tensor {
    return apply(U.Floor, [this]);
  }
  /** Rounds up (torch.ceil); zero gradient. */
  ceil(): Tensor {
    return apply(U.Ceil, [this]);
  }
  /** Rounds half to even, as torch.round; zero gradient. */
  round(): Tensor {
    return apply(U.Round, [this]);
  }
  /** 1 where NaN, else 0 (torch.isnan, which gives bool). */
  isNan(): Tensor {
    return apply(U.IsNan, [this]);
  }
  /** 1 where ±Infinity, else 0 (torch.isinf, which gives bool). */
  isInf(): Tensor {
    return apply(U.IsInf, [this]);
  }
  /** 1 where neither NaN nor ±Infinity, else 0 (torch.isfinite, which gives bool). */
  isFinite(): Tensor {
    return this.sub(this).eq(0); // x - x is 0 exactly for finite x, NaN for ±Inf and NaN
  }
  /** Values limited to [min, max] (either bound may be omitted, not both) (torch.clamp). */
  clamp(min?: number, max?: number): Tensor {
    return C.clamp(this, min, max);
  }
  /** A copy with value where mask (nonzero; broadcast to this shape) is set (torch.masked_fill). */
  maskedFill(mask: Tensor, value: Scalar): Tensor {
    return maskedFill(this, mask, value);
  }

  // ---- activations (composite.ts; activation.ts picks the fused ops) ----
  /** max(x, 0) (torch.relu). */
  relu(): Tensor {
    return apply(U.Relu, [this]);
  }
  /** 1 / (1 + e⁻ˣ) (torch.sigmoid). */
  sigmoid(): Tensor {
    return apply(U.Sigmoid, [this]);
  }
  /** Hyperbolic tangent (torch.tanh). */
  tanh(): Tensor {
    return apply(U.Tanh, [this]);
  }
  /** x where x > 0, else slope·x (F.leaky_relu). */
  leakyRelu(slope = 0.01): Tensor {
    return C.leakyRelu(this, slope);
  }
  /** x where x > 0, else alpha·(eˣ − 1) (F.elu). */
  elu(alpha = 1): Tensor {
    return C.elu(this, alpha);
  }
  /** GELU, exact (erf) or with approximate "tanh" (F.gelu). */
  gelu(approximate: "none" | "tanh" = "none"): Tensor {
    return C.gelu(this, approximate);
  }
  /** x·sigmoid(x), a.k.a. swish (F.silu). */
  silu(): Tensor {
    return this.mul(this.sigmoid());
  }
  /** Softmax along dim: exp(x) / Σ exp(x), computed stably (torch.softmax). */
  softmax(dim: number): Tensor {
    return A.softmax(this, dim);
  }
  /** log(softmax(x)) along dim, computed stably (torch.log_softmax). */
  logSoftmax(dim: number): Tensor {
    return A.logSoftmax(this, dim);
  }
  /** @internal ReLU's backward (this is the gradient of y = relu(x)): this where y > 0 or NaN, else 0. */
  reluGrad(y: Tensor): Tensor {
    return A.reluGrad(this, y);
  }
  /** @internal the backward of the fused softmax ops (ops/fused.ts): this is the output's gradient. */
  softmaxGrad(y: Tensor, log: boolean): Tensor {
    return A.softmaxGrad(this, y, log);
  }

  // ---- reductions (reduce.ts) ----
  /** Sum over dim(s), or of every element when dim is omitted (torch.sum); keepDim keeps them as size 1. */
  sum(dim?: Dims, keepDim = false): Tensor {
    return R.sum(this, dim, keepDim);
  }
  /** Mean over dim(s), or of every element (torch.mean); float dtypes only. */
  mean(dim?: Dims, keepDim = false): Tensor {
    return R.mean(this, dim, keepDim);
  }
  /**
   * Variance over dim(s) (or all), with Bessel's correction by default (torch.var; opts.correction, unbiased, keepDim).
   */
  var(dim?: Dims, opts: VarOptions = {}): Tensor {
    return R.variance(this, dim, opts);
  }
  /** Standard deviation: √var with the same options (torch.std). */
  std(dim?: Dims, opts: VarOptions = {}): Tensor {
    return R.std(this, dim, opts);
  }
  /** Largest values over dims (PyTorch's amax); ties share the gradient evenly. */
  amax(dim?: Dims, keepDim = false): Tensor {
    return R.amax(this, dim, keepDim);
  }
  /** Smallest values over dims (torch.amin); ties share the gradient evenly. */
  amin(dim?: Dims, keepDim = false): Tensor {
    return R.amin(this, dim, keepDim);
  }
  /** max() and max(dims[]) are amax; max(dim) gives the values at argmax (the gradient goes to that index). */
  max(dim?: Dims, keepDim = false): Tensor {
    return R.max(this, dim, keepDim);
  }
  /** As max, for the smallest values (torch.min's values). */
  min(dim?: Dims, keepDim = false): Tensor {
    return R.min(this, dim, keepDim);
  }
  /** Index of the largest value along dim, or into the flattened tensor when dim is omitted (torch.argmax). */
  argmax(dim?: number, keepDim = false): Tensor {
    return R.argReduce(this, "argmax", dim, keepDim);
  }
  /** Index of the smallest value along dim, or into the flattened tensor (torch.argmin). */
  argmin(dim?: number, keepDim = false): Tensor {
    return R.argReduce(this, "argmin", dim, keepDim);
  }
  /** log Σ exp(x) over dim(s), computed stably (torch.logsumexp). */
  logSumExp(dim: Dims, keepDim = false): Tensor {
    return R.logSumExp(this, dim, keepDim);
  }
  /** The p-norm over dim(s), or of every element (torch.norm / torch.linalg.vector_norm). */
  norm(p = 2, dim?: Dims, keepDim = false): Tensor {
    return R.norm(this, p, dim, keepDim);
  }

  // ---- linear algebra (matmul.ts) ----
  /**
   * Matrix product with PyTorch's rules (torch.matmul): [n] · [n] → [], [m, k] · [k, n] → [m, n], and
   * batched [..., m, k] · [..., k, n] → [..., m, n] with the batch dimensions broadcast.
   */
  matmul(o: Tensor): Tensor {
    return matmul(this, o);
  }

  // ---- shape (views.ts; views unless stated) ----
  /** A view when the layout allows, else a contiguous copy (as PyTorch's reshape). */
  reshape(...shape: (number | readonly number[])[]): Tensor {
    return V.reshape(this, shape);
  }
  /**
   * The same storage seen with another shape (one size may be -1); refused when the strides do not
   * allow it (torch.Tensor.view; reshape copies instead).
   */
  view(...shape: (number | readonly number[])[]): Tensor {
    return V.view(this, shape);
  }
  /**
   * A view with the dimensions reordered, e.g. [N, H, W, C] → [N, C, H, W] with permute(0, 3, 1, 2) (torch.permute).
   */
  permute(...dims: (number | readonly number[])[]): Tensor {
    return V.permute(this, dims);
  }
  /** A view with dimensions d0 and d1 swapped (torch.transpose). */
  transpose(d0: number, d1: number): Tensor {
    return V.transpose(this, d0, d1);
  }
  /** A view repeating size-1 dimensions to shape without copying (-1 keeps a size) (torch.Tensor.expand). */
  expand(...shape: (number | readonly number[])[]): Tensor {
    return V.expand(this, shape);
  }
  /** expand(other.shape). */
  expandAs(other: Tensor): Tensor {
    return V.expand(this, [other.shape]);
  }
  /** A view without the size-1 dimensions (all, or those of dim) (torch.squeeze). */
  squeeze(dim?: Dims): Tensor {
    return V.squeeze(this, dim);
  }
  /** A view with a new size-1 dimension at dim (torch.unsqueeze). */
  unsqueeze(dim: number): Tensor {
    return V.unsqueeze(this, dim);
  }
  /** Dimensions startDim..endDim merged into one (torch.flatten). */
  flatten(startDim = 0, endDim = -1): Tensor {
    return V.flatten(this, startDim, endDim);
  }
  /** Python-style slice along dim: negative bounds count from the end, out-of-range bounds clamp. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return V.slice(this, dim, start, end, step);
  }
  /** A view of length entries of dim from start (torch.narrow). */
  narrow(dim: number, start: number, length: number): Tensor {
    return V.narrow(this, dim, start, length);
  }
  /** A view of one index of dim, that dimension removed (x[:, i] is select(1, i)) (torch.select). */
  select(dim: number, index: number): Tensor {
    return V.select(this, dim, index);
  }
  /** The slices along dim, each with that dim removed (views; their gradients add into one buffer). */
  unbind(dim = 0): Tensor[] {
    return V.unbind(this, dim);
  }
  /** Splits into chunks views of equal size along dim (the last may be smaller) (torch.chunk). */
  chunk(chunks: number, dim = 0): Tensor[] {
    return V.chunk(this, chunks, dim);
  }
  /** Splits along dim into views of splitSize each, or of the listed sizes (torch.split). */
  split(splitSize: number | readonly number[], dim = 0): Tensor[] {
    return V.split(this, splitSize, dim);
  }
  /** This tensor when row-major contiguous, else a contiguous copy (torch.Tensor.contiguous). */
  contiguous(): Tensor {
    return V.contiguous(this);
  }

  // ---- order and rearrangement (order.ts, arrange.ts; copies) ----
  /** [values, indices] sorted along opts.dim (default -1), ascending unless descending; stable (torch.sort). */
  sort(opts: O.SortOptions = {}): [Tensor, Tensor] {
    return O.sort(this, opts);
  }
  /** The indices that sort along opts.dim (default -1) (torch.argsort). */
  argsort(opts: O.SortOptions = {}): Tensor {
    return O.argsort(this, opts);
  }
  /** [values, indices] of the k largest (or smallest, largest: false) along opts.dim (default -1) (torch.topk). */
  topk(k: number, opts: O.TopkOptions = {}): [Tensor, Tensor] {
    return O.topk(this, k, opts);
  }
  /** Cumulative sum along dim (torch.cumsum). */
  cumsum(dim: number): Tensor {
    return O.cumsum(this, dim);
  }
  /** Cumulative product along dim (torch.cumprod). */
  cumprod(dim: number): Tensor {
    return O.cumprod(this, dim);
  }
  /** A copy reversed along dims (torch.flip). */
  flip(dims: Dims): Tensor {
    return G.flip(this, dims);
  }
  /** A copy rolled by shifts along dims, wrapping around; without dims, of the flattened tensor (torch.roll). */
  roll(shifts: number | readonly number[], dims?: number | readonly number[]): Tensor {
    return G.roll(this, shifts, dims);
  }
  /** A copy tiled sizes[i] times along each dimension (torch.Tensor.repeat). */
  repeat(...sizes: (number | readonly number[])[]): Tensor {
    return G.repeat(this, sizes.flat());
  }
  /** The lower triangle of the last two dimensions, the rest zero (torch.tril). */
  tril(diagonal = 0): Tensor {
    return G.tril(this, diagonal);
  }
  /** The upper triangle of the last two dimensions, the rest zero (torch.triu). */
  triu(diagonal = 0): Tensor {
    return G.triu(this, diagonal);
  }

  // ---- indexing (indexing.ts) ----
  /** out[i][j] = this[index[i][j]][j] for dim 0, and so on (torch.gather); index is int32 of the output's shape. */
  gather(dim: number, index: Tensor): Tensor {
    return X.gather(this, dim, index);
  }
  /** A copy with src added at the positions index gives along dim (torch.scatter_add). */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return X.scatterAdd(this, dim, index, src);
  }
  /** The entries of dim listed by the 1-D int index, in that order (torch.index_select). */
  indexSelect(dim: number, index: Tensor): Tensor {
    return X.indexSelect(this, dim, index);
  }

  // ---- sliding windows (window.ts; convolution and pooling are built on these) ----
  /** im2col: [N, C, H, W] → [N, C·kh·kw, outH·outW] (nn.functional.unfold). */
  im2col(p: Window2d): Tensor {
    return W.im2col(this, p);
  }
  /** col2im: [N, C·kh·kw, L] → [N, C, H, W], summing overlaps (nn.functional.fold). */
  col2im(size: readonly [number, number], p: Window2d): Tensor {
    return W.col2im(this, size, p);
  }
  /** Max over each window of p into [N, C, ...out] (the primitive under nn.functional.maxPool2d). */
  maxPool2d(p: Window2d, out: readonly [number, number]): Tensor {
    return W.maxPool2d(this, p, out);
  }
  /** maxPool2d's gradient; indices a forward produced (raw) are trusted, a caller's Tensor is range-checked. */
  maxUnpool2d(indices: Tensor | RawTensor, size: readonly [number, number]): Tensor {
    const trusted = !(indices instanceof Tensor);
    return W.maxUnpool2d(this, trusted ? new Tensor(indices) : indices, size, trusted);
  }

  // ---- autograd (the rest is TensorBase's) ----
  /** A contiguous copy that stays in the graph. */
  clone(): Tensor {
    return apply(Copy, [this]);
  }
  /** @internal a new tensor over raw storage: how apply.ts, which cannot name this class, makes outputs. */
  wrapRaw(raw: RawTensor): Tensor {
    return new Tensor(raw);
  }

  // ---- in place (inplace.ts; refused where they would corrupt a recorded graph) ----
  /** Copies src (broadcast, converted to this dtype) into this tensor in place (torch.Tensor.copy_). */
  copy_(src: Tensor | Scalar): this {
    return I.copy_(this, src);
  }
  /** Sets every element to value, in place (torch.Tensor.fill_). */
  fill_(value: Scalar): this {
    return I.fill_(this, value);
  }
  /** Sets every element to 0, in place (torch.Tensor.zero_). */
  zero_(): this {
    return I.zero_(this);
  }
  /** this += o, in place (torch.Tensor.add_). */
  add_(o: Tensor | Scalar): this {
    return I.add_(this, o);
  }
  /** this −= o, in place (torch.Tensor.sub_). */
  sub_(o: Tensor | Scalar): this {
    return I.sub_(this, o);
  }
  /** this ·= o, in place (torch.Tensor.mul_). */
  mul_(o: Tensor | Scalar): this {
    return I.mul_(this, o);
  }
  /** this /= o, in place (torch.Tensor.div_). */
  div_(o: Tensor | Scalar): this {
    return I.div_(this, o);
  }
  /** clamp, in place (torch.Tensor.clamp_). */
  clamp_(min?: number, max?: number): this {
    return I.clamp_(this, min, max);
  }
  /** Fills with draws from U(low, high) from the default generator, in place (torch.Tensor.uniform_). */
  uniform_(low = 0, high = 1): this {
    return I.uniform_(this, low, high);
  }
  /** Fills with draws from N(mean, std²) from the default generator, in place (torch.Tensor.normal_). */
  normal_(mean = 0, std = 1): this {
    return I.normal_(this, mean, std);
  }
}

/** A new zero-filled tensor (the building block of every creation function). */
export function fromRaw(dtype: DType, shape: readonly number[]): Tensor {
  return new Tensor(alloc(dtype, shape));
}

/** A new tensor whose i-th element (row-major) is f(i). */
export function fromArray(dtype: DType, shape: readonly number[], f: (i: number) => number): Tensor {
  return new Tensor(adopt(hostFilled(dtype, sizeOf(shape), f), shape));
}

/**
 * @internal a new contiguous tensor of src's dtype and `shape` holding src, handed to the backend
 * (a host backend keeps src itself: the caller gives it up). For readers (idx, safetensors) that
 * decode straight into a host array.
 */
export function fromHost(src: TypedArray, shape: readonly number[]): Tensor {
  if (src.length !== sizeOf(shape))
    throw new DescentError(`fromHost: shape ${shapeStr(shape)} needs ${sizeOf(shape)} values, got ${src.length}`);
  return new Tensor(adopt(src, shape));
}
