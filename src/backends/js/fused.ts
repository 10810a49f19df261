// The js backend's accelerations (accelerations.ts): the optimizer updates (one pass over a
// parameter and its state instead of ~10 element-wise kernels and their temporaries), softmax /
// log-softmax along the last dim with their backward, and ReLU's backward. They must give what
// their op-by-op fallbacks (fallback/optim.ts, fallback/softmax.ts, the definitions) give, bit for
// bit: for float32 every intermediate is rounded (R = Math.fround) exactly where the fallback stores
// a float32 result, constants included, and float64 is the same sequence without the rounding.

import { sizeOf } from "../../core/shape.js";
import type { View } from "../backend.js";
import type { AdagradConsts, AdamConsts, Accelerations, RmspropConsts, SgdConsts } from "../accelerations.js";
import { lazyLoop, run } from "./loops.js";

type Round = (x: number) => number;
const same: Round = (x) => x;
const rounder = (v: View): Round => (v.data instanceof Float32Array ? Math.fround : same);

export type FusedKernelName =
  "adamStep" | "sgdStep" | "rmspropStep" | "adagradStep" | "softmax" | "softmaxBackward" | "reluBackward";

/**
 *   d ← ±g (+ wd·p),  m ← β1·m + (1 − β1)·d,  v ← β2·v + ((1 − β2)·d)·d,  vmax ← max(vmax, v)
 *   p ← p·decay + ((−lr/(1 − β1^t))·m) / (√v / √(1 − β2^t) + eps)
 */
function adamStep(p: View, grad: View, m: View, v: View, vmax: View | null, c: AdamConsts): void {
  const R = rounder(p);
  const [P, G, M, V] = [p.data, grad.data, m.data, v.data];
  const [po, go, mo, vo] = [p.offset, grad.offset, m.offset, v.offset];
  const X = vmax?.data;
  const xo = vmax?.offset ?? 0;
  const sg = c.maximize ? -1 : 1; // ±1·g is exact, as neg() is
  const l2 = c.weightDecay !== 0;
  const decay = R(c.decay),
    wd = R(c.weightDecay),
    b1 = R(c.beta1),
    omb1 = R(1 - c.beta1);
  const b2 = R(c.beta2),
    omb2 = R(1 - c.beta2),
    ns = R(c.negStepSize),
    bc2 = R(c.bc2Sqrt),
    eps = R(c.eps);
  const n = sizeOf(p.shape);
  for (let i = 0; i < n; i++) {
    const pi = R(P[po + i]! * decay); // exact for decay = 1 (Adam)
    let d = sg * G[go + i]!;
    if (l2) d = R(d + R(pi * wd));
    const mi = R(R(M[mo + i]! * b1) + R(d * omb1));
    const vi = R(R(V[vo + i]! * b2) + R(R(d * omb2) * d));
    M[mo + i] = mi;
    V[vo + i] = vi;
    let s = vi;
    if (X) {
      const a = X[xo + i]!;
      s = a !== a || a > vi ? a : vi; // maximum(vmax, v): NaN propagates
      X[xo + i] = s;
    }
    const denom = R(R(R(Math.sqrt(s)) / bc2) + eps);
    P[po + i] = R(pi + R(R(mi * ns) / denom));
  }
}

/**
 *   d ← ±g (+ wd·p);  with momentum: b ← d on the first step, else momentum·b + (1 − dampening)·d,
 *   d ← nesterov ? d + momentum·b : b;  p ← p + (−lr)·d
 */
function sgdStep(p: View, grad: View, buf: View | null, c: SgdConsts): void {
  const R = rounder(p);
  const [P, G, B] = [p.data, grad.data, buf?.data];
  const [po, go, bo] = [p.offset, grad.offset, buf?.offset ?? 0];
  const sg = c.maximize ? -1 : 1;
  const l2 = c.weightDecay !== 0;
  const damp = c.dampening !== 0;
  const wd = R(c.weightDecay),
    mom = R(c.momentum),
    omd = R(1 - c.dampening),
    nlr = R(-c.lr);
  const n = sizeOf(p.shape);
  for (let i = 0; i < n; i++) {
    const pi = P[po + i]!;
    let d = sg * G[go + i]!;
    if (l2) d = R(d + R(pi * wd));
    if (B) {
      const b = c.first ? d : R(R(B[bo + i]! * mom) + (damp ? R(d * omd) : d));
      B[bo + i] = b;
      d = c.nesterov ? R(d + R(b * mom)) : b;
    }
    P[po + i] = R(pi + R(d * nlr));
  }
}

/**
 *   d ← ±g (+ wd·p),  s ← α·s + ((1 − α)·d)·d,  centered: ḡ ← α·ḡ + (1 − α)·d, a ← √(s − ḡ·ḡ) + eps,
 *   else a ← √s + eps;  momentum: b ← momentum·b + d/a, p ← p + (−lr)·b;  else p ← p + ((−lr)·d)/a
 */
function rmspropStep(p: View, grad: View, sq: View, gradAvg: View | null, buf: View | null, c: RmspropConsts): void {
  const R = rounder(p);
  const [P, G, S, A, B] = [p.data, grad.data, sq.data, gradAvg?.data, buf?.data];
  const [po, go, so, ao, bo] = [p.offset, grad.offset, sq.offset, gradAvg?.offset ?? 0, buf?.offset ?? 0];
  const sg = c.maximize ? -1 : 1;
  const l2 = c.weightDecay !== 0;
  const wd = R(c.weightDecay),
    alpha = R(c.alpha),
    oma = R(1 - c.alpha);
  const eps = R(c.eps),
    mom = R(c.momentum),
    nlr = R(-c.lr);
  const n = sizeOf(p.shape);
  for (let i = 0; i < n; i++) {
    const pi = P[po + i]!;
    let d = sg * G[go + i]!;
    if (l2) d = R(d + R(pi * wd));
    const s = R(R(S[so + i]! * alpha) + R(R(d * oma) * d));
    S[so + i] = s;
    let avg: number;
    if (A) {
      const a = R(R(A[ao + i]! * alpha) + R(d * oma));
      A[ao + i] = a;
      avg = R(R(Math.sqrt(R(s - R(a * a)))) + eps);
    } else {
      avg = R(R(Math.sqrt(s)) + eps);
    }
    if (B) {
      const b = R(R(B[bo + i]! * mom) + R(d / avg));
      B[bo + i] = b;
      P[po + i] = R(pi + R(b * nlr));
    } else {
      P[po + i] = R(pi + R(R(d * nlr) / avg));
    }
  }
}

/**   d ← ±g (+ wd·p),  s ← s + d·d,  p ← p + ((−clr)·d) / (√s + eps) */
function adagradStep(p: View, grad: View, sum: View, c: AdagradConsts): void {
  const R = rounder(p);
  const [P, G, S] = [p.data, grad.data, sum.data];
  const [po, go, so] = [p.offset, grad.offset, sum.offset];
  const sg = c.maximize ? -1 : 1;
  const l2 = c.weightDecay !== 0;
  const wd = R(c.weightDecay),
    eps = R(c.eps),
    nclr = R(-c.clr);
  const n = sizeOf(p.shape);
  for (let i = 0; i < n; i++) {
    const pi = P[po + i]!;
    let d = sg * G[go + i]!;
    if (l2) d = R(d + R(pi * wd));
    const s = R(S[so + i]! + R(d * d));
    S[so + i] = s;
    P[po + i] = R(pi + R(R(d * nclr) / R(R(Math.sqrt(s)) + eps)));
  }
}

/**
 * Per row of the last dim, as the composite forms of src/tensor/composite.ts compute it (sums in
 * float64 in index order, as the js reduce kernel): m = max (NaN wins), e = exp(x − m), s = Σ e;
 * log: y = (x − m) − log s;  else y = e / s.
 */
function softmax(x: View, log: boolean, out: View): void {
  const R = rounder(x);
  const [X, Y] = [x.data, out.data];
  const n = x.shape[x.shape.length - 1] ?? 1;
  const rows = n === 0 ? 0 : sizeOf(x.shape) / n;
  for (let r = 0; r < rows; r++) {
    const xo = x.offset + r * n;
    const yo = out.offset + r * n;
    let m = -Infinity;
    for (let j = 0; j < n; j++) {
      const v = X[xo + j]!;
      if (v > m || v !== v) m = v;
    }
    let s = 0;
    for (let j = 0; j < n; j++) {
      const e = R(Math.exp(R(X[xo + j]! - m)));
      if (!log) Y[yo + j] = e;
      s += e;
    }
    s = R(s);
    if (log) {
      const ls = R(Math.log(s));
      for (let j = 0; j < n; j++) Y[yo + j] = R(R(X[xo + j]! - m) - ls);
    } else {
      for (let j = 0; j < n; j++) Y[yo + j] = R(Y[yo + j]! / s);
    }
  }
}

/** log: gx = g − exp(y)·Σg;  else gx = y·(g − Σ g·y)  (PyTorch's forms; sums in float64, index order). */
function softmaxBackward(g: View, y: View, log: boolean, out: View): void {
  const R = rounder(y);
  const [G, Y, O] = [g.data, y.data, out.data];
  const n = y.shape[y.shape.length - 1] ?? 1;
  const rows = n === 0 ? 0 : sizeOf(y.shape) / n;
  for (let r = 0; r < rows; r++) {
    const go = g.offset + r * n;
    const yo = y.offset + r * n;
    const oo = out.offset + r * n;
    let s = 0;
    if (log) for (let j = 0; j < n; j++) s += G[go + j]!;
    else for (let j = 0; j < n; j++) s += R(G[go + j]! * Y[yo + j]!);
    s = R(s);
    if (log) for (let j = 0; j < n; j++) O[oo + j] = R(G[go + j]! - R(R(Math.exp(Y[yo + j]!)) * s));
    else for (let j = 0; j < n; j++) O[oo + j] = R(Y[yo + j]! * R(G[go + j]! - s));
  }
}

// g.maskedFill(y.le(0), 0) in one strided pass, with no mask tensor.
const reluBackLoop = lazyLoop({ arity: 3, body: "b0[p0] = b2[p2] <= 0 ? 0 : b1[p1]" });
function reluBackward(g: View, y: View, out: View): void {
  run(reluBackLoop, y.shape, [out, g, y]);
}

export const fusedKernels: Pick<Accelerations, FusedKernelName> = {
  adamStep,
  sgdStep,
  rmspropStep,
  adagradStep,
  softmax,
  softmaxBackward,
  reluBackward,
};
