// Shape and movement: reshape, permute, expand, slicing and their derived forms (views unless
// stated: only the layout changes), plus cat and stack, which copy. Each checks its arguments
// against the input's shape and applies one op of src/ops/movement.ts, or none when the layout
// would not change.

import { promoteTypes, type DType } from "../core/dtype.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { inferShape, normDim, normDims, sameShape, sizeOf, viewStrides } from "../core/shape.js";
import { Cat, Copy, Expand, Permute, Reshape, Slice, type SliceParams } from "../ops/movement.js";
import { droppedShape } from "../ops/reduce.js";
import { apply } from "./apply.js";
import type { Dims, Tensor } from "./tensor.js";

export type ShapeArgs = readonly (number | readonly number[])[];

/** A view when the layout allows, else a contiguous copy (as PyTorch's reshape). */
export function reshape(x: Tensor, shape: ShapeArgs): Tensor {
  const s = inferShape("reshape", shape.flat(), x.size, x.shape);
  if (sameShape(s, x.shape)) return x;
  return viewStrides(x.shape, x.strides, s) !== null ? apply(Reshape, [x], s) : view(contiguous(x), [s]);
}

export function view(x: Tensor, shape: ShapeArgs): Tensor {
  const s = inferShape("view", shape.flat(), x.size, x.shape);
  return sameShape(s, x.shape) ? x : apply(Reshape, [x], s);
}

export function contiguous(x: Tensor): Tensor {
  return x.isContiguous() ? x : apply(Copy, [x]);
}

export function permute(x: Tensor, dims: ShapeArgs): Tensor {
  const d = dims.flat().map((v) => normDim("permute", v, x.ndim));
  if (d.length !== x.ndim || new Set(d).size !== d.length) {
    throw new DescentError(
      `permute: [${dims.flat().join(",")}] is not a permutation of the ${x.ndim} dims of ${shapeStr(x.shape)}`,
    );
  }
  return d.every((v, i) => v === i) ? x : apply(Permute, [x], d);
}

export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  // The 2-D case (Linear's Wᵀ, every matmul backward) skips permute's generic checks.
  if (
    x.ndim === 2 &&
    (d0 === 0 || d0 === 1 || d0 === -1 || d0 === -2) &&
    (d1 === 0 || d1 === 1 || d1 === -1 || d1 === -2)
  )
    return (d0 & 1) === (d1 & 1) ? x : apply(Permute, [x], [1, 0]);
  const order = [...x.shape.keys()];
  const a = normDim("transpose", d0, x.ndim);
  const b = normDim("transpose", d1, x.ndim);
  [order[a], order[b]] = [order[b]!, order[a]!];
  return permute(x, [order]);
}

export function expand(x: Tensor, shape: ShapeArgs): Tensor {
  // Binary ops expand every operand to the broadcast shape, usually its own: answer that at once.
  if (shape.length === 1 && typeof shape[0] !== "number" && sameShape(shape[0]!, x.shape)) return x;
  const s = shape.flat();
  if (s.length < x.ndim)
    throw new DescentError(`expand: target ${shapeStr(s)} has fewer dims than the input ${shapeStr(x.shape)}`);
  const full = s.map((d, i) => (d === -1 ? (x.shape[i - (s.length - x.ndim)] ?? -1) : d));
  if (full.some((d) => !Number.isInteger(d) || d < 0))
    throw new DescentError(`expand: invalid target shape ${shapeStr(s)} for input ${shapeStr(x.shape)}`);
  return sameShape(full, x.shape) ? x : apply(Expand, [x], full);
}

export function squeeze(x: Tensor, dim: Dims | undefined): Tensor {
  const dims = normDims("squeeze", dim, x.ndim).filter((d) => x.shape[d] === 1);
  return reshape(x, [droppedShape(x.shape, dims)]);
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim("unsqueeze", dim, x.ndim, true);
  return reshape(x, [[...x.shape.slice(0, d), 1, ...x.shape.slice(d)]]);
}

export function flatten(x: Tensor, startDim: number, endDim: number): Tensor {
  if (x.ndim === 0) return reshape(x, [[1]]);
  const a = normDim("flatten", startDim, x.ndim);
  const b = normDim("flatten", endDim, x.ndim);
  if (a > b)
    throw new DescentError(`flatten: startDim ${startDim} comes after endDim ${endDim} for shape ${shapeStr(x.shape)}`);
  return reshape(x, [[...x.shape.slice(0, a), sizeOf(x.shape.slice(a, b + 1)), ...x.shape.slice(b + 1)]]);
}

/** Python-style slice along dim: negative bounds count from the end, out-of-range bounds clamp. */
export function slice(
  x: Tensor,
  dim: number,
  start: number | undefined,
  end: number | undefined,
  step: number,
): Tensor {
  const p = sliceParams(x, dim, start, end, step);
  return p.start === 0 && p.step === 1 && p.length === x.shape[p.dim] ? x : apply(Slice, [x], p);
}

function sliceParams(
  x: Tensor,
  dim: number,
  start: number | undefined,
  end: number | undefined,
  step: number,
): SliceParams {
  const d = normDim("slice", dim, x.ndim);
  const size = x.shape[d]!;
  if (!Number.isInteger(step) || step <= 0)
    throw new DescentError(`slice: step must be a positive integer, got ${step}`);
  const clampBound = (v: number | undefined, dflt: number) => {
    if (v === undefined) return dflt;
    if (!Number.isInteger(v)) throw new DescentError(`slice: bounds must be integers, got ${v}`);
    return Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  };
  const s = clampBound(start, 0);
  const e = clampBound(end, size);
  return { dim: d, start: s, length: e > s ? Math.ceil((e - s) / step) : 0, step };
}

export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim("narrow", dim, x.ndim);
  const size = x.shape[d]!;
  const s = start < 0 ? start + size : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > size) {
    throw new DescentError(
      `narrow: start ${start} with length ${length} is out of range for dim ${dim} of size ${size} (shape ${shapeStr(x.shape)})`,
    );
  }
  return slice(x, d, s, s + length, 1);
}

export function select(x: Tensor, dim: number, index: number): Tensor {
  const d = normDim("select", dim, x.ndim);
  const size = x.shape[d]!;
  if (!Number.isInteger(index) || index < -size || index >= size) {
    throw new DescentError(
      `select: index ${index} is out of range for dim ${dim} of size ${size} (shape ${shapeStr(x.shape)})`,
    );
  }
  return squeeze(narrow(x, d, index < 0 ? index + size : index, 1), d);
}

/** The slices along dim, each with that dim removed (views; their gradients add into one buffer). */
export function unbind(x: Tensor, dim: number): Tensor[] {
  const d = normDim("unbind", dim, x.ndim);
  return Array.from({ length: x.shape[d]! }, (_, i) => select(x, d, i));
}

export function chunk(x: Tensor, chunks: number, dim: number): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0)
    throw new DescentError(`chunk: chunks must be a positive integer, got ${chunks}`);
  const d = normDim("chunk", dim, x.ndim);
  return split(x, Math.max(Math.ceil(x.shape[d]! / chunks), 1), d);
}

export function split(x: Tensor, splitSize: number | readonly number[], dim: number): Tensor[] {
  const d = normDim("split", dim, x.ndim);
  const size = x.shape[d]!;
  let sizes: number[];
  if (typeof splitSize === "number") {
    if (!Number.isInteger(splitSize) || splitSize <= 0)
      throw new DescentError(`split: splitSize must be a positive integer, got ${splitSize}`);
    sizes = Array.from({ length: Math.max(Math.ceil(size / splitSize), 1) }, (_, i) =>
      Math.min(splitSize, size - i * splitSize),
    );
  } else {
    sizes = [...splitSize];
    if (sizes.reduce((a, b) => a + b, 0) !== size) {
      throw new DescentError(
        `split: sizes [${sizes.join(",")}] do not add up to ${size} (dim ${dim} of ${shapeStr(x.shape)})`,
      );
    }
  }
  let at = 0;
  return sizes.map((n) => {
    const part = narrow(x, d, at, n);
    at += n;
    return part;
  });
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

/** Joins same-shaped tensors along a new dimension dim (torch.stack): k tensors of [A, B] → [k, A, B] for dim 0. */
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
    tensors.map((t) => unsqueeze(t, d)),
    d,
  );
}
