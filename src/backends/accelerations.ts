// Optional fused kernels a backend may register by name (Backend.accelerations). Each has an
// op-by-op fallback built from the required kernels (fallback/), which is its definition: an
// acceleration must give the fallback's numbers (bit for bit where the comment says so), and
// test/backends/accelerations.test.ts runs every registered one against its fallback on every
// backend. The ops layer calls them through `accelerations()` (index.ts), which resolves each name
// to the backend's kernel or the fallback once per backend, so a call costs one property lookup.

import type { View } from "./backend.js";

export interface Accelerations {
  /**
   * Optimizer updates (src/tensor/fused.ts): each updates a parameter and its state buffers in
   * place, all of one float dtype and shape. Bit-exact: the op-by-op fallback rounds to the dtype
   * after every operation, constants included, and an acceleration must round at the same places.
   * An acceleration is called only with contiguous views, none aliasing another; the fallback
   * takes any strides.
   */
  adamStep(p: View, grad: View, m: View, v: View, vmax: View | null, c: AdamConsts): void;
  /** buf is null without momentum; with c.first it is overwritten by the gradient (its first step). */
  sgdStep(p: View, grad: View, buf: View | null, c: SgdConsts): void;
  /** gradAvg: the centered variant's ḡ, or null; buf: the momentum buffer, or null. */
  rmspropStep(p: View, grad: View, sq: View, gradAvg: View | null, buf: View | null, c: RmspropConsts): void;
  adagradStep(p: View, grad: View, sum: View, c: AdagradConsts): void;
  /** Softmax (log: log-softmax) along the last dim of x; x and out contiguous, same shape, float. */
  softmax(x: View, log: boolean, out: View): void;
  /** Its input gradient from the output y and the output's gradient g (all contiguous, one shape). */
  softmaxBackward(g: View, y: View, log: boolean, out: View): void;
  /** ReLU's backward from its output y: out = y ≤ 0 ? 0 : g (NaN in y passes g); any strides. */
  reluBackward(g: View, y: View, out: View): void;
  /**
   * LSTM cell, gates i, f, g, o (all views 2-D, any strides): xg, hg [B, 4H] pre-activations whose
   * sum is the gates, c [B, H] → out contiguous [B, 7H] = [h' | c' | σi σf tanh g σo | tanh c'].
   */
  lstmCell(xg: View, hg: View, c: View, out: View): void;
  /** From ws (lstmCell's out), c and the gradients dh, dc [B, H] of h', c': dgates [B, 4H], dcPrev [B, H]. */
  lstmCellBackward(ws: View, c: View, dh: View, dc: View, dgates: View, dcPrev: View): void;
  /**
   * GRU cell, gates r, z, n: xg, hg [B, 3H] input- and hidden-side pre-activations, h [B, H], bhn
   * [B, H] (may be stride-0) or null, added to hg's n part → out contiguous [B, 5H] =
   * [h' | r | z | n | hg_n + bhn], with n = tanh(xg_n + r·(hg_n + bhn)), h' = (1 − z)·n + z·h.
   */
  gruCell(xg: View, hg: View, h: View, bhn: View | null, out: View): void;
  /** From ws (gruCell's out), h and dh [B, H], the gradient of h': dxg, dhg [B, 3H] and dhPrev [B, H]. */
  gruCellBackward(ws: View, h: View, dh: View, dxg: View, dhg: View, dhPrev: View): void;
  /**
   * Scaled dot-product attention (src/ops/attention.ts): q [B, H, L, E], k [B, H, S, E], v [B, H, S, Ev] with a
   * contiguous last dim and any other strides (e.g. the filled prefix of a preallocated KV cache), one float dtype; mask null or an additive [B, H, L, S] view of that dtype (any strides, 0 where it
   * broadcasts); c.causal also masks key j > query i. Writes ws, contiguous [B, H, L, Ev + 1]: each query row's
   * softmax(q·kᵀ·scale + mask)·v, then the log Σ exp of its scores (NaN where every key is masked out). A fused
   * kernel need not hold the [L, S] scores (fallback/attention.ts is the definition); to float32 rounding.
   */
  attention(q: View, k: View, v: View, mask: View | null, c: AttentionConsts, ws: View): void;
  /** From q, k, v (as the forward takes them), attention's ws and its gradient gws (same shape, contiguous; the lse column's is ignored): dq, dk, dv (contiguous). */
  attentionBackward(
    q: View,
    k: View,
    v: View,
    mask: View | null,
    c: AttentionConsts,
    ws: View,
    gws: View,
    dq: View,
    dk: View,
    dv: View,
  ): void;
  /**
   * Layer normalisation of each row of x [R, N] (last dim contiguous in the fast paths; the fallback
   * takes any strides): y = (x − mean)·rstd·weight + bias with the biased variance, rstd = 1/√(var + eps);
   * weight, bias [N] or null. Writes out [R, N] and stats [R, 2] = (mean, rstd) per row, both contiguous,
   * the statistics its backward reads. Fused kernels sum in float64 and round once: to float32 rounding.
   */
  layerNorm(x: View, weight: View | null, bias: View | null, eps: number, out: View, stats: View): void;
  /**
   * From the output's gradient g [R, N], x, weight and the forward's stats: dx [R, N] (contiguous), and
   * where not null dweight = Σ_rows g·x̂ and dbias = Σ_rows g [N] (overwritten, not accumulated).
   */
  layerNormBackward(
    g: View,
    x: View,
    weight: View | null,
    stats: View,
    dx: View,
    dweight: View | null,
    dbias: View | null,
  ): void;
  /**
   * GELU, exact x/2·(1 + erf(x/√2)) or (tanh) x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))): x and out
   * contiguous, one shape (the fallback takes any strides). Fused kernels compute in float64 and round once.
   */
  gelu(x: View, tanh: boolean, out: View): void;
  /** Its input gradient g·GELU′(x) (g, x, out contiguous, one shape). */
  geluBackward(g: View, x: View, tanh: boolean, out: View): void;
  /** out [M, N] (contiguous) = x [M, K] · wᵀ (w [N, K]) + bias [N] (or none): a Linear layer in one call. Any strides in. */
  linear(x: View, w: View, bias: View | null, out: View): void;
}

export type AccelName = keyof Accelerations;

/** Adam/AdamW: p ← p·decay (AdamW; 1 for Adam), then the update of fallback/optim.ts. */
export interface AdamConsts {
  readonly decay: number;
  /** Adam's L2 term (0: none). */
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** −lr / (1 − β1^t) */
  readonly negStepSize: number;
  /** √(1 − β2^t) */
  readonly bc2Sqrt: number;
  readonly maximize: boolean;
}

export interface AttentionConsts {
  readonly scale: number;
  readonly causal: boolean;
}

export interface SgdConsts {
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  readonly maximize: boolean;
  /** The momentum buffer's first step: it becomes the gradient. */
  readonly first: boolean;
}

export interface RmspropConsts {
  readonly lr: number;
  readonly alpha: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly momentum: number;
  readonly maximize: boolean;
}

export interface AdagradConsts {
  /** The decayed learning rate lr / (1 + (t − 1)·lrDecay). */
  readonly clr: number;
  readonly weightDecay: number;
  readonly eps: number;
  readonly maximize: boolean;
}
