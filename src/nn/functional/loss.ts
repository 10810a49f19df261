// Loss functions (torch.nn.functional's mse_loss, l1_loss, huber_loss, smooth_l1_loss,
// cross_entropy, nll_loss, binary_cross_entropy(_with_logits), hinge_embedding_loss,
// multi_margin_loss, kl_div) plus MAPE, with PyTorch 1.13's semantics and reductions. All are
// composites of Tensor methods; the one exception to "autograd differentiates the forward" is
// binary cross entropy, whose input gradient is PyTorch's clamped formula (see attachGradient).
// CTC lives in ctc.ts.

import { checkFloat, isFloat } from "../../core/dtype.js";
import { DescentError, shapeStr } from "../../core/errors.js";
import { broadcastShapes, sameShape } from "../../core/shape.js";
import { checkOptions, keysOf } from "../../core/options.js";
import { isGradEnabled, noGrad } from "../../autograd/graph.js";
import type { Tensor } from "../../tensor/tensor.js";
import { arange } from "../../tensor/creation.js";

/** How a loss reduces the per-element losses: "mean", "sum" or "none". */
export type Reduction = "mean" | "sum" | "none";

/** The reduction option every loss takes. */
export interface ReductionOptions {
  /** "mean" (default): the average over elements; "sum"; "none": the per-element losses. */
  reduction?: Reduction;
}

/** The keys of ReductionOptions, for checkOptions. */
export const REDUCTION_KEYS = keysOf<ReductionOptions>()({ reduction: true });

/** Options of the losses with per-class weights. */
export interface WeightedOptions extends ReductionOptions {
  /** One rescaling weight per class, shape [C]. */
  weight?: Tensor | null;
}

/** The keys of WeightedOptions, for checkOptions. */
export const WEIGHTED_KEYS = keysOf<WeightedOptions>()({ reduction: true, weight: true });

/** Options of nllLoss (F.nll_loss's keyword arguments). */
export interface NllOptions extends WeightedOptions {
  /** Targets equal to this contribute nothing and are left out of the mean's denominator (default -100). */
  ignoreIndex?: number;
}

/** The keys of NllOptions, for checkOptions. */
export const NLL_KEYS = keysOf<NllOptions>()({ reduction: true, weight: true, ignoreIndex: true });

/** Options of crossEntropy (F.cross_entropy's keyword arguments). */
export interface CrossEntropyOptions extends NllOptions {
  /** ε in [0, 1]: the target becomes (1 - ε)·target + ε/C (default 0). */
  labelSmoothing?: number;
}

/** The keys of CrossEntropyOptions, for checkOptions. */
export const CROSS_ENTROPY_KEYS = keysOf<CrossEntropyOptions>()({
  reduction: true,
  weight: true,
  ignoreIndex: true,
  labelSmoothing: true,
});

/** Options of mapeLoss. */
export interface MapeOptions extends ReductionOptions {
  /**
   * Guards the denominator as max(|target|, eps), like scikit-learn. Without it (the default) a
   * target equal to 0 throws a DescentError naming its index instead of returning Infinity.
   */
  eps?: number;
}

/** The keys of MapeOptions, for checkOptions. */
export const MAPE_KEYS = keysOf<MapeOptions>()({ reduction: true, eps: true });

/** The keys of the losses whose options are written inline. */
export const HUBER_KEYS = keysOf<ReductionOptions & { delta?: number }>()({ reduction: true, delta: true });
export const SMOOTH_L1_KEYS = keysOf<ReductionOptions & { beta?: number }>()({ reduction: true, beta: true });
export const HINGE_KEYS = keysOf<ReductionOptions & { margin?: number }>()({ reduction: true, margin: true });
export const MULTI_MARGIN_KEYS = keysOf<WeightedOptions & { p?: number; margin?: number }>()({
  reduction: true,
  weight: true,
  p: true,
  margin: true,
});
export const KL_DIV_KEYS = keysOf<{ reduction?: string; logTarget?: boolean }>()({ reduction: true, logTarget: true });

/** Checks and returns the reduction (default "mean"); "batchmean" only where allowed (KL divergence). */
export function reductionOf<R extends string = Reduction>(op: string, r: string | undefined, extra: R[] = []): R {
  const v = r ?? "mean";
  if (v === "mean" || v === "sum" || v === "none" || (extra as string[]).includes(v)) return v as R;
  const allowed = ["mean", "sum", "none", ...extra].map((x) => `"${x}"`).join(", ");
  throw new DescentError(`${op}: reduction must be one of ${allowed}, got "${v}"`);
}

export function reduce(loss: Tensor, reduction: Reduction): Tensor {
  return reduction === "mean" ? loss.mean() : reduction === "sum" ? loss.sum() : loss;
}

/** A row-major position as [i,j,...] for error messages. */
export function positionStr(flat: number, shape: readonly number[]): string {
  const pos: number[] = [];
  for (let k = shape.length - 1; k >= 0; k--) {
    pos.unshift(flat % shape[k]!);
    flat = Math.floor(flat / shape[k]!);
  }
  return `[${pos.join(",")}]`;
}

/** The target cast to the input's dtype, refusing a shape that differs (PyTorch only warns and broadcasts). */
function sameShapeTarget(op: string, input: Tensor, target: Tensor): Tensor {
  checkFloat(op, input.dtype);
  if (!sameShape(input.shape, target.shape)) {
    throw new DescentError(
      `${op}: input ${shapeStr(input.shape)} and target ${shapeStr(target.shape)} must have the same shape`,
    );
  }
  return target.to(input.dtype);
}

/** An optional tensor that must broadcast to the input's shape without enlarging it. */
function broadcastable(op: string, name: string, t: Tensor | null | undefined, input: Tensor): Tensor | null {
  if (!t) return null;
  let ok = false;
  try {
    ok = sameShape(broadcastShapes(op, t.shape, input.shape), input.shape);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new DescentError(
      `${op}: ${name} ${shapeStr(t.shape)} does not broadcast to the input's shape ${shapeStr(input.shape)}`,
    );
  }
  return t.to(input.dtype);
}

function classWeight(op: string, weight: Tensor | null | undefined, classes: number, input: Tensor): Tensor | null {
  if (!weight) return null;
  if (weight.ndim !== 1 || weight.shape[0] !== classes) {
    throw new DescentError(
      `${op}: weight must have one value per class (shape [${classes}]), got ${shapeStr(weight.shape)}`,
    );
  }
  return weight.to(input.dtype);
}

/**
 * Returns x's value with x's gradient replaced by G: value + (x·G − (x·G).detach()). The added term
 * is exactly 0 in the forward (a − a for finite a) and has derivative G with respect to x, so
 * backward delivers exactly G·upstream to x. value keeps its own graph (e.g. through the target).
 */
export function attachGradient(value: Tensor, x: Tensor, grad: Tensor): Tensor {
  const xg = x.mul(grad.detach());
  return value.add(xg.sub(xg.detach()));
}

// ---- element-wise regression losses ---------------------------------------------------------------

/** mean((input - target)²). */
export function mseLoss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  checkOptions("mseLoss", opts, REDUCTION_KEYS);
  const r = reductionOf("mseLoss", opts.reduction);
  return reduce(input.sub(sameShapeTarget("mseLoss", input, target)).square(), r);
}

/** mean(|input - target|) (MAE); the gradient at input = target is 0, as PyTorch's. */
export function l1Loss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  checkOptions("l1Loss", opts, REDUCTION_KEYS);
  const r = reductionOf("l1Loss", opts.reduction);
  return reduce(input.sub(sameShapeTarget("l1Loss", input, target)).abs(), r);
}

/**
 * Mean absolute percentage error: mean(|(input - target) / target|)·100. A zero target throws
 * (naming its index) unless `eps` is given, which makes the denominator max(|target|, eps).
 */
export function mapeLoss(input: Tensor, target: Tensor, opts: MapeOptions = {}): Tensor {
  checkOptions("mapeLoss", opts, MAPE_KEYS);
  const op = "mapeLoss";
  const r = reductionOf(op, opts.reduction);
  const t = sameShapeTarget(op, input, target);
  let denom: Tensor;
  if (opts.eps === undefined) {
    const data = t.toFlatArray();
    const at = data.findIndex((v) => v === 0);
    if (at >= 0) {
      throw new DescentError(
        `${op}: target is 0 at index ${positionStr(at, t.shape)}, where the percentage error is undefined; ` +
          "pass {eps} to divide by max(|target|, eps) instead",
      );
    }
    denom = t.abs();
  } else {
    if (!(opts.eps > 0)) throw new DescentError(`${op}: eps must be positive, got ${opts.eps}`);
    denom = t.abs().maximum(opts.eps);
  }
  return reduce(input.sub(t).abs().div(denom).mul(100), r);
}

/** 0.5·d² where |d| < delta, else delta·(|d| - 0.5·delta), d = input - target. */
export function huberLoss(input: Tensor, target: Tensor, opts: ReductionOptions & { delta?: number } = {}): Tensor {
  checkOptions("huberLoss", opts, HUBER_KEYS);
  const op = "huberLoss";
  const r = reductionOf(op, opts.reduction);
  const delta = opts.delta ?? 1;
  if (!(delta > 0)) throw new DescentError(`${op}: delta must be positive, got ${delta}`);
  const d = input.sub(sameShapeTarget(op, input, target));
  return reduce(
    quadLinear(
      d,
      delta,
      (q) => q,
      (a) => a.sub(0.5 * delta).mul(delta),
    ),
    r,
  );
}

/** 0.5·d²/beta where |d| < beta, else |d| - 0.5·beta; beta = 0 is the L1 loss (as PyTorch). */
export function smoothL1Loss(input: Tensor, target: Tensor, opts: ReductionOptions & { beta?: number } = {}): Tensor {
  checkOptions("smoothL1Loss", opts, SMOOTH_L1_KEYS);
  const op = "smoothL1Loss";
  const r = reductionOf(op, opts.reduction);
  const beta = opts.beta ?? 1;
  if (!(beta >= 0)) throw new DescentError(`${op}: beta must be non-negative, got ${beta}`);
  const d = input.sub(sameShapeTarget(op, input, target));
  // beta = 0 is |d|, with PyTorch's kernel's gradient −1 (not 0) at d = 0.
  if (beta === 0) return reduce(d.maskedFill(d.le(0), 0).sub(d.maskedFill(d.gt(0), 0)), r);
  return reduce(
    quadLinear(
      d,
      beta,
      (q) => q.div(beta),
      (a) => a.sub(0.5 * beta),
    ),
    r,
  );
}

/**
 * quad(0.5·d²) where |d| < k, else lin(|d|), in PyTorch's order of operations. The quadratic branch
 * sees d clamped to [-k, k], so an infinite d cannot send Inf·0 = NaN back through the branch not taken.
 */
function quadLinear(d: Tensor, k: number, quad: (q: Tensor) => Tensor, lin: (a: Tensor) => Tensor): Tensor {
  const a = d.abs();
  const q = quad(d.clamp(-k, k).square().mul(0.5));
  return q.maskedFill(a.ge(k), 0).add(lin(a).maskedFill(a.lt(k), 0));
}

// ---- classification: cross entropy, nll ---------------------------------------------------------

/**
 * Cross entropy of logits `input` ([C], [N, C] or [N, C, d1, ...]) against class indices (int32,
 * the input's shape without dim 1) or class probabilities (a float tensor of the input's shape).
 * With indices, `mean` divides by the summed weights of the non-ignored targets (as NLLLoss);
 * with probabilities, by the number of samples N·d1·….
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  checkOptions("crossEntropy", opts, CROSS_ENTROPY_KEYS);
  const op = "crossEntropy";
  const r = reductionOf(op, opts.reduction);
  checkFloat(op, input.dtype);
  if (input.ndim === 0)
    throw new DescentError(`${op}: input must have a class dim ([C], [N, C], ...), got a 0-d tensor`);
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new DescentError(`${op}: labelSmoothing must be in [0, 1], got ${eps}`);
  const cdim = input.ndim === 1 ? 0 : 1;
  const classes = input.shape[cdim]!;
  const weight = classWeight(op, opts.weight, classes, input);
  const wShape = input.shape.map((s, i) => (i === cdim ? s : 1));
  const logp = input.logSoftmax(cdim);

  if (isFloat(target.dtype) && sameShape(target.shape, input.shape)) {
    let t = target.to(input.dtype);
    if (eps > 0) t = t.mul(1 - eps).add(eps / classes);
    let prod = logp.mul(t);
    if (weight) prod = prod.mul(weight.reshape(wShape));
    const perSample = prod.sum(cdim).neg();
    if (r === "none" || r === "sum") return reduce(perSample, r);
    return perSample.sum().div(input.size === 0 ? NaN : input.size / classes);
  }

  const nll = nllCore(op, logp, target, weight, opts.ignoreIndex ?? -100, r);
  if (eps === 0) return nll.loss;
  // Label smoothing adds ε/C · (−Σ_c w_c·log p_c), zero at ignored targets, with the same denominator.
  let smooth = (weight ? logp.mul(weight.reshape(wShape)) : logp).sum(cdim).neg();
  if (nll.ignored) smooth = smooth.maskedFill(nll.ignored, 0);
  const reduced = r === "none" ? smooth : r === "sum" ? smooth.sum() : smooth.sum().div(nll.denominator!);
  return nll.loss.mul(1 - eps).add(reduced.mul(eps / classes));
}

/** Negative log likelihood of log-probabilities `input` ([C], [N, C] or [N, C, d1, ...]) at int32 class targets. */
export function nllLoss(input: Tensor, target: Tensor, opts: NllOptions = {}): Tensor {
  checkOptions("nllLoss", opts, NLL_KEYS);
  const op = "nllLoss";
  const r = reductionOf(op, opts.reduction);
  checkFloat(op, input.dtype);
  if (input.ndim === 0)
    throw new DescentError(`${op}: input must have a class dim ([C], [N, C], ...), got a 0-d tensor`);
  const weight = classWeight(op, opts.weight, input.shape[input.ndim === 1 ? 0 : 1]!, input);
  return nllCore(op, input, target, weight, opts.ignoreIndex ?? -100, r).loss;
}

/**
 * -w[t]·logp[t] per target with ignored targets set to 0, reduced; also returns the mask of ignored
 * targets and the mean's denominator (Σ w[t] over non-ignored targets, or their count).
 */
function nllCore(
  op: string,
  logp: Tensor,
  target: Tensor,
  weight: Tensor | null,
  ignoreIndex: number,
  r: Reduction,
): { loss: Tensor; ignored: Tensor | null; denominator: Tensor | number | null } {
  if (!Number.isSafeInteger(ignoreIndex))
    throw new DescentError(`${op}: ignoreIndex must be an integer, got ${ignoreIndex}`);
  const cdim = logp.ndim === 1 ? 0 : 1;
  const classes = logp.shape[cdim]!;
  const expected = logp.shape.filter((_, i) => i !== cdim);
  if (target.dtype !== "int32" || !sameShape(target.shape, expected)) {
    throw new DescentError(
      `${op}: target must be int32 class indices of shape ${shapeStr(expected)} for input ${shapeStr(logp.shape)}` +
        `${op === "crossEntropy" ? " (or class probabilities of the input's shape)" : ""}, got ${target.dtype} ${shapeStr(target.shape)}`,
    );
  }
  const data = target.toFlatArray();
  let nIgnored = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v === ignoreIndex) nIgnored++;
    else if (v < 0 || v >= classes) {
      throw new DescentError(
        `${op}: target ${v} at index ${positionStr(i, target.shape)} is out of bounds for ${classes} classes (input ${shapeStr(logp.shape)})`,
      );
    }
  }
  const ignored = nIgnored > 0 ? target.eq(ignoreIndex) : null;
  const safe = ignored ? target.maskedFill(ignored, 0) : target;
  let loss = logp.gather(cdim, safe.unsqueeze(cdim)).squeeze(cdim).neg();
  let w: Tensor | null = null;
  if (weight) {
    w = weight.gather(0, safe.reshape([-1])).reshape(target.shape);
    if (ignored) w = w.maskedFill(ignored, 0);
    loss = loss.mul(w);
  }
  if (ignored) loss = loss.maskedFill(ignored, 0);
  const denominator = r !== "mean" ? null : w ? w.sum() : data.length - nIgnored;
  const reduced = r === "none" ? loss : r === "sum" ? loss.sum() : loss.sum().div(denominator!);
  return { loss: reduced, ignored, denominator };
}

// ---- binary classification ----------------------------------------------------------------------

/** PyTorch's clamp of x·(1-x) in BCE's backward: the float constant 1e-12f, also in float64. */
const BCE_EPS = Math.fround(1e-12);

/**
 * -w·(t·log x + (1-t)·log(1-x)) for probabilities x in [0, 1], each log clamped at -100 (PyTorch).
 * The input gradient is PyTorch's w·(x - t) / max(x·(1-x), 1e-12f), finite even at x = 0 or 1
 * where the clamped forward has no derivative; the target and weight gradients are those of the
 * forward (with the clamped logs). PyTorch's F.binary_cross_entropy.
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, opts: WeightedOptions = {}): Tensor {
  checkOptions("binaryCrossEntropy", opts, WEIGHTED_KEYS);
  const op = "binaryCrossEntropy";
  const r = reductionOf(op, opts.reduction);
  const t = sameShapeTarget(op, input, target);
  const w = broadcastable(op, "weight", opts.weight, input);
  const xs = input.toFlatArray();
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]!;
    if (!(v >= 0 && v <= 1)) {
      throw new DescentError(
        `${op}: all elements of input should be between 0 and 1, got ${v} at index ${positionStr(i, input.shape)}`,
      );
    }
  }
  const x = input.detach();
  const logX = x.log().clamp(-100);
  const log1mX = x.neg().log1p().clamp(-100);
  let loss = t.mul(logX).add(t.neg().add(1).mul(log1mX)).neg();
  if (w) loss = loss.mul(w);
  if (input.requiresGrad && isGradEnabled()) {
    const grad = noGrad(() => {
      const g = x.sub(t).div(x.mul(x.neg().add(1)).maximum(BCE_EPS));
      return w ? g.mul(w) : g;
    });
    loss = attachGradient(loss, input, grad);
  }
  return reduce(loss, r);
}

/** Options of binaryCrossEntropyWithLogits (F.binary_cross_entropy_with_logits' keyword arguments). */
export interface BceWithLogitsOptions extends WeightedOptions {
  /** Weight of the positive term, broadcast over the input (typically one value per class, [C]). */
  posWeight?: Tensor | null;
}

/** The keys of BceWithLogitsOptions, for checkOptions. */
export const BCE_LOGITS_KEYS = keysOf<BceWithLogitsOptions>()({ reduction: true, weight: true, posWeight: true });

/**
 * Sigmoid + binary cross entropy in the stable form (1-t)·x − lw·logσ(x), lw = 1 + (posWeight-1)·t,
 * which is max(x,0) − x·t + log(1+e^{−|x|}) when posWeight = 1: finite for every finite logit.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, opts: BceWithLogitsOptions = {}): Tensor {
  checkOptions("binaryCrossEntropyWithLogits", opts, BCE_LOGITS_KEYS);
  const op = "binaryCrossEntropyWithLogits";
  const r = reductionOf(op, opts.reduction);
  const t = sameShapeTarget(op, input, target);
  const w = broadcastable(op, "weight", opts.weight, input);
  const pw = broadcastable(op, "posWeight", opts.posWeight, input);
  const logSig = logSigmoid(input);
  let loss = t
    .neg()
    .add(1)
    .mul(input)
    .sub(pw ? pw.sub(1).mul(t).add(1).mul(logSig) : logSig);
  if (w) loss = loss.mul(w);
  return reduce(loss, r);
}

/**
 * log σ(x) = −log(1 + e^{−x}) for x ≥ 0 and x − log(1 + e^{x}) for x < 0: the exponent is never
 * positive. Each branch sees x clamped to its own side, so the unused one cannot overflow.
 */
function logSigmoid(x: Tensor): Tensor {
  const pos = x.clamp(0).neg().exp().log1p().neg();
  const xn = x.clamp(undefined, 0);
  const neg = xn.sub(xn.exp().log1p());
  return pos.maskedFill(x.lt(0), 0).add(neg.maskedFill(x.ge(0), 0));
}

// ---- margin losses ------------------------------------------------------------------------------

/** x where t = 1, max(0, margin − x) where t = −1 (PyTorch's formula: both terms for other t). */
export function hingeEmbeddingLoss(
  input: Tensor,
  target: Tensor,
  opts: ReductionOptions & { margin?: number } = {},
): Tensor {
  checkOptions("hingeEmbeddingLoss", opts, HINGE_KEYS);
  const op = "hingeEmbeddingLoss";
  const r = reductionOf(op, opts.reduction);
  const t = sameShapeTarget(op, input, target);
  const margin = opts.margin ?? 1;
  const hinge = input.neg().add(margin).clamp(0).maskedFill(t.eq(1), 0);
  return reduce(hinge.add(input.maskedFill(t.eq(-1), 0)), r);
}

/**
 * Multi-class hinge: Σ_{j≠y} w[y]·max(0, margin − x[y] + x[j])^p / C per sample, for input [N, C]
 * (or [C]) and int32 targets [N] (or 0-d). As PyTorch's kernel, the weight multiplies after the power.
 */
export function multiMarginLoss(
  input: Tensor,
  target: Tensor,
  opts: WeightedOptions & { p?: number; margin?: number } = {},
): Tensor {
  checkOptions("multiMarginLoss", opts, MULTI_MARGIN_KEYS);
  const op = "multiMarginLoss";
  const r = reductionOf(op, opts.reduction);
  checkFloat(op, input.dtype);
  const p = opts.p ?? 1;
  if (p !== 1 && p !== 2) throw new DescentError(`${op}: only p = 1 and p = 2 are supported, got ${p}`);
  if (input.ndim !== 1 && input.ndim !== 2)
    throw new DescentError(`${op}: input must be [C] or [N, C], got ${shapeStr(input.shape)}`);
  const x = input.ndim === 1 ? input.unsqueeze(0) : input;
  const [n, classes] = [x.shape[0]!, x.shape[1]!];
  const expected = input.ndim === 1 ? [] : [n];
  if (target.dtype !== "int32" || !sameShape(target.shape, expected)) {
    throw new DescentError(
      `${op}: target must be int32 class indices of shape ${shapeStr(expected)} for input ${shapeStr(input.shape)}, got ${target.dtype} ${shapeStr(target.shape)}`,
    );
  }
  const tv = target.toFlatArray();
  const bad = tv.findIndex((v) => v < 0 || v >= classes);
  if (bad >= 0) {
    throw new DescentError(`${op}: target ${tv[bad]} at index [${bad}] is out of bounds for ${classes} classes`);
  }
  const weight = classWeight(op, opts.weight, classes, input);
  const t = target.reshape([n, 1]);
  const z = x
    .gather(1, t)
    .neg()
    .add(opts.margin ?? 1)
    .add(x)
    .relu(); // relu: no gradient at z = 0, as PyTorch (z > 0)
  let h = (p === 2 ? z.square() : z).maskedFill(
    arange(0, classes, 1, { dtype: "int32" }).reshape([1, classes]).eq(t),
    0,
  );
  if (weight) h = h.mul(weight.gather(0, t.reshape([n])).reshape([n, 1]));
  const perSample = h.sum(1).div(classes);
  return reduce(input.ndim === 1 ? perSample.reshape([]) : perSample, r);
}

// ---- distributions ------------------------------------------------------------------------------

/**
 * KL divergence with input = log q: t·(log t − input) (0 where t = 0), or with logTarget
 * e^t·(t − input). "batchmean" divides the sum by the batch size (dim 0), "mean" by the element count.
 */
export function klDiv(
  input: Tensor,
  target: Tensor,
  opts: { reduction?: Reduction | "batchmean"; logTarget?: boolean } = {},
): Tensor {
  checkOptions("klDiv", opts, KL_DIV_KEYS);
  const op = "klDiv";
  const r = reductionOf<Reduction | "batchmean">(op, opts.reduction, ["batchmean"]);
  const t = sameShapeTarget(op, input, target);
  let loss: Tensor;
  if (opts.logTarget) {
    loss = t.exp().mul(t.sub(input));
  } else {
    const zero = t.eq(0);
    loss = t.mul(t.maskedFill(zero, 1).log()).sub(t.mul(input)); // xlogy(t, t) - t·input
  }
  if (r !== "batchmean") return reduce(loss, r);
  return input.ndim === 0 ? loss.sum() : loss.sum().div(input.shape[0]!);
}
