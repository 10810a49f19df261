// Fused scaled dot-product attention at the tensor level (nn reaches ops only through here): brings
// q, k, v and the mask to the op's 4-D layout and hands out the output columns of its workspace. The
// kernels (forward and backward) read views whose last dim is contiguous (a KV cache's filled prefix,
// the heads of a fused qkv projection) without copying them. nn/functional/attention.ts decides when
// the fused form applies (no dropout, a mask that needs no gradient, equal batch dims).

import { Attention } from "../ops/attention.js";
import { apply } from "./apply.js";
import type { Tensor } from "./tensor.js";

/**
 * softmax(q·kᵀ·scale + mask)·v for q [...batch, L, E], k [...batch, S, E], v [...batch, S, Ev] (equal
 * batch dims, one float dtype) and an additive float mask broadcasting to [...batch, L, S] or null;
 * causal masks key j > query i.
 */
export function fusedAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: Tensor | null,
  scale: number,
  causal: boolean,
): Tensor {
  const batch = q.shape.slice(0, -2);
  const [L, S, Ev] = [q.shape[q.ndim - 2]!, k.shape[k.ndim - 2]!, v.shape[v.ndim - 1]!];
  // [B, H]: the last batch dim stays (the heads of MultiheadAttention), the others merge.
  const n = batch.length;
  const B = batch.slice(0, Math.max(0, n - 1)).reduce((a, b) => a * b, 1);
  const H = n > 0 ? batch[n - 1]! : 1;
  const four = (t: Tensor, rows: number, cols: number) => {
    const r = t.reshape([B, H, rows, cols]);
    return r.strides[3] !== 1 && cols > 1 ? r.contiguous() : r;
  };
  const inputs = [four(q, L, q.shape[q.ndim - 1]!), four(k, S, k.shape[k.ndim - 1]!), four(v, S, Ev)];
  if (mask) inputs.push(mask.expand([...batch, L, S]).reshape([B, H, L, S]));
  const ws = apply(Attention, inputs, { scale, causal });
  return ws.narrow(3, 0, Ev).reshape([...batch, L, Ev]);
}
