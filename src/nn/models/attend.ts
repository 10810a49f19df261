// The attention seam of the GPT model: softmax(q·kᵀ/√d + causal mask)·v through
// nn.functional.scaledDotProductAttention (which takes the fused kernel when a backend offers it).
// Its isCausal mask is aligned top-left, as PyTorch's; with a key/value cache the queries are the
// last Tq of Tk positions, so the mask must be aligned bottom-right instead: built here when needed.

import { arange } from "../../tensor/creation.js";
import type { Tensor } from "../../tensor/tensor.js";
import { scaledDotProductAttention } from "../functional/attention.js";

/**
 * q [B, H, Tq, hd], k and v [B, H, Tk, hd] with Tk >= Tq: query i may see keys j <= i + (Tk − Tq)
 * (with Tq = Tk that is the usual causal mask; with Tq = 1, a cached step, nothing is masked).
 */
export function attend(q: Tensor, k: Tensor, v: Tensor, dropoutP = 0): Tensor {
  const tq = q.shape[2]!;
  const tk = k.shape[2]!;
  if (tq === tk) return scaledDotProductAttention(q, k, v, { isCausal: true, dropoutP });
  if (tq === 1) return scaledDotProductAttention(q, k, v, { dropoutP });
  const rows = arange(tk - tq, tk, 1, { dtype: "int32" }).reshape(tq, 1);
  const cols = arange(0, tk, 1, { dtype: "int32" }).reshape(1, tk);
  return scaledDotProductAttention(q, k, v, { attnMask: cols.le(rows).int(), dropoutP });
}
