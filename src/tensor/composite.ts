// Composite activations: plain Tensor code over the primitives, with no backward of their own
// (autograd differentiates through them). Numerically stable forms where the textbook one
// overflows. softmax and logSoftmax here are the general forms; activation.ts picks the fused op
// where it applies. The composite reductions (variance, norms, log-sum-exp) are in reduce.ts.

import { checkFloat } from "../core/dtype.js";
import { DescentError } from "../core/errors.js";
import { normDim } from "../core/shape.js";
import { Gelu } from "../ops/norm.js";
import { apply } from "./apply.js";
import type { Tensor } from "./tensor.js";

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
  // One fused op (fallback/gelu.ts is its op-by-op definition, the formula above).
  return apply(Gelu, [x.contiguous()], approximate === "tanh");
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
