// Linear (y = x·Wᵀ + b) with PyTorch's default initialisation, and the two shape-only layers
// Identity and Flatten.

import { zeros } from "../../tensor/creation.js";
import type { Tensor } from "../../tensor/tensor.js";
import type { DType } from "../../core/dtype.js";
import { DescentError } from "../../core/errors.js";
import { checkOptions, dtypeOption } from "../../core/options.js";
import { Module, Parameter } from "../module.js";
import * as F from "../functional/activation.js";
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from "../init.js";
import { pyBool } from "../repr.js";

/** The keys of Linear's and Flatten's options objects, for checkOptions. */
const LINEAR_KEYS: ReadonlySet<string> = new Set(["bias", "dtype"]);
const FLATTEN_KEYS: ReadonlySet<string> = new Set(["startDim", "endDim"]);

/**
 * Fully connected layer y = x·Wᵀ + b (torch.nn.Linear): input [*, inFeatures] → output [*, outFeatures].
 * Options: `bias` (default true), `dtype` (default float32).
 *
 * @example
 * ```ts
 * const fc = new nn.Linear(784, 10);
 * const y = fc.forward(randn([32, 784])); // [32, 10]
 * ```
 */
export class Linear extends Module {
  /** Size of each input sample's last dimension. */
  inFeatures: number;
  /** Size of each output sample's last dimension. */
  outFeatures: number;
  /** [outFeatures, inFeatures]. */
  weight: Parameter;
  /** [outFeatures], or null when built with `bias: false`. */
  bias: Parameter | null;

  /**
   * weight [out, in] ~ kaiming_uniform_(a=√5), i.e. U(-1/√in, 1/√in); bias [out] ~ U(-1/√in, 1/√in),
   * exactly PyTorch's reset_parameters.
   */
  constructor(inFeatures: number, outFeatures: number, opts: { bias?: boolean; dtype?: DType } = {}) {
    super();
    checkOptions("Linear", opts, LINEAR_KEYS);
    for (const [name, v] of [
      ["inFeatures", inFeatures],
      ["outFeatures", outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v < 0)
        throw new DescentError(`Linear: ${name} must be a non-negative integer, got ${v}`);
    }
    const dtype = dtypeOption("Linear", opts.dtype);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = new Parameter(zeros([outFeatures, inFeatures], { dtype }));
    this.bias = (opts.bias ?? true) ? new Parameter(zeros([outFeatures], { dtype })) : null;
    this.resetParameters();
  }

  /** Re-draws weight and bias with PyTorch's default initialisation (see the constructor). */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }

  /** [*, inFeatures] → [*, outFeatures]. */
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

/** Returns its input unchanged (a placeholder, as torch.nn.Identity). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens dims startDim..endDim (default 1..-1: everything but the batch dim). */
export class Flatten extends Module {
  /** First dimension flattened (default 1, keeping the batch dimension). */
  startDim: number;
  /** Last dimension flattened (default -1). */
  endDim: number;
  constructor(startDim: number | { startDim?: number; endDim?: number } = 1, endDim = -1) {
    super();
    if (typeof startDim !== "number") checkOptions("Flatten", startDim, FLATTEN_KEYS);
    this.startDim = typeof startDim === "number" ? startDim : (startDim.startDim ?? 1);
    this.endDim = typeof startDim === "number" ? endDim : (startDim.endDim ?? -1);
  }
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
