// LayerNorm: normalises over the trailing normalizedShape dims with the biased variance, then an
// optional learnable element-wise affine (weight ones, bias zeros), as PyTorch.

import { ones, zeros } from "../../tensor/creation.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { DType } from "../../core/dtype.js";
import { DescentError, shapeStr } from "../../core/errors.js";
import { checkOptions, keysOf } from "../../core/options.js";
import { Module, Parameter } from "../module.js";
import * as F from "../functional/activation.js";
import { pyBool, pyFloat } from "../repr.js";

/** Options of LayerNorm (PyTorch's keyword arguments, camelCased). */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learnable weight (and bias) of the normalized shape; default true. */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, whether to learn a bias too; default true. */
  bias?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/** The keys of LayerNormOptions, for checkOptions. */
const LAYERNORM_KEYS = keysOf<LayerNormOptions>()({ eps: true, elementwiseAffine: true, bias: true, dtype: true });

/**
 * Layer normalisation over the last dimensions (torch.nn.LayerNorm): input [*, ...normalizedShape],
 * each sample normalised by its own mean and variance over those dimensions, then scaled and shifted.
 */
export class LayerNorm extends Module {
  /** The trailing shape normalised over. */
  normalizedShape: number[];
  /** Added to the variance. */
  eps: number;
  /** Whether weight (and bias) are learned. */
  elementwiseAffine: boolean;
  /** normalizedShape, or null without elementwiseAffine. */
  weight: Parameter | null;
  /** normalizedShape, or null without a bias. */
  bias: Parameter | null;

  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    checkOptions("LayerNorm", opts, LAYERNORM_KEYS);
    const shape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    if (shape.length === 0 || shape.some((s) => !Number.isInteger(s) || s < 0))
      throw new DescentError(`LayerNorm: normalizedShape must be non-negative integers, got ${shapeStr(shape)}`);
    const dtype = opts.dtype ?? "float32";
    this.normalizedShape = shape;
    this.eps = opts.eps ?? 1e-5;
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    this.weight = this.elementwiseAffine ? new Parameter(ones(shape, { dtype })) : null;
    this.bias = this.elementwiseAffine && (opts.bias ?? true) ? new Parameter(zeros(shape, { dtype })) : null;
  }

  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    const tuple =
      this.normalizedShape.length === 1 ? `(${this.normalizedShape[0]},)` : `(${this.normalizedShape.join(", ")})`;
    return `${tuple}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyBool(this.elementwiseAffine)}`;
  }
}
