// Reductions: the primitive sums, extrema and arg-extrema of src/ops/reduce.ts with their dims
// read, and the statistics composed from them (mean, variance, norms, log-sum-exp), in the
// numerically stable forms where the textbook one overflows.

import { checkFloat } from "../core/dtype.js";
import { checkFinite, checkOptions, keysOf } from "../core/options.js";
import { normDim, normDims } from "../core/shape.js";
import { Amax, Amin, ArgReduce, Sum, droppedShape } from "../ops/reduce.js";
import { apply } from "./apply.js";
import type { Dims, Tensor } from "./tensor.js";

/** Options of var and std (torch.var's keyword arguments). */
export interface VarOptions {
  /** false divides by n instead of n − 1 (the older PyTorch spelling of correction: 0). */
  unbiased?: boolean;
  /** Divide by n − correction (default 1, Bessel's correction). */
  correction?: number;
  /** Keep the reduced dimensions as size 1 (default false). */
  keepDim?: boolean;
}

const VAR_KEYS = keysOf<VarOptions>()({ unbiased: true, correction: true, keepDim: true });

export function sum(x: Tensor, dim: Dims | undefined, keepDim: boolean): Tensor {
  return apply(Sum, [x], { dims: normDims("sum", dim, x.ndim), keepDim });
}

export function mean(x: Tensor, dim: Dims | undefined, keepDim: boolean): Tensor {
  checkFloat("mean", x.dtype);
  const dims = normDims("mean", dim, x.ndim);
  return sum(x, dims, keepDim).div(dims.reduce((n, d) => n * x.shape[d]!, 1));
}

export function variance(x: Tensor, dim: Dims | undefined, opts: VarOptions): Tensor {
  checkOptions("var", opts, VAR_KEYS);
  checkFloat("var", x.dtype);
  const dims = normDims("var", dim, x.ndim);
  const n = dims.reduce((acc, d) => acc * x.shape[d]!, 1);
  const correction = opts.correction ?? (opts.unbiased === false ? 0 : 1);
  checkFinite("var", "correction", correction);
  const centered = x.sub(mean(x, dims, true));
  return sum(centered.square(), dims, opts.keepDim ?? false).div(Math.max(n - correction, 0));
}

export function std(x: Tensor, dim: Dims | undefined, opts: VarOptions): Tensor {
  checkOptions("std", opts, VAR_KEYS);
  checkFloat("std", x.dtype);
  return variance(x, dim, opts).sqrt();
}

/** Largest values over dims (PyTorch's amax); ties share the gradient evenly. */
export function amax(x: Tensor, dim: Dims | undefined, keepDim: boolean): Tensor {
  return apply(Amax, [x], { dims: normDims("amax", dim, x.ndim), keepDim });
}

export function amin(x: Tensor, dim: Dims | undefined, keepDim: boolean): Tensor {
  return apply(Amin, [x], { dims: normDims("amin", dim, x.ndim), keepDim });
}

/** max() and max(dims[]) are amax; max(dim) gives the values at argmax (the gradient goes to that index). */
export function max(x: Tensor, dim: Dims | undefined, keepDim: boolean): Tensor {
  return typeof dim === "number" ? atArg(x, "argmax", dim, keepDim) : amax(x, dim, keepDim);
}

export function min(x: Tensor, dim: Dims | undefined, keepDim: boolean): Tensor {
  return typeof dim === "number" ? atArg(x, "argmin", dim, keepDim) : amin(x, dim, keepDim);
}

export function argReduce(x: Tensor, op: "argmax" | "argmin", dim: number | undefined, keepDim: boolean): Tensor {
  if (dim === undefined) {
    const flat = apply(ArgReduce, [x.reshape([-1])], { op, dim: 0, keepDim: false });
    return keepDim ? flat.reshape(x.shape.map(() => 1)) : flat;
  }
  return apply(ArgReduce, [x], { op, dim: normDim(op, dim, x.ndim), keepDim });
}

/** max(dim)/min(dim): the values at argmax/argmin, so the gradient goes to that one index as in PyTorch. */
function atArg(x: Tensor, op: "argmax" | "argmin", dim: number, keepDim: boolean): Tensor {
  const d = normDim(op === "argmax" ? "max" : "min", dim, x.ndim);
  if (x.ndim === 0) return x;
  const v = x.gather(d, argReduce(x, op, d, true));
  return keepDim ? v : v.squeeze(d);
}

/** m + log Σ eˣ⁻ᵐ, with an infinite m replaced by 0 (all -Inf stays -Inf, any +Inf gives +Inf). */
export function logSumExp(x: Tensor, dim: Dims, keepDim: boolean): Tensor {
  checkFloat("logSumExp", x.dtype);
  const dims = normDims("logSumExp", dim, x.ndim);
  const m = amax(x, dims, true).detach();
  const shift = m.maskedFill(m.isInf(), 0);
  const r = sum(x.sub(shift).exp(), dims, true).log().add(shift);
  return keepDim ? r : r.reshape(droppedShape(x.shape, dims));
}

/** The p-norm over dims: p = Infinity is the max |x|, p = 0 counts non-zeros. */
export function norm(x: Tensor, p: number, dim: Dims | undefined, keepDim: boolean): Tensor {
  checkFloat("norm", x.dtype);
  const a = x.abs();
  if (p === Infinity) return amax(a, dim, keepDim);
  if (p === -Infinity) return amin(a, dim, keepDim);
  if (p === 0) return sum(a.ne(0), dim, keepDim);
  if (p === 1) return sum(a, dim, keepDim);
  return safeRoot(sum(p === 2 ? a.square() : a.pow(p), dim, keepDim), p);
}

/** s^(1/p) whose gradient is 0 (not NaN) where s = 0, as PyTorch's norm backward is at a zero vector. */
function safeRoot(s: Tensor, p: number): Tensor {
  const zero = s.eq(0);
  const root = s.maskedFill(zero, 1);
  return (p === 2 ? root.sqrt() : root.pow(1 / p)).maskedFill(zero, 0);
}
