// The core of a tensor: a backend's storage seen through a layout (shape, strides, offset), a
// dtype and the autograd fields, with what reads them out (item, toArray, toString), the gradient
// hooks and backward(). The ops are the subclass's, in tensor.ts.

import { dtypeOfArray, isFloat, type DType, type TypedArray } from "../core/dtype.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { checkOptions } from "../core/options.js";
import { isContiguous, sameShape, sizeOf } from "../core/shape.js";
import { backend, type Storage, type View } from "../backends/index.js";
import type { Node } from "../autograd/graph.js";
import { runBackward } from "../autograd/backward.js";
import { adopt, alloc, type RawTensor } from "../ops/op.js";
import { formatTensor } from "./format.js";
import { checkInPlace } from "./inplace.js";
import type { Tensor } from "./tensor.js";

/**
 * A gradient hook (registerHook): called with the gradient flowing into a tensor; may return a
 * replacement (torch.Tensor.register_hook).
 */
export type GradHook = (grad: Tensor) => Tensor | void;
/** What registering a hook returns; remove() unregisters it (PyTorch's RemovableHandle). */
export interface HookHandle {
  /** Unregisters the hook. */
  remove(): void;
}

/**
 * What every tensor is, whatever ops it offers: storage (`data`, the backend's handle, which only
 * kernels index; values leave through item/toFlatArray and enter through writeFlat_) seen
 * through a layout, a dtype, and the autograd state. Abstract: tensors are made as Tensor (the
 * subclass in tensor.ts, which adds the ops); methods that need a whole Tensor declare `this: Tensor`.
 */
/** The keys of backward()'s options (PyTorch's retain_graph). */
const BACKWARD_KEYS: ReadonlySet<string> = new Set(["retainGraph"]);

/** The most entries toArray builds (2^26: about half a GiB of JS arrays). */
export const MAX_TO_ARRAY_ENTRIES = 2 ** 26;

export abstract class TensorBase implements View {
  // Every field is assigned in the constructor rather than initialised as a class field: with
  // field initialisers, constructing the subclass Tensor cost ~5% more per small op (an A/B of
  // both forms in one process).
  declare readonly data: Storage;
  declare readonly dtype: DType;
  declare readonly shape: readonly number[];
  declare readonly strides: readonly number[];
  declare readonly offset: number;
  /** The gradient accumulated by backward() (leaves, and tensors that called retainGrad()). */
  declare grad: Tensor | null;
  /** How this tensor was computed; null for leaves. */
  declare gradFn: Node | null;
  declare private _requiresGrad: boolean;
  declare private hooks: GradHook[];
  declare private _retainsGrad: boolean;

  /** @internal Tensors are made by tensor(), zeros(), randn() and the other creation functions, and by ops. */
  constructor(raw: RawTensor) {
    // eslint-disable-next-line no-restricted-syntax -- the one place a tensor takes its storage handle
    this.data = raw.data;
    this.dtype = raw.dtype;
    this.shape = raw.shape;
    this.strides = raw.strides;
    this.offset = raw.offset;
    this.grad = null;
    this.gradFn = null;
    this._requiresGrad = false;
    this.hooks = [];
    this._retainsGrad = false;
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
    return backend().read(this.data, this.offset, 1)[0]!;
  }
  /** A contiguous copy of the elements in row-major order (the host side of the storage door). */
  toFlatArray(): TypedArray {
    const b = backend();
    if (this.isContiguous()) return b.read(this.data, this.offset, this.size);
    const out = alloc(this.dtype, this.shape);
    b.kernels.copy(this, out);
    return b.read(out.data, 0, this.size);
  }
  /**
   * @internal the way in for layers above the backends (init, loaders): writes `src`, row-major
   * values of this tensor's dtype, into its storage through the backend's door (any layout),
   * refused and versioned as an in-place op is (checkInPlace). src is not kept.
   */
  writeFlat_<T extends Tensor>(this: T, src: TypedArray): T {
    if (src.length !== this.size || dtypeOfArray(src) !== this.dtype)
      throw new DescentError(
        `writeFlat_: got ${src.length} ${dtypeOfArray(src)} values for a ${this.dtype} tensor of shape ${shapeStr(this.shape)}`,
      );
    checkInPlace(this, "writeFlat_");
    const b = backend();
    if (this.isContiguous()) b.write(this.data, src, this.offset);
    else b.kernels.copy(adopt(src.slice(), this.shape), this);
    return this;
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

  // ---- autograd ----
  backward(this: Tensor, gradient?: Tensor, opts: { retainGraph?: boolean } = {}): void {
    checkOptions("backward", opts, BACKWARD_KEYS);
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
  detach(this: Tensor): Tensor {
    return this.wrapRaw(this);
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
  newZeros(this: Tensor, shape: readonly number[]): Tensor {
    return this.wrapRaw(alloc(this.dtype, shape));
  }
  newOnes(this: Tensor, shape: readonly number[]): Tensor {
    return this.newZeros(shape).fill_(1);
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
