// Convolution, pooling and batch norm as functions (torch.nn.functional's conv1d, conv2d, max_pool2d,
// avg_pool2d, adaptive_avg_pool2d, batch_norm, unfold, fold). Everything is composed from Tensor
// methods: a sliding window is `im2col` (its gradient is `col2im`), a convolution is that followed
// by one batched matrix product, average pooling is that followed by a sum; max pooling is its own
// primitive (Tensor.maxPool2d). Padding the window cannot express (asymmetric "same" padding, ceil
// mode's extra row for average pooling) is concatenated onto the input first.

import { DescentError, shapeStr } from "../../core/errors.js";
import { windowOut } from "../../core/shape.js";
import { checkOptions, keysOf } from "../../core/options.js";
import { noGrad } from "../../autograd/graph.js";
import { cat, type Tensor } from "../../tensor/tensor.js";
import { tensor, zeros } from "../../tensor/creation.js";

/** A size for both spatial dimensions, or [rows, cols]. */
export type Pair = number | readonly [number, number];
/** Zero padding: a size (or pair), "valid" (none) or "same" (output size = input size; stride 1). */
export type ConvPadding = Pair | "valid" | "same";
type Window = Parameters<Tensor["im2col"]>[0];

/** Options of conv2d (F.conv2d's keyword arguments). */
export interface ConvOptions {
  /** Step of the sliding window (default 1). */
  stride?: Pair;
  /** Zero padding (default 0). */
  padding?: ConvPadding;
  /** Spacing between kernel taps (default 1). */
  dilation?: Pair;
  /** Independent channel groups (default 1). */
  groups?: number;
}

/** The keys of ConvOptions, for checkOptions. */
const CONV_KEYS = keysOf<ConvOptions>()({ stride: true, padding: true, dilation: true, groups: true });

/** Options of conv1d (F.conv1d's keyword arguments). */
export interface Conv1dOptions {
  /** Step of the sliding window (default 1). */
  stride?: number | readonly [number];
  /** Zero padding: a size, "valid" or "same" (default 0). */
  padding?: number | readonly [number] | "valid" | "same";
  /** Spacing between kernel taps (default 1). */
  dilation?: number | readonly [number];
  /** Independent channel groups (default 1). */
  groups?: number;
}

/** The keys of Conv1dOptions, for checkOptions. */
const CONV1D_KEYS = keysOf<Conv1dOptions>()({ stride: true, padding: true, dilation: true, groups: true });

/** A number or a pair of non-negative integers (at least `min`) as a pair. */
export function pair(op: string, name: string, v: Pair, min = 0): [number, number] {
  const p: readonly number[] = typeof v === "number" ? [v, v] : v;
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= min)) {
    throw new DescentError(
      `${op}: ${name} must be an integer ≥ ${min} or a pair of them, got ${Array.isArray(v) ? `[${p.join(", ")}]` : String(v)}`,
    );
  }
  return [p[0]!, p[1]!];
}

function single(op: string, name: string, v: number | readonly [number], min: number): number {
  return pair(op, name, typeof v === "number" ? v : (v as readonly number[]).length === 1 ? v[0] : NaN, min)[0];
}

/** Pads the last two dims with zeros: [top, bottom] rows and [left, right] columns (differentiable). */
function pad2d(x: Tensor, top: number, bottom: number, left: number, right: number): Tensor {
  const [n, c, h] = x.shape as [number, number, number, number];
  let r = x;
  if (left > 0 || right > 0) {
    const side = (w: number) => zeros([n, c, h, w], { dtype: x.dtype });
    r = cat([...(left > 0 ? [side(left)] : []), r, ...(right > 0 ? [side(right)] : [])], 3);
  }
  if (top > 0 || bottom > 0) {
    const side = (k: number) => zeros([n, c, k, r.shape[3]!], { dtype: x.dtype });
    r = cat([...(top > 0 ? [side(top)] : []), r, ...(bottom > 0 ? [side(bottom)] : [])], 2);
  }
  return r;
}

/** Adds a batch dim to an unbatched input (as PyTorch accepts) and returns how to remove it again. */
function batched(op: string, x: Tensor, dims: number, what: string): [Tensor, (t: Tensor) => Tensor] {
  if (x.ndim === dims) return [x, (t) => t];
  if (x.ndim === dims - 1) return [x.unsqueeze(0), (t) => t.squeeze(0)];
  throw new DescentError(`${op}: expected a ${dims - 1}-D or ${dims}-D input ${what}, got ${shapeStr(x.shape)}`);
}

function checkFloatInput(op: string, x: Tensor): void {
  if (x.dtype === "int32") throw new DescentError(`${op}: expected a floating-point input, got ${x.dtype}`);
}

// ---- convolution ----

/**
 * 2-D convolution (cross-correlation, as PyTorch): x [N, C, H, W] or [C, H, W], w [O, C/groups, kh, kw],
 * b [O]. padding "same" keeps the size (stride 1 only; an odd total puts the extra row/column at the
 * end, as PyTorch), "valid" is 0.
 */
export function conv2d(x: Tensor, w: Tensor, b?: Tensor | null, opts: ConvOptions = {}): Tensor {
  checkOptions("conv2d", opts, CONV_KEYS);
  return convNd("conv2d", x, w, b ?? null, opts, 2);
}

/** 1-D convolution: x [N, C, L] or [C, L], w [O, C/groups, k]; computed as a 2-D one of height 1. */
export function conv1d(x: Tensor, w: Tensor, b?: Tensor | null, opts: Conv1dOptions = {}): Tensor {
  checkOptions("conv1d", opts, CONV1D_KEYS);
  const op = "conv1d";
  if (w.ndim !== 3) throw new DescentError(`${op}: expected a 3-D weight [O, C/groups, k], got ${shapeStr(w.shape)}`);
  const [x3, unbatch] = batched(op, x, 3, "[N, C, L]");
  const p = opts.padding ?? 0;
  const padding: ConvPadding = p === "same" || p === "valid" ? p : [0, single(op, "padding", p, 0)];
  const y = convNd(
    op,
    x3.unsqueeze(2),
    w.unsqueeze(2),
    b ?? null,
    {
      stride: [1, single(op, "stride", opts.stride ?? 1, 1)],
      dilation: [1, single(op, "dilation", opts.dilation ?? 1, 1)],
      padding,
      groups: opts.groups ?? 1,
    },
    1,
  );
  return unbatch(y.squeeze(2));
}

function convNd(op: string, x: Tensor, w: Tensor, b: Tensor | null, opts: ConvOptions, nd: 1 | 2): Tensor {
  checkFloatInput(op, x);
  if (nd === 2 && w.ndim !== 4)
    throw new DescentError(`${op}: expected a 4-D weight [O, C/groups, kh, kw], got ${shapeStr(w.shape)}`);
  const [x4, unbatch] = nd === 2 ? batched(op, x, 4, "[N, C, H, W]") : [x, (t: Tensor) => t];
  const groups = opts.groups ?? 1;
  const [o, cg, kh, kw] = w.shape as [number, number, number, number];
  const c = x4.shape[1]!;
  if (!Number.isInteger(groups) || groups < 1)
    throw new DescentError(`${op}: groups must be a positive integer, got ${groups}`);
  if (cg * groups !== c || o % groups !== 0) {
    throw new DescentError(
      `${op}: input ${shapeStr(nd === 2 ? x4.shape : x4.shape.filter((_, i) => i !== 2))} with ${c} channels does not fit weight ${shapeStr(nd === 2 ? w.shape : w.shape.filter((_, i) => i !== 2))} and groups=${groups} (expected ${cg * groups} input channels and out channels divisible by groups)`,
    );
  }
  if (x4.dtype !== w.dtype) throw new DescentError(`${op}: input is ${x4.dtype} but weight is ${w.dtype}`);
  if (b && (b.ndim !== 1 || b.shape[0] !== o))
    throw new DescentError(`${op}: bias must have shape [${o}], got ${shapeStr(b.shape)}`);
  const stride = pair(op, "stride", opts.stride ?? 1, 1);
  const dilation = pair(op, "dilation", opts.dilation ?? 1, 1);
  let padding: [number, number];
  let input = x4;
  const p = opts.padding ?? 0;
  if (p === "valid") padding = [0, 0];
  else if (p === "same") {
    if (stride[0] !== 1 || stride[1] !== 1)
      throw new DescentError(`${op}: padding="same" is not supported for strided convolutions`);
    const total = [dilation[0] * (kh - 1), dilation[1] * (kw - 1)] as const;
    padding = [total[0] >> 1, total[1] >> 1];
    input = pad2d(x4, 0, total[0] & 1, 0, total[1] & 1); // the odd one out goes at the end
  } else padding = pair(op, "padding", p, 0);
  const [h, wd] = input.shape.slice(2) as [number, number];
  const oh = windowOut(h, kh, stride[0], padding[0], dilation[0]);
  const ow = windowOut(wd, kw, stride[1], padding[1], dilation[1]);
  if (oh <= 0 || ow <= 0) {
    throw new DescentError(
      `${op}: input ${shapeStr(x.shape)} (padded by ${shapeStr(padding)}) is smaller than the dilated kernel ${shapeStr(nd === 2 ? [kh, kw] : [kw])}`,
    );
  }
  const n = input.shape[0]!;
  const k = cg * kh * kw;
  const cols = input.im2col({ kernel: [kh, kw], stride, padding, dilation }); // [N, C·kh·kw, L]
  // Group g's rows of cols are the contiguous block g·k … (g+1)·k, so one broadcast product serves all groups.
  let y =
    groups === 1
      ? w.reshape([o, k]).matmul(cols)
      : w.reshape([groups, o / groups, k]).matmul(cols.reshape([n, groups, k, oh * ow]));
  if (b) y = y.reshape([n, o, oh * ow]).add(b.reshape([o, 1]));
  return unbatch(y.reshape([n, o, oh, ow]));
}

// ---- pooling ----

/** Options of maxPool2d (F.max_pool2d's keyword arguments). */
export interface MaxPoolOptions {
  /** Window step (default: the kernel size). */
  stride?: Pair | null;
  /** Implicit -Infinity padding (default 0). */
  padding?: Pair;
  /** Spacing between window taps (default 1). */
  dilation?: Pair;
  /** Round the output size up (default false). */
  ceilMode?: boolean;
}

/** The keys of MaxPoolOptions, for checkOptions. */
const MAXPOOL_KEYS = keysOf<MaxPoolOptions>()({ stride: true, padding: true, dilation: true, ceilMode: true });

/** Options of avgPool2d (F.avg_pool2d's keyword arguments). */
export interface AvgPoolOptions {
  /** Window step (default: the kernel size). */
  stride?: Pair | null;
  /** Implicit zero padding (default 0). */
  padding?: Pair;
  /** Round the output size up (default false). */
  ceilMode?: boolean;
  /** Count the padding in the divisor (default true). */
  countIncludePad?: boolean;
  /** Divide by this instead of the window size, when set. */
  divisorOverride?: number | null;
}

/** The keys of AvgPoolOptions, for checkOptions. */
const AVGPOOL_KEYS = keysOf<AvgPoolOptions>()({
  stride: true,
  padding: true,
  ceilMode: true,
  countIncludePad: true,
  divisorOverride: true,
});

/** Output size of a pooling window, with PyTorch's ceil-mode rule (the last window must start inside the input or left padding). */
function poolOut(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + p) out--;
  return out;
}

interface PoolGeometry {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  out: [number, number];
  /** Rows/columns to append at the bottom/right so the last (ceil-mode) window fits. */
  extra: [number, number];
}

function poolGeometry(
  op: string,
  x: Tensor,
  kernelSize: Pair,
  opts: { stride?: Pair | null; padding?: Pair; dilation?: Pair; ceilMode?: boolean },
): PoolGeometry {
  const kernel = pair(op, "kernelSize", kernelSize, 1);
  const stride = opts.stride === undefined || opts.stride === null ? kernel : pair(op, "stride", opts.stride, 1);
  const padding = pair(op, "padding", opts.padding ?? 0, 0);
  const dilation = pair(op, "dilation", opts.dilation ?? 1, 1);
  if (padding[0] > kernel[0] >> 1 || padding[1] > kernel[1] >> 1) {
    throw new DescentError(
      `${op}: padding ${shapeStr(padding)} must be at most half of the kernel size ${shapeStr(kernel)}`,
    );
  }
  const [h, w] = x.shape.slice(-2) as [number, number];
  const ceil = opts.ceilMode ?? false;
  const out: [number, number] = [
    poolOut(h, kernel[0], stride[0], padding[0], dilation[0], ceil),
    poolOut(w, kernel[1], stride[1], padding[1], dilation[1], ceil),
  ];
  if (out[0] <= 0 || out[1] <= 0) {
    throw new DescentError(
      `${op}: input ${shapeStr(x.shape)} is too small for kernel ${shapeStr(kernel)} with padding ${shapeStr(padding)} and dilation ${shapeStr(dilation)} (output ${shapeStr(out)})`,
    );
  }
  const need = (o: number, k: number, s: number, d: number) => (o - 1) * s + d * (k - 1) + 1;
  const extra: [number, number] = [
    Math.max(0, need(out[0], kernel[0], stride[0], dilation[0]) - (h + 2 * padding[0])),
    Math.max(0, need(out[1], kernel[1], stride[1], dilation[1]) - (w + 2 * padding[1])),
  ];
  return { kernel, stride, padding, dilation, out, extra };
}

/**
 * 2-D max pooling over x [N, C, H, W] or [C, H, W]. Padding counts as -Inf. The gradient goes to one
 * element per window, the first maximum in row-major window order (PyTorch's CPU choice on ties);
 * a NaN in a window wins, as in PyTorch.
 */
export function maxPool2d(x: Tensor, kernelSize: Pair, opts: MaxPoolOptions = {}): Tensor {
  checkOptions("maxPool2d", opts, MAXPOOL_KEYS);
  const op = "maxPool2d";
  checkFloatInput(op, x);
  const [x4, unbatch] = batched(op, x, 4, "[N, C, H, W]");
  const g = poolGeometry(op, x4, kernelSize, opts);
  // The primitive reads padding and ceil mode's overhang as -Inf, so no padded copy is made.
  const y = x4.maxPool2d({ kernel: g.kernel, stride: g.stride, padding: g.padding, dilation: g.dilation }, g.out);
  return unbatch(y);
}

/**
 * 2-D average pooling. The divisor of each window is PyTorch's: the window clipped to the padded
 * input (countIncludePad, the default) or to the input itself, or divisorOverride when given.
 */
export function avgPool2d(x: Tensor, kernelSize: Pair, opts: AvgPoolOptions = {}): Tensor {
  checkOptions("avgPool2d", opts, AVGPOOL_KEYS);
  const op = "avgPool2d";
  checkFloatInput(op, x);
  const [x4, unbatch] = batched(op, x, 4, "[N, C, H, W]");
  const g = poolGeometry(op, x4, kernelSize, opts);
  const [n, c, h, w] = x4.shape as [number, number, number, number];
  const div = opts.divisorOverride;
  if (div !== undefined && div !== null && (!Number.isFinite(div) || div === 0))
    throw new DescentError(`${op}: divisorOverride must be a non-zero number, got ${div}`);
  const input = pad2d(x4, 0, g.extra[0], 0, g.extra[1]);
  const cols = input.im2col({ kernel: g.kernel, stride: g.stride, padding: g.padding, dilation: [1, 1] });
  const sums = cols.reshape([n, c, g.kernel[0] * g.kernel[1], g.out[0] * g.out[1]]).sum(2);
  const [oh, ow] = g.out;
  const divisors = new Float64Array(oh * ow);
  const countPad = opts.countIncludePad ?? true;
  for (let i = 0; i < oh; i++) {
    const h0 = i * g.stride[0] - g.padding[0];
    const h1 = Math.min(h0 + g.kernel[0], h + g.padding[0]);
    for (let j = 0; j < ow; j++) {
      const w0 = j * g.stride[1] - g.padding[1];
      const w1 = Math.min(w0 + g.kernel[1], w + g.padding[1]);
      const inside = (Math.min(h1, h) - Math.max(h0, 0)) * (Math.min(w1, w) - Math.max(w0, 0));
      divisors[i * ow + j] = div ?? (countPad ? (h1 - h0) * (w1 - w0) : inside);
    }
  }
  const y = sums.div(tensor(divisors, { dtype: x.dtype }));
  return unbatch(y.reshape([n, c, oh, ow]));
}

/**
 * Adaptive average pooling to outputSize (a number, or a pair whose null entries keep the input
 * size). Output cell (i, j) averages rows floor(i·H/oh) … ceil((i+1)·H/oh) and likewise columns; the
 * bins are separable, so this is P_h · x · P_wᵀ with two small averaging matrices.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly [number | null, number | null]): Tensor {
  const op = "adaptiveAvgPool2d";
  checkFloatInput(op, x);
  if (x.ndim !== 3 && x.ndim !== 4)
    throw new DescentError(`${op}: expected a 3-D or 4-D input, got ${shapeStr(x.shape)}`);
  const [h, w] = x.shape.slice(-2) as [number, number];
  const sz = typeof outputSize === "number" ? [outputSize, outputSize] : [...outputSize];
  const oh = sz[0] ?? h;
  const ow = sz[1] ?? w;
  if (sz.length !== 2 || ![oh, ow].every((v) => Number.isInteger(v) && v >= 1))
    throw new DescentError(`${op}: outputSize must be positive integers, got ${JSON.stringify(outputSize)}`);
  if (h === 0 || w === 0) throw new DescentError(`${op}: input ${shapeStr(x.shape)} has an empty spatial dim`);
  if (oh === h && ow === w) return x.clone();
  return averaging(oh, h, x.dtype)
    .matmul(x)
    .matmul(averaging(ow, w, x.dtype).transpose(0, 1));
}

/** The [out, size] matrix whose row i averages PyTorch's adaptive bin i. */
function averaging(out: number, size: number, dtype: Tensor["dtype"]): Tensor {
  const m = new Float64Array(out * size);
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * size) / out);
    const end = Math.ceil(((i + 1) * size) / out);
    for (let j = start; j < end; j++) m[i * size + j] = 1 / (end - start);
  }
  return tensor(m, { shape: [out, size], dtype });
}

// ---- unfold / fold ----

/** Options of unfold and fold (F.unfold / F.fold keyword arguments). */
export interface WindowOptions {
  /** Spacing between window taps (default 1). */
  dilation?: Pair;
  /** Zero padding (default 0). */
  padding?: Pair;
  /** Window step (default 1). */
  stride?: Pair;
}

/** The keys of WindowOptions, for checkOptions. */
const WINDOW_KEYS = keysOf<WindowOptions>()({ dilation: true, padding: true, stride: true });

function windowOf(op: string, kernelSize: Pair, opts: WindowOptions): Window {
  return {
    kernel: pair(op, "kernelSize", kernelSize, 1),
    stride: pair(op, "stride", opts.stride ?? 1, 1),
    padding: pair(op, "padding", opts.padding ?? 0, 0),
    dilation: pair(op, "dilation", opts.dilation ?? 1, 1),
  };
}

/** Sliding blocks as columns: [N, C, H, W] (or [C, H, W]) → [N, C·kh·kw, L] (F.unfold). */
export function unfold(x: Tensor, kernelSize: Pair, opts: WindowOptions = {}): Tensor {
  checkOptions("unfold", opts, WINDOW_KEYS);
  const [x4, unbatch] = batched("unfold", x, 4, "[N, C, H, W]");
  return unbatch(x4.im2col(windowOf("unfold", kernelSize, opts)));
}

/** The adjoint of unfold, summing overlaps: [N, C·kh·kw, L] (or [C·kh·kw, L]) → [N, C, H, W] (F.fold). */
export function fold(x: Tensor, outputSize: Pair, kernelSize: Pair, opts: WindowOptions = {}): Tensor {
  checkOptions("fold", opts, WINDOW_KEYS);
  const [x3, unbatch] = batched("fold", x, 3, "[N, C·kh·kw, L]");
  return unbatch(x3.col2im(pair("fold", "outputSize", outputSize, 1), windowOf("fold", kernelSize, opts)));
}

// ---- batch norm ----

/**
 * Batch normalisation over every dim but 1 of x [N, C, ...]. In training the batch statistics
 * normalise (biased variance) and, when given, the running ones are updated in place as
 * running = (1 - momentum)·running + momentum·batch with the unbiased variance (PyTorch's
 * convention). Otherwise runningMean/runningVar normalise.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  training = false,
  momentum = 0.1,
  eps = 1e-5,
): Tensor {
  const op = "batchNorm";
  checkFloatInput(op, x);
  if (x.ndim < 2)
    throw new DescentError(`${op}: expected an input [N, C, ...] with at least 2 dims, got ${shapeStr(x.shape)}`);
  const c = x.shape[1]!;
  for (const [name, t] of [
    ["runningMean", runningMean],
    ["runningVar", runningVar],
    ["weight", weight],
    ["bias", bias],
  ] as const) {
    if (t && t.size !== c)
      throw new DescentError(`${op}: ${name} should contain ${c} elements, not ${t.size} (input ${shapeStr(x.shape)})`);
  }
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const bshape = x.shape.map((s, i) => (i === 1 ? s : 1));
  let mean: Tensor;
  let variance: Tensor;
  if (training) {
    const count = x.size / c;
    if (count <= 1)
      throw new DescentError(
        `${op}: expected more than 1 value per channel when training, got input ${shapeStr(x.shape)}`,
      );
    mean = x.mean(dims, true);
    variance = x.sub(mean).square().mean(dims, true);
    if (runningMean || runningVar) {
      noGrad(() => {
        if (runningMean) runningMean.mul_(1 - momentum).add_(mean.reshape(runningMean.shape).mul(momentum));
        if (runningVar)
          runningVar.mul_(1 - momentum).add_(variance.reshape(runningVar.shape).mul((momentum * count) / (count - 1)));
      });
    }
  } else {
    if (!runningMean || !runningVar)
      throw new DescentError(`${op}: runningMean and runningVar are required when not training`);
    mean = runningMean.reshape(bshape);
    variance = runningVar.reshape(bshape);
  }
  let scale = variance.add(eps).rsqrt();
  if (weight) scale = scale.mul(weight.reshape(bshape));
  const y = x.sub(mean).mul(scale);
  return bias ? y.add(bias.reshape(bshape)) : y;
}
