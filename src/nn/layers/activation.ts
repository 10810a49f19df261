// Activation modules: thin Modules over nn.functional (PReLU owns its learnable slopes). Also the
// helpers that print numbers and booleans as Python does, for PyTorch-identical reprs.

import { full } from "../../tensor/creation.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { DType } from "../../core/dtype.js";
import { DescentError } from "../../core/errors.js";
import { Module, Parameter } from "../module.js";
import * as F from "../functional/activation.js";
import { pyFloat } from "../repr.js";

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}

export class LeakyReLU extends Module {
  negativeSlope: number;
  constructor(negativeSlope: number | { negativeSlope?: number } = 0.01) {
    super();
    this.negativeSlope = typeof negativeSlope === "number" ? negativeSlope : (negativeSlope.negativeSlope ?? 0.01);
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
  numParameters: number;
  weight: Parameter;
  constructor(numParameters = 1, init = 0.25, opts: { dtype?: DType } = {}) {
    super();
    if (!Number.isInteger(numParameters) || numParameters < 1)
      throw new DescentError(`PReLU: numParameters must be a positive integer, got ${numParameters}`);
    this.numParameters = numParameters;
    this.weight = new Parameter(full([numParameters], init, { dtype: opts.dtype ?? "float32" }));
  }
  forward(x: Tensor): Tensor {
    return F.prelu(x, this.weight);
  }
  override extraRepr(): string {
    return `num_parameters=${this.numParameters}`;
  }
}

export class ELU extends Module {
  alpha: number;
  constructor(alpha: number | { alpha?: number } = 1) {
    super();
    this.alpha = typeof alpha === "number" ? alpha : (alpha.alpha ?? 1);
  }
  forward(x: Tensor): Tensor {
    return F.elu(x, this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${pyFloat(this.alpha)}`;
  }
}

export class GELU extends Module {
  approximate: "none" | "tanh";
  constructor(opts: { approximate?: "none" | "tanh" } | "none" | "tanh" = {}) {
    super();
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

export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return F.silu(x);
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return F.sigmoid(x);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return F.tanh(x);
  }
}

export class Softmax extends Module {
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

export class LogSoftmax extends Module {
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
