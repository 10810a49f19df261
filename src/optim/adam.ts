// Adam and AdamW, step for step as PyTorch 1.13's single-tensor paths: bias-corrected moments,
// AMSGrad's running maximum of the second moment, L2 weight decay folded into the gradient (Adam)
// or decoupled decay of the weights themselves (AdamW: p ← p·(1 − lr·weightDecay)), and maximize.

import type { Tensor } from "../tensor/tensor.js";
import { adamUpdate_ } from "../tensor/fused.js";
import {
  Optimizer,
  requireOption,
  stateTensor,
  type ParamGroup,
  type ParamState,
  type ParamsArg,
} from "./optimizer.js";

/** Options of Adam and AdamW (torch.optim.Adam's keyword arguments, camelCased); each may also be set per group. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  eps: number;
  /** L2 penalty (Adam, default 0) or decoupled decay (AdamW, default 1e-2). */
  weightDecay: number;
  /** Use the maximum of past second moments (AMSGrad; default false). */
  amsgrad: boolean;
  /** Ascend the objective instead of descending (default false). */
  maximize: boolean;
}

function defaults(opts: Partial<AdamOptions>, weightDecay: number): AdamOptions {
  return {
    lr: opts.lr ?? 1e-3,
    betas: opts.betas ? [opts.betas[0], opts.betas[1]] : [0.9, 0.999],
    eps: opts.eps ?? 1e-8,
    weightDecay: opts.weightDecay ?? weightDecay,
    amsgrad: opts.amsgrad ?? false,
    maximize: opts.maximize ?? false,
  };
}

/** Shared by Adam and AdamW: their options obey the same rules. */
function check(name: string, g: ParamGroup<AdamOptions>, i: number): void {
  const req = (cond: boolean, what: string, value: unknown) => requireOption(name, cond, i, what, value);
  req(typeof g.lr === "number" && g.lr >= 0, "learning rate (lr)", g.lr);
  req(g.eps >= 0, "eps", g.eps);
  req(Array.isArray(g.betas) && g.betas.length === 2, "betas (expected two numbers)", g.betas);
  req(g.betas[0] >= 0 && g.betas[0] < 1, "beta parameter at index 0", g.betas[0]);
  req(g.betas[1] >= 0 && g.betas[1] < 1, "beta parameter at index 1", g.betas[1]);
  req(g.weightDecay >= 0, "weightDecay", g.weightDecay);
}

function initState(p: Tensor, g: ParamGroup<AdamOptions>): ParamState {
  const st: ParamState = { step: 0, exp_avg: p.newZeros(p.shape), exp_avg_sq: p.newZeros(p.shape) };
  if (g.amsgrad) st.max_exp_avg_sq = p.newZeros(p.shape);
  return st;
}

/**
 *   g ← ±grad (+ weightDecay·p for Adam; AdamW instead scales p by 1 − lr·weightDecay first)
 *   m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²,  v̂max ← max(v̂max, v) with amsgrad
 *   p ← p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + eps)
 * (the rule itself, op by op: src/backends/fallback/optim.ts, reached through tensor/fused.ts)
 */
function adamStep(
  name: string,
  p: Tensor,
  grad: Tensor,
  st: ParamState,
  g: ParamGroup<AdamOptions>,
  decoupled: boolean,
): void {
  const ts = (k: string) => stateTensor(name, st, k);
  const m = ts("exp_avg");
  const v = ts("exp_avg_sq");
  const [beta1, beta2] = g.betas;
  const step = (st.step = Number(st.step ?? 0) + 1);
  const vmaxT = g.amsgrad ? ts("max_exp_avg_sq") : null;
  const consts = {
    decay: decoupled ? 1 - g.lr * g.weightDecay : 1,
    weightDecay: decoupled ? 0 : g.weightDecay,
    beta1,
    beta2,
    eps: g.eps,
    negStepSize: -(g.lr / (1 - beta1 ** step)),
    bc2Sqrt: Math.sqrt(1 - beta2 ** step),
    maximize: g.maximize,
  };
  adamUpdate_(p, grad, m, v, vmaxT, consts);
}

/**
 * Adam (torch.optim.Adam): `new Adam(params, {lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8,
 * weightDecay = 0, amsgrad = false, maximize = false})`; params are parameters or parameter groups.
 *
 * @example
 * ```ts
 * const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
 * for (const [x, y] of loader) {
 *   opt.zeroGrad();
 *   lossFn.forward(model.forward(x), y).backward();
 *   opt.step();
 * }
 * ```
 */
export class Adam extends Optimizer<AdamOptions> {
  constructor(params: ParamsArg<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super("Adam", params, defaults(opts, 0), opts);
  }
  protected checkGroup(g: ParamGroup<AdamOptions>, i: number): void {
    check(this.name, g, i);
  }
  protected initState(p: Tensor, g: ParamGroup<AdamOptions>): ParamState {
    return initState(p, g);
  }
  protected update(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<AdamOptions>): void {
    adamStep(this.name, p, grad, st, g, false);
  }
}

/** `new AdamW(params, {…as Adam, weightDecay = 1e-2})`: decay decoupled from the gradient. */
export class AdamW extends Optimizer<AdamOptions> {
  constructor(params: ParamsArg<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super("AdamW", params, defaults(opts, 1e-2), opts);
  }
  protected checkGroup(g: ParamGroup<AdamOptions>, i: number): void {
    check(this.name, g, i);
  }
  protected initState(p: Tensor, g: ParamGroup<AdamOptions>): ParamState {
    return initState(p, g);
  }
  protected update(p: Tensor, grad: Tensor, st: ParamState, g: ParamGroup<AdamOptions>): void {
    adamStep(this.name, p, grad, st, g, true);
  }
}
