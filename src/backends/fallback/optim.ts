// The optimizer update rules, defined once: each is the op-by-op form of PyTorch 1.13's
// single-tensor path written with the required kernels, rounding to the dtype after every
// operation as the Tensor code it replaces did (constants included). Fused kernels that accelerate
// them (js/fused.ts, native/fused_loops.h) must give these numbers bit for bit;
// test/backends/accelerations.test.ts checks it. Any strides; the views must not overlap except
// as the rule writes them.

import type { Accelerations } from "../accelerations.js";
import type { View } from "../backend.js";
import type { Calc } from "./calc.js";

type OptimSteps = Pick<Accelerations, "adamStep" | "sgdStep" | "rmspropStep" | "adagradStep">;

export function optimFallbacks({ k, un, bin, binS }: Calc): OptimSteps {
  /** d ← ±g (+ wd·p) */
  function direction(p: View, grad: View, maximize: boolean, weightDecay: number): View {
    const d = maximize ? un("neg", grad) : grad;
    return weightDecay !== 0 ? bin("add", d, binS("mul", p, weightDecay)) : d;
  }
  return {
    /**
     *   p ← p·decay (AdamW),  d ← ±g (+ wd·p, Adam),  m ← β1·m + (1 − β1)·d,  v ← β2·v + ((1 − β2)·d)·d,
     *   vmax ← max(vmax, v) (amsgrad),  p ← p + ((−lr/(1 − β1^t))·m) / (√v / √(1 − β2^t) + eps)
     */
    adamStep(p, grad, m, v, vmax, c) {
      if (c.decay !== 1) binS("mul", p, c.decay, p);
      const d = direction(p, grad, c.maximize, c.weightDecay);
      bin("add", binS("mul", m, c.beta1, m), binS("mul", d, 1 - c.beta1), m);
      const dd = binS("mul", d, 1 - c.beta2);
      bin("add", binS("mul", v, c.beta2, v), bin("mul", dd, d, dd), v);
      if (vmax) bin("maximum", vmax, v, vmax);
      const denom = binS("add", binS("div", un("sqrt", vmax ?? v), c.bc2Sqrt), c.eps);
      const step = binS("mul", m, c.negStepSize);
      bin("add", p, bin("div", step, denom, step), p);
    },
    /**
     *   d ← ±g (+ wd·p);  with momentum: b ← d on the first step, else momentum·b + (1 − dampening)·d,
     *   d ← nesterov ? d + momentum·b : b;  p ← p + (−lr)·d
     */
    sgdStep(p, grad, buf, c) {
      let d = direction(p, grad, c.maximize, c.weightDecay);
      if (buf) {
        if (c.first) k.copy(d, buf);
        else
          bin("add", binS("mul", buf, c.momentum, buf), c.dampening === 0 ? d : binS("mul", d, 1 - c.dampening), buf);
        d = c.nesterov ? bin("add", d, binS("mul", buf, c.momentum)) : buf;
      }
      bin("add", p, binS("mul", d, -c.lr), p);
    },
    /**
     *   d ← ±g (+ wd·p),  s ← α·s + ((1 − α)·d)·d,  centered: ḡ ← α·ḡ + (1 − α)·d, a ← √(s − ḡ·ḡ) + eps,
     *   else a ← √s + eps;  momentum: b ← momentum·b + d/a, p ← p + (−lr)·b;  else p ← p + ((−lr)·d)/a
     */
    rmspropStep(p, grad, sq, gradAvg, buf, c) {
      const d = direction(p, grad, c.maximize, c.weightDecay);
      const dd = binS("mul", d, 1 - c.alpha);
      bin("add", binS("mul", sq, c.alpha, sq), bin("mul", dd, d, dd), sq);
      let avg: View;
      if (gradAvg) {
        bin("add", binS("mul", gradAvg, c.alpha, gradAvg), binS("mul", d, 1 - c.alpha), gradAvg);
        avg = binS("add", un("sqrt", bin("sub", sq, bin("mul", gradAvg, gradAvg))), c.eps);
      } else {
        avg = binS("add", un("sqrt", sq), c.eps);
      }
      if (buf) {
        bin("add", binS("mul", buf, c.momentum, buf), bin("div", d, avg), buf);
        bin("add", p, binS("mul", buf, -c.lr), p);
      } else {
        const step = binS("mul", d, -c.lr);
        bin("add", p, bin("div", step, avg, step), p);
      }
    },
    /**   d ← ±g (+ wd·p),  s ← s + d·d,  p ← p + ((−clr)·d) / (√s + eps) */
    adagradStep(p, grad, sum, c) {
      const d = direction(p, grad, c.maximize, c.weightDecay);
      bin("add", sum, bin("mul", d, d), sum);
      const std = binS("add", un("sqrt", sum), c.eps);
      const step = binS("mul", d, -c.clr);
      bin("add", p, bin("div", step, std, step), p);
    },
  };
}
