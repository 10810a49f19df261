// GroupNorm and InstanceNorm2d with PyTorch's parameters (weight, bias), buffers (running_mean,
// running_var, num_batches_tracked when tracked) and forward logic. The work is in functional/norm.ts.

import type { DType } from "../../core/dtype.js";
import { DescentError, shapeStr } from "../../core/errors.js";
import { checkNonNegative, checkOptions, dtypeOption, keysOf } from "../../core/options.js";
import { ones, zeros } from "../../tensor/creation.js";
import type { Tensor } from "../../tensor/tensor.js";
import { Module, Parameter } from "../module.js";
import { groupNorm, instanceNorm } from "../functional/norm.js";
import { pyBool, pyFloat } from "../repr.js";

/** Options of GroupNorm. */
export interface GroupNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learnable per-channel weight (ones) and bias (zeros); default true. */
  affine?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/** The keys of GroupNormOptions, for checkOptions. */
const GROUPNORM_KEYS = keysOf<GroupNormOptions>()({ eps: true, affine: true, dtype: true });

/** Group norm over [N, C, ...]: numGroups groups of C/numGroups channels each. */
export class GroupNorm extends Module {
  /** Groups the channels are split into. */
  numGroups: number;
  /** Channels C. */
  numChannels: number;
  /** Added to the variance. */
  eps: number;
  /** Whether weight and bias are learned. */
  affine: boolean;
  /** [C], or null without affine. */
  weight: Parameter | null;
  /** [C], or null without affine. */
  bias: Parameter | null;

  constructor(numGroups: number, numChannels: number, opts: GroupNormOptions = {}) {
    super();
    checkOptions("GroupNorm", opts, GROUPNORM_KEYS);
    for (const [name, v] of [
      ["numGroups", numGroups],
      ["numChannels", numChannels],
    ] as const) {
      if (!Number.isInteger(v) || v < 1)
        throw new DescentError(`GroupNorm: ${name} must be a positive integer, got ${v}`);
    }
    if (numChannels % numGroups !== 0)
      throw new DescentError(`GroupNorm: numChannels (${numChannels}) must be divisible by numGroups (${numGroups})`);
    const dtype = dtypeOption("GroupNorm", opts.dtype);
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = opts.eps ?? 1e-5;
    checkNonNegative("GroupNorm", "eps", this.eps);
    this.affine = opts.affine ?? true;
    this.weight = this.affine ? new Parameter(ones([numChannels], { dtype })) : null;
    this.bias = this.affine ? new Parameter(zeros([numChannels], { dtype })) : null;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels)
      throw new DescentError(`GroupNorm: expected an input [N, ${this.numChannels}, ...], got ${shapeStr(x.shape)}`);
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${pyBool(this.affine)}`;
  }
}

/** Options of InstanceNorm2d. */
export interface InstanceNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of the new batch in the running statistics (default 0.1). */
  momentum?: number;
  /** Learnable per-channel weight and bias (default false, as PyTorch). */
  affine?: boolean;
  /** Keep running statistics and use them in eval mode (default false). */
  trackRunningStats?: boolean;
  /** Parameter dtype (default float32). */
  dtype?: DType;
}

/** The keys of InstanceNormOptions, for checkOptions. */
const INSTANCENORM_KEYS = keysOf<InstanceNormOptions>()({
  eps: true,
  momentum: true,
  affine: true,
  trackRunningStats: true,
  dtype: true,
});

/**
 * Instance norm over [N, C, H, W] (or unbatched [C, H, W]): each channel of each sample is
 * normalised by its own statistics in training, and in eval too unless running statistics are
 * tracked. As PyTorch, num_batches_tracked is kept in the state dict but forward leaves it at 0.
 */
export class InstanceNorm2d extends Module {
  /** Channels C. */
  numFeatures: number;
  /** Added to the variance. */
  eps: number;
  /** Weight of the new batch in the running statistics. */
  momentum: number;
  /** Whether weight and bias are learned. */
  affine: boolean;
  /** Whether running statistics are kept. */
  trackRunningStats: boolean;
  /** [C], or null without affine. */
  weight: Parameter | null;
  /** [C], or null without affine. */
  bias: Parameter | null;
  /** [C] running mean (a buffer), with trackRunningStats. */
  running_mean: Tensor | null = null;
  /** [C] running variance (a buffer), with trackRunningStats. */
  running_var: Tensor | null = null;
  /** Batches seen (a buffer), with trackRunningStats. */
  num_batches_tracked: Tensor | null = null;

  constructor(numFeatures: number, opts: InstanceNormOptions = {}) {
    super();
    checkOptions("InstanceNorm2d", opts, INSTANCENORM_KEYS);
    if (!Number.isInteger(numFeatures) || numFeatures < 1)
      throw new DescentError(`InstanceNorm2d: numFeatures must be a positive integer, got ${numFeatures}`);
    const momentum = opts.momentum ?? 0.1;
    if (typeof momentum !== "number" || !(momentum >= 0 && momentum <= 1))
      throw new DescentError(`InstanceNorm2d: momentum must be a number in [0, 1], got ${momentum}`);
    const dtype = dtypeOption("InstanceNorm2d", opts.dtype);
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    checkNonNegative("InstanceNorm2d", "eps", this.eps);
    this.momentum = momentum;
    this.affine = opts.affine ?? false;
    this.trackRunningStats = opts.trackRunningStats ?? false;
    this.weight = this.affine ? new Parameter(ones([numFeatures], { dtype })) : null;
    this.bias = this.affine ? new Parameter(zeros([numFeatures], { dtype })) : null;
    const track = this.trackRunningStats;
    this.registerBuffer("running_mean", track ? zeros([numFeatures], { dtype }) : null);
    this.registerBuffer("running_var", track ? ones([numFeatures], { dtype }) : null);
    this.registerBuffer("num_batches_tracked", track ? zeros([], { dtype: "int32" }) : null);
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 3 && x.ndim !== 4)
      throw new DescentError(
        `InstanceNorm2d: expected a 3-D or 4-D input (got ${x.ndim}-D input ${shapeStr(x.shape)})`,
      );
    const x4 = x.ndim === 4 ? x : x.unsqueeze(0);
    // PyTorch 1.13 only warns when a non-affine, untracked layer sees another channel count; with
    // weights or running statistics of numFeatures the shapes cannot fit, so that is an error.
    if (x4.shape[1] !== this.numFeatures && (this.affine || this.trackRunningStats))
      throw new DescentError(
        `InstanceNorm2d: expected input's size at dim ${x.ndim - 3} to match numFeatures (${this.numFeatures}), got input ${shapeStr(x.shape)}`,
      );
    const y = instanceNorm(
      x4,
      this.running_mean,
      this.running_var,
      this.weight,
      this.bias,
      this.training || !this.trackRunningStats,
      this.momentum,
      this.eps,
    );
    return x.ndim === 4 ? y : y.squeeze(0);
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${pyFloat(this.momentum)}, affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }
}
