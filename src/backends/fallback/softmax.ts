// Softmax / log-softmax along the last dim, their backward and ReLU's backward, op by op with the
// required kernels: the composite forms of src/tensor/composite.ts (and ReLU's
// g.maskedFill(y.le(0), 0)), which the js accelerations reproduce bit for bit.

import type { Accelerations } from "../accelerations.js";
import type { Calc } from "./calc.js";

type SoftmaxKernels = Pick<Accelerations, "softmax" | "softmaxBackward" | "reluBackward">;

export function softmaxFallbacks({ k, un, bin, scalar, reduceLast }: Calc): SoftmaxKernels {
  return {
    /** m = max (NaN wins), e = exp(x − m);  log: y = (x − m) − log Σe;  else y = e / Σe */
    softmax(x, log, out) {
      const shifted = bin("sub", x, reduceLast("max", x));
      const e = un("exp", shifted);
      if (log) bin("sub", shifted, un("log", reduceLast("sum", e)), out);
      else bin("div", e, reduceLast("sum", e), out);
    },
    /** log: gx = g − exp(y)·Σg;  else gx = y·(g − Σ g·y) */
    softmaxBackward(g, y, log, out) {
      if (log) bin("sub", g, bin("mul", un("exp", y), reduceLast("sum", g)), out);
      else bin("mul", y, bin("sub", g, reduceLast("sum", bin("mul", g, y))), out);
    },
    /** out = y ≤ 0 ? 0 : g */
    reluBackward(g, y, out) {
      const zero = scalar(y, 0);
      k.where(bin("le", y, zero), zero, g, out);
    },
  };
}
