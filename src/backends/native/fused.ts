// The native backend's fused accelerations (native/fused.cc): optimizer updates, softmax /
// log-softmax along the last dim and ReLU's backward, on the tensors' own typed arrays. Small
// arrays stay in the js accelerations (src/backends/js/fused.ts), which give the same numbers; so
// do any the addon does not take (a dtype other than float32/float64, a strided view for ReLU's
// backward).

import { isContiguous, sizeOf } from "../../core/shape.js";
import type { View } from "../backend.js";
import type { AdagradConsts, AdamConsts, Accelerations, RmspropConsts, SgdConsts } from "../accelerations.js";
import { fusedKernels as js, type FusedKernelName } from "../js/fused.js";

/** What native/fused.cc adds to the addon. */
export interface FusedAddon {
  /**
   * kind 0 Adam (a = m, b = v, c = vmax), 1 SGD (a = momentum buffer), 2 RMSprop (a = square
   * average, b = gradient average, c = momentum buffer), 3 Adagrad (a = sum); absent ones null.
   * meta = [n, offsets of p, grad, a, b, c, the constants in the order of packing below].
   */
  optimStep(
    kind: number,
    p: Float,
    grad: Float,
    a: Float | null,
    b: Float | null,
    c: Float | null,
    meta: Float64Array,
  ): void;
  /** meta = [rows, n, xOff, yOff, outOff, log, backward]; forward reads x (pass it as y too), backward g as x. */
  softmax(x: Float, y: Float, out: Float, meta: Float64Array): void;
  /** meta = [n, gOff, yOff, outOff]: contiguous views. */
  reluBackward(g: Float, y: Float, out: Float, meta: Float64Array): void;
  /** Sets the work above which a call is split over the pool (for tests); returns the previous value. */
  setFusedParallelMin(n: number): number;
}

type Float = Float32Array | Float64Array;

/**
 * Below this many elements the js kernel runs. Measured with bench/fused.ts here (median µs per
 * call, loaded machine): Adam float32 at n = 64 js 0.96, native 1.22; n = 128 js 2.55, native
 * 1.28; n = 1024 js 18.8, native 1.75. Log-softmax + backward over rows of 10: 10 elements js
 * 0.95, native 4.6; 40 js 2.0, native 1.8; 160 js 7.3, native 2.4.
 */
export const FUSED_MIN_ELEMENTS = 128;

const isFloatArray = (d: unknown): d is Float => d instanceof Float32Array || d instanceof Float64Array;

/** The fused kernels over a loaded addon, falling back to js below `minElements`. */
export function nativeFused(addon: FusedAddon, minElements = FUSED_MIN_ELEMENTS): Pick<Accelerations, FusedKernelName> {
  const meta = new Float64Array(16);
  const size = (v: View) => sizeOf(v.shape);
  const native = (p: View, ...rest: (View | null)[]) =>
    size(p) >= minElements &&
    isFloatArray(p.data) &&
    rest.every((v) => !v || v.data.constructor === p.data.constructor);

  /** Packs n, the five offsets and the constants into meta, and calls the addon. */
  function step(
    kind: number,
    p: View,
    grad: View,
    a: View | null,
    b: View | null,
    c: View | null,
    consts: number[],
  ): void {
    meta[0] = size(p);
    meta[1] = p.offset;
    meta[2] = grad.offset;
    meta[3] = a?.offset ?? 0;
    meta[4] = b?.offset ?? 0;
    meta[5] = c?.offset ?? 0;
    meta.set(consts, 6);
    const d = (v: View | null) => (v ? (v.data as Float) : null);
    addon.optimStep(kind, p.data as Float, grad.data as Float, d(a), d(b), d(c), meta);
  }
  const flag = (b: boolean) => (b ? 1 : 0);

  return {
    adamStep(p, grad, m, v, vmax, c: AdamConsts) {
      if (!native(p, grad, m, v, vmax)) return js.adamStep(p, grad, m, v, vmax, c);
      const k = [c.decay, c.weightDecay, c.beta1, c.beta2, c.eps, c.negStepSize, c.bc2Sqrt, flag(c.maximize)];
      step(0, p, grad, m, v, vmax, k);
    },
    sgdStep(p, grad, buf, c: SgdConsts) {
      if (!native(p, grad, buf)) return js.sgdStep(p, grad, buf, c);
      const k = [c.lr, c.momentum, c.dampening, c.weightDecay, flag(c.nesterov), flag(c.maximize), flag(c.first)];
      step(1, p, grad, buf, null, null, k);
    },
    rmspropStep(p, grad, sq, gradAvg, buf, c: RmspropConsts) {
      if (!native(p, grad, sq, gradAvg, buf)) return js.rmspropStep(p, grad, sq, gradAvg, buf, c);
      step(2, p, grad, sq, gradAvg, buf, [c.lr, c.alpha, c.eps, c.weightDecay, c.momentum, flag(c.maximize)]);
    },
    adagradStep(p, grad, sum, c: AdagradConsts) {
      if (!native(p, grad, sum)) return js.adagradStep(p, grad, sum, c);
      step(3, p, grad, sum, null, null, [c.clr, c.weightDecay, c.eps, flag(c.maximize)]);
    },
    softmax(x, log, out) {
      if (!native(out, x) || out.shape[out.shape.length - 1] === 0) return js.softmax(x, log, out);
      softmaxCall(x, x, out, log, false);
    },
    softmaxBackward(g, y, log, out) {
      if (!native(out, g, y) || out.shape[out.shape.length - 1] === 0) return js.softmaxBackward(g, y, log, out);
      softmaxCall(g, y, out, log, true);
    },
    reluBackward(g, y, out) {
      const dense = [g, y, out].every((v) => isContiguous(v.shape, v.strides));
      if (!dense || !native(out, g, y)) return js.reluBackward(g, y, out);
      meta[0] = size(out);
      meta[1] = g.offset;
      meta[2] = y.offset;
      meta[3] = out.offset;
      addon.reluBackward(g.data as Float, y.data as Float, out.data as Float, meta);
    },
  };

  function softmaxCall(x: View, y: View, out: View, log: boolean, backward: boolean): void {
    const n = out.shape[out.shape.length - 1] ?? 1;
    meta[0] = size(out) / n;
    meta[1] = n;
    meta[2] = x.offset;
    meta[3] = y.offset;
    meta[4] = out.offset;
    meta[5] = flag(log);
    meta[6] = flag(backward);
    addon.softmax(x.data as Float, y.data as Float, out.data as Float, meta);
  }
}
