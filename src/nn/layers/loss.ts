// Loss modules: thin Modules over nn.functional's losses (functional/loss.ts, functional/ctc.ts).
// As in PyTorch, the class weights of the weighted losses (and BCEWithLogitsLoss's pos_weight)
// are buffers, so they appear in stateDict() under PyTorch's keys; the reprs have no extras.

import type { Tensor } from "../../tensor/tensor.js";
import { DescentError } from "../../core/errors.js";
import { Module } from "../module.js";
import * as F from "../functional/loss.js";
import { ctcLoss, type CtcOptions, type Lengths } from "../functional/ctc.js";

type Reduction = F.Reduction;

/** Base of the losses: holds the reduction (default "mean"), checked at construction. */
abstract class Loss<R extends string = Reduction> extends Module {
  reduction: R;
  constructor(op: string, reduction: string | undefined, extra: R[] = []) {
    super();
    this.reduction = F.reductionOf<R>(op, reduction, extra);
  }
}

/** A loss with an optional per-class `weight` buffer. */
abstract class WeightedLoss extends Loss {
  declare weight: Tensor | null;
  constructor(op: string, opts: F.WeightedOptions) {
    super(op, opts.reduction);
    this.registerBuffer("weight", opts.weight ?? null);
  }
}

export class MSELoss extends Loss {
  constructor(opts: F.ReductionOptions = {}) {
    super("MSELoss", opts.reduction);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, { reduction: this.reduction });
  }
}

export class L1Loss extends Loss {
  constructor(opts: F.ReductionOptions = {}) {
    super("L1Loss", opts.reduction);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.l1Loss(input, target, { reduction: this.reduction });
  }
}

/** Mean absolute percentage error (·100); a zero target throws unless `eps` guards the denominator. */
export class MAPELoss extends Loss {
  eps: number | undefined;
  constructor(opts: F.MapeOptions = {}) {
    super("MAPELoss", opts.reduction);
    this.eps = opts.eps;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.mapeLoss(input, target, { reduction: this.reduction, eps: this.eps });
  }
}

export class HuberLoss extends Loss {
  delta: number;
  constructor(opts: F.ReductionOptions & { delta?: number } = {}) {
    super("HuberLoss", opts.reduction);
    this.delta = opts.delta ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

export class SmoothL1Loss extends Loss {
  beta: number;
  constructor(opts: F.ReductionOptions & { beta?: number } = {}) {
    super("SmoothL1Loss", opts.reduction);
    this.beta = opts.beta ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

export class CrossEntropyLoss extends WeightedLoss {
  ignoreIndex: number;
  labelSmoothing: number;
  constructor(opts: F.CrossEntropyOptions = {}) {
    super("CrossEntropyLoss", opts);
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

export class NLLLoss extends WeightedLoss {
  ignoreIndex: number;
  constructor(opts: F.NllOptions = {}) {
    super("NLLLoss", opts);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.nllLoss(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}

export class BCELoss extends WeightedLoss {
  constructor(opts: F.WeightedOptions = {}) {
    super("BCELoss", opts);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

export class BCEWithLogitsLoss extends Loss {
  declare weight: Tensor | null;
  // The buffer keeps PyTorch's name so that stateDict() has the key "pos_weight".
  declare pos_weight: Tensor | null;
  constructor(opts: F.BceWithLogitsOptions = {}) {
    super("BCEWithLogitsLoss", opts.reduction);
    this.registerBuffer("weight", opts.weight ?? null);
    this.registerBuffer("pos_weight", opts.posWeight ?? null);
  }
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

export class HingeEmbeddingLoss extends Loss {
  margin: number;
  constructor(opts: F.ReductionOptions & { margin?: number } = {}) {
    super("HingeEmbeddingLoss", opts.reduction);
    this.margin = opts.margin ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.hingeEmbeddingLoss(input, target, { margin: this.margin, reduction: this.reduction });
  }
}

export class MultiMarginLoss extends WeightedLoss {
  p: number;
  margin: number;
  constructor(opts: F.WeightedOptions & { p?: number; margin?: number } = {}) {
    super("MultiMarginLoss", opts);
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

export class KLDivLoss extends Loss<Reduction | "batchmean"> {
  logTarget: boolean;
  constructor(opts: { reduction?: Reduction | "batchmean"; logTarget?: boolean } = {}) {
    super("KLDivLoss", opts.reduction, ["batchmean"]);
    this.logTarget = opts.logTarget ?? false;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return F.klDiv(input, target, { reduction: this.reduction, logTarget: this.logTarget });
  }
}

export class CTCLoss extends Loss {
  blank: number;
  zeroInfinity: boolean;
  constructor(opts: CtcOptions = {}) {
    super("CTCLoss", opts.reduction);
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
