// Layer normalisation (forward and backward) and Linear with its bias, op by op with the required
// kernels: the definitions the fused kernels (js/norm.ts, native/layernorm.cc, native/linear.cc)
// are tested against. LayerNorm as the composite F.layerNorm computed it before it had an op: mean,
// centre, biased variance, 1/√(var + eps), scale, shift; its backward from the saved statistics:
// x̂ = (x − mean)·rstd, ĝ = g·weight, dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))·rstd, dweight = Σ g·x̂, dbias = Σ g.

import type { Accelerations } from "../accelerations.js";
import type { View } from "../backend.js";
import type { Calc } from "./calc.js";

type NormKernels = Pick<Accelerations, "layerNorm" | "layerNormBackward" | "linear">;

export function normFallbacks({ k, like, un, bin, binS }: Calc): NormKernels {
  /** x [R, N] summed over its last dim, kept as [R, 1]. */
  const rowSum = (x: View): View => {
    const r = like(x, [x.shape[0]!, 1]);
    k.reduce("sum", x, [1], r);
    return r;
  };
  /** An [R, 1] view broadcast to [R, n]. */
  const along = (r: View, n: number): View => ({ ...r, shape: [r.shape[0]!, n], strides: [r.strides[0]!, 0] });
  /** A [N] view repeated over R rows. */
  const rows = (v: View, R: number): View => ({ ...v, shape: [R, v.shape[0]!], strides: [0, v.strides[0]!] });
  /** Column c of stats [R, 2], as [R, 1]. */
  const stat = (s: View, c: number): View => ({
    ...s,
    shape: [s.shape[0]!, 1],
    strides: [s.strides[0]!, 1],
    offset: s.offset + c * s.strides[1]!,
  });
  /** x [R, N] summed over rows into out [N]. */
  const colSum = (x: View, out: View): void =>
    k.reduce("sum", x, [0], { ...out, shape: [1, out.shape[0]!], strides: [0, out.strides[0]!] });
  return {
    layerNorm(x, weight, bias, eps, out, stats) {
      const [R, N] = x.shape as [number, number];
      const mean = binS("div", rowSum(x), N);
      const xc = bin("sub", x, along(mean, N));
      const variance = binS("div", rowSum(bin("mul", xc, xc)), N);
      const rstd = un("reciprocal", un("sqrt", binS("add", variance, eps)));
      let y = bin("mul", xc, along(rstd, N));
      if (weight) y = bin("mul", y, rows(weight, R));
      if (bias) y = bin("add", y, rows(bias, R));
      k.copy(y, out);
      k.copy(mean, stat(stats, 0));
      k.copy(rstd, stat(stats, 1));
    },
    layerNormBackward(g, x, weight, stats, dx, dweight, dbias) {
      const [R, N] = x.shape as [number, number];
      const rstd = along(stat(stats, 1), N);
      const xhat = bin("mul", bin("sub", x, along(stat(stats, 0), N)), rstd);
      const gw = weight ? bin("mul", g, rows(weight, R)) : g;
      const a = binS("div", rowSum(gw), N);
      const c = binS("div", rowSum(bin("mul", gw, xhat)), N);
      bin("mul", bin("sub", bin("sub", gw, along(a, N)), bin("mul", xhat, along(c, N))), rstd, dx);
      if (dweight) colSum(bin("mul", g, xhat), dweight);
      if (dbias) colSum(g, dbias);
    },
    linear(x, w, bias, out) {
      k.matmul(x, { ...w, shape: [w.shape[1]!, w.shape[0]!], strides: [w.strides[1]!, w.strides[0]!] }, out);
      if (bias) k.binary("add", out, rows(bias, out.shape[0]!), out);
    },
  };
}
