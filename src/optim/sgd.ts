// Stochastic gradient descent with momentum, dampening, Nesterov momentum, L2 weight decay and
// maximize, step for step as PyTorch 1.13's torch.optim.SGD (the single-tensor path).

import { DescentError } from "../core/errors.js";
import type { Tensor } from "../tensor/tensor.js";
import { sgdUpdate_ } from "../tensor/fused.js";
import { Optimizer, requireOption, type ParamGroup, type ParamState, type ParamsArg } from "./optimizer.js";

/** Options of SGD (torch.optim.SGD's keyword arguments, camelCased). */
export interface SGDOptions {
  /** Learning rate (required: no default, as in PyTorch). */
  lr: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Dampening of momentum (default 0). */
  dampening: number;
  /** L2 penalty (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Ascend the objective instead of descending (default false). */
  maximize: boolean;
}

/**
 * `new SGD(params, {lr, momentum?, dampening?, weightDecay?, nesterov?, maximize?})`. lr has no
 * default (as PyTorch's `required`): give it here or in every group.
 *
 *   g ← ±grad + weightDecay·p
 *   b ← g on the first step, then momentum·b + (1 − dampening)·g      (momentum ≠ 0)
 *   g ← nesterov ? g + momentum·b : b
 *   p ← p − lr·g
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsArg<SGDOptions>, opts: Partial<SGDOptions> = {}) {
    super(
      "SGD",
      params,
      {
        lr: opts.lr as number, // may be undefined here when every group gives its own; checkGroup decides
        momentum: opts.momentum ?? 0,
        dampening: opts.dampening ?? 0,
        weightDecay: opts.weightDecay ?? 0,
        nesterov: opts.nesterov ?? false,
        maximize: opts.maximize ?? false,
      },
      opts,
    );
  }

  protected checkGroup(g: ParamGroup<SGDOptions>, i: number): void {
    const req = (cond: boolean, what: string, value: unknown) => requireOption("SGD", cond, i, what, value);
    if (g.lr === undefined)
      throw new DescentError(`SGD: parameter group ${i} gives no lr, and no default lr was given`);
    req(typeof g.lr === "number" && g.lr >= 0, "learning rate (lr)", g.lr);
    req(g.momentum >= 0, "momentum", g.momentum);
    req(Number.isFinite(g.dampening), "dampening", g.dampening);
    req(g.weightDecay >= 0, "weightDecay", g.weightDecay);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new DescentError(
        `SGD: Nesterov momentum requires a momentum > 0 and zero dampening (group ${i}: momentum ${g.momentum}, dampening ${g.dampening})`,
      );
    }
  }

  protected initState(): ParamState {
    return { momentum_buffer: null };
  }

  /** The rule, op by op: src/backends/fallback/optim.ts (reached through tensor/fused.ts). */
  protected update(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<SGDOptions>): void {
    const old = st.momentum_buffer;
    if (typeof old === "number")
      throw new DescentError("SGD.step: momentum_buffer in a parameter's state is a number, expected a tensor");
    // The first step with momentum starts a buffer that the update sets to the gradient.
    const first = g.momentum !== 0 && (old === null || old === undefined);
    const buf = g.momentum === 0 ? null : first ? p.newZeros(p.shape) : old!;
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = g;
    sgdUpdate_(p, grad, buf, { lr, momentum, dampening, weightDecay, nesterov, maximize, first });
    if (first) st.momentum_buffer = buf;
  }
}
