// The native backend's fused attention (native/attention.cc): flash-style forward and backward
// over the tensors' own typed arrays. Every view's layout goes in one Float64Array; the ops layer
// hands over q, k, v with a contiguous last dim (any other strides, in both passes), contiguous ws
// and gradients, and a mask of any strides.

import type { View } from "../backend.js";
import type { Accelerations, AttentionConsts } from "../accelerations.js";

type F = Float32Array | Float64Array;

/**
 * What native/attention.cc adds to the addon; meta = [B, H, L, S, E, Ev, scale, causal, mask strides ×4,
 * offsets ×9, strides of q, k, v over [B, H, row] ×9].
 */
export interface AttentionAddon {
  attention(q: F, k: F, v: F, mask: F | null, ws: F, meta: Float64Array): void;
  attentionBackward(q: F, k: F, v: F, mask: F | null, ws: F, gws: F, dq: F, dk: F, dv: F, meta: Float64Array): void;
}

export function nativeAttention(addon: AttentionAddon): Pick<Accelerations, "attention" | "attentionBackward"> {
  const meta = new Float64Array(30);
  function fill(q: View, k: View, v: View, mask: View | null, c: AttentionConsts, views: (View | null)[]): void {
    const [B, H, L, E] = q.shape as [number, number, number, number];
    meta.set([B, H, L, k.shape[2]!, E, v.shape[3]!, c.scale, c.causal ? 1 : 0]);
    meta.set(mask ? mask.strides : [0, 0, 0, 0], 8);
    views.forEach((x, i) => (meta[12 + i] = x ? x.offset : 0));
    [q, k, v].forEach((x, i) => meta.set(x.strides.slice(0, 3), 21 + 3 * i));
  }
  const d = (x: View | null) => (x ? (x.data as F) : null);
  return {
    attention(q, k, v, mask, c, ws) {
      fill(q, k, v, mask, c, [q, k, v, mask, ws]);
      addon.attention(d(q)!, d(k)!, d(v)!, d(mask), d(ws)!, meta);
    },
    attentionBackward(q, k, v, mask, c, ws, gws, dq, dk, dv) {
      fill(q, k, v, mask, c, [q, k, v, mask, ws, gws, dq, dk, dv]);
      addon.attentionBackward(d(q)!, d(k)!, d(v)!, d(mask), d(ws)!, d(gws)!, d(dq)!, d(dk)!, d(dv)!, meta);
    },
  };
}
