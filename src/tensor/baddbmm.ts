// baddbmm: beta·input + alpha·(batch1 @ batch2), as torch.baddbmm. A composite of the batched
// matmul and broadcasting element-wise ops; with beta = 0 the input is not read (PyTorch: its NaN
// and Inf do not reach the result) yet still gets a zero gradient, as PyTorch gives it.

import { DescentError, shapeStr } from "../core/errors.js";
import { checkOptions, keysOf } from "../core/options.js";
import { broadcastShapes, sameShape } from "../core/shape.js";
import { where } from "./elementwise.js";
import type { Tensor } from "./tensor.js";

/** Options of baddbmm. */
export interface BaddbmmOptions {
  /** Multiplier of input (default 1; 0 ignores input's values, NaN included). */
  beta?: number;
  /** Multiplier of the product (default 1). */
  alpha?: number;
}

const BADDBMM_KEYS = keysOf<BaddbmmOptions>()({ beta: true, alpha: true });

/**
 * beta·input + alpha·(batch1 @ batch2) (torch.baddbmm): batch1 [B, n, m], batch2 [B, m, p], input
 * broadcastable to [B, n, p] → [B, n, p].
 */
export function baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, opts: BaddbmmOptions = {}): Tensor {
  checkOptions("baddbmm", opts, BADDBMM_KEYS);
  const beta = opts.beta ?? 1;
  const alpha = opts.alpha ?? 1;
  const shapes = `input ${shapeStr(input.shape)}, batch1 ${shapeStr(batch1.shape)}, batch2 ${shapeStr(batch2.shape)}`;
  if (typeof beta !== "number" || typeof alpha !== "number")
    throw new DescentError(`baddbmm: beta and alpha must be numbers, got ${String(beta)} and ${String(alpha)}`);
  if (batch1.ndim !== 3 || batch2.ndim !== 3)
    throw new DescentError(`baddbmm: batch1 and batch2 must be 3-D, got ${shapes}`);
  const [b, n, m] = batch1.shape as [number, number, number];
  if (batch2.shape[0] !== b || batch2.shape[1] !== m)
    throw new DescentError(`baddbmm: batch2 must have shape [${b}, ${m}, p] to multiply batch1, got ${shapes}`);
  if (input.dtype !== batch1.dtype || batch2.dtype !== batch1.dtype)
    throw new DescentError(
      `baddbmm: dtypes differ (input ${input.dtype}, batch1 ${batch1.dtype}, batch2 ${batch2.dtype}); convert with to()`,
    );
  const outShape = [b, n, batch2.shape[2]!];
  let fits: boolean;
  try {
    fits = sameShape(broadcastShapes("baddbmm", input.shape, outShape), outShape);
  } catch {
    fits = false;
  }
  if (!fits)
    throw new DescentError(
      `baddbmm: input does not broadcast to the product's shape ${shapeStr(outShape)} (${shapes})`,
    );
  const prod = batch1.matmul(batch2);
  const scaled = alpha === 1 ? prod : prod.mul(alpha);
  // beta = 0: a never-true where keeps input out of the values but in the graph (zero gradient).
  if (beta === 0) return input.requiresGrad ? where(input.newZeros([]), input, scaled) : scaled;
  return (beta === 1 ? input : input.mul(beta)).add(scaled);
}
