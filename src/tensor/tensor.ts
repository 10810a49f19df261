// The Tensor the user holds: TensorBase (storage, layout, dtype, autograd state, read-out,
// backward; base.ts) plus every op as a method. A method is one line: it applies a primitive op
// through apply.ts, or hands the tensor to the file of its concern (elementwise, composite,
// activation, reduce, matmul, views, indexing, window, inplace), whose functions apply the ops
// themselves. Those files see this class only as a type, so imports point one way, down.

import type { DType, TypedArray } from "../core/dtype.js";
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
export type Scalar = number;
export type Dims = number | readonly number[];

export class Tensor extends TensorBase {
  // ---- dtype ----
  to(dtype: DType): Tensor {
    return dtype === this.dtype ? this : apply(U.Cast, [this], dtype);
  }
  float(): Tensor {
    return this.to("float32");
  }
  double(): Tensor {
    return this.to("float64");
  }
  int(): Tensor {
    return this.to("int32");
  }

  // ---- element-wise (elementwise.ts) ----
  add(o: Tensor | Scalar): Tensor {
    return binary(B.Add, this, o);
  }
  sub(o: Tensor | Scalar): Tensor {
    return binary(B.Sub, this, o);
  }
  mul(o: Tensor | Scalar): Tensor {
    return binary(B.Mul, this, o);
  }
  div(o: Tensor | Scalar): Tensor {
    return binary(B.Div, this, o, true);
  }
  pow(o: Tensor | Scalar): Tensor {
    return binary(B.Pow, this, o);
  }
  maximum(o: Tensor | Scalar): Tensor {
    return binary(B.Maximum, this, o);
  }
  minimum(o: Tensor | Scalar): Tensor {
    return binary(B.Minimum, this, o);
  }
  eq(o: Tensor | Scalar): Tensor {
    return binary(B.Eq, this, o);
  }
  ne(o: Tensor | Scalar): Tensor {
    return binary(B.Ne, this, o);
  }
  lt(o: Tensor | Scalar): Tensor {
    return binary(B.Lt, this, o);
  }
  le(o: Tensor | Scalar): Tensor {
    return binary(B.Le, this, o);
  }
  gt(o: Tensor | Scalar): Tensor {
    return binary(B.Gt, this, o);
  }
  ge(o: Tensor | Scalar): Tensor {
    return binary(B.Ge, this, o);
  }
  neg(): Tensor {
    return apply(U.Neg, [this]);
  }
  abs(): Tensor {
    return apply(U.Abs, [this]);
  }
  sign(): Tensor {
    return apply(U.Sign, [this]);
  }
  exp(): Tensor {
    return apply(U.Exp, [this]);
  }
  expm1(): Tensor {
    return apply(U.Expm1, [this]);
  }
  log(): Tensor {
    return apply(U.Log, [this]);
  }
  log1p(): Tensor {
    return apply(U.Log1p, [this]);
  }
  sqrt(): Tensor {
    return apply(U.Sqrt, [this]);
  }
  rsqrt(): Tensor {
    return this.sqrt().reciprocal();
  }
  reciprocal(): Tensor {
    return apply(U.Reciprocal, [this]);
  }
  square(): Tensor {
    return this.mul(this);
  }
  sin(): Tensor {
    return apply(U.Sin, [this]);
  }
  cos(): Tensor {
    return apply(U.Cos, [this]);
  }
  erf(): Tensor {
    return apply(U.Erf, [this]);
  }
  floor(): Tensor {
    return apply(U.Floor, [this]);
  }
  ceil(): Tensor {
    return apply(U.Ceil, [this]);
  }
  round(): Tensor {
    return apply(U.Round, [this]);
  }
  isNan(): Tensor {
    return apply(U.IsNan, [this]);
  }
  isInf(): Tensor {
    return apply(U.IsInf, [this]);
  }
  isFinite(): Tensor {
    return this.sub(this).eq(0); // x - x is 0 exactly for finite x, NaN for ±Inf and NaN
  }
  clamp(min?: number, max?: number): Tensor {
    return C.clamp(this, min, max);
  }
  maskedFill(mask: Tensor, value: Scalar): Tensor {
    return maskedFill(this, mask, value);
  }

  // ---- activations (composite.ts; activation.ts picks the fused ops) ----
  relu(): Tensor {
    return apply(U.Relu, [this]);
  }
  sigmoid(): Tensor {
    return apply(U.Sigmoid, [this]);
  }
  tanh(): Tensor {
    return apply(U.Tanh, [this]);
  }
  leakyRelu(slope = 0.01): Tensor {
    return C.leakyRelu(this, slope);
  }
  elu(alpha = 1): Tensor {
    return C.elu(this, alpha);
  }
  gelu(approximate: "none" | "tanh" = "none"): Tensor {
    return C.gelu(this, approximate);
  }
  silu(): Tensor {
    return this.mul(this.sigmoid());
  }
  softmax(dim: number): Tensor {
    return A.softmax(this, dim);
  }
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
  sum(dim?: Dims, keepDim = false): Tensor {
    return R.sum(this, dim, keepDim);
  }
  mean(dim?: Dims, keepDim = false): Tensor {
    return R.mean(this, dim, keepDim);
  }
  var(dim?: Dims, opts: VarOptions = {}): Tensor {
    return R.variance(this, dim, opts);
  }
  std(dim?: Dims, opts: VarOptions = {}): Tensor {
    return R.std(this, dim, opts);
  }
  /** Largest values over dims (PyTorch's amax); ties share the gradient evenly. */
  amax(dim?: Dims, keepDim = false): Tensor {
    return R.amax(this, dim, keepDim);
  }
  amin(dim?: Dims, keepDim = false): Tensor {
    return R.amin(this, dim, keepDim);
  }
  /** max() and max(dims[]) are amax; max(dim) gives the values at argmax (the gradient goes to that index). */
  max(dim?: Dims, keepDim = false): Tensor {
    return R.max(this, dim, keepDim);
  }
  min(dim?: Dims, keepDim = false): Tensor {
    return R.min(this, dim, keepDim);
  }
  argmax(dim?: number, keepDim = false): Tensor {
    return R.argReduce(this, "argmax", dim, keepDim);
  }
  argmin(dim?: number, keepDim = false): Tensor {
    return R.argReduce(this, "argmin", dim, keepDim);
  }
  logSumExp(dim: Dims, keepDim = false): Tensor {
    return R.logSumExp(this, dim, keepDim);
  }
  norm(p = 2, dim?: Dims, keepDim = false): Tensor {
    return R.norm(this, p, dim, keepDim);
  }

  // ---- linear algebra (matmul.ts) ----
  matmul(o: Tensor): Tensor {
    return matmul(this, o);
  }

  // ---- shape (views.ts; views unless stated) ----
  /** A view when the layout allows, else a contiguous copy (as PyTorch's reshape). */
  reshape(...shape: (number | readonly number[])[]): Tensor {
    return V.reshape(this, shape);
  }
  view(...shape: (number | readonly number[])[]): Tensor {
    return V.view(this, shape);
  }
  permute(...dims: (number | readonly number[])[]): Tensor {
    return V.permute(this, dims);
  }
  transpose(d0: number, d1: number): Tensor {
    return V.transpose(this, d0, d1);
  }
  expand(...shape: (number | readonly number[])[]): Tensor {
    return V.expand(this, shape);
  }
  expandAs(other: Tensor): Tensor {
    return V.expand(this, [other.shape]);
  }
  squeeze(dim?: Dims): Tensor {
    return V.squeeze(this, dim);
  }
  unsqueeze(dim: number): Tensor {
    return V.unsqueeze(this, dim);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return V.flatten(this, startDim, endDim);
  }
  /** Python-style slice along dim: negative bounds count from the end, out-of-range bounds clamp. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return V.slice(this, dim, start, end, step);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return V.narrow(this, dim, start, length);
  }
  select(dim: number, index: number): Tensor {
    return V.select(this, dim, index);
  }
  /** The slices along dim, each with that dim removed (views; their gradients add into one buffer). */
  unbind(dim = 0): Tensor[] {
    return V.unbind(this, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return V.chunk(this, chunks, dim);
  }
  split(splitSize: number | readonly number[], dim = 0): Tensor[] {
    return V.split(this, splitSize, dim);
  }
  contiguous(): Tensor {
    return V.contiguous(this);
  }

  // ---- order and rearrangement (order.ts, arrange.ts; copies) ----
  sort(opts: O.SortOptions = {}): [Tensor, Tensor] {
    return O.sort(this, opts);
  }
  argsort(opts: O.SortOptions = {}): Tensor {
    return O.argsort(this, opts);
  }
  topk(k: number, opts: O.TopkOptions = {}): [Tensor, Tensor] {
    return O.topk(this, k, opts);
  }
  cumsum(dim: number): Tensor {
    return O.cumsum(this, dim);
  }
  cumprod(dim: number): Tensor {
    return O.cumprod(this, dim);
  }
  flip(dims: Dims): Tensor {
    return G.flip(this, dims);
  }
  roll(shifts: number | readonly number[], dims?: number | readonly number[]): Tensor {
    return G.roll(this, shifts, dims);
  }
  repeat(...sizes: (number | readonly number[])[]): Tensor {
    return G.repeat(this, sizes.flat());
  }
  tril(diagonal = 0): Tensor {
    return G.tril(this, diagonal);
  }
  triu(diagonal = 0): Tensor {
    return G.triu(this, diagonal);
  }

  // ---- indexing (indexing.ts) ----
  gather(dim: number, index: Tensor): Tensor {
    return X.gather(this, dim, index);
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return X.scatterAdd(this, dim, index, src);
  }
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
  copy_(src: Tensor | Scalar): this {
    return I.copy_(this, src);
  }
  fill_(value: Scalar): this {
    return I.fill_(this, value);
  }
  zero_(): this {
    return I.zero_(this);
  }
  add_(o: Tensor | Scalar): this {
    return I.add_(this, o);
  }
  sub_(o: Tensor | Scalar): this {
    return I.sub_(this, o);
  }
  mul_(o: Tensor | Scalar): this {
    return I.mul_(this, o);
  }
  div_(o: Tensor | Scalar): this {
    return I.div_(this, o);
  }
  clamp_(min?: number, max?: number): this {
    return I.clamp_(this, min, max);
  }
  uniform_(low = 0, high = 1): this {
    return I.uniform_(this, low, high);
  }
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
