// Pooling layers: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, thin modules over functional/conv.ts
// that keep their arguments as given (a number or a pair), so they print as PyTorch's do.

import { DescentError } from "../../core/errors.js";
import { checkOptions } from "../../core/options.js";
import type { Tensor } from "../../tensor/tensor.js";
import { Module } from "../module.js";
import * as F from "../functional/conv.js";
import { pyBool } from "../repr.js";

/** A size for both spatial dimensions, or [rows, cols]. */
export type Pair = number | readonly [number, number];

/** A number or a pair as PyTorch prints an int or a tuple. */
function pyPair(v: Pair | readonly (number | null)[]): string {
  return typeof v === "number" ? String(v) : `(${v.map((x) => (x === null ? "None" : String(x))).join(", ")})`;
}

// The keys of the pooling layers' options: F's keys, plus returnIndices (refused, with a reason) for MaxPool2d.
const MAXPOOL_LAYER_KEYS: ReadonlySet<string> = new Set(["stride", "padding", "dilation", "ceilMode", "returnIndices"]);
const AVGPOOL_LAYER_KEYS: ReadonlySet<string> = new Set([
  "stride",
  "padding",
  "ceilMode",
  "countIncludePad",
  "divisorOverride",
]);

/**
 * 2-D max pooling (torch.nn.MaxPool2d): [N, C, H, W] (or [C, H, W]) → [N, C, Hout, Wout], the
 * maximum of each kernelSize window.
 */
export class MaxPool2d extends Module {
  /** Window size. */
  kernelSize: Pair;
  /** Window step (default kernelSize). */
  stride: Pair;
  /** Implicit -Infinity padding on each side (default 0). */
  padding: Pair;
  /** Spacing between window taps (default 1). */
  dilation: Pair;
  /** Round the output size up instead of down (default false). */
  ceilMode: boolean;

  /** stride defaults to kernelSize; padding (at most half the kernel) counts as -Inf. */
  constructor(
    kernelSize: Pair,
    opts: { stride?: Pair | null; padding?: Pair; dilation?: Pair; ceilMode?: boolean; returnIndices?: boolean } = {},
  ) {
    super();
    checkOptions("MaxPool2d", opts, MAXPOOL_LAYER_KEYS);
    if (opts.returnIndices)
      throw new DescentError("MaxPool2d: returnIndices is not supported (there is no MaxUnpool2d to consume them)");
    this.kernelSize = kernelSize;
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    this.ceilMode = opts.ceilMode ?? false;
  }

  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      ceilMode: this.ceilMode,
    });
  }

  override extraRepr(): string {
    return `kernel_size=${pyPair(this.kernelSize)}, stride=${pyPair(this.stride)}, padding=${pyPair(this.padding)}, dilation=${pyPair(this.dilation)}, ceil_mode=${pyBool(this.ceilMode)}`;
  }
}

/** 2-D average pooling (torch.nn.AvgPool2d): [N, C, H, W] (or [C, H, W]) → [N, C, Hout, Wout]. */
export class AvgPool2d extends Module {
  /** Window size. */
  kernelSize: Pair;
  /** Window step (default kernelSize). */
  stride: Pair;
  /** Implicit zero padding on each side (default 0). */
  padding: Pair;
  /** Round the output size up instead of down (default false). */
  ceilMode: boolean;
  /** Count the zero padding in the average's divisor (default true). */
  countIncludePad: boolean;
  /** Divide by this instead of the window size, when set. */
  divisorOverride: number | null;

  /** stride defaults to kernelSize; countIncludePad (default true) counts padding in the divisor. */
  constructor(
    kernelSize: Pair,
    opts: {
      stride?: Pair | null;
      padding?: Pair;
      ceilMode?: boolean;
      countIncludePad?: boolean;
      divisorOverride?: number | null;
    } = {},
  ) {
    super();
    checkOptions("AvgPool2d", opts, AVGPOOL_LAYER_KEYS);
    this.kernelSize = kernelSize;
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
    this.ceilMode = opts.ceilMode ?? false;
    this.countIncludePad = opts.countIncludePad ?? true;
    this.divisorOverride = opts.divisorOverride ?? null;
  }

  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    });
  }

  override extraRepr(): string {
    return `kernel_size=${pyPair(this.kernelSize)}, stride=${pyPair(this.stride)}, padding=${pyPair(this.padding)}`;
  }
}

/** Average pooling to a fixed output size (torch.nn.AdaptiveAvgPool2d): [N, C, H, W] → [N, C, outH, outW]. */
export class AdaptiveAvgPool2d extends Module {
  /** The output's [outH, outW] (one number for both; null keeps the input's size). */
  outputSize: number | readonly [number | null, number | null];

  /** outputSize: a number or a pair; a null entry keeps that input dim. */
  constructor(outputSize: number | readonly [number | null, number | null]) {
    super();
    this.outputSize = outputSize;
  }

  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }

  override extraRepr(): string {
    return `output_size=${pyPair(this.outputSize)}`;
  }
}
