// Composite ops: plain Tensor code over the primitives, with no backward of their own (autograd
// differentiates through them). Numerically stable forms where the textbook one overflows.

import { checkFloat } from "../core/dtype.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { broadcastShapes, inferShape, normDim, normDims, viewStrides } from "../core/shape.js";
import { droppedShape, keptShape } from "../ops/reduce.js";
import { checkIndexRange } from "../ops/indexing.js";
import type { SliceParams } from "../ops/movement.js";
import type { Dims, Tensor } from "./tensor.js";

/** clamp as two masked fills: the gradient passes where min ≤ x ≤ max (inclusive), NaN stays NaN. */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  if (min === undefined && max === undefined)
    throw new DescentError("clamp: at least one of min and max must be given");
  let r = x;
  if (min !== undefined) r = r.maskedFill(r.lt(min), min);
  if (max !== undefined) r = r.maskedFill(r.gt(max), max);
  return r;
}

/** x for x > 0, slope·x otherwise (so the gradient at 0 is slope, as PyTorch's). */
export function leakyRelu(x: Tensor, slope: number): Tensor {
  return x.maskedFill(x.le(0), 0).add(x.mul(slope).maskedFill(x.gt(0), 0));
}

/** α(eˣ - 1) for x ≤ 0; the exponential sees min(x, 0) so a large x cannot make Inf·0 = NaN in backward. */
export function elu(x: Tensor, alpha: number): Tensor {
  const neg = x.clamp(undefined, 0).expm1().mul(alpha);
  return x.maskedFill(x.le(0), 0).add(neg.maskedFill(x.gt(0), 0));
}

/** Exact GELU x·Φ(x) = x/2·(1 + erf(x/√2)), or PyTorch's tanh approximation. */
export function gelu(x: Tensor, approximate: "none" | "tanh"): Tensor {
  checkFloat("gelu", x.dtype);
  if (approximate === "tanh") {
    const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return x.mul(0.5).mul(inner.tanh().add(1));
  }
  return x.mul(0.5).mul(x.mul(Math.SQRT1_2).erf().add(1));
}

/** eˣ⁻ᵐ / Σ eˣ⁻ᵐ with m the (constant) max: no overflow for any finite input. */
export function softmax(x: Tensor, dim: number): Tensor {
  checkFloat("softmax", x.dtype);
  const d = normDim("softmax", dim, x.ndim);
  const e = x.sub(x.amax(d, true).detach()).exp();
  return e.div(e.sum(d, true));
}

/** (x - m) - log Σ eˣ⁻ᵐ: subtracting the max first keeps float32 precision at large magnitudes. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  checkFloat("logSoftmax", x.dtype);
  const d = normDim("logSoftmax", dim, x.ndim);
  const shifted = x.sub(x.amax(d, true).detach());
  return shifted.sub(shifted.exp().sum(d, true).log());
}

/** m + log Σ eˣ⁻ᵐ, with an infinite m replaced by 0 (all -Inf stays -Inf, any +Inf gives +Inf). */
export function logSumExp(x: Tensor, dim: Dims, keepDim: boolean): Tensor {
  checkFloat("logSumExp", x.dtype);
  const dims = normDims("logSumExp", dim, x.ndim);
  const m = x.amax(dims, true).detach();
  const shift = m.maskedFill(m.isInf(), 0);
  const r = x.sub(shift).exp().sum(dims, true).log().add(shift);
  return keepDim ? r : r.reshape(droppedShape(x.shape, dims));
}

export function variance(
  x: Tensor,
  dim: Dims | undefined,
  opts: { unbiased?: boolean; correction?: number; keepDim?: boolean },
): Tensor {
  checkFloat("var", x.dtype);
  const dims = normDims("var", dim, x.ndim);
  const n = dims.reduce((acc, d) => acc * x.shape[d]!, 1);
  const correction = opts.correction ?? (opts.unbiased === false ? 0 : 1);
  const centered = x.sub(x.mean(dims, true));
  return centered
    .square()
    .sum(dims, opts.keepDim ?? false)
    .div(Math.max(n - correction, 0));
}

/** The p-norm over dims: p = Infinity is the max |x|, p = 0 counts non-zeros. */
export function norm(x: Tensor, p: number, dim: Dims | undefined, keepDim: boolean): Tensor {
  checkFloat("norm", x.dtype);
  const a = x.abs();
  if (p === Infinity) return a.amax(dim, keepDim);
  if (p === -Infinity) return a.amin(dim, keepDim);
  if (p === 0) return a.ne(0).sum(dim, keepDim);
  if (p === 1) return a.sum(dim, keepDim);
  return safeRoot(p === 2 ? a.square().sum(dim, keepDim) : a.pow(p).sum(dim, keepDim), p);
}

/** s^(1/p) whose gradient is 0 (not NaN) where s = 0, as PyTorch's norm backward is at a zero vector. */
function safeRoot(s: Tensor, p: number): Tensor {
  const zero = s.eq(0);
  const root = s.maskedFill(zero, 1);
  return (p === 2 ? root.sqrt() : root.pow(1 / p)).maskedFill(zero, 0);
}

/** max(dim)/min(dim): the values at argmax/argmin, so the gradient goes to that one index as in PyTorch. */
export function atArg(x: Tensor, op: "argmax" | "argmin", dim: number, keepDim: boolean): Tensor {
  const d = normDim(op === "argmax" ? "max" : "min", dim, x.ndim);
  if (x.ndim === 0) return x;
  const v = x.gather(d, op === "argmax" ? x.argmax(d, true) : x.argmin(d, true));
  return keepDim ? v : v.squeeze(d);
}

/**
 * matmul with PyTorch's rules: 1-D operands gain a dim that is removed after, batch dims
 * broadcast, and an N-D @ 2-D product is folded into one 2-D product (one GEMM instead of many).
 */
export function matmul(a: Tensor, b: Tensor, mm: (a: Tensor, b: Tensor) => Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0)
    throw new DescentError(
      `matmul: both operands need at least 1 dim, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`,
    );
  if (a.dtype !== b.dtype)
    throw new DescentError(`matmul: dtypes differ (${a.dtype} and ${b.dtype}); convert one with to()`);
  const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
  const b2 = b.ndim === 1 ? b.unsqueeze(1) : b;
  const k = a2.shape[a2.ndim - 1]!;
  if (k !== b2.shape[b2.ndim - 2]) {
    throw new DescentError(
      `matmul: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} are not aligned (${k} != ${b2.shape[b2.ndim - 2]})`,
    );
  }
  // Plain 2-D operands (every Linear): no batch dims to broadcast, so no expand views to build.
  if (a.ndim === 2 && b.ndim === 2) return mm(a, b);
  let out: Tensor;
  if (a2.ndim > 2 && b2.ndim === 2 && canView(a2, [-1, k])) {
    out = mm(a2.reshape([-1, k]), b2).reshape([...a2.shape.slice(0, -1), b2.shape[1]!]);
  } else {
    const batch = broadcastBatch(a, b, a2.shape.slice(0, -2), b2.shape.slice(0, -2));
    out = mm(a2.expand([...batch, ...a2.shape.slice(-2)]), b2.expand([...batch, ...b2.shape.slice(-2)]));
  }
  if (a.ndim === 1) out = out.squeeze(-2);
  if (b.ndim === 1) out = out.squeeze(-1);
  return out;
}

function broadcastBatch(a: Tensor, b: Tensor, ba: readonly number[], bb: readonly number[]): number[] {
  try {
    return broadcastShapes("matmul", ba, bb);
  } catch {
    throw new DescentError(
      `matmul: the batch dims of ${shapeStr(a.shape)} and ${shapeStr(b.shape)} cannot be broadcast together`,
    );
  }
}

export function canView(x: Tensor, shape: readonly number[]): boolean {
  const s = inferShape("reshape", shape, x.size, x.shape);
  return viewStrides(x.shape, x.strides, s) !== null;
}

/** Reads reshape/view arguments: numbers or one array, with one -1 inferred. */
export function shapeArg(op: string, args: readonly (number | readonly number[])[], x: Tensor): number[] {
  return inferShape(op, args.flat(), x.size, x.shape);
}

export function sliceParams(
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
    const part = x.narrow(d, at, n);
    at += n;
    return part;
  });
}

/** indexSelect as a gather with the 1-D index broadcast (stride 0) over the other dims. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim("indexSelect", dim, x.ndim);
  if (index.dtype !== "int32") throw new DescentError(`indexSelect: index must be int32, got ${index.dtype}`);
  checkIndexRange("indexSelect", index, x.ndim === 0 ? 1 : x.shape[d]!, d, x.shape);
  if (index.ndim > 1)
    throw new DescentError(`indexSelect: index must be 0-d or 1-D, got shape ${shapeStr(index.shape)}`);
  if (x.ndim === 0)
    return x
      .reshape([1])
      .gather(0, index.reshape([-1]))
      .reshape(index.ndim === 0 ? [] : [-1]);
  const n = index.size;
  const shape = x.shape.map((s, i) => (i === d ? n : s));
  const idx = index
    .reshape(
      keptShape(
        shape,
        shape.map((_, i) => i).filter((i) => i !== d),
      ),
    )
    .expand(shape);
  return x.gather(d, idx);
}
