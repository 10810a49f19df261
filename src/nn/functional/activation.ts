// nn.functional: activations, dropout, linear, embedding and layer norm as plain functions of
// tensors (the modules in layers/ call these). All composites of Tensor methods: autograd
// differentiates through them.

import { checkFloat } from "../../core/dtype.js";
import { DescentError, shapeStr } from "../../core/errors.js";
import { defaultGenerator } from "../../core/random.js";
import { checkOptions } from "../../core/options.js";
import { fromArray, where, type Tensor } from "../../tensor/tensor.js";
import { fusedLayerNorm, fusedLinear } from "../../tensor/norm.js";

/** max(x, 0) (F.relu). */
export function relu(x: Tensor): Tensor {
  return x.relu();
}

/** x where x > 0, else negativeSlope·x (F.leaky_relu). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return x.leakyRelu(negativeSlope);
}

/**
 * max(0, x) + w·min(0, x) with one learnable slope per channel (dim 1 of the input) or one shared
 * slope; the gradient at x = 0 goes to the negative side, as PyTorch's.
 */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  const n = weight.size;
  if (weight.ndim > 1) throw new DescentError(`prelu: weight must be 0-d or 1-D, got shape ${shapeStr(weight.shape)}`);
  let w = weight;
  if (n === 1) w = weight.reshape([]);
  else {
    const channels = x.ndim >= 2 ? x.shape[1] : undefined;
    if (channels !== n) {
      throw new DescentError(
        `prelu: ${n} weights need an input with ${n} channels in dim 1, got shape ${shapeStr(x.shape)}`,
      );
    }
    w = weight.reshape([n, ...x.shape.slice(2).map(() => 1)]);
  }
  return x.relu().add(w.mul(x.clamp(undefined, 0)));
}

/** x where x > 0, else alpha·(eˣ − 1) (F.elu). */
export function elu(x: Tensor, alpha = 1): Tensor {
  return x.elu(alpha);
}

const GELU_KEYS: ReadonlySet<string> = new Set(["approximate"]);

/** Exact GELU x·Φ(x), or with {approximate: "tanh"} PyTorch's tanh approximation. */
export function gelu(x: Tensor, opts: { approximate?: "none" | "tanh" } = {}): Tensor {
  checkOptions("gelu", opts, GELU_KEYS);
  const approximate = opts.approximate ?? "none";
  if (approximate !== "none" && approximate !== "tanh")
    throw new DescentError(`gelu: approximate must be "none" or "tanh", got ${String(approximate)}`);
  return x.gelu(approximate);
}

/** x·sigmoid(x) (F.silu). */
export function silu(x: Tensor): Tensor {
  return x.silu();
}

/** 1 / (1 + e⁻ˣ) (torch.sigmoid). */
export function sigmoid(x: Tensor): Tensor {
  return x.sigmoid();
}

/** Hyperbolic tangent (torch.tanh). */
export function tanh(x: Tensor): Tensor {
  return x.tanh();
}

/** Softmax along dim (F.softmax). */
export function softmax(x: Tensor, dim: number): Tensor {
  return x.softmax(dim);
}

/** log(softmax(x)) along dim, computed stably (F.log_softmax). */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return x.logSoftmax(dim);
}

/** Checks a dropout probability (shared by the Dropout modules of other files). */
export function checkDropoutP(op: string, p: number): void {
  if (typeof p !== "number" || !(p >= 0 && p <= 1))
    throw new DescentError(`${op}: dropout probability has to be between 0 and 1, but got ${p}`);
}

/**
 * Inverted dropout: in training each element is zeroed with probability p and the rest scaled by
 * 1/(1-p), so the expected value is unchanged and eval mode is the identity. The mask is drawn
 * from the default generator (reproducible under manualSeed).
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  checkDropoutP("dropout", p);
  if (!training || p === 0) return x;
  if (x.dtype === "int32") throw new DescentError(`dropout: expected a floating-point tensor, got ${x.dtype}`);
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const mask = fromArray(x.dtype, x.shape, () => (defaultGenerator.uniform() < p ? 0 : scale));
  return x.mul(mask);
}

/** x·wᵀ + b for x [..., in], w [out, in], b [out]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.ndim !== 2) throw new DescentError(`linear: weight must be 2-D [out, in], got ${shapeStr(weight.shape)}`);
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== weight.shape[1]) {
    throw new DescentError(
      `linear: input ${shapeStr(x.shape)} does not match weight ${shapeStr(weight.shape)} (expected last dim ${weight.shape[1]})`,
    );
  }
  if (x.dtype !== weight.dtype)
    throw new DescentError(`linear: input is ${x.dtype} but weight is ${weight.dtype}; convert one with to()`);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0]))
    throw new DescentError(
      `linear: bias ${shapeStr(bias.shape)} does not match weight ${shapeStr(weight.shape)} (expected [${weight.shape[0]}])`,
    );
  if (bias && bias.dtype !== x.dtype)
    throw new DescentError(`linear: input is ${x.dtype} but bias is ${bias.dtype}; convert one with to()`);
  // One op (product and bias in one kernel call) where the backend has it fused.
  return fusedLinear(x, weight, bias ?? null);
}

/**
 * Rows of weight [num, dim] picked by int32 indices of any shape → [...indices.shape, dim]. The
 * rows picked at paddingIdx keep their value but pass no gradient back, as PyTorch's.
 */
export function embedding(indices: Tensor, weight: Tensor, paddingIdx?: number | null): Tensor {
  if (indices.dtype !== "int32")
    throw new DescentError(`embedding: indices must be int32, got ${indices.dtype} (shape ${shapeStr(indices.shape)})`);
  if (weight.ndim !== 2)
    throw new DescentError(`embedding: weight must be 2-D [num, dim], got ${shapeStr(weight.shape)}`);
  const num = weight.shape[0]!;
  const flat = indices.reshape([-1]);
  for (const v of flat.toFlatArray()) {
    if (v < 0 || v >= num)
      throw new DescentError(
        `embedding: index ${v} is out of range for ${num} embeddings (weight ${shapeStr(weight.shape)})`,
      );
  }
  const pad = normPaddingIdx("embedding", paddingIdx, num);
  const rows = weight.indexSelect(0, flat);
  let out = rows;
  if (pad !== null && weight.requiresGrad) {
    const isPad = flat.eq(pad).reshape([-1, 1]);
    out = where(isPad, rows.detach(), rows);
  }
  return out.reshape([...indices.shape, weight.shape[1]!]);
}

/** A paddingIdx in [-num, num) made non-negative (null stays null). */
export function normPaddingIdx(op: string, paddingIdx: number | null | undefined, num: number): number | null {
  if (paddingIdx === undefined || paddingIdx === null) return null;
  if (!Number.isInteger(paddingIdx) || paddingIdx < -num || paddingIdx >= num)
    throw new DescentError(`${op}: paddingIdx ${paddingIdx} must be an integer within [-${num}, ${num})`);
  return paddingIdx < 0 ? paddingIdx + num : paddingIdx;
}

/**
 * Normalises over the trailing dims given by normalizedShape with the biased variance (as PyTorch),
 * then applies the optional element-wise weight and bias of that shape.
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  const shape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
  const k = shape.length;
  if (k === 0 || x.ndim < k || shape.some((s, i) => x.shape[x.ndim - k + i] !== s)) {
    throw new DescentError(
      `layerNorm: input ${shapeStr(x.shape)} does not end with the normalized shape ${shapeStr(shape)}`,
    );
  }
  for (const [name, t] of [
    ["weight", weight],
    ["bias", bias],
  ] as const) {
    if (t && shapeStr(t.shape) !== shapeStr(shape))
      throw new DescentError(
        `layerNorm: ${name} ${shapeStr(t.shape)} must have the normalized shape ${shapeStr(shape)}`,
      );
  }
  checkFloat("layerNorm", x.dtype);
  for (const t of [weight, bias])
    if (t && t.dtype !== x.dtype)
      throw new DescentError(`layerNorm: input is ${x.dtype} but weight/bias is ${t.dtype}; convert one with to()`);
  // One fused op (fallback/norm.ts is its op-by-op definition: mean, centre, biased variance, rsqrt, affine).
  return fusedLayerNorm(x, k, weight ?? null, bias ?? null, eps);
}
