// Sorting and running totals along a dim: sort, argsort and topk (the permutation from the sort
// kernel, the values a gather at it, so gradients flow back to the chosen elements) and cumsum,
// cumprod. A 0-d input is treated as one element, as PyTorch does.

import { DescentError, shapeStr } from "../core/errors.js";
import { checkOptions, keysOf } from "../core/options.js";
import { normDim } from "../core/shape.js";
import { Argsort, Cumprod, Cumsum } from "../ops/order.js";
import { apply } from "./apply.js";
import type { Tensor } from "./tensor.js";

/** Options of sort and argsort (torch.sort's keyword arguments). */
export interface SortOptions {
  /** Dimension to sort along (default -1, the last). */
  dim?: number;
  /** Largest first (default false). */
  descending?: boolean;
  /** Ties keep their input order. Sorting here is always stable, which the unstable contract allows. */
  stable?: boolean;
}

/** Options of topk (torch.topk's keyword arguments). */
export interface TopkOptions {
  /** Dimension to search along (default -1, the last). */
  dim?: number;
  /** The k largest (default true) or the k smallest. */
  largest?: boolean;
  /** PyTorch leaves the order free when false; the result is sorted either way. */
  sorted?: boolean;
}

const SORT_KEYS = keysOf<SortOptions>()({ dim: true, descending: true, stable: true });
const TOPK_KEYS = keysOf<TopkOptions>()({ dim: true, largest: true, sorted: true });

/** Runs f on x seen as 1-D when x is 0-d (dim 0 of that), and gives the results x's shape back. */
function on1d<T extends Tensor | Tensor[]>(x: Tensor, f: (x: Tensor) => T): T {
  if (x.ndim > 0) return f(x);
  const r = f(x.reshape([1]));
  return (Array.isArray(r) ? r.map((t) => t.reshape([])) : r.reshape([])) as T;
}

export function argsort(x: Tensor, opts: SortOptions = {}): Tensor {
  checkOptions("argsort", opts, SORT_KEYS);
  const dim = normDim("argsort", opts.dim ?? -1, x.ndim);
  return on1d(x, (v) => apply(Argsort, [v], { dim, descending: opts.descending ?? false }));
}

/** [values, indices]: values ascending (descending if asked), NaN the largest, ties in input order. */
export function sort(x: Tensor, opts: SortOptions = {}): [Tensor, Tensor] {
  checkOptions("sort", opts, SORT_KEYS);
  const dim = normDim("sort", opts.dim ?? -1, x.ndim);
  const [values, indices] = on1d(x, (v) => {
    const idx = apply(Argsort, [v], { dim, descending: opts.descending ?? false });
    return [v.gather(dim, idx), idx];
  });
  return [values!, indices!];
}

/** The k largest (or smallest) along dim with their int32 indices; among ties the lower index comes first. */
export function topk(x: Tensor, k: number, opts: TopkOptions = {}): [Tensor, Tensor] {
  checkOptions("topk", opts, TOPK_KEYS);
  const dim = normDim("topk", opts.dim ?? -1, x.ndim);
  const size = x.ndim === 0 ? 1 : x.shape[dim]!;
  if (!Number.isInteger(k) || k < 0 || k > size) {
    throw new DescentError(
      `topk: k ${k} is out of range for dim ${opts.dim ?? -1} of size ${size} (shape ${shapeStr(x.shape)})`,
    );
  }
  // A 0-d input gives itself and index 0 for k = 0 too, as PyTorch's topk does.
  const take = x.ndim === 0 ? 1 : k;
  const [values, indices] = on1d(x, (v) => {
    const idx = apply(Argsort, [v], { dim, descending: opts.largest ?? true }).narrow(dim, 0, take);
    return [v.gather(dim, idx), idx];
  });
  return [values!, indices!];
}

export function cumsum(x: Tensor, dim: number): Tensor {
  const d = normDim("cumsum", dim, x.ndim);
  return on1d(x, (v) => apply(Cumsum, [v], d));
}

export function cumprod(x: Tensor, dim: number): Tensor {
  const d = normDim("cumprod", dim, x.ndim);
  return on1d(x, (v) => apply(Cumprod, [v], d));
}
