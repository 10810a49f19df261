// Transposed convolution (torch.nn.functional.conv_transpose1d/2d). Its forward is the input
// gradient of a convolution: a batched product with the transposed weight makes one column per
// input pixel, and col2im (fold) scatters and sums those columns into the output image. Autograd
// differentiates through both (col2im's gradient is im2col), so the backward is the convolution
// forward machinery again and no new kernel is needed.

import { DescentError, shapeStr } from "../../core/errors.js";
import { checkOptions, keysOf } from "../../core/options.js";
import { zeros } from "../../tensor/creation.js";
import { cat, type Tensor } from "../../tensor/tensor.js";
import { pair, type Pair } from "./conv.js";

/** Options of convTranspose2d (F.conv_transpose2d's keyword arguments). */
export interface ConvTransposeOptions {
  /** Step of the sliding window (default 1). */
  stride?: Pair;
  /** dilation·(kernel − 1) − padding zero padding on each side of the input (default 0). */
  padding?: Pair;
  /** Extra rows/columns at the bottom/right of the output (below max(stride, dilation)). */
  outputPadding?: Pair;
  /** Independent channel groups (default 1). */
  groups?: number;
  /** Spacing between kernel taps (default 1). */
  dilation?: Pair;
  /** The output's spatial size instead of outputPadding (PyTorch's output_size in forward). */
  outputSize?: readonly number[] | null;
}

/** The keys of ConvTransposeOptions, for checkOptions. */
const CONVT_KEYS = keysOf<ConvTransposeOptions>()({
  stride: true,
  padding: true,
  outputPadding: true,
  groups: true,
  dilation: true,
  outputSize: true,
});

/** Options of convTranspose1d (F.conv_transpose1d's keyword arguments). */
export interface ConvTranspose1dOptions {
  /** Step of the sliding window (default 1). */
  stride?: number | readonly [number];
  /** dilation·(kernel − 1) − padding zero padding on each side of the input (default 0). */
  padding?: number | readonly [number];
  /** Extra size at the end of the output (default 0). */
  outputPadding?: number | readonly [number];
  /** Independent channel groups (default 1). */
  groups?: number;
  /** Spacing between kernel taps (default 1). */
  dilation?: number | readonly [number];
  /** The output's length instead of outputPadding. */
  outputSize?: readonly number[] | null;
}

/** The keys of ConvTranspose1dOptions, for checkOptions. */
const CONVT1D_KEYS = keysOf<ConvTranspose1dOptions>()({
  stride: true,
  padding: true,
  outputPadding: true,
  groups: true,
  dilation: true,
  outputSize: true,
});

/**
 * 2-D transposed convolution: x [N, Cin, H, W] or [Cin, H, W], w [Cin, Cout/groups, kh, kw] (PyTorch's
 * layout), b [Cout]. Output size per dim: (in - 1)·stride - 2·padding + dilation·(k - 1) + outputPadding + 1.
 */
export function convTranspose2d(x: Tensor, w: Tensor, b?: Tensor | null, opts: ConvTransposeOptions = {}): Tensor {
  checkOptions("convTranspose2d", opts, CONVT_KEYS);
  const op = "convTranspose2d";
  if (w.ndim !== 4)
    throw new DescentError(`${op}: expected a 4-D weight [Cin, Cout/groups, kh, kw], got ${shapeStr(w.shape)}`);
  if (x.ndim !== 3 && x.ndim !== 4)
    throw new DescentError(`${op}: expected a 3-D or 4-D input [N, C, H, W], got ${shapeStr(x.shape)}`);
  const x4 = x.ndim === 4 ? x : x.unsqueeze(0);
  const y = convTransposeNd(op, x4, w, b ?? null, {
    stride: pair(op, "stride", opts.stride ?? 1, 1),
    padding: pair(op, "padding", opts.padding ?? 0, 0),
    outputPadding: pair(op, "outputPadding", opts.outputPadding ?? 0, 0),
    dilation: pair(op, "dilation", opts.dilation ?? 1, 1),
    groups: opts.groups ?? 1,
    outputSize: sizeList(op, opts.outputSize, 2),
    shown: x.shape,
  });
  return x.ndim === 4 ? y : y.squeeze(0);
}

/** 1-D transposed convolution: x [N, Cin, L] or [Cin, L], w [Cin, Cout/groups, k]; a 2-D one of height 1. */
export function convTranspose1d(x: Tensor, w: Tensor, b?: Tensor | null, opts: ConvTranspose1dOptions = {}): Tensor {
  checkOptions("convTranspose1d", opts, CONVT1D_KEYS);
  const op = "convTranspose1d";
  if (w.ndim !== 3)
    throw new DescentError(`${op}: expected a 3-D weight [Cin, Cout/groups, k], got ${shapeStr(w.shape)}`);
  if (x.ndim !== 2 && x.ndim !== 3)
    throw new DescentError(`${op}: expected a 2-D or 3-D input [N, C, L], got ${shapeStr(x.shape)}`);
  const one = (name: string, v: number | readonly [number], min: number) =>
    pair(op, name, typeof v === "number" ? v : v.length === 1 ? v[0] : NaN, min)[1];
  const x3 = x.ndim === 3 ? x : x.unsqueeze(0);
  const size = sizeList(op, opts.outputSize, 1);
  const y = convTransposeNd(op, x3.unsqueeze(2), w.unsqueeze(2), b ?? null, {
    stride: [1, one("stride", opts.stride ?? 1, 1)],
    padding: [0, one("padding", opts.padding ?? 0, 0)],
    outputPadding: [0, one("outputPadding", opts.outputPadding ?? 0, 0)],
    dilation: [1, one("dilation", opts.dilation ?? 1, 1)],
    groups: opts.groups ?? 1,
    outputSize: size ? [1, size[0]!] : null,
    shown: x.shape,
  }).squeeze(2);
  return x.ndim === 3 ? y : y.squeeze(0);
}

/** outputSize as PyTorch takes it: the spatial sizes, or the full shape with batch and channel dims in front. */
function sizeList(op: string, s: readonly number[] | null | undefined, nd: number): number[] | null {
  if (s === undefined || s === null) return null;
  const sp = s.length === nd + 2 ? s.slice(2) : s.length === nd + 1 ? s.slice(1) : [...s];
  if (sp.length !== nd || !sp.every((v) => Number.isInteger(v) && v >= 0))
    throw new DescentError(
      `${op}: outputSize must be ${nd} non-negative integers (or the full shape), got [${s.join(", ")}]`,
    );
  return sp;
}

interface Geometry {
  stride: [number, number];
  padding: [number, number];
  outputPadding: [number, number];
  dilation: [number, number];
  groups: number;
  outputSize: number[] | null;
  /** The caller's input shape, for messages. */
  shown: readonly number[];
}

function convTransposeNd(op: string, x: Tensor, w: Tensor, b: Tensor | null, g: Geometry): Tensor {
  if (x.dtype === "int32") throw new DescentError(`${op}: expected a floating-point input, got ${x.dtype}`);
  if (x.dtype !== w.dtype) throw new DescentError(`${op}: input is ${x.dtype} but weight is ${w.dtype}`);
  const { stride, padding, dilation, groups } = g;
  if (!Number.isInteger(groups) || groups < 1)
    throw new DescentError(`${op}: groups must be a positive integer, got ${groups}`);
  const [n, cin, h, wd] = x.shape as [number, number, number, number];
  const [wcin, cog, kh, kw] = w.shape as [number, number, number, number];
  if (wcin !== cin || cin % groups !== 0) {
    throw new DescentError(
      `${op}: input ${shapeStr(g.shown)} with ${cin} channels does not fit weight ${shapeStr(w.shape)} and groups=${groups} (expected ${wcin} input channels, divisible by groups)`,
    );
  }
  const cout = cog * groups;
  if (b && (b.ndim !== 1 || b.shape[0] !== cout))
    throw new DescentError(`${op}: bias must have shape [${cout}], got ${shapeStr(b.shape)}`);
  const base = [0, 1].map(
    (i) => ([h, wd][i]! - 1) * stride[i]! - 2 * padding[i]! + dilation[i]! * ([kh, kw][i]! - 1) + 1,
  );
  let outPad = g.outputPadding;
  if (g.outputSize) {
    // PyTorch's _output_padding: the requested size must lie in [base, base + stride - 1].
    const req = g.outputSize;
    outPad = [req[0]! - base[0]!, req[1]! - base[1]!];
    if (outPad.some((p, i) => p < 0 || p >= stride[i]!))
      throw new DescentError(
        `${op}: requested outputSize [${req.join(", ")}] is not between [${base.join(", ")}] and [${base.map((s, i) => s + stride[i]! - 1).join(", ")}] for input ${shapeStr(g.shown)}`,
      );
  } else if (outPad.some((p, i) => p >= Math.max(stride[i]!, dilation[i]!)))
    throw new DescentError(
      `${op}: outputPadding ${shapeStr(outPad)} must be smaller than stride ${shapeStr(stride)} or dilation ${shapeStr(dilation)}`,
    );
  const out: [number, number] = [base[0]! + outPad[0], base[1]! + outPad[1]];
  if (out[0] <= 0 || out[1] <= 0)
    throw new DescentError(
      `${op}: input ${shapeStr(g.shown)} with weight ${shapeStr(w.shape)}, stride ${shapeStr(stride)} and padding ${shapeStr(padding)} gives an empty output ${shapeStr(out)}`,
    );
  // Columns: per group, wᵀ [Cout/g·kh·kw, Cin/g] times the input pixels [Cin/g, H·W].
  const k = cog * kh * kw;
  const cg = cin / groups;
  const wt = w.reshape([groups, cg, k]).transpose(1, 2); // [g, k, Cin/g]
  const cols = wt.matmul(x.reshape([n, groups, cg, h * wd])).reshape([n, groups * k, h * wd]);
  // col2im sees out as an image covered by windowOut(out) windows per dim; outputPadding ≥ stride
  // (allowed while below dilation) makes that more than the input's pixels: append zero pixels.
  const win = (size: number, i: number) =>
    Math.floor((size + 2 * padding[i]! - dilation[i]! * ([kh, kw][i]! - 1) - 1) / stride[i]!) + 1;
  const [wh, ww] = [win(out[0], 0), win(out[1], 1)];
  let c = cols;
  if (wh !== h || ww !== wd) {
    c = c.reshape([n, groups * k, h, wd]);
    if (ww > wd) c = cat([c, zeros([n, groups * k, h, ww - wd], { dtype: x.dtype })], 3);
    if (wh > h) c = cat([c, zeros([n, groups * k, wh - h, ww], { dtype: x.dtype })], 2);
    c = c.reshape([n, groups * k, wh * ww]);
  }
  const y = c.col2im(out, { kernel: [kh, kw], stride, padding, dilation });
  return b ? y.add(b.reshape([cout, 1, 1])) : y;
}
