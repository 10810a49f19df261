// Loss modules: thin Modules over nn.functional's losses (functional/loss.ts, functional/ctc.ts).
// As in PyTorch, the class weights of the weighted losses (and BCEWithLogitsLoss's pos_weight)
// are buffers, so they appear in stateDict() under PyTorch's keys; the reprs have no extras.

import type { Tensor } from "../../tensor/tensor.js";
import { DescentError } from "../../core/errors.js";
import { checkOptions, type OptionKeys } from "../../core/options.js";
import { Module } from "../module.js";
import * as F from "../functional/loss.js";
import { CTC_KEYS, ctcLoss, type CtcOptions, type Lengths } from "../functional/ctc.js";

type Reduction = F.Reduction;

/** Base of the losses: holds the reduction (default "mean"); the options are checked at construction. */
abstract class Loss<R extends string = Reduction> extends Module {
  reduction: R;
  constructor(op: string, opts: { reduction?: string }, keys: OptionKeys, extra: R[] = []) {
    super();
    checkOptions(op, opts, keys);
    this.reduction = F.reductionOf<R>(op, opts.reduction, extra);
  }
}

/** A loss with an optional per-class `weight` buffer. */
abstract class WeightedLoss extends Loss {
  /** Rescaling weight (a buffer): per class [C], or broadcast over the input for BCELoss; or null. */
  declare weight: Tensor | null;
  constructor(op: string, opts: F.WeightedOptions, keys: OptionKeys) {
    super(op, opts, keys);
    this.registerBuffer("weight", opts.weight ?? null);
  }
}

/**
 * Mean squared error (torch.nn.MSELoss): mean((input − target)²) over all elements (reduction "mean", "sum" or "none"); input and target of one shape.
 */
export class MSELoss extends Loss {
  constructor(opts: F.ReductionOptions = {}) {
    super("MSELoss", opts, F.REDUCTION_KEYS);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, { reduction: this.reduction });
  }
}

/** Mean absolute error (torch.nn.L1Loss): mean(|input − target|) (reduction "mean", "sum" or "none"). */
export class L1Loss extends Loss {
  constructor(opts: F.ReductionOptions = {}) {
    super("L1Loss", opts, F.REDUCTION_KEYS);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.l1Loss(input, target, { reduction: this.reduction });
  }
}

/** Mean absolute percentage error (·100); a zero target throws unless `eps` guards the denominator. */
export class MAPELoss extends Loss {
  /** The denominator is max(|target|, eps) when set (default undefined: a zero target throws). */
  eps: number | undefined;
  constructor(opts: F.MapeOptions = {}) {
    super("MAPELoss", opts, F.MAPE_KEYS);
    this.eps = opts.eps;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.mapeLoss(input, target, { reduction: this.reduction, eps: this.eps });
  }
}

/** Huber loss (torch.nn.HuberLoss): quadratic for |input − target| < delta, linear beyond. */
export class HuberLoss extends Loss {
  /** Where the loss turns from quadratic to linear (default 1). */
  delta: number;
  constructor(opts: F.ReductionOptions & { delta?: number } = {}) {
    super("HuberLoss", opts, F.HUBER_KEYS);
    this.delta = opts.delta ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

/** Smooth L1 loss (torch.nn.SmoothL1Loss): HuberLoss divided by beta. */
export class SmoothL1Loss extends Loss {
  /** Where the loss turns from quadratic to linear (default 1). */
  beta: number;
  constructor(opts: F.ReductionOptions & { beta?: number } = {}) {
    super("SmoothL1Loss", opts, F.SMOOTH_L1_KEYS);
    this.beta = opts.beta ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

/**
 * Cross entropy of logits (torch.nn.CrossEntropyLoss): input [N, C] (or [N, C, d1, …], or [C]) of
 * unnormalised scores, target [N] of int32 class indices (or class probabilities of input's shape);
 * log-softmax then NLL. Options: weight [C], ignoreIndex, labelSmoothing, reduction.
 *
 * @example
 * ```ts
 * const lossFn = new nn.CrossEntropyLoss();
 * const loss = lossFn.forward(logits, labels); // logits [N, 10], labels int32 [N] → 0-d
 * ```
 */
export class CrossEntropyLoss extends WeightedLoss {
  /** Targets with this class index add nothing to the loss or its mean (default -100). */
  ignoreIndex: number;
  /** Amount of smoothing towards the uniform distribution, in [0, 1] (default 0). */
  labelSmoothing: number;
  constructor(opts: F.CrossEntropyOptions = {}) {
    super("CrossEntropyLoss", opts, F.CROSS_ENTROPY_KEYS);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
    this.labelSmoothing = opts.labelSmoothing ?? 0;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.crossEntropy(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      labelSmoothing: this.labelSmoothing,
      reduction: this.reduction,
    });
  }
}

/**
 * Negative log-likelihood (torch.nn.NLLLoss): input [N, C] of log-probabilities, target [N] of int32 class indices.
 */
export class NLLLoss extends WeightedLoss {
  /** Targets with this class index add nothing (default -100). */
  ignoreIndex: number;
  constructor(opts: F.NllOptions = {}) {
    super("NLLLoss", opts, F.NLL_KEYS);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.nllLoss(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}

/** Binary cross entropy of probabilities (torch.nn.BCELoss): input in [0, 1] and target of one shape. */
export class BCELoss extends WeightedLoss {
  constructor(opts: F.WeightedOptions = {}) {
    super("BCELoss", opts, F.WEIGHTED_KEYS);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

/**
 * Binary cross entropy of logits (torch.nn.BCEWithLogitsLoss): sigmoid and BCE in one stable step; optional weight and posWeight.
 */
export class BCEWithLogitsLoss extends Loss {
  /** Rescaling weight broadcast over the input (a buffer), or null. */
  declare weight: Tensor | null;
  // The buffer keeps PyTorch's name so that stateDict() has the key "pos_weight".
  /** Weight of the positive examples per class (a buffer, under PyTorch's state-dict name), or null. */
  declare pos_weight: Tensor | null;
  constructor(opts: F.BceWithLogitsOptions = {}) {
    super("BCEWithLogitsLoss", opts, F.BCE_LOGITS_KEYS);
    this.registerBuffer("weight", opts.weight ?? null);
    this.registerBuffer("pos_weight", opts.posWeight ?? null);
  }
  /** pos_weight under its camelCase name. */
  get posWeight(): Tensor | null {
    return this.pos_weight;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropyWithLogits(input, target, {
      weight: this.weight,
      posWeight: this.pos_weight,
      reduction: this.reduction,
    });
  }
}

/** Hinge embedding loss (torch.nn.HingeEmbeddingLoss): x where target is 1, max(0, margin − x) where it is −1. */
export class HingeEmbeddingLoss extends Loss {
  /** The margin (default 1). */
  margin: number;
  constructor(opts: F.ReductionOptions & { margin?: number } = {}) {
    super("HingeEmbeddingLoss", opts, F.HINGE_KEYS);
    this.margin = opts.margin ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.hingeEmbeddingLoss(input, target, { margin: this.margin, reduction: this.reduction });
  }
}

/** Multi-class hinge loss (torch.nn.MultiMarginLoss): input [N, C] scores, target [N] int32 classes. */
export class MultiMarginLoss extends WeightedLoss {
  /** The exponent, 1 or 2 (default 1). */
  p: number;
  /** The margin (default 1). */
  margin: number;
  constructor(opts: F.WeightedOptions & { p?: number; margin?: number } = {}) {
    super("MultiMarginLoss", opts, F.MULTI_MARGIN_KEYS);
    this.p = opts.p ?? 1;
    this.margin = opts.margin ?? 1;
    if (this.p !== 1 && this.p !== 2)
      throw new DescentError(`MultiMarginLoss: only p = 1 and p = 2 are supported, got ${this.p}`);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.multiMarginLoss(input, target, {
      p: this.p,
      margin: this.margin,
      weight: this.weight,
      reduction: this.reduction,
    });
  }
}

/**
 * Kullback–Leibler divergence (torch.nn.KLDivLoss): input holds log-probabilities, target probabilities
 * (or log-probabilities with logTarget); reduction "batchmean" gives the mathematically correct mean.
 */
export class KLDivLoss extends Loss<Reduction | "batchmean"> {
  /** The target holds log-probabilities (default false). */
  logTarget: boolean;
  constructor(opts: { reduction?: Reduction | "batchmean"; logTarget?: boolean } = {}) {
    super("KLDivLoss", opts, F.KL_DIV_KEYS, ["batchmean"]);
    this.logTarget = opts.logTarget ?? false;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.klDiv(input, target, { reduction: this.reduction, logTarget: this.logTarget });
  }
}

/**
 * Connectionist temporal classification loss (torch.nn.CTCLoss): log-probabilities [T, N, C], targets,
 * input lengths and target lengths.
 */
export class CTCLoss extends Loss {
  /** The blank label's index (default 0). */
  blank: number;
  /** Replace infinite losses (impossible alignments) and their gradients by 0 (default false). */
  zeroInfinity: boolean;
  constructor(opts: CtcOptions = {}) {
    super("CTCLoss", opts, CTC_KEYS);
    this.blank = opts.blank ?? 0;
    this.zeroInfinity = opts.zeroInfinity ?? false;
  }
  forward(logProbs: Tensor, targets: Tensor, inputLengths: Lengths, targetLengths: Lengths): Tensor {
    return ctcLoss(logProbs, targets, inputLengths, targetLengths, {
      blank: this.blank,
      zeroInfinity: this.zeroInfinity,
      reduction: this.reduction,
    });
  }
}
