// The js backend's fused GELU (accelerations.ts; fallback/gelu.ts is the definition): one pass in
// float64 with one rounding per element, instead of the fallback's five to twelve kernels. Views
// are contiguous (the contract), at any offset.

import { sizeOf } from "../../core/shape.js";
import type { Accelerations } from "../accelerations.js";
import type { View } from "../backend.js";
import { erf } from "./special.js";

const K = 0.044715;
const S2P = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

function gelu(x: View, tanh: boolean, out: View): void {
  const R = out.data instanceof Float32Array ? Math.fround : (v: number) => v;
  const [X, Y, xo, yo] = [x.data, out.data, x.offset, out.offset];
  const n = sizeOf(x.shape);
  for (let i = 0; i < n; i++) {
    const v = X[xo + i]!;
    const inner = tanh ? Math.tanh((v + v * v * v * K) * S2P) : erf(v * Math.SQRT1_2);
    Y[yo + i] = R(v * 0.5 * (inner + 1));
  }
}

function geluBackward(g: View, x: View, tanh: boolean, out: View): void {
  const R = out.data instanceof Float32Array ? Math.fround : (v: number) => v;
  const [G, X, Y] = [g.data, x.data, out.data];
  const n = sizeOf(x.shape);
  for (let i = 0; i < n; i++) {
    const v = X[x.offset + i]!;
    let d: number;
    if (tanh) {
      const t = Math.tanh((v + v * v * v * K) * S2P);
      d = (t + 1) * 0.5 + v * 0.5 * (1 - t * t) * (v * v * 3 * K + 1) * S2P;
    } else d = (erf(v * Math.SQRT1_2) + 1) * 0.5 + v * Math.exp(v * v * -0.5) * INV_SQRT_2PI;
    Y[out.offset + i] = R(G[g.offset + i]! * d);
  }
}

export const geluKernels: Pick<Accelerations, "gelu" | "geluBackward"> = { gelu, geluBackward };
