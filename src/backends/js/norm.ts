// The js backend's fused LayerNorm (accelerations.ts; fallback/norm.ts is the definition): one pass
// for the row statistics and one to write, in float64 with one rounding per stored value, instead
// of the fallback's ten kernels and their temporaries. Any strides.

import type { Accelerations } from "../accelerations.js";
import type { View } from "../backend.js";

const rounder = (v: View): ((x: number) => number) => (v.data instanceof Float32Array ? Math.fround : (x: number) => x);

function layerNorm(x: View, weight: View | null, bias: View | null, eps: number, out: View, stats: View): void {
  const R = rounder(out);
  const [rows, n] = x.shape as [number, number];
  const [X, Y, S, W, B] = [x.data, out.data, stats.data, weight?.data, bias?.data];
  const [xr, xc, yr, yc, sr, sc] = [
    x.strides[0]!,
    x.strides[1]!,
    out.strides[0]!,
    out.strides[1]!,
    stats.strides[0]!,
    stats.strides[1]!,
  ];
  const [wo, ws, bo, bs] = [weight?.offset ?? 0, weight?.strides[0] ?? 0, bias?.offset ?? 0, bias?.strides[0] ?? 0];
  for (let r = 0; r < rows; r++) {
    const xo = x.offset + r * xr;
    let s = 0;
    for (let j = 0; j < n; j++) s += X[xo + j * xc]!;
    const mean = s / n;
    let q = 0;
    for (let j = 0; j < n; j++) {
      const d = X[xo + j * xc]! - mean;
      q += d * d;
    }
    const rstd = 1 / Math.sqrt(q / n + eps);
    const yo = out.offset + r * yr;
    for (let j = 0; j < n; j++) {
      let v = (X[xo + j * xc]! - mean) * rstd;
      if (W) v *= W[wo + j * ws]!;
      if (B) v += B[bo + j * bs]!;
      Y[yo + j * yc] = R(v);
    }
    S[stats.offset + r * sr] = R(mean);
    S[stats.offset + r * sr + sc] = R(rstd);
  }
}

function layerNormBackward(
  g: View,
  x: View,
  weight: View | null,
  stats: View,
  dx: View,
  dweight: View | null,
  dbias: View | null,
): void {
  const R = rounder(dx);
  const [rows, n] = x.shape as [number, number];
  const [G, X, S, W, D] = [g.data, x.data, stats.data, weight?.data, dx.data];
  const [gr, gc, xr, xc, dr, dc, sr, sc] = [
    g.strides[0]!,
    g.strides[1]!,
    x.strides[0]!,
    x.strides[1]!,
    dx.strides[0]!,
    dx.strides[1]!,
    stats.strides[0]!,
    stats.strides[1]!,
  ];
  const [wo, ws] = [weight?.offset ?? 0, weight?.strides[0] ?? 0];
  const dw = new Float64Array(dweight ? n : 0);
  const db = new Float64Array(dbias ? n : 0);
  for (let r = 0; r < rows; r++) {
    const mean = S[stats.offset + r * sr]!;
    const rstd = S[stats.offset + r * sr + sc]!;
    const [go, xo] = [g.offset + r * gr, x.offset + r * xr];
    let a = 0;
    let c = 0;
    for (let j = 0; j < n; j++) {
      const gj = G[go + j * gc]!;
      const xhat = (X[xo + j * xc]! - mean) * rstd;
      const gw = W ? gj * W[wo + j * ws]! : gj;
      a += gw;
      c += gw * xhat;
      if (dweight) dw[j]! += gj * xhat;
      if (dbias) db[j]! += gj;
    }
    a /= n;
    c /= n;
    const o = dx.offset + r * dr;
    for (let j = 0; j < n; j++) {
      const gj = G[go + j * gc]!;
      const xhat = (X[xo + j * xc]! - mean) * rstd;
      const gw = W ? gj * W[wo + j * ws]! : gj;
      D[o + j * dc] = R((gw - a - xhat * c) * rstd);
    }
  }
  for (const [v, acc] of [
    [dweight, dw],
    [dbias, db],
  ] as const)
    if (v) for (let j = 0; j < n; j++) v.data[v.offset + j * v.strides[0]!] = R(acc[j]!);
}

export const normKernels: Pick<Accelerations, "layerNorm" | "layerNormBackward"> = { layerNorm, layerNormBackward };
