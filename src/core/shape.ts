// Shape arithmetic shared by every layer: sizes, strides, dim normalisation, broadcasting and the
// rule that decides when a reshape can stay a view.

import { DescentError, shapeStr } from "./errors.js";
import { builtin } from "./platform.js";

/** Where a tensor's elements live in its buffer: element i of index (i0, i1, …) is at offset + Σ ik·strides[k]. */
export interface Layout {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** True when the elements are laid out row-major without gaps (size-1 dims may have any stride). */
export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    if (d === 1) continue;
    if (strides[i] !== expected) return false;
    expected *= d;
  }
  return true;
}

/**
 * The most elements one tensor may hold: the longest typed array this Node makes (2^32 in Node
 * 20, where a longer one throws a RangeError; Buffer's MAX_LENGTH is that same V8 limit). In a
 * browser, V8's own typed-array limit (2^32 in Chromium's 64-bit builds).
 */
export const MAX_ELEMENTS: number =
  builtin<{ constants: { MAX_LENGTH: number } }>("node:buffer")?.constants.MAX_LENGTH ?? 2 ** 32;

/**
 * Checks a shape about to be allocated: non-negative integer sizes, none and no product above
 * MAX_ELEMENTS. Every creation function (and so every layer's parameters) goes through it.
 */
export function checkShape(op: string, shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new DescentError(`${op}: invalid shape ${shapeStr(shape)}: sizes must be non-negative integers`);
    }
  }
  const n = sizeOf(shape);
  if (n > MAX_ELEMENTS) {
    throw new DescentError(
      `${op}: shape ${shapeStr(shape)} has ${n} elements, more than the ${MAX_ELEMENTS} one tensor can hold`,
    );
  }
  // An empty tensor may have a huge size, but not one no tensor could have.
  if (shape.some((d) => d > MAX_ELEMENTS)) {
    throw new DescentError(`${op}: shape ${shapeStr(shape)} has a size larger than ${MAX_ELEMENTS}`);
  }
}

/** Turns a possibly negative dim into 0..ndim-1 (0..ndim when `extra`, as unsqueeze allows). */
export function normDim(op: string, dim: number, ndim: number, extra = false): number {
  const n = extra ? ndim + 1 : ndim;
  const lo = n === 0 ? -1 : -n;
  const hi = n === 0 ? 0 : n - 1;
  if (!Number.isInteger(dim) || dim < lo || dim > hi) {
    throw new DescentError(
      `${op}: dim ${dim} is out of range for a tensor of ${ndim} dimension(s) (expected ${lo}..${hi})`,
    );
  }
  return n === 0 ? 0 : dim < 0 ? dim + n : dim;
}

/** Normalises one dim, several, or all (undefined): sorted, duplicates refused. */
export function normDims(op: string, dims: number | readonly number[] | undefined, ndim: number): number[] {
  if (dims === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof dims === "number" ? [dims] : dims;
  if (ndim === 0) {
    for (const d of list) normDim(op, d, 0);
    return [];
  }
  const out = list.map((d) => normDim(op, d, ndim)).sort((a, b) => a - b);
  for (let i = 1; i < out.length; i++) {
    if (out[i] === out[i - 1])
      throw new DescentError(`${op}: dim ${out[i]} appears more than once in [${list.join(",")}]`);
  }
  return out;
}

/** NumPy/PyTorch broadcasting: align trailing dims; each pair must be equal or contain a 1. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new DescentError(
        `${op}: shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast together (dim ${i}: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Resolves one -1 in a requested shape against the element count, checking the sizes agree. */
export function inferShape(op: string, requested: readonly number[], size: number, from: readonly number[]): number[] {
  let infer = -1;
  let known = 1;
  requested.forEach((d, i) => {
    if (d === -1) {
      if (infer >= 0) throw new DescentError(`${op}: only one dimension can be -1, got ${shapeStr(requested)}`);
      infer = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new DescentError(`${op}: invalid size ${d} in shape ${shapeStr(requested)}`);
    } else known *= d;
  });
  const out = [...requested];
  if (infer >= 0) {
    if (known === 0 || size % known !== 0) {
      throw new DescentError(
        `${op}: shape ${shapeStr(requested)} is invalid for input of size ${size} (shape ${shapeStr(from)})`,
      );
    }
    out[infer] = size / known;
  } else if (known !== size) {
    throw new DescentError(
      `${op}: shape ${shapeStr(requested)} is invalid for input of size ${size} (shape ${shapeStr(from)})`,
    );
  }
  return out;
}

/**
 * Strides that let `newShape` view the same elements as (shape, strides), or null when no view
 * can (the elements would need a copy). PyTorch's computeStride: a run of old dims may be merged
 * or split only where it is contiguous within itself.
 */
export function viewStrides(
  shape: readonly number[],
  strides: readonly number[],
  newShape: readonly number[],
): number[] | null {
  const newStrides = new Array<number>(newShape.length);
  if (sizeOf(shape) <= 1) return contiguousStrides(newShape);
  let viewD = newShape.length - 1;
  let chunkBaseStride = strides[strides.length - 1] ?? 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    tensorNumel *= shape[d]!;
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== tensorNumel * chunkBaseStride)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        newStrides[viewD] = viewNumel * chunkBaseStride;
        viewNumel *= newShape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBaseStride = strides[d - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return newStrides;
}

/** Output length of a sliding window along one dim (PyTorch's formula, floor mode). */
export function windowOut(size: number, kernel: number, stride: number, padding: number, dilation: number): number {
  return Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}
