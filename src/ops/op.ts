// What a primitive op is: a forward that runs one kernel (or builds a view) and a backward
// written with Tensor methods. Tensor is seen here only as a type: ops never construct tensors,
// they return raw storage + layout and the tensor layer wraps it (this breaks the tensor↔ops cycle).

import { dtypeOfArray, type DType, type TypedArray } from "../core/dtype.js";
import { contiguousStrides, MAX_ELEMENTS, sizeOf } from "../core/shape.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { accelerations, backend } from "../backends/index.js";
import type { Storage, View } from "../backends/index.js";
import type { Tensor } from "../tensor/tensor.js";

/** An op's result before it becomes a Tensor: a storage (new, or an input's for views) and its layout. */
export interface RawTensor extends View {
  readonly dtype: DType;
  readonly data: Storage;
}

/** Which tensors an op's backward reads: in-place changes to them after the forward are refused. */
export type Saves = "none" | "inputs" | "output" | "both";

export interface OpDef<P = void> {
  readonly name: string;
  readonly saves?: Saves;
  forward(inputs: readonly Tensor[], params: P): RawTensor;
  /**
   * Gradients of the inputs from the output's gradient `g`, given the inputs and the output the
   * forward saw. null where an input needs none. Absent for ops that are not differentiable.
   */
  backward?(g: Tensor, inputs: readonly Tensor[], out: Tensor, params: P): (Tensor | null)[];
  /** backward returns tensors it allocated (no aliases), which the walk may then add into in place. */
  readonly freshGrads?: boolean;
  /**
   * For single-input ops: adds the input's gradient into `acc` (an input-shaped buffer the
   * backward walk owns) in place, instead of returning it. Used by slices, whose gradient is
   * mostly zeros: T slices of one tensor then cost O(T) slice-sized adds, not T full-sized ones.
   */
  accumulate?(acc: Tensor, g: Tensor, inputs: readonly Tensor[], out: Tensor, params: P): void;
}

/**
 * An op's output cannot be allocated: more elements than one tensor can hold (MAX_ELEMENTS), or
 * the allocation itself failed. Thrown by alloc, which does not know the op; apply
 * (src/tensor/apply.ts) names the op in the DescentError the user sees.
 */
export class OutputAllocError extends DescentError {}

/** A fresh contiguous result of the current backend. */
export function alloc(dtype: DType, shape: readonly number[]): RawTensor {
  return allocWith(dtype, shape, false);
}

/**
 * As alloc, with values left unspecified where the backend offers that (StorageDoor.allocEmpty):
 * only for an output the op's kernel overwrites in full before anything reads it.
 */
export function allocEmpty(dtype: DType, shape: readonly number[]): RawTensor {
  return allocWith(dtype, shape, true);
}

function allocWith(dtype: DType, shape: readonly number[], empty: boolean): RawTensor {
  const n = sizeOf(shape);
  if (n > MAX_ELEMENTS)
    throw new OutputAllocError(
      `output shape ${shapeStr(shape)} has ${n} elements, more than the ${MAX_ELEMENTS} one tensor can hold`,
    );
  let data: Storage;
  try {
    const b = backend();
    data = empty && b.allocEmpty ? b.allocEmpty(dtype, n) : b.alloc(dtype, n);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new OutputAllocError(`cannot allocate the output, shape ${shapeStr(shape)} ${dtype}: ${e.message}`);
  }
  return {
    data,
    dtype,
    shape: [...shape],
    strides: contiguousStrides(shape),
    offset: 0,
  };
}

/**
 * A fresh contiguous result holding host values: src goes through the backend's door (`adopt`:
 * a host backend keeps src itself, so the caller must give it up). src.length must be shape's size.
 */
export function adopt(src: TypedArray, shape: readonly number[]): RawTensor {
  return {
    data: backend().adopt(src),
    dtype: dtypeOfArray(src),
    shape: [...shape],
    strides: contiguousStrides(shape),
    offset: 0,
  };
}

/** Another layout over the same buffer: what every view op returns. */
export function view(x: Tensor, shape: number[], strides: number[], offset = x.offset): RawTensor {
  return { data: x.data, dtype: x.dtype, shape, strides, offset };
}

export function kernels() {
  return backend().kernels;
}

/** The current backend's fused kernels, each its own or the op-by-op fallback (backends/accelerations.ts). */
export function accel() {
  return accelerations();
}

/** The gradient for an input, computed only when that input asks for one. */
export function need(t: Tensor, grad: () => Tensor): Tensor | null {
  return t.requiresGrad ? grad() : null;
}
