// ConvTranspose1d and ConvTranspose2d with PyTorch's parameter layout (weight [in, out/groups,
// ...kernel], bias [out]), default initialisation and printed form, so PyTorch state dicts load
// unchanged. The work is in functional/conv_transpose.ts.

import type { DType } from "../../core/dtype.js";
import { DescentError } from "../../core/errors.js";
import { checkOptions, keysOf, dtypeOption } from "../../core/options.js";
import { zeros } from "../../tensor/creation.js";
import type { Tensor } from "../../tensor/tensor.js";
import { Module, Parameter } from "../module.js";
import * as F from "../functional/conv_transpose.js";
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from "../init.js";
import { pyTuple, tuple } from "./conv.js";

/** Options of ConvTranspose1d and ConvTranspose2d (PyTorch's keyword arguments, camelCased). */
export interface ConvTransposeLayerOptions<T> {
  /** Step of the sliding window (default 1). */
  stride?: T;
  /** dilation·(kernel − 1) − padding zero padding is added to each side of the input (default 0). */
  padding?: T;
  /** Extra size on one side of the output (default 0). */
  outputPadding?: T;
  /** Independent channel groups (default 1). */
  groups?: number;
  /** Add a learnable bias per output channel (default true). */
  bias?: boolean;
  /** Spacing between kernel taps (default 1). */
  dilation?: T;
  /** Only "zeros" (PyTorch's only mode for transposed convolutions). */
  paddingMode?: "zeros";
  /** Parameter dtype; default float32. */
  dtype?: DType;
}

/** The keys of ConvTransposeLayerOptions, for checkOptions. */
const CONVT_LAYER_KEYS = keysOf<ConvTransposeLayerOptions<number>>()({
  stride: true,
  padding: true,
  outputPadding: true,
  groups: true,
  bias: true,
  dilation: true,
  paddingMode: true,
  dtype: true,
});

abstract class ConvTransposeNd extends Module {
  inChannels: number;
  outChannels: number;
  kernelSize: number[];
  stride: number[];
  padding: number[];
  outputPadding: number[];
  dilation: number[];
  groups: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(
    op: string,
    nd: number,
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    opts: ConvTransposeLayerOptions<number | readonly number[]>,
  ) {
    super();
    checkOptions(op, opts, CONVT_LAYER_KEYS);
    for (const [name, v] of [
      ["inChannels", inChannels],
      ["outChannels", outChannels],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new DescentError(`${op}: ${name} must be a positive integer, got ${v}`);
    }
    const groups = opts.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1)
      throw new DescentError(`${op}: groups must be a positive integer, got ${groups}`);
    if (inChannels % groups !== 0 || outChannels % groups !== 0)
      throw new DescentError(
        `${op}: inChannels (${inChannels}) and outChannels (${outChannels}) must be divisible by groups (${groups})`,
      );
    if ((opts.paddingMode ?? "zeros") !== "zeros")
      throw new DescentError(`${op}: only paddingMode "zeros" is supported, got ${JSON.stringify(opts.paddingMode)}`);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = tuple(op, "kernelSize", kernelSize, nd, 1);
    this.stride = tuple(op, "stride", opts.stride ?? 1, nd, 1);
    this.padding = tuple(op, "padding", opts.padding ?? 0, nd, 0);
    this.outputPadding = tuple(op, "outputPadding", opts.outputPadding ?? 0, nd, 0);
    this.dilation = tuple(op, "dilation", opts.dilation ?? 1, nd, 1);
    this.groups = groups;
    this.outputPadding.forEach((p, i) => {
      if (p >= Math.max(this.stride[i]!, this.dilation[i]!))
        throw new DescentError(
          `${op}: outputPadding ${pyTuple(this.outputPadding)} must be smaller than stride ${pyTuple(this.stride)} or dilation ${pyTuple(this.dilation)}`,
        );
    });
    const dtype = dtypeOption(op, opts.dtype);
    this.weight = new Parameter(zeros([inChannels, outChannels / groups, ...this.kernelSize], { dtype }));
    this.bias = (opts.bias ?? true) ? new Parameter(zeros([outChannels], { dtype })) : null;
    this.resetParameters();
  }

  /** PyTorch's _ConvNd.reset_parameters: kaiming_uniform_(a=√5); fan-in is dim 1 (out/groups) × kernel. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = calculateFanInAndFanOut(this.weight);
      if (fanIn !== 0) uniform_(this.bias, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
    }
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`;
    if (this.padding.some((v) => v !== 0)) s += `, padding=${pyTuple(this.padding)}`;
    if (this.dilation.some((v) => v !== 1)) s += `, dilation=${pyTuple(this.dilation)}`;
    if (this.outputPadding.some((v) => v !== 0)) s += `, output_padding=${pyTuple(this.outputPadding)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ", bias=False";
    return s;
  }
}

/** Transposed 1-D convolution over [N, C, L] (or [C, L]); forward may ask for an exact outputSize. */
export class ConvTranspose1d extends ConvTransposeNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly [number],
    opts: ConvTransposeLayerOptions<number | readonly [number]> = {},
  ) {
    super("ConvTranspose1d", 1, inChannels, outChannels, kernelSize, opts);
  }

  forward(x: Tensor, outputSize?: readonly number[] | null): Tensor {
    return F.convTranspose1d(x, this.weight, this.bias, {
      stride: this.stride[0]!,
      padding: this.padding[0]!,
      outputPadding: this.outputPadding[0]!,
      dilation: this.dilation[0]!,
      groups: this.groups,
      outputSize,
    });
  }
}

/** Transposed 2-D convolution over [N, C, H, W] (or [C, H, W]); forward may ask for an exact outputSize. */
export class ConvTranspose2d extends ConvTransposeNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly [number, number],
    opts: ConvTransposeLayerOptions<number | readonly [number, number]> = {},
  ) {
    super("ConvTranspose2d", 2, inChannels, outChannels, kernelSize, opts);
  }

  forward(x: Tensor, outputSize?: readonly number[] | null): Tensor {
    const pr = (v: number[]) => [v[0]!, v[1]!] as const;
    return F.convTranspose2d(x, this.weight, this.bias, {
      stride: pr(this.stride),
      padding: pr(this.padding),
      outputPadding: pr(this.outputPadding),
      dilation: pr(this.dilation),
      groups: this.groups,
      outputSize,
    });
  }
}
