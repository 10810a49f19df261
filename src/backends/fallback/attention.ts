// Scaled dot-product attention and its backward, op by op with the required kernels: the
// definition the fused kernels (native/attention.cc) are tested against. Forward as the composed
// form of src/nn/functional/attention.ts (q·kᵀ, ·scale, + mask, softmax, ·v), which materialises the
// [L, S] scores; the backward recomputes the weights from the saved log Σ exp:
// p = exp(s − lse), dv = pᵀ·dO, ds = p·(dO·vᵀ − rowsum(dO·O)), dq = ds·k·scale, dk = dsᵀ·q·scale.

import type { AttentionConsts, Accelerations } from "../accelerations.js";
import type { View } from "../backend.js";
import type { Calc } from "./calc.js";

type AttentionKernels = Pick<Accelerations, "attention" | "attentionBackward">;

export function attentionFallbacks({ k, like, un, bin, binS }: Calc): AttentionKernels {
  /** The last two dims swapped (a free transpose). */
  const T = (x: View): View => {
    const n = x.shape.length;
    const swap = (a: readonly number[]) => [...a.slice(0, n - 2), a[n - 1]!, a[n - 2]!];
    return { ...x, shape: swap(x.shape), strides: swap(x.strides) };
  };
  /** x reduced over its last dim, kept as 1. */
  const reduceKeep = (op: "max" | "sum", x: View): View => {
    const r = like(x, [...x.shape.slice(0, -1), 1]);
    k.reduce(op, x, [x.shape.length - 1], r);
    return r;
  };
  /** A [..., 1] view broadcast along the last dim to n. */
  const along = (r: View, n: number): View => ({
    ...r,
    shape: [...r.shape.slice(0, -1), n],
    strides: [...r.strides.slice(0, -1), 0],
  });
  /** Columns [from, from + n) of ws's last dim. */
  const cols = (ws: View, from: number, n: number): View => ({
    ...ws,
    shape: [...ws.shape.slice(0, -1), n],
    offset: ws.offset + from * ws.strides[ws.shape.length - 1]!,
  });
  /** s = q·kᵀ·scale + mask (+ −∞ above the diagonal when causal): [B, H, L, S]. */
  function scores(q: View, key: View, mask: View | null, c: AttentionConsts): View {
    const [B, H, L] = q.shape as [number, number, number];
    const S = key.shape[2]!;
    const qk = like(q, [B, H, L, S]);
    k.matmul(q, T(key), qk);
    let s = binS("mul", qk, c.scale);
    if (mask) s = bin("add", s, mask);
    if (c.causal) {
      const tri = like(q, [L, S]);
      for (let i = 0; i < L; i++) for (let j = 0; j < S; j++) tri.data[i * S + j] = j > i ? -Infinity : 0;
      s = bin("add", s, { ...tri, shape: s.shape, strides: [0, 0, S, 1] });
    }
    return s;
  }
  return {
    attention(q, key, v, mask, c, ws) {
      const s = scores(q, key, mask, c);
      const S = s.shape[3]!;
      const Ev = v.shape[3]!;
      const m = reduceKeep("max", s);
      const e = un("exp", bin("sub", s, along(m, S)));
      const sum = reduceKeep("sum", e);
      const out = like(q, [...q.shape.slice(0, 3), Ev]);
      k.matmul(bin("div", e, along(sum, S)), v, out);
      k.copy(out, cols(ws, 0, Ev));
      bin("add", m, un("log", sum), cols(ws, Ev, 1));
    },
    attentionBackward(q, key, v, mask, c, ws, gws, dq, dk, dv) {
      const s = scores(q, key, mask, c);
      const S = s.shape[3]!;
      const Ev = v.shape[3]!;
      const p = un("exp", bin("sub", s, along(cols(ws, Ev, 1), S)));
      const dout = cols(gws, 0, Ev);
      k.matmul(T(p), dout, dv);
      const dp = like(p);
      k.matmul(dout, T(v), dp);
      const D = reduceKeep("sum", bin("mul", dout, cols(ws, 0, Ev)));
      const ds = binS("mul", bin("mul", p, bin("sub", dp, along(D, S))), c.scale);
      k.matmul(ds, key, dq);
      k.matmul(T(ds), q, dk);
    },
  };
}
