// Adagrad with learning-rate decay, L2 weight decay, an initial accumulator value and maximize,
// step for step as PyTorch 1.13's torch.optim.Adagrad (dense gradients; sparse ones do not exist here).

import type { Tensor } from "../tensor/tensor.js";
import { adagradUpdate_ } from "../tensor/fused.js";
import {
  Optimizer,
  requireOption,
  stateTensor,
  type ParamGroup,
  type ParamState,
  type ParamsArg,
} from "./optimizer.js";

/** Options of Adagrad (torch.optim.Adagrad's keyword arguments, camelCased). */
export interface AdagradOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Learning-rate decay per step (default 0). */
  lrDecay: number;
  /** L2 penalty (default 0). */
  weightDecay: number;
  /** Starting value of the sum of squared gradients (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator for stability (default 1e-10). */
  eps: number;
  /** Ascend the objective instead of descending (default false). */
  maximize: boolean;
}

/**
 * `new Adagrad(params, {lr = 1e-2, lrDecay = 0, weightDecay = 0, initialAccumulatorValue = 0,
 * eps = 1e-10, maximize = false})`. As PyTorch, the state (step 0, sum = initialAccumulatorValue)
 * exists from construction.
 *
 *   g ← ±grad + weightDecay·p,  clr ← lr / (1 + (t − 1)·lrDecay)
 *   s ← s + g²,  p ← p − clr·g / (√s + eps)
 */
export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: ParamsArg<AdagradOptions>, opts: Partial<AdagradOptions> = {}) {
    super(
      "Adagrad",
      params,
      {
        lr: opts.lr ?? 1e-2,
        lrDecay: opts.lrDecay ?? 0,
        weightDecay: opts.weightDecay ?? 0,
        initialAccumulatorValue: opts.initialAccumulatorValue ?? 0,
        eps: opts.eps ?? 1e-10,
        maximize: opts.maximize ?? false,
      },
      opts,
    );
    for (const g of this.paramGroups) for (const p of g.params) this.state.set(p, this.initState(p, g));
  }

  protected checkGroup(g: ParamGroup<AdagradOptions>, i: number): void {
    const req = (cond: boolean, what: string, value: unknown) => requireOption("Adagrad", cond, i, what, value);
    req(typeof g.lr === "number" && g.lr >= 0, "learning rate (lr)", g.lr);
    req(g.lrDecay >= 0, "lrDecay", g.lrDecay);
    req(g.weightDecay >= 0, "weightDecay", g.weightDecay);
    req(g.initialAccumulatorValue >= 0, "initialAccumulatorValue", g.initialAccumulatorValue);
    req(g.eps >= 0, "eps", g.eps);
  }

  protected initState(p: Tensor, g: ParamGroup<AdagradOptions>): ParamState {
    return { step: 0, sum: p.newZeros(p.shape).fill_(g.initialAccumulatorValue) };
  }

  protected update(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<AdagradOptions>): void {
    const step = (st.step = Number(st.step ?? 0) + 1);
    const clr = g.lr / (1 + (step - 1) * g.lrDecay);
    const sum = stateTensor("Adagrad", st, "sum");
    adagradUpdate_(p, grad, sum, { clr, weightDecay: g.weightDecay, eps: g.eps, maximize: g.maximize });
  }
}
