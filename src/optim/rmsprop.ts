// RMSprop with momentum, the centered variant, L2 weight decay and maximize, step for step as
// PyTorch 1.13's torch.optim.RMSprop (the single-tensor path). eps is added outside the square root.

import type { Tensor } from "../tensor/tensor.js";
import { rmspropUpdate_ } from "../tensor/fused.js";
import {
  Optimizer,
  requireOption,
  stateTensor,
  type ParamGroup,
  type ParamState,
  type ParamsArg,
} from "./optimizer.js";

/** Options of RMSprop (torch.optim.RMSprop's keyword arguments, camelCased). */
export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha: number;
  /** Added to the denominator for stability (default 1e-8). */
  eps: number;
  /** L2 penalty (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalise by the estimated variance of the gradient instead of its second moment (default false). */
  centered: boolean;
  /** Ascend the objective instead of descending (default false). */
  maximize: boolean;
}

/**
 * `new RMSprop(params, {lr = 1e-2, alpha = 0.99, eps = 1e-8, weightDecay = 0, momentum = 0,
 * centered = false, maximize = false})`.
 *
 *   g ← ±grad + weightDecay·p,  s ← α·s + (1 − α)·g²
 *   centered: ḡ ← α·ḡ + (1 − α)·g,  a ← √(s − ḡ²) + eps;  otherwise a ← √s + eps
 *   momentum > 0: b ← momentum·b + g/a,  p ← p − lr·b;  otherwise p ← p − lr·g/a
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsArg<RMSpropOptions>, opts: Partial<RMSpropOptions> = {}) {
    super(
      "RMSprop",
      params,
      {
        lr: opts.lr ?? 1e-2,
        alpha: opts.alpha ?? 0.99,
        eps: opts.eps ?? 1e-8,
        weightDecay: opts.weightDecay ?? 0,
        momentum: opts.momentum ?? 0,
        centered: opts.centered ?? false,
        maximize: opts.maximize ?? false,
      },
      opts,
    );
  }

  protected checkGroup(g: ParamGroup<RMSpropOptions>, i: number): void {
    const req = (cond: boolean, what: string, value: unknown) => requireOption("RMSprop", cond, i, what, value);
    req(typeof g.lr === "number" && g.lr >= 0, "learning rate (lr)", g.lr);
    req(g.eps >= 0, "eps", g.eps);
    req(g.momentum >= 0, "momentum", g.momentum);
    req(g.weightDecay >= 0, "weightDecay", g.weightDecay);
    req(g.alpha >= 0, "alpha", g.alpha);
  }

  protected initState(p: Tensor, g: ParamGroup<RMSpropOptions>): ParamState {
    const st: ParamState = { step: 0, square_avg: p.newZeros(p.shape) };
    if (g.momentum > 0) st.momentum_buffer = p.newZeros(p.shape);
    if (g.centered) st.grad_avg = p.newZeros(p.shape);
    return st;
  }

  protected update(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<RMSpropOptions>): void {
    st.step = Number(st.step ?? 0) + 1;
    const sq = stateTensor("RMSprop", st, "square_avg");
    // A group made centered (or given momentum) after its state was created (or a resumed one)
    // starts those buffers at zero.
    const ga = g.centered ? ((st.grad_avg ??= p.newZeros(p.shape)) as Tensor) : null;
    const buf = g.momentum > 0 ? ((st.momentum_buffer ??= p.newZeros(p.shape)) as Tensor) : null;
    const { lr, alpha, eps, weightDecay, momentum, maximize } = g;
    rmspropUpdate_(p, grad, sq, ga, buf, { lr, alpha, eps, weightDecay, momentum, maximize });
  }
}
