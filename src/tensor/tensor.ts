// The Tensor: a typed-array buffer seen through a layout (shape, strides, offset), a dtype, and the
// autograd fields. Methods are one-liners that apply a primitive op or compose others; the longer
// composites live in composite.ts. Every op goes through `apply`, which records the graph.

import { checkFloat, isFloat, promoteTypes, scalarResultType, type DType, type TypedArray } from "../core/dtype.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { defaultGenerator } from "../core/random.js";
import {
  broadcastShapes,
  contiguousStrides,
  isContiguous,
  normDim,
  normDims,
  sameShape,
  sizeOf,
  windowOut,
} from "../core/shape.js";
import { backend, type View, type Window2d } from "../backends/index.js";
import { bumpVersion, isAnomalyEnabled, isGradEnabled, versionOf, type Node } from "../autograd/graph.js";
import { runBackward } from "../autograd/backward.js";
import type { OpDef, RawTensor } from "../ops/op.js";
import * as U from "../ops/unary.js";
import * as B from "../ops/binary.js";
import { Amax, Amin, ArgReduce, Sum, droppedShape, keptShape } from "../ops/reduce.js";
import { Cat, Copy, Expand, Permute, Reshape, Slice } from "../ops/movement.js";
import { MatMul } from "../ops/matmul.js";
import { Gather, ScatterAdd } from "../ops/indexing.js";
import { Fold, Unfold } from "../ops/window.js";
import { MaxPool2d, MaxUnpool2d } from "../ops/pool.js";
import { checkIndexRange } from "../ops/indexing.js";
import { LogSoftmaxLast, ReluBackward, SoftmaxBackward, SoftmaxLast } from "../ops/fused.js";
import * as C from "./composite.js";
import { formatTensor } from "./format.js";

export type Scalar = number;
export type Dims = number | readonly number[];
export type GradHook = (grad: Tensor) => Tensor | void;
export interface HookHandle {
  remove(): void;
}

export class Tensor implements View {
  readonly data: TypedArray;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  /** The gradient accumulated by backward() (leaves, and tensors that called retainGrad()). */
  grad: Tensor | null = null;
  /** How this tensor was computed; null for leaves. */
  gradFn: Node | null = null;
  private _requiresGrad = false;
  private hooks: GradHook[] = [];
  private _retainsGrad = false;

  constructor(raw: RawTensor) {
    this.data = raw.data;
    this.dtype = raw.dtype;
    this.shape = raw.shape;
    this.strides = raw.strides;
    this.offset = raw.offset;
  }

  get ndim(): number {
    return this.shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return sizeOf(this.shape);
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(flag: boolean) {
    if (flag && !isFloat(this.dtype))
      throw new DescentError(`requiresGrad: only floating-point tensors can require gradients, got ${this.dtype}`);
    if (!this.isLeaf && !flag)
      throw new DescentError(
        `requiresGrad: can only be changed on leaf tensors (this one comes from ${this.gradFn!.op.name}); use detach()`,
      );
    this._requiresGrad = flag;
  }
  get retainsGrad(): boolean {
    return this._retainsGrad;
  }
  /** True when some element is NaN or ±Inf (a direct scan: no op is recorded or checked). */
  hasNonFinite(): boolean {
    if (!isFloat(this.dtype)) return false;
    for (const v of this.toFlatArray()) if (v - v !== 0) return true;
    return false;
  }
  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  // ---- read-out ----
  item(): number {
    if (this.size !== 1)
      throw new DescentError(
        `item: a tensor with ${this.size} elements (shape ${shapeStr(this.shape)}) cannot be converted to a number`,
      );
    return this.data[this.offset]!;
  }
  /** A contiguous copy of the elements in row-major order. */
  toFlatArray(): TypedArray {
    return this.isContiguous() ? this.data.slice(this.offset, this.offset + this.size) : this.contiguousRaw().data;
  }
  /**
   * Nested arrays of numbers (a number for a 0-d tensor). Refused when the arrays would hold more
   * than MAX_TO_ARRAY_ENTRIES entries (numbers and inner arrays; [2^31, 0] would build 2^31
   * empty arrays): use toFlatArray() for big tensors.
   */
  toArray(): number | unknown[] {
    let entries = 0;
    for (let k = 0, p = 1; k < this.ndim; k++) entries += p *= this.shape[k]!;
    if (entries > MAX_TO_ARRAY_ENTRIES) {
      throw new DescentError(
        `toArray: shape ${shapeStr(this.shape)} needs ${entries} array entries, more than MAX_TO_ARRAY_ENTRIES (${MAX_TO_ARRAY_ENTRIES}); use toFlatArray()`,
      );
    }
    const flat = this.toFlatArray();
    const build = (dim: number, at: number): number | unknown[] => {
      if (dim === this.ndim) return flat[at]!;
      const step = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, at + i * step));
    };
    return build(0, 0);
  }
  toString(): string {
    const extras: string[] = [];
    if (this.dtype !== "float32") extras.push(`dtype=${this.dtype}`);
    if (this.gradFn) extras.push(`grad_fn=<${capitalize(this.gradFn.op.name)}Backward0>`);
    else if (this.requiresGrad) extras.push("requires_grad=True");
    return formatTensor(this.toFlatArray(), this.shape, this.dtype, extras);
  }

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

  // ---- element-wise ----
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
    if (!sameShape(broadcastShapes("maskedFill", mask.shape, this.shape), this.shape)) {
      throw new DescentError(
        `maskedFill: mask ${shapeStr(mask.shape)} does not broadcast to the tensor's shape ${shapeStr(this.shape)}`,
      );
    }
    return where(mask, value, this);
  }

  // ---- activations ----
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
    return fusedLastDim(this, dim) ? apply(SoftmaxLast, [this]) : C.softmax(this, dim);
  }
  logSoftmax(dim: number): Tensor {
    return fusedLastDim(this, dim) ? apply(LogSoftmaxLast, [this]) : C.logSoftmax(this, dim);
  }
  /** @internal ReLU's backward (this is the gradient of y = relu(x)): this where y > 0 or NaN, else 0. */
  reluGrad(y: Tensor): Tensor {
    return apply(ReluBackward, [this.to(y.dtype), y]);
  }
  /** @internal the backward of the fused softmax ops (ops/fused.ts): this is the output's gradient. */
  softmaxGrad(y: Tensor, log: boolean): Tensor {
    return apply(SoftmaxBackward, [this.to(y.dtype).contiguous(), y], log);
  }

  // ---- reductions ----
  sum(dim?: Dims, keepDim = false): Tensor {
    return apply(Sum, [this], { dims: normDims("sum", dim, this.ndim), keepDim });
  }
  mean(dim?: Dims, keepDim = false): Tensor {
    checkFloat("mean", this.dtype);
    const dims = normDims("mean", dim, this.ndim);
    return this.sum(dims, keepDim).div(dims.reduce((n, d) => n * this.shape[d]!, 1));
  }
  var(dim?: Dims, opts: { unbiased?: boolean; correction?: number; keepDim?: boolean } = {}): Tensor {
    return C.variance(this, dim, opts);
  }
  std(dim?: Dims, opts: { unbiased?: boolean; correction?: number; keepDim?: boolean } = {}): Tensor {
    checkFloat("std", this.dtype);
    return this.var(dim, opts).sqrt();
  }
  /** Largest values over dims (PyTorch's amax); ties share the gradient evenly. */
  amax(dim?: Dims, keepDim = false): Tensor {
    return apply(Amax, [this], { dims: normDims("amax", dim, this.ndim), keepDim });
  }
  amin(dim?: Dims, keepDim = false): Tensor {
    return apply(Amin, [this], { dims: normDims("amin", dim, this.ndim), keepDim });
  }
  /** max() and max(dims[]) are amax; max(dim) gives the values at argmax (the gradient goes to that index). */
  max(dim?: Dims, keepDim = false): Tensor {
    return typeof dim === "number" ? C.atArg(this, "argmax", dim, keepDim) : this.amax(dim, keepDim);
  }
  min(dim?: Dims, keepDim = false): Tensor {
    return typeof dim === "number" ? C.atArg(this, "argmin", dim, keepDim) : this.amin(dim, keepDim);
  }
  argmax(dim?: number, keepDim = false): Tensor {
    return argReduce(this, "argmax", dim, keepDim);
  }
  argmin(dim?: number, keepDim = false): Tensor {
    return argReduce(this, "argmin", dim, keepDim);
  }
  logSumExp(dim: Dims, keepDim = false): Tensor {
    return C.logSumExp(this, dim, keepDim);
  }
  norm(p = 2, dim?: Dims, keepDim = false): Tensor {
    return C.norm(this, p, dim, keepDim);
  }

  // ---- linear algebra ----
  matmul(o: Tensor): Tensor {
    return C.matmul(this, o, (a, b) => apply(MatMul, [a, b]));
  }

  // ---- shape (views unless stated) ----
  /** A view when the layout allows, else a contiguous copy (as PyTorch's reshape). */
  reshape(...shape: (number | readonly number[])[]): Tensor {
    const s = C.shapeArg("reshape", shape, this);
    if (sameShape(s, this.shape)) return this;
    return C.canView(this, s) ? apply(Reshape, [this], s) : this.contiguous().view(s);
  }
  view(...shape: (number | readonly number[])[]): Tensor {
    const s = C.shapeArg("view", shape, this);
    return sameShape(s, this.shape) ? this : apply(Reshape, [this], s);
  }
  permute(...dims: (number | readonly number[])[]): Tensor {
    const d = dims.flat().map((x) => normDim("permute", x, this.ndim));
    if (d.length !== this.ndim || new Set(d).size !== d.length) {
      throw new DescentError(
        `permute: [${dims.flat().join(",")}] is not a permutation of the ${this.ndim} dims of ${shapeStr(this.shape)}`,
      );
    }
    return d.every((x, i) => x === i) ? this : apply(Permute, [this], d);
  }
  transpose(d0: number, d1: number): Tensor {
    // The 2-D case (Linear's Wᵀ, every matmul backward) skips permute's generic checks.
    if (
      this.ndim === 2 &&
      (d0 === 0 || d0 === 1 || d0 === -1 || d0 === -2) &&
      (d1 === 0 || d1 === 1 || d1 === -1 || d1 === -2)
    )
      return (d0 & 1) === (d1 & 1) ? this : apply(Permute, [this], [1, 0]);
    const order = [...this.shape.keys()];
    const a = normDim("transpose", d0, this.ndim);
    const b = normDim("transpose", d1, this.ndim);
    [order[a], order[b]] = [order[b]!, order[a]!];
    return this.permute(order);
  }
  expand(...shape: (number | readonly number[])[]): Tensor {
    // Binary ops expand every operand to the broadcast shape, usually its own: answer that at once.
    if (shape.length === 1 && typeof shape[0] !== "number" && sameShape(shape[0]!, this.shape)) return this;
    const s = shape.flat();
    if (s.length < this.ndim)
      throw new DescentError(`expand: target ${shapeStr(s)} has fewer dims than the input ${shapeStr(this.shape)}`);
    const full = s.map((d, i) => (d === -1 ? (this.shape[i - (s.length - this.ndim)] ?? -1) : d));
    if (full.some((d) => !Number.isInteger(d) || d < 0))
      throw new DescentError(`expand: invalid target shape ${shapeStr(s)} for input ${shapeStr(this.shape)}`);
    return sameShape(full, this.shape) ? this : apply(Expand, [this], full);
  }
  expandAs(other: Tensor): Tensor {
    return this.expand(other.shape);
  }
  squeeze(dim?: Dims): Tensor {
    const dims = normDims("squeeze", dim, this.ndim).filter((d) => this.shape[d] === 1);
    return this.reshape(droppedShape(this.shape, dims));
  }
  unsqueeze(dim: number): Tensor {
    const d = normDim("unsqueeze", dim, this.ndim, true);
    return this.reshape([...this.shape.slice(0, d), 1, ...this.shape.slice(d)]);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    if (this.ndim === 0) return this.reshape([1]);
    const a = normDim("flatten", startDim, this.ndim);
    const b = normDim("flatten", endDim, this.ndim);
    if (a > b)
      throw new DescentError(
        `flatten: startDim ${startDim} comes after endDim ${endDim} for shape ${shapeStr(this.shape)}`,
      );
    return this.reshape([...this.shape.slice(0, a), sizeOf(this.shape.slice(a, b + 1)), ...this.shape.slice(b + 1)]);
  }
  /** Python-style slice along dim: negative bounds count from the end, out-of-range bounds clamp. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    const p = C.sliceParams(this, dim, start, end, step);
    return p.start === 0 && p.step === 1 && p.length === this.shape[p.dim] ? this : apply(Slice, [this], p);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    const d = normDim("narrow", dim, this.ndim);
    const size = this.shape[d]!;
    const s = start < 0 ? start + size : start;
    if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > size) {
      throw new DescentError(
        `narrow: start ${start} with length ${length} is out of range for dim ${dim} of size ${size} (shape ${shapeStr(this.shape)})`,
      );
    }
    return this.slice(d, s, s + length);
  }
  select(dim: number, index: number): Tensor {
    const d = normDim("select", dim, this.ndim);
    const size = this.shape[d]!;
    if (!Number.isInteger(index) || index < -size || index >= size) {
      throw new DescentError(
        `select: index ${index} is out of range for dim ${dim} of size ${size} (shape ${shapeStr(this.shape)})`,
      );
    }
    return this.narrow(d, index < 0 ? index + size : index, 1).squeeze(d);
  }
  /** The slices along dim, each with that dim removed (views; their gradients add into one buffer). */
  unbind(dim = 0): Tensor[] {
    const d = normDim("unbind", dim, this.ndim);
    return Array.from({ length: this.shape[d]! }, (_, i) => this.select(d, i));
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return C.chunk(this, chunks, dim);
  }
  split(splitSize: number | readonly number[], dim = 0): Tensor[] {
    return C.split(this, splitSize, dim);
  }
  contiguous(): Tensor {
    return this.isContiguous() ? this : apply(Copy, [this]);
  }

  // ---- indexing ----
  gather(dim: number, index: Tensor): Tensor {
    return apply(Gather, [this, index], normDim("gather", dim, this.ndim));
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return apply(ScatterAdd, [this, index, src.to(this.dtype)], normDim("scatterAdd", dim, this.ndim));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return C.indexSelect(this, dim, index);
  }

  // ---- sliding windows (convolution and pooling are built on these) ----
  /** im2col: [N, C, H, W] → [N, C·kh·kw, outH·outW] (nn.functional.unfold). */
  im2col(p: Window2d): Tensor {
    if (this.ndim !== 4)
      throw new DescentError(`unfold: expected a 4-D input [N, C, H, W], got ${shapeStr(this.shape)}`);
    return apply(Unfold, [this], checkWindow("unfold", p));
  }
  /** col2im: [N, C·kh·kw, L] → [N, C, H, W], summing overlaps (nn.functional.fold). */
  col2im(size: readonly [number, number], p: Window2d): Tensor {
    const w = checkWindow("fold", p);
    const k = w.kernel[0] * w.kernel[1];
    const l =
      windowOut(size[0], w.kernel[0], w.stride[0], w.padding[0], w.dilation[0]) *
      windowOut(size[1], w.kernel[1], w.stride[1], w.padding[1], w.dilation[1]);
    if (this.ndim !== 3 || this.shape[1]! % k !== 0 || this.shape[2] !== l) {
      throw new DescentError(
        `fold: input ${shapeStr(this.shape)} does not match output size ${shapeStr(size)} with kernel ${shapeStr(w.kernel)} (expected [N, C·${k}, ${l}])`,
      );
    }
    return apply(Fold, [this], { ...w, size });
  }
  /**
   * Max over each window of p into [N, C, ...out] (the primitive under nn.functional.maxPool2d):
   * anything outside the image, padding or a ceil-mode window's overhang, counts as -Inf; the
   * gradient goes to each window's first maximum in row-major order (a NaN wins).
   */
  maxPool2d(p: Window2d, out: readonly [number, number]): Tensor {
    if (this.ndim !== 4)
      throw new DescentError(`maxPool2d: expected a 4-D input [N, C, H, W], got ${shapeStr(this.shape)}`);
    if (!isFloat(this.dtype)) throw new DescentError(`maxPool2d: expected a floating-point input, got ${this.dtype}`);
    if (out.length !== 2 || !out.every((v) => Number.isInteger(v) && v >= 0))
      throw new DescentError(`maxPool2d: invalid output size ${shapeStr(out)}`);
    return apply(MaxPool2d, [this], { ...checkWindow("maxPool2d", p), out: [out[0], out[1]], saved: {} });
  }
  /**
   * maxPool2d's gradient: this [N, C, oh, ow] added at `indices` (int32, the same shape, each
   * y·W + x in [0, H·W]; H·W adds nowhere) into zeros [N, C, ...size].
   */
  maxUnpool2d(indices: Tensor | RawTensor, size: readonly [number, number]): Tensor {
    const op = "maxUnpool2d";
    if (this.ndim !== 4 || !isFloat(this.dtype))
      throw new DescentError(`${op}: expected a floating-point 4-D input, got ${shapeStr(this.shape)} ${this.dtype}`);
    if (indices.dtype !== "int32" || !sameShape(indices.shape, this.shape))
      throw new DescentError(
        `${op}: indices must be int32 of the input's shape ${shapeStr(this.shape)}, got ${shapeStr(indices.shape)} ${indices.dtype}`,
      );
    if (size.length !== 2 || !size.every((v) => Number.isInteger(v) && v >= 0))
      throw new DescentError(`${op}: invalid output size ${shapeStr(size)}`);
    // Indices a forward produced are trusted; a caller's are range-checked (H·W itself is allowed).
    const idx = indices instanceof Tensor ? indices : new Tensor(indices);
    if (indices instanceof Tensor) checkIndexRange(op, idx, size[0] * size[1] + 1, 2, [...size]);
    return apply(MaxUnpool2d, [this, idx.contiguous()], { size: [size[0], size[1]] });
  }

  // ---- autograd ----
  backward(gradient?: Tensor, opts: { retainGraph?: boolean } = {}): void {
    if (!this.requiresGrad)
      throw new DescentError(
        `backward: this tensor (shape ${shapeStr(this.shape)}) does not require grad and has no gradFn`,
      );
    if (!gradient && this.size !== 1) {
      throw new DescentError(
        `backward: a gradient must be given for a non-scalar output (shape ${shapeStr(this.shape)}); only scalar outputs have an implicit gradient of 1`,
      );
    }
    if (gradient && !sameShape(gradient.shape, this.shape)) {
      throw new DescentError(
        `backward: gradient shape ${shapeStr(gradient.shape)} does not match the output shape ${shapeStr(this.shape)}`,
      );
    }
    runBackward(
      this,
      gradient ? gradient.detach().to(this.dtype) : this.newOnes(this.shape),
      opts.retainGraph ?? false,
    );
  }
  /** Same storage, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this);
  }
  /** A contiguous copy that stays in the graph. */
  clone(): Tensor {
    return apply(Copy, [this]);
  }
  requiresGrad_(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }
  retainGrad(): this {
    if (!this.isLeaf) this._retainsGrad = true;
    return this;
  }
  zeroGrad(): void {
    this.grad = null;
  }
  /** fn sees the gradient of this tensor during backward and may return a replacement. */
  registerHook(fn: GradHook): HookHandle {
    if (!this.requiresGrad)
      throw new DescentError("registerHook: cannot register a hook on a tensor that does not require grad");
    this.hooks.push(fn);
    return { remove: () => void (this.hooks = this.hooks.filter((h) => h !== fn)) };
  }
  /** @internal used by backward: the hooks applied in order. */
  runHooks(g: Tensor): Tensor {
    for (const h of this.hooks) g = h(g) ?? g;
    return g;
  }
  /** @internal used by backward: true when hooks may hold the gradients passing through. */
  get hasHooks(): boolean {
    return this.hooks.length > 0;
  }
  /**
   * @internal used by backward: sums g into .grad (a fresh contiguous tensor the first time).
   * `owned`: nothing else refers to g's buffer, so a contiguous g of this dtype is kept, not copied.
   */
  accumulateGrad(g: Tensor, owned = false): void {
    if (this.grad) this.grad.add_(g);
    else if (owned && g.dtype === this.dtype && g.isContiguous()) this.grad = g.detach();
    else this.grad = g.to(this.dtype).clone().detach();
  }

  // ---- creation from this tensor ----
  newZeros(shape: readonly number[]): Tensor {
    return fromRaw(this.dtype, shape);
  }
  newOnes(shape: readonly number[]): Tensor {
    return fromRaw(this.dtype, shape).fill_(1);
  }

  // ---- in place (refused where they would corrupt a recorded graph) ----
  copy_(src: Tensor | Scalar): this {
    this.checkInPlace("copy_");
    const s = typeof src === "number" ? scalarTensor(this.dtype, src) : src;
    backend().kernels.copy(s.expand(broadcastShapes("copy_", s.shape, this.shape)).expand(this.shape), this);
    return this;
  }
  fill_(value: Scalar): this {
    this.checkInPlace("fill_");
    backend().kernels.fill(this, value);
    return this;
  }
  zero_(): this {
    this.checkInPlace("zero_");
    return this.fill_(0);
  }
  add_(o: Tensor | Scalar): this {
    return this.inPlace(B.Add, o);
  }
  sub_(o: Tensor | Scalar): this {
    return this.inPlace(B.Sub, o);
  }
  mul_(o: Tensor | Scalar): this {
    return this.inPlace(B.Mul, o);
  }
  div_(o: Tensor | Scalar): this {
    checkFloat("div_", this.dtype);
    return this.inPlace(B.Div, o);
  }
  clamp_(min?: number, max?: number): this {
    if (min !== undefined) this.inPlace(B.Maximum, min);
    return max !== undefined ? this.inPlace(B.Minimum, max) : this;
  }
  uniform_(low = 0, high = 1): this {
    this.checkInPlace("uniform_");
    return this.copy_(fromArray(this.dtype, this.shape, () => defaultGenerator.uniform() * (high - low) + low));
  }
  normal_(mean = 0, std = 1): this {
    this.checkInPlace("normal_");
    return this.copy_(fromArray(this.dtype, this.shape, () => defaultGenerator.normal() * std + mean));
  }

  private inPlace(op: OpDef, o: Tensor | Scalar): this {
    this.checkInPlace(`${op.name}_`);
    const other = (typeof o === "number" ? scalarTensor(this.dtype, o) : o.to(this.dtype)).expand(
      broadcastShapes(`${op.name}_`, this.shape, typeof o === "number" ? [] : o.shape),
    );
    if (!sameShape(other.shape, this.shape)) {
      throw new DescentError(
        `${op.name}_: the result shape ${shapeStr(other.shape)} does not fit the tensor being updated ${shapeStr(this.shape)}`,
      );
    }
    backend().kernels.binary(op.name as "add", this, other, this);
    return this;
  }
  /** Every in-place op passes here before writing: refuses graph corruption, bumps the version. */
  private checkInPlace(op: string): void {
    if (this.requiresGrad && isGradEnabled()) {
      throw new DescentError(
        `${op}: in-place operation on a tensor that requires grad (shape ${shapeStr(this.shape)}); wrap it in noGrad(...) or use the out-of-place form`,
      );
    }
    bumpVersion(this.data);
  }
  private contiguousRaw(): RawTensor {
    return Copy.forward([this], undefined);
  }
}

// ---- dispatch: every op call goes through apply ----

/** Runs an op's forward and, when grad mode is on and an input requires grad, records the node. */
export function apply<P>(op: OpDef<P>, inputs: Tensor[], params: P): Tensor;
export function apply(op: OpDef, inputs: Tensor[]): Tensor;
export function apply<P>(op: OpDef<P>, inputs: Tensor[], params?: P): Tensor {
  const out = new Tensor(op.forward(inputs, params as P));
  if (op.backward && isGradEnabled() && anyRequiresGrad(inputs)) {
    const saved =
      op.saves === "inputs" ? inputs : op.saves === "output" ? [out] : op.saves === "both" ? [...inputs, out] : [];
    out.gradFn = {
      name: op.name,
      op,
      inputs,
      params,
      freed: false,
      saved: saved.map((t) => ({ tensor: t, version: versionOf(t.data) })),
    };
    out.requiresGrad = true;
  }
  if (isAnomalyEnabled() && out.hasNonFinite()) {
    throw new DescentError(
      `detectAnomaly: ${op.name} produced NaN or Inf in its forward (inputs ${inputs.map((t) => `${shapeStr(t.shape)} ${t.dtype}`).join(", ")})`,
    );
  }
  return out;
}

function anyRequiresGrad(inputs: readonly Tensor[]): boolean {
  for (const t of inputs) if (t.requiresGrad) return true;
  return false;
}

/** A fresh 0-d tensor holding v (as fill_ stores it; a new buffer has no version to bump). */
function scalarTensor(dtype: DType, v: number): Tensor {
  const t = fromRaw(dtype, []);
  t.data[0] = v;
  return t;
}

/** Promotes dtypes and broadcasts shapes, then applies a two-input op. */
function binary(op: OpDef, a: Tensor, b: Tensor | Scalar, floatResult = false): Tensor {
  // Same dtype and shape (most calls in a model): nothing to promote or broadcast.
  if (
    typeof b !== "number" &&
    a.dtype === b.dtype &&
    (!floatResult || a.dtype !== "int32") &&
    sameShape(a.shape, b.shape)
  )
    return apply(op, [a, b]);
  const bt = typeof b === "number" ? scalarTensor(scalarResultType(a.dtype, b), b) : b;
  let dtype = promoteTypes(a.dtype, bt.dtype);
  if (floatResult && dtype === "int32") dtype = "float32";
  const shape = broadcastShapes(op.name, a.shape, bt.shape);
  return apply(op, [a.to(dtype).expand(shape), bt.to(dtype).expand(shape)]);
}

/** softmax / logSoftmax run fused along the last dim of a non-empty contiguous float tensor. */
function fusedLastDim(x: Tensor, dim: number): boolean {
  return isFloat(x.dtype) && x.ndim > 0 && (dim === -1 || dim === x.ndim - 1) && x.size > 0 && x.isContiguous();
}

function argReduce(x: Tensor, op: "argmax" | "argmin", dim: number | undefined, keepDim: boolean): Tensor {
  if (dim === undefined) {
    const flat = apply(ArgReduce, [x.reshape([-1])], { op, dim: 0, keepDim: false });
    return keepDim ? flat.reshape(x.shape.map(() => 1)) : flat;
  }
  return apply(ArgReduce, [x], { op, dim: normDim(op, dim, x.ndim), keepDim });
}

/** where(cond, a, b): a where cond is non-zero, else b; all three broadcast together. */
export function where(cond: Tensor, a: Tensor | Scalar, b: Tensor | Scalar): Tensor {
  const ref = a instanceof Tensor ? a : b instanceof Tensor ? b : cond;
  const at = a instanceof Tensor ? a : scalarTensor(scalarResultType(ref.dtype, a), a);
  const bt = b instanceof Tensor ? b : scalarTensor(scalarResultType(ref.dtype, b), b);
  const dtype = promoteTypes(at.dtype, bt.dtype);
  const shape = broadcastShapes("where", broadcastShapes("where", cond.shape, at.shape), bt.shape);
  return apply(B.Where, [cond.expand(shape), at.to(dtype).expand(shape), bt.to(dtype).expand(shape)]);
}

/** Concatenates along dim. As in PyTorch, 1-D empty tensors are skipped. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  const xs = tensors.filter((t) => !(t.ndim === 1 && t.size === 0));
  if (xs.length === 0) {
    if (tensors.length === 0) throw new DescentError("cat: expected a non-empty list of tensors");
    return tensors[0]!;
  }
  const first = xs[0]!;
  if (first.ndim === 0) throw new DescentError("cat: zero-dimensional tensors cannot be concatenated; use stack");
  const d = normDim("cat", dim, first.ndim);
  for (const t of xs) {
    if (t.ndim !== first.ndim || t.shape.some((s, i) => i !== d && s !== first.shape[i])) {
      throw new DescentError(
        `cat: shapes ${xs.map((x) => shapeStr(x.shape)).join(", ")} must match except in dim ${dim}`,
      );
    }
  }
  const dtype = xs.reduce<DType>((acc, t) => promoteTypes(acc, t.dtype), first.dtype);
  return apply(
    Cat,
    xs.map((t) => t.to(dtype)),
    d,
  );
}

export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new DescentError("stack: expected a non-empty list of tensors");
  const first = tensors[0]!;
  for (const t of tensors) {
    if (!sameShape(t.shape, first.shape))
      throw new DescentError(
        `stack: all tensors must have the same shape, got ${tensors.map((x) => shapeStr(x.shape)).join(", ")}`,
      );
  }
  const d = normDim("stack", dim, first.ndim, true);
  return cat(
    tensors.map((t) => t.unsqueeze(d)),
    d,
  );
}

/** The most entries toArray builds (2^26: about half a GiB of JS arrays). */
export const MAX_TO_ARRAY_ENTRIES = 2 ** 26;

/** A new zero-filled tensor (the building block of every creation function). */
export function fromRaw(dtype: DType, shape: readonly number[]): Tensor {
  return new Tensor({
    data: backend().alloc(dtype, sizeOf(shape)),
    dtype,
    shape: [...shape],
    strides: contiguousStrides(shape),
    offset: 0,
  });
}

/** A new tensor whose i-th element (row-major) is f(i). */
export function fromArray(dtype: DType, shape: readonly number[], f: (i: number) => number): Tensor {
  const t = fromRaw(dtype, shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = f(i);
  return t;
}

export { keptShape };

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function checkWindow(op: string, p: Window2d): Window2d {
  const ok = (v: readonly number[], min: number) => v.length === 2 && v.every((x) => Number.isInteger(x) && x >= min);
  if (!ok(p.kernel, 1) || !ok(p.stride, 1) || !ok(p.padding, 0) || !ok(p.dilation, 1)) {
    throw new DescentError(
      `${op}: invalid window: kernel ${shapeStr(p.kernel)}, stride ${shapeStr(p.stride)}, padding ${shapeStr(p.padding)}, dilation ${shapeStr(p.dilation)} (pairs of integers; kernel, stride, dilation ≥ 1, padding ≥ 0)`,
    );
  }
  return p;
}
