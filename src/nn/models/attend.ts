// The attention seam of the GPT model: softmax(q·kᵀ/√d + causal mask)·v, written with matmul,
// maskedFill and softmax. One function so that switching to nn.functional.scaledDotProductAttention
// (being written on another branch) is a one-line change here.

import { arange } from "../../tensor/creation.js";
import type { Tensor } from "../../tensor/tensor.js";
import * as F from "../functional/activation.js";

/**
 * q [B, H, Tq, hd], k and v [B, H, Tk, hd] with Tk >= Tq: the queries are the last Tq of the Tk
 * positions (the rest come from a key/value cache), so query i may see keys j <= i + (Tk − Tq)
 * (the mask is aligned bottom-right; with Tq = 1 nothing is masked).
 */
export function attend(q: Tensor, k: Tensor, v: Tensor, dropoutP = 0): Tensor {
  const tq = q.shape[2]!;
  const tk = k.shape[2]!;
  let scores = q.matmul(k.transpose(2, 3)).mul(1 / Math.sqrt(q.shape[3]!));
  if (tq > 1) {
    const rows = arange(tk - tq, tk, 1, { dtype: "int32" }).reshape(tq, 1);
    const cols = arange(0, tk, 1, { dtype: "int32" }).reshape(1, tk);
    scores = scores.maskedFill(cols.gt(rows), -Infinity);
  }
  let p = F.softmax(scores, -1);
  if (dropoutP > 0) p = F.dropout(p, dropoutP, true);
  return p.matmul(v);
}
