// Rearranging composites: flip, roll, repeat, tril and triu, built from views, gather, cat and
// where, so each gets its gradient from theirs and runs on every backend without a kernel of its own.
// Each copies, as PyTorch's do.

import { DescentError, shapeStr } from "../core/errors.js";
import { normDim, normDims } from "../core/shape.js";
import { filledLike } from "./apply.js";
import { cat } from "./views.js";
import type { Dims, Tensor } from "./tensor.js";

/** Reverses the order of elements along each of dims (a gather at n-1, …, 0 per dim). */
export function flip(x: Tensor, dims: Dims): Tensor {
  let out = x;
  for (const d of normDims("flip", dims, x.ndim)) {
    const n = x.shape[d]!;
    if (n > 1)
      out = out.indexSelect(
        d,
        filledLike(x, "int32", [n], (i) => n - 1 - i),
      );
  }
  return out === x ? x.clone() : out;
}

/**
 * Shifts elements along dims by shifts (negative: towards the front), wrapping around; without
 * dims the tensor is rolled as if flattened, then given its shape back. Repeated dims roll again.
 */
export function roll(x: Tensor, shifts: number | readonly number[], dims?: number | readonly number[]): Tensor {
  const s = typeof shifts === "number" ? [shifts] : [...shifts];
  const bad = s.find((v) => !Number.isInteger(v));
  if (bad !== undefined) throw new DescentError(`roll: shifts must be integers, got ${bad}`);
  if (dims === undefined || (typeof dims !== "number" && dims.length === 0)) {
    if (s.length !== 1)
      throw new DescentError(
        `roll: without dims, shifts must be one number (the tensor is rolled flattened), got [${s.join(",")}] for shape ${shapeStr(x.shape)}`,
      );
    return roll(x.flatten(), s, [0]).reshape(x.shape);
  }
  const d = typeof dims === "number" ? [dims] : [...dims];
  if (d.length !== s.length)
    throw new DescentError(
      `roll: shifts [${s.join(",")}] and dims [${d.join(",")}] must have the same length (shape ${shapeStr(x.shape)})`,
    );
  let out = x;
  d.forEach((dim, i) => {
    const k = normDim("roll", dim, x.ndim);
    const n = x.ndim === 0 ? 1 : x.shape[k]!;
    const by = n === 0 ? 0 : ((s[i]! % n) + n) % n;
    // out[j] = in[j - by]: the last `by` elements move to the front.
    if (by !== 0) out = cat([out.narrow(k, n - by, by), out.narrow(k, 0, n - by)], k);
  });
  return out === x ? x.clone() : out;
}

/**
 * Tiles x sizes[i] times along each dim; sizes may have more entries than x has dims (x is then
 * seen with leading dims of 1). Each dim d becomes [1, n] → expand [r, n] → reshape [r·n].
 */
export function repeat(x: Tensor, sizes: readonly number[]): Tensor {
  if (sizes.length < x.ndim)
    throw new DescentError(
      `repeat: sizes [${sizes.join(",")}] must have at least as many entries as the input has dims (shape ${shapeStr(x.shape)})`,
    );
  const bad = sizes.find((r) => !Number.isInteger(r) || r < 0);
  if (bad !== undefined)
    throw new DescentError(
      `repeat: sizes must be non-negative integers, got [${sizes.join(",")}] for shape ${shapeStr(x.shape)}`,
    );
  const shape = [...Array<number>(sizes.length - x.ndim).fill(1), ...x.shape];
  const split = shape.flatMap((n) => [1, n]);
  const tiled = shape.flatMap((n, i) => [sizes[i]!, n]);
  // clone: always a copy, as PyTorch's (a reshape of the expanded view may stay a stride-0 view).
  return x
    .reshape(split)
    .expand(tiled)
    .clone()
    .reshape(shape.map((n, i) => n * sizes[i]!));
}

/** The lower triangle of the last two dims (j - i <= diagonal kept), the rest 0; batched over leading dims. */
export function tril(x: Tensor, diagonal: number): Tensor {
  return triangle("tril", x, diagonal, (i, j) => j - i > diagonal);
}

/** The upper triangle of the last two dims (j - i >= diagonal kept), the rest 0. */
export function triu(x: Tensor, diagonal: number): Tensor {
  return triangle("triu", x, diagonal, (i, j) => j - i < diagonal);
}

function triangle(op: string, x: Tensor, diagonal: number, drop: (i: number, j: number) => boolean): Tensor {
  if (x.ndim < 2) throw new DescentError(`${op}: input must have at least 2 dims, got shape ${shapeStr(x.shape)}`);
  if (!Number.isInteger(diagonal)) throw new DescentError(`${op}: diagonal must be an integer, got ${diagonal}`);
  const [rows, cols] = x.shape.slice(-2) as [number, number];
  // A where, not a multiply: the dropped part is exactly 0 even where x holds NaN or ±Inf.
  const mask = filledLike(x, "int32", [rows, cols], (k) => (drop(Math.floor(k / cols), k % cols) ? 1 : 0));
  return x.maskedFill(mask, 0);
}
