// Activation modules: thin Modules over nn.functional (PReLU owns its learnable slopes). Also the
// helpers that print numbers and booleans as Python does, for PyTorch-identical reprs.

import { full } from "../../tensor/creation.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { DType } from "../../core/dtype.js";
import { DescentError } from "../../core/errors.js";
import { checkFinite, checkOptions, dtypeOption } from "../../core/options.js";
import { Module, Parameter } from "../module.js";
import * as F from "../functional/activation.js";
import { pyFloat } from "../repr.js";

/** max(x, 0) element-wise (torch.nn.ReLU); any shape. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}

// The keys of the layers whose options are written inline (a number is accepted in their place).
const LEAKY_KEYS: ReadonlySet<string> = new Set(["negativeSlope"]);
const PRELU_KEYS: ReadonlySet<string> = new Set(["dtype"]);
const ELU_KEYS: ReadonlySet<string> = new Set(["alpha"]);
const GELU_KEYS: ReadonlySet<string> = new Set(["approximate"]);

/** x where x > 0, else negativeSlope·x (torch.nn.LeakyReLU); any shape. */
export class LeakyReLU extends Module {
  /** Slope for x < 0 (default 0.01). */
  negativeSlope: number;
  constructor(negativeSlope: number | { negativeSlope?: number } = 0.01) {
    super();
    if (typeof negativeSlope !== "number") checkOptions("LeakyReLU", negativeSlope, LEAKY_KEYS);
    this.negativeSlope = typeof negativeSlope === "number" ? negativeSlope : (negativeSlope.negativeSlope ?? 0.01);
    checkFinite("LeakyReLU", "negativeSlope", this.negativeSlope);
  }
  forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.negativeSlope);
  }
  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}`;
  }
}

/** Leaky ReLU with learnable slopes: one shared (numParameters = 1) or one per channel (dim 1). */
export class PReLU extends Module {
  /** 1 (one shared slope) or the channel count (dim 1). */
  numParameters: number;
  /** The slopes [numParameters] (initialised to init, default 0.25). */
  weight: Parameter;
  constructor(numParameters = 1, init = 0.25, opts: { dtype?: DType } = {}) {
    super();
    checkOptions("PReLU", opts, PRELU_KEYS);
    if (!Number.isInteger(numParameters) || numParameters < 1)
      throw new DescentError(`PReLU: numParameters must be a positive integer, got ${numParameters}`);
    this.numParameters = numParameters;
    this.weight = new Parameter(full([numParameters], init, { dtype: dtypeOption("PReLU", opts.dtype) }));
  }
  forward(x: Tensor): Tensor {
    return F.prelu(x, this.weight);
  }
  override extraRepr(): string {
    return `num_parameters=${this.numParameters}`;
  }
}

/** x where x > 0, else alpha·(eˣ − 1) (torch.nn.ELU); any shape. */
export class ELU extends Module {
  /** Scale of the negative part (default 1). */
  alpha: number;
  constructor(alpha: number | { alpha?: number } = 1) {
    super();
    if (typeof alpha !== "number") checkOptions("ELU", alpha, ELU_KEYS);
    this.alpha = typeof alpha === "number" ? alpha : (alpha.alpha ?? 1);
    checkFinite("ELU", "alpha", this.alpha);
  }
  forward(x: Tensor): Tensor {
    return F.elu(x, this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${pyFloat(this.alpha)}`;
  }
}

/** GELU x·Φ(x), exact or with the tanh approximation (torch.nn.GELU); any shape. */
export class GELU extends Module {
  /** "none" (exact, default) or "tanh". */
  approximate: "none" | "tanh";
  constructor(opts: { approximate?: "none" | "tanh" } | "none" | "tanh" = {}) {
    super();
    if (typeof opts !== "string") checkOptions("GELU", opts, GELU_KEYS);
    this.approximate = typeof opts === "string" ? opts : (opts.approximate ?? "none");
    if (this.approximate !== "none" && this.approximate !== "tanh")
      throw new DescentError(`GELU: approximate must be "none" or "tanh", got ${String(this.approximate)}`);
  }
  forward(x: Tensor): Tensor {
    return F.gelu(x, { approximate: this.approximate });
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** x·sigmoid(x) (torch.nn.SiLU); any shape. */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return F.silu(x);
  }
}

/** 1 / (1 + e⁻ˣ) (torch.nn.Sigmoid); any shape. */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return F.sigmoid(x);
  }
}

/** Hyperbolic tangent (torch.nn.Tanh); any shape. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return F.tanh(x);
  }
}

/** Softmax along dim (torch.nn.Softmax): each slice along dim becomes positive and sums to 1. */
export class Softmax extends Module {
  /** The dimension normalised over. */
  dim: number;
  constructor(dim: number) {
    super();
    this.dim = dim;
  }
  forward(x: Tensor): Tensor {
    return F.softmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** log(softmax(x)) along dim, computed stably (torch.nn.LogSoftmax). */
export class LogSoftmax extends Module {
  /** The dimension normalised over. */
  dim: number;
  constructor(dim: number) {
    super();
    this.dim = dim;
  }
  forward(x: Tensor): Tensor {
    return F.logSoftmax(x, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
