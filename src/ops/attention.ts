// Fused scaled dot-product attention: one acceleration forward (softmax(q·kᵀ·scale + mask)·v, flash
// style where the backend has a kernel) and one backward that recomputes the weights, instead of
// the composed form's matmul, scale, mask, softmax and matmul with their [L, S] intermediates
// (fallback/attention.ts is the op-by-op definition). Ops have one output, so the op returns a
// workspace [B, H, L, Ev + 1]: each query row's output, then the log Σ exp its backward reads; the
// tensor layer hands out only the output columns (src/tensor/attention.ts).

import type { AttentionConsts } from "../backends/index.js";
import type { Tensor } from "../tensor/tensor.js";
import { accel, alloc, need, type OpDef } from "./op.js";

/** [q, k, v] or [q, k, v, mask]: q [B, H, L, E], k [B, H, S, E], v [B, H, S, Ev] with a contiguous last dim; mask additive [B, H, L, S]. */
export const Attention: OpDef<AttentionConsts> = {
  name: "scaledDotProductAttention",
  saves: "both",
  forward([q, k, v, mask], c) {
    const [B, H, L] = q!.shape as [number, number, number];
    const ws = alloc(q!.dtype, [B, H, L, v!.shape[3]! + 1]);
    accel().attention(q!, k!, v!, mask ?? null, c, ws);
    return ws;
  },
  // The mask gets no gradient: the tensor layer takes this op only for masks that need none.
  backward(g, [q, k, v, mask], ws, c) {
    const [dq, dk, dv] = [q!, k!, v!].map((t) => t.newZeros(t.shape)) as [Tensor, Tensor, Tensor];
    accel().attentionBackward(q!, k!, v!, mask ?? null, c, ws, g.contiguous(), dq, dk, dv);
    return [need(q!, () => dq), need(k!, () => dk), need(v!, () => dv), null];
  },
  freshGrads: true,
};
