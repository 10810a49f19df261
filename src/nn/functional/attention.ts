// Scaled dot-product attention, PyTorch 2's F.scaled_dot_product_attention: softmax(q·kᵀ·scale +
// mask)·v. The composed form below (matmul, scale, mask, softmax, dropout, matmul) is the
// definition; autograd differentiates through it. Without dropout the fused op runs instead
// (tensor/attention.ts: one acceleration forward and backward, flash style natively, never holding
// the [L, S] scores); dropout, a mask that needs a gradient and unequal batch dims stay composed.
// Masks follow SDPA's convention: an int32 mask is PyTorch's bool mask (1 = may attend, 0 = masked
// out), a float mask is added to the scores.

import { DescentError, shapeStr } from "../../core/errors.js";
import { checkOptions, keysOf } from "../../core/options.js";
import { fromArray, where, type Tensor } from "../../tensor/tensor.js";
import { zeros } from "../../tensor/creation.js";
import { fusedAttention } from "../../tensor/attention.js";
import { dropout } from "./activation.js";

/** Options of scaledDotProductAttention (F.scaled_dot_product_attention's keyword arguments). */
export interface SdpaOptions {
  /** int32 (1 = attend, 0 = masked out) or float (added to the scores); broadcasts to [..., L, S]. */
  attnMask?: Tensor | null;
  /** Dropout on the attention weights (applied only when > 0; pass 0 in eval mode). */
  dropoutP?: number;
  /** The top-left lower-triangular mask (query i sees keys 0..i); not with attnMask. */
  isCausal?: boolean;
  /** Default 1/√E. */
  scale?: number | null;
}

/** The keys of SdpaOptions, for checkOptions. */
const SDPA_KEYS = keysOf<SdpaOptions>()({ attnMask: true, dropoutP: true, isCausal: true, scale: true });

/** The [L, S] int32 mask of isCausal: 1 where key j ≤ query i. */
export function causalMask(L: number, S: number): Tensor {
  return fromArray("int32", [L, S], (i) => (i % S <= Math.floor(i / S) ? 1 : 0));
}

/** Checks q [..., L, E], k [..., S, E], v [..., S, Ev] and the mask; returns [L, S, E]. */
export function checkSdpa(op: string, q: Tensor, k: Tensor, v: Tensor, opts: SdpaOptions): [number, number, number] {
  const shapes = `q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)}`;
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2)
    throw new DescentError(`${op}: q, k and v need at least 2 dims [..., seq, features], got ${shapes}`);
  if (q.dtype === "int32" || q.dtype !== k.dtype || q.dtype !== v.dtype)
    throw new DescentError(`${op}: q, k and v must share one float dtype, got ${q.dtype}, ${k.dtype}, ${v.dtype}`);
  const L = q.shape[q.ndim - 2]!;
  const E = q.shape[q.ndim - 1]!;
  const S = k.shape[k.ndim - 2]!;
  if (k.shape[k.ndim - 1] !== E)
    throw new DescentError(`${op}: q and k must have the same last dim (features), got ${shapes}`);
  if (v.shape[v.ndim - 2] !== S)
    throw new DescentError(`${op}: k and v must have the same sequence length (dim -2), got ${shapes}`);
  const m = opts.attnMask;
  if (m) {
    if (m.dtype !== "int32" && m.dtype !== q.dtype)
      throw new DescentError(`${op}: attnMask must be int32 (bool) or ${q.dtype} like q, got ${m.dtype}`);
    const ms = m.shape;
    const fits = (d: number, n: number): boolean => d === 1 || d === n;
    if (m.ndim < 1 || !fits(ms[ms.length - 1]!, S) || (m.ndim >= 2 && !fits(ms[ms.length - 2]!, L)))
      throw new DescentError(
        `${op}: attnMask ${shapeStr(ms)} does not broadcast to the scores [..., ${L}, ${S}] (${shapes})`,
      );
    if (opts.isCausal)
      throw new DescentError(`${op}: give either attnMask or isCausal, not both (attnMask ${shapeStr(ms)})`);
  }
  const p = opts.dropoutP ?? 0;
  if (typeof p !== "number" || !(p >= 0 && p <= 1))
    throw new DescentError(`${op}: dropoutP has to be between 0 and 1, but got ${p}`);
  if (opts.scale != null && !Number.isFinite(opts.scale))
    throw new DescentError(`${op}: scale must be a finite number, got ${opts.scale}`);
  return [L, S, E];
}

/** softmax(q·kᵀ·scale + mask)·v with dropout on the weights; returns the output [..., L, Ev]. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: SdpaOptions = {}): Tensor {
  checkOptions("scaledDotProductAttention", opts, SDPA_KEYS);
  const [L, S, E] = checkSdpa("scaledDotProductAttention", q, k, v, opts);
  const m = opts.attnMask;
  const batch = (t: Tensor) => t.shape.slice(0, -2).join(",");
  const fused =
    (opts.dropoutP ?? 0) === 0 &&
    (!m || (!m.requiresGrad && m.ndim <= q.ndim)) &&
    batch(q) === batch(k) &&
    batch(q) === batch(v) &&
    L * S * E > 0;
  if (!fused) return sdpaComposed(q, k, v, opts)[0];
  // An int32 mask becomes the additive one it stands for (0 → −∞).
  const additive = m && m.dtype === "int32" ? where(m.eq(0), -Infinity, zeros([], { dtype: q.dtype })) : (m ?? null);
  return fusedAttention(q, k, v, additive, opts.scale ?? 1 / Math.sqrt(E), opts.isCausal ?? false);
}

/**
 * The composed definition; with withWeights it also returns the attention weights (after dropout,
 * as PyTorch's MultiheadAttention returns them).
 */
export function sdpaComposed(q: Tensor, k: Tensor, v: Tensor, opts: SdpaOptions): [Tensor, Tensor] {
  const [L, S, E] = checkSdpa("scaledDotProductAttention", q, k, v, opts);
  const scale = opts.scale ?? 1 / Math.sqrt(E);
  let scores = q.matmul(k.transpose(-2, -1)).mul(scale);
  const mask = opts.isCausal ? causalMask(L, S) : opts.attnMask;
  if (mask) scores = mask.dtype === "int32" ? where(mask.eq(0), -Infinity, scores) : scores.add(mask);
  let weights = scores.softmax(-1);
  const p = opts.dropoutP ?? 0;
  if (p > 0) weights = dropout(weights, p, true);
  return [weights.matmul(v), weights];
}
