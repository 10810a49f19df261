// The native backend's fused LayerNorm (native/layernorm.cc) and Linear with its bias
// (native/linear.cc). Layouts the addon does not take (a column stride other than 1, a contiguous
// output expected), mixed dtypes and calls too small to repay the crossing run the js kernel or the
// fallback instead.

import type { View } from "../backend.js";
import type { Accelerations } from "../accelerations.js";
import { normKernels } from "../js/norm.js";

type F = Float32Array | Float64Array;

/** What native/layernorm.cc and native/linear.cc add to the addon. */
export interface NormAddon {
  /** meta = [R, N, eps, xOff, xRowStride, gOff, gRowStride, wOff, bOff, outOff, statsOff, dwOff, dbOff]. */
  layerNorm(x: F, w: F | null, b: F | null, out: F, stats: F, meta: Float64Array): void;
  layerNormBackward(g: F, x: F, w: F | null, stats: F, dx: F, dw: F | null, db: F | null, meta: Float64Array): void;
  /** meta = [M, K, N, xOff, sXm, sXk, wOff, sWn, sWk, bOff, sB, outOff]; out contiguous. */
  linear(x: F, w: F, b: F | null, out: F, meta: Float64Array): void;
}

const isFloat = (v: View) => v.data instanceof Float32Array || v.data instanceof Float64Array;

export function nativeNorm(
  addon: NormAddon,
  fallback: Pick<Accelerations, "linear">,
  minWork: number,
): Pick<Accelerations, "layerNorm" | "layerNormBackward" | "linear"> {
  const meta = new Float64Array(13);
  const d = (x: View | null) => (x ? (x.data as F) : null);
  /** Float arrays of one type; rows with a unit column stride; vectors and outputs contiguous. */
  const fits = (rowsIn: View[], vectors: (View | null)[], outs: View[]) => {
    const all = [...rowsIn, ...vectors, ...outs].filter((v): v is View => v !== null);
    const ctor = all[0]!.data.constructor;
    if (!all.every((v) => isFloat(v) && v.data.constructor === ctor)) return false;
    const n = rowsIn[0]!.shape[1]!;
    if (n * rowsIn[0]!.shape[0]! === 0) return false; // an empty array may have no data pointer
    if (n > 1 && rowsIn.some((v) => v.strides[1] !== 1)) return false;
    if (vectors.some((v) => v && n > 1 && v.strides[0] !== 1)) return false;
    return outs.every(
      (v) =>
        v.shape.length !== 2 ||
        ((v.shape[1]! <= 1 || v.strides[1] === 1) && (v.shape[0]! <= 1 || v.strides[0] === v.shape[1])),
    );
  };
  function fill(rows: number, n: number, eps: number, x: View, g: View | null, w: View | null, b: View | null) {
    meta[0] = rows;
    meta[1] = n;
    meta[2] = eps;
    meta[3] = x.offset;
    meta[4] = x.strides[0]!;
    meta[5] = g ? g.offset : 0;
    meta[6] = g ? g.strides[0]! : 0;
    meta[7] = w ? w.offset : 0;
    meta[8] = b ? b.offset : 0;
  }
  return {
    layerNorm(x, w, b, eps, out, stats) {
      if (!fits([x], [w, b], [out, stats])) return normKernels.layerNorm(x, w, b, eps, out, stats);
      fill(x.shape[0]!, x.shape[1]!, eps, x, null, w, b);
      meta[9] = out.offset;
      meta[10] = stats.offset;
      addon.layerNorm(d(x)!, d(w), d(b), d(out)!, d(stats)!, meta);
    },
    layerNormBackward(g, x, w, stats, dx, dw, db) {
      if (!fits([g, x], [w, dw, db], [dx, stats])) return normKernels.layerNormBackward(g, x, w, stats, dx, dw, db);
      fill(x.shape[0]!, x.shape[1]!, 0, x, g, w, null);
      meta[9] = dx.offset;
      meta[10] = stats.offset;
      meta[11] = dw ? dw.offset : 0;
      meta[12] = db ? db.offset : 0;
      addon.layerNormBackward(d(g)!, d(x)!, d(w), d(stats)!, d(dx)!, d(dw), d(db), meta);
    },
    linear(x, w, b, out) {
      const [M, K] = x.shape as [number, number];
      const N = w.shape[0]!;
      const ok = [x, w, b, out].every((v) => !v || (isFloat(v) && v.data.constructor === out.data.constructor));
      if (!ok || M * N * K < minWork) return fallback.linear(x, w, b, out);
      meta.set([M, K, N, x.offset, x.strides[0]!, x.strides[1]!, w.offset, w.strides[0]!, w.strides[1]!]);
      meta[9] = b ? b.offset : 0;
      meta[10] = b ? b.strides[0]! : 0;
      meta[11] = out.offset;
      addon.linear(d(x)!, d(w)!, d(b), d(out)!, meta);
    },
  };
}
