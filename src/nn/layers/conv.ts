// Conv1d and Conv2d with PyTorch's parameter layout (weight [out, in/groups, ...kernel], bias [out]),
// default initialisation and printed form. The work is in functional/conv.ts.

import type { DType } from "../../core/dtype.js";
import { DescentError } from "../../core/errors.js";
import { checkOptions, keysOf, dtypeOption } from "../../core/options.js";
import { zeros } from "../../tensor/creation.js";
import type { Tensor } from "../../tensor/tensor.js";
import { Module, Parameter } from "../module.js";
import * as F from "../functional/conv.js";
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from "../init.js";

/** Options of Conv1d and Conv2d (PyTorch's keyword arguments, camelCased); T is a number or a tuple. */
export interface ConvLayerOptions<T> {
  /** Step of the sliding window (default 1). */
  stride?: T;
  /** A size, or "valid" (none) or "same" (output size = input size; stride 1 only). */
  padding?: T | "valid" | "same";
  /** Spacing between kernel taps (default 1). */
  dilation?: T;
  /** Split input and output channels into this many independent groups (default 1; inChannels for depthwise). */
  groups?: number;
  /** Add a learnable bias per output channel (default true). */
  bias?: boolean;
  /** Only "zeros" (PyTorch's default) is supported. */
  paddingMode?: "zeros";
  /** Parameter dtype (PyTorch's `dtype=` factory argument); default float32. */
  dtype?: DType;
}

/** The keys of ConvLayerOptions, for checkOptions. */
const CONV_LAYER_KEYS = keysOf<ConvLayerOptions<number>>()({
  stride: true,
  padding: true,
  dilation: true,
  groups: true,
  bias: true,
  paddingMode: true,
  dtype: true,
});

/** A Python tuple as PyTorch prints it: (3, 3) or (3,). */
export function pyTuple(v: readonly number[]): string {
  return v.length === 1 ? `(${v[0]},)` : `(${v.join(", ")})`;
}

/** v as n integers ≥ min (a number is repeated n times); a DescentError naming op and argument otherwise. */
export function tuple(op: string, name: string, v: number | readonly number[], n: number, min: number): number[] {
  const t = typeof v === "number" ? Array<number>(n).fill(v) : [...v];
  if (t.length !== n || !t.every((x) => Number.isInteger(x) && x >= min)) {
    throw new DescentError(
      `${op}: ${name} must be an integer ≥ ${min} or ${n} of them, got ${typeof v === "number" ? v : `[${t.join(", ")}]`}`,
    );
  }
  return t;
}

/** What Conv1d and Conv2d share: argument checks, parameters, initialisation, extraRepr. */
abstract class ConvNd extends Module {
  inChannels: number;
  outChannels: number;
  kernelSize: number[];
  stride: number[];
  padding: number[] | "valid" | "same";
  dilation: number[];
  groups: number;
  paddingMode: "zeros";
  weight: Parameter;
  bias: Parameter | null;

  constructor(
    op: string,
    nd: number,
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    opts: ConvLayerOptions<number | readonly number[]>,
  ) {
    super();
    checkOptions(op, opts, CONV_LAYER_KEYS);
    for (const [name, v] of [
      ["inChannels", inChannels],
      ["outChannels", outChannels],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new DescentError(`${op}: ${name} must be a positive integer, got ${v}`);
    }
    const groups = opts.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1)
      throw new DescentError(`${op}: groups must be a positive integer, got ${groups}`);
    if (inChannels % groups !== 0)
      throw new DescentError(`${op}: inChannels (${inChannels}) must be divisible by groups (${groups})`);
    if (outChannels % groups !== 0)
      throw new DescentError(`${op}: outChannels (${outChannels}) must be divisible by groups (${groups})`);
    if ((opts.paddingMode ?? "zeros") !== "zeros") {
      throw new DescentError(
        `${op}: paddingMode ${JSON.stringify(opts.paddingMode)} is not supported; only "zeros" is implemented`,
      );
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = tuple(op, "kernelSize", kernelSize, nd, 1);
    this.stride = tuple(op, "stride", opts.stride ?? 1, nd, 1);
    const p = opts.padding ?? 0;
    if (p === "same" && this.stride.some((s) => s !== 1))
      throw new DescentError(`${op}: padding="same" is not supported for strided convolutions`);
    this.padding = p === "same" || p === "valid" ? p : tuple(op, "padding", p, nd, 0);
    this.dilation = tuple(op, "dilation", opts.dilation ?? 1, nd, 1);
    this.groups = groups;
    this.paddingMode = "zeros";
    const dtype = dtypeOption(op, opts.dtype);
    this.weight = new Parameter(zeros([outChannels, inChannels / groups, ...this.kernelSize], { dtype }));
    this.bias = (opts.bias ?? true) ? new Parameter(zeros([outChannels], { dtype })) : null;
    this.resetParameters();
  }

  /** weight ~ kaiming_uniform_(a=√5), i.e. U(±1/√fanIn); bias ~ U(±1/√fanIn): PyTorch's reset_parameters. */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const [fanIn] = calculateFanInAndFanOut(this.weight);
      if (fanIn !== 0) uniform_(this.bias, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
    }
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`;
    if (typeof this.padding === "string") s += `, padding=${this.padding}`;
    else if (this.padding.some((v) => v !== 0)) s += `, padding=${pyTuple(this.padding)}`;
    if (this.dilation.some((v) => v !== 1)) s += `, dilation=${pyTuple(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ", bias=False";
    return s;
  }
}

/**
 * 1-D convolution (torch.nn.Conv1d): input [N, Cin, L] (or [Cin, L]) → [N, Cout, Lout].
 * weight [Cout, Cin/groups, k], bias [Cout]; PyTorch's default initialisation.
 */
export class Conv1d extends ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly [number],
    opts: ConvLayerOptions<number | readonly [number]> = {},
  ) {
    super("Conv1d", 1, inChannels, outChannels, kernelSize, opts);
  }

  forward(x: Tensor): Tensor {
    const p = this.padding;
    return F.conv1d(x, this.weight, this.bias, {
      stride: this.stride[0]!,
      padding: typeof p === "string" ? p : p[0]!,
      dilation: this.dilation[0]!,
      groups: this.groups,
    });
  }
}

/**
 * 2-D convolution (torch.nn.Conv2d): input [N, Cin, H, W] (or [Cin, H, W]) → [N, Cout, Hout, Wout],
 * Hout = ⌊(H + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1. weight [Cout, Cin/groups, kh, kw],
 * bias [Cout]; PyTorch's default initialisation.
 *
 * @example
 * ```ts
 * const conv = new nn.Conv2d(3, 16, 3, { padding: 1 });
 * const y = conv.forward(randn([8, 3, 32, 32])); // [8, 16, 32, 32]
 * ```
 */
export class Conv2d extends ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly [number, number],
    opts: ConvLayerOptions<number | readonly [number, number]> = {},
  ) {
    super("Conv2d", 2, inChannels, outChannels, kernelSize, opts);
  }

  forward(x: Tensor): Tensor {
    const p = this.padding;
    const pr = (v: number[]) => [v[0]!, v[1]!] as const;
    return F.conv2d(x, this.weight, this.bias, {
      stride: pr(this.stride),
      padding: typeof p === "string" ? p : pr(p),
      dilation: pr(this.dilation),
      groups: this.groups,
    });
  }
}
