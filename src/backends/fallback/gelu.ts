// GELU and its backward, op by op with the required kernels: the definition the fused kernels
// (js/gelu.ts, native/gelu.cc) are tested against. The forward as the composite Tensor code
// computed it before it had an op, (x·½)·(erf(x·√½) + 1), or with tanh (x·½)·(tanh(u) + 1),
// u = (x + x³·0.044715)·√(2/π); the backward from the derivative:
// exact: g·(Φ(x) + x·φ(x)), Φ = (erf(x·√½) + 1)·½, φ = exp(x²·−½)·(1/√(2π));
// tanh: g·((t + 1)·½ + (x·½)·(1 − t²)·√(2/π)·(1 + x²·3·0.044715)), t = tanh(u).

import type { Accelerations } from "../accelerations.js";
import type { View } from "../backend.js";
import type { Calc } from "./calc.js";

const K = 0.044715;
const S2P = Math.sqrt(2 / Math.PI);

export function geluFallbacks({ un, bin, binS, scalar }: Calc): Pick<Accelerations, "gelu" | "geluBackward"> {
  /** tanh(u) of the tanh form. */
  const tanhU = (x: View) => un("tanh", binS("mul", bin("add", x, binS("mul", binS("pow", x, 3), K)), S2P));
  return {
    gelu(x, tanh, out) {
      const inner = tanh ? tanhU(x) : un("erf", binS("mul", x, Math.SQRT1_2));
      bin("mul", binS("mul", x, 0.5), binS("add", inner, 1), out);
    },
    geluBackward(g, x, tanh, out) {
      let d: View;
      if (tanh) {
        const t = tanhU(x);
        const dt = bin("sub", scalar(t, 1), bin("mul", t, t));
        const du = binS("mul", binS("add", binS("mul", bin("mul", x, x), 3 * K), 1), S2P);
        d = bin("add", binS("mul", binS("add", t, 1), 0.5), bin("mul", bin("mul", binS("mul", x, 0.5), dt), du));
      } else {
        const cdf = binS("mul", binS("add", un("erf", binS("mul", x, Math.SQRT1_2)), 1), 0.5);
        const pdf = binS("mul", un("exp", binS("mul", bin("mul", x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
        d = bin("add", cdf, bin("mul", x, pdf));
      }
      bin("mul", g, d, out);
    },
  };
}
