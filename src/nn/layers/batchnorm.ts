// BatchNorm1d and BatchNorm2d with PyTorch's parameters (weight, bias), buffers (running_mean,
// running_var, num_batches_tracked as a 0-d int32) and forward logic: batch statistics in training
// (updating the running ones), running statistics in eval, a cumulative average when momentum is null.

import type { DType } from "../../core/dtype.js";
import { DescentError, shapeStr } from "../../core/errors.js";
import { checkNonNegative, checkOptions, checkProbability, dtypeOption, keysOf } from "../../core/options.js";
import { noGrad } from "../../autograd/graph.js";
import { ones, zeros } from "../../tensor/creation.js";
import type { Tensor } from "../../tensor/tensor.js";
import { Module, Parameter } from "../module.js";
import { batchNorm } from "../functional/conv.js";
import { pyBool, pyFloat } from "../repr.js";

/** Options of BatchNorm1d and BatchNorm2d (PyTorch's keyword arguments, camelCased). */
export interface BatchNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of the new batch in the running statistics; null for a cumulative average (default 0.1). */
  momentum?: number | null;
  /** Learnable per-channel weight and bias (default true). */
  affine?: boolean;
  /** Keep running statistics for eval mode (default true); without them eval uses batch statistics. */
  trackRunningStats?: boolean;
  /** Parameter and buffer dtype; default float32. */
  dtype?: DType;
}

/** The keys of BatchNormOptions, for checkOptions. */
const BATCHNORM_KEYS = keysOf<BatchNormOptions>()({
  eps: true,
  momentum: true,
  affine: true,
  trackRunningStats: true,
  dtype: true,
});

abstract class BatchNormNd extends Module {
  numFeatures: number;
  eps: number;
  momentum: number | null;
  affine: boolean;
  trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  running_mean: Tensor | null = null;
  running_var: Tensor | null = null;
  num_batches_tracked: Tensor | null = null;

  constructor(op: string, numFeatures: number, opts: BatchNormOptions) {
    super();
    checkOptions(op, opts, BATCHNORM_KEYS);
    if (!Number.isInteger(numFeatures) || numFeatures < 1)
      throw new DescentError(`${op}: numFeatures must be a positive integer, got ${numFeatures}`);
    const dtype = dtypeOption(op, opts.dtype);
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    checkNonNegative(op, "eps", this.eps);
    if (this.momentum !== null) checkProbability(op, "momentum", this.momentum);
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    this.weight = this.affine ? new Parameter(ones([numFeatures], { dtype })) : null;
    this.bias = this.affine ? new Parameter(zeros([numFeatures], { dtype })) : null;
    const track = this.trackRunningStats;
    this.registerBuffer("running_mean", track ? zeros([numFeatures], { dtype }) : null);
    this.registerBuffer("running_var", track ? ones([numFeatures], { dtype }) : null);
    this.registerBuffer("num_batches_tracked", track ? zeros([], { dtype: "int32" }) : null);
  }

  /** Running statistics back to mean 0, variance 1, no batches seen. */
  resetRunningStats(): void {
    noGrad(() => {
      this.running_mean?.zero_();
      this.running_var?.fill_(1);
      this.num_batches_tracked?.zero_();
    });
  }

  /**
   * Files from before PyTorch 0.4.1 (and from other frameworks) have no num_batches_tracked: as
   * PyTorch's version hook does for them, take it as 0 rather than refusing the file as incomplete.
   */
  protected override upgradeStateDict(dict: Record<string, Tensor>, prefix: string): void {
    const key = `${prefix}num_batches_tracked`;
    if (this.trackRunningStats && this.num_batches_tracked && !Object.prototype.hasOwnProperty.call(dict, key))
      dict[key] = zeros([], { dtype: "int32" });
  }

  protected abstract checkInput(x: Tensor): void;

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.num_batches_tracked) {
      const tracked = this.num_batches_tracked;
      noGrad(() => tracked.add_(1));
      if (this.momentum === null) factor = 1 / tracked.item();
    }
    // Eval mode without running statistics normalises with the batch's own, as PyTorch.
    const useBatch = this.training || (this.running_mean === null && this.running_var === null);
    const keepStats = !this.training || this.trackRunningStats;
    return batchNorm(
      x,
      keepStats ? this.running_mean : null,
      keepStats ? this.running_var : null,
      this.weight,
      this.bias,
      useBatch,
      factor,
      this.eps,
    );
  }

  override extraRepr(): string {
    const m = this.momentum === null ? "None" : pyFloat(this.momentum);
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${m}, affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }
}

/** Batch norm over [N, C] or [N, C, L] (statistics per channel C). */
export class BatchNorm1d extends BatchNormNd {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super("BatchNorm1d", numFeatures, opts);
  }
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3)
      throw new DescentError(`BatchNorm1d: expected a 2-D or 3-D input (got ${x.ndim}-D input ${shapeStr(x.shape)})`);
  }
}

/** Batch norm over [N, C, H, W] (statistics per channel C). */
export class BatchNorm2d extends BatchNormNd {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super("BatchNorm2d", numFeatures, opts);
  }
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 4)
      throw new DescentError(`BatchNorm2d: expected a 4-D input (got ${x.ndim}-D input ${shapeStr(x.shape)})`);
  }
}
