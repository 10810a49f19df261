// nn.init: in-place initialisers with PyTorch's fan and gain rules (torch.nn.init). Each one
// writes into the tensor under noGrad (so parameters can be initialised) and returns it. Random
// draws come from the default generator, so manualSeed makes them reproducible.

import { DescentError, shapeStr } from "../core/errors.js";
import { noGrad } from "../autograd/graph.js";
import { defaultGenerator } from "../core/random.js";
import { checkOptions, keysOf } from "../core/options.js";
import { fromHost, type Tensor } from "../tensor/tensor.js";

/** The nonlinearities calculateGain knows (PyTorch's names; the camelCase forms are accepted too). */
export type Nonlinearity =
  | "linear"
  | "conv1d"
  | "conv2d"
  | "conv3d"
  | "conv_transpose1d"
  | "conv_transpose2d"
  | "conv_transpose3d"
  | "convTranspose1d"
  | "convTranspose2d"
  | "convTranspose3d"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "leaky_relu"
  | "leakyRelu"
  | "selu";

/** Which fan Kaiming initialisation preserves the variance for. */
export type FanMode = "fanIn" | "fanOut";

/** Options of kaimingUniform_ and kaimingNormal_ (PyTorch's a, mode, nonlinearity). */
export interface KaimingOptions {
  /** The negative slope of the rectifier after this layer (only used with leaky_relu); default 0. */
  a?: number;
  /** "fanIn" (default) keeps the forward variance, "fanOut" the backward one. */
  mode?: FanMode | "fan_in" | "fan_out";
  /** Default "leaky_relu", as PyTorch. */
  nonlinearity?: Nonlinearity;
}

/** The keys of KaimingOptions, for checkOptions. */
const KAIMING_KEYS = keysOf<KaimingOptions>()({ a: true, mode: true, nonlinearity: true });

const LINEAR_LIKE = new Set([
  "linear",
  "conv1d",
  "conv2d",
  "conv3d",
  "conv_transpose1d",
  "conv_transpose2d",
  "conv_transpose3d",
  "convTranspose1d",
  "convTranspose2d",
  "convTranspose3d",
  "sigmoid",
]);

/** The recommended gain for a nonlinearity (torch.nn.init.calculate_gain). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  if (LINEAR_LIKE.has(nonlinearity)) return 1;
  switch (nonlinearity) {
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leaky_relu":
    case "leakyRelu": {
      const slope = param ?? 0.01;
      if (typeof slope !== "number" || !Number.isFinite(slope))
        throw new DescentError(`calculateGain: negative_slope ${String(param)} is not a valid number`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
    default:
      throw new DescentError(`calculateGain: unsupported nonlinearity ${String(nonlinearity)}`);
  }
}

/**
 * [fanIn, fanOut] of a weight: dim 1 and dim 0 times the receptive field (the product of the dims
 * after the first two), so a conv weight [out, in/groups, kh, kw] has fanIn = in/groups·kh·kw.
 */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  if (t.ndim < 2) {
    throw new DescentError(
      `calculateFanInAndFanOut: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape ${shapeStr(t.shape)})`,
    );
  }
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1]! * receptive, t.shape[0]! * receptive];
}

function correctFan(op: string, t: Tensor, mode: string): number {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  if (mode === "fanIn" || mode === "fan_in") return fanIn;
  if (mode === "fanOut" || mode === "fan_out") return fanOut;
  throw new DescentError(`${op}: mode ${mode} is not supported; use "fanIn" or "fanOut"`);
}

function checkFloatTensor(op: string, t: Tensor): void {
  if (t.dtype === "int32") throw new DescentError(`${op}: expected a floating-point tensor, got ${t.dtype}`);
}

/** Fills t with U(a, b); uniform_(t, {a, b}) or uniform_(t, a, b). Defaults U(0, 1). */
export function uniform_(t: Tensor, a: number | { a?: number; b?: number } = {}, b?: number): Tensor {
  const lo = typeof a === "number" ? a : (a.a ?? 0);
  const hi = typeof a === "number" ? (b ?? 1) : (a.b ?? 1);
  checkFloatTensor("uniform_", t);
  if (!(lo <= hi)) throw new DescentError(`uniform_: expected a <= b, got a=${lo}, b=${hi}`);
  return noGrad(() => t.uniform_(lo, hi));
}

/** Fills t with N(mean, std²); normal_(t, {mean, std}) or normal_(t, mean, std). Defaults N(0, 1). */
export function normal_(t: Tensor, mean: number | { mean?: number; std?: number } = {}, std?: number): Tensor {
  const m = typeof mean === "number" ? mean : (mean.mean ?? 0);
  const s = typeof mean === "number" ? (std ?? 1) : (mean.std ?? 1);
  checkFloatTensor("normal_", t);
  if (!(s >= 0)) throw new DescentError(`normal_: std must be non-negative, got ${s}`);
  return noGrad(() => t.normal_(m, s));
}

/** Fills t with val. */
export function constant_(t: Tensor, val: number): Tensor {
  return noGrad(() => t.fill_(val));
}

/** Fills t with 0 in place, without recording a gradient (nn.init.zeros_). */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/** Fills t with 1 in place, without recording a gradient (nn.init.ones_). */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Glorot uniform: U(-g·√(6/(fanIn+fanOut)), +…). xavierUniform_(t, {gain}) or xavierUniform_(t, gain). */
export function xavierUniform_(t: Tensor, gain: number | { gain?: number } = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const g = typeof gain === "number" ? gain : (gain.gain ?? 1);
  const bound = Math.sqrt(3) * g * Math.sqrt(2 / (fanIn + fanOut));
  return uniform_(t, -bound, bound);
}

/** Glorot normal: N(0, g²·2/(fanIn+fanOut)). */
export function xavierNormal_(t: Tensor, gain: number | { gain?: number } = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const g = typeof gain === "number" ? gain : (gain.gain ?? 1);
  return normal_(t, 0, g * Math.sqrt(2 / (fanIn + fanOut)));
}

function kaimingStd(op: string, t: Tensor, opts: KaimingOptions): number {
  checkOptions(op, opts, KAIMING_KEYS);
  const fan = correctFan(op, t, opts.mode ?? "fanIn");
  return calculateGain(opts.nonlinearity ?? "leaky_relu", opts.a ?? 0) / Math.sqrt(fan);
}

/** He uniform: U(-gain·√(3/fan), +…), gain from nonlinearity and a. kaimingUniform_(t, {a, mode, nonlinearity}). */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  if (t.size === 0) return t; // PyTorch warns and leaves an empty tensor alone
  const bound = Math.sqrt(3) * kaimingStd("kaimingUniform_", t, opts);
  return uniform_(t, -bound, bound);
}

/** He normal: N(0, gain²/fan). */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  if (t.size === 0) return t;
  return normal_(t, 0, kaimingStd("kaimingNormal_", t, opts));
}

/**
 * A (semi-)orthogonal matrix, as PyTorch: t viewed as [rows, numel/rows] is filled from the Q of the
 * QR factorisation of a standard normal matrix (transposed when rows < cols), with the columns' signs
 * fixed so that diag(R) is positive (what makes Q Haar-distributed), then scaled by gain.
 */
export function orthogonal_(t: Tensor, gain: number | { gain?: number } = {}): Tensor {
  if (t.ndim < 2)
    throw new DescentError(
      `orthogonal_: only tensors with 2 or more dimensions are supported, got ${shapeStr(t.shape)}`,
    );
  checkFloatTensor("orthogonal_", t);
  if (t.size === 0) return t;
  const g = typeof gain === "number" ? gain : (gain.gain ?? 1);
  const rows = t.shape[0]!;
  const cols = t.size / rows;
  // Work on the tall orientation m × n (m ≥ n), column-major columns in float64.
  const transposed = rows < cols;
  const m = transposed ? cols : rows;
  const n = transposed ? rows : cols;
  const a = new Float64Array(rows * cols);
  defaultGenerator.fillNormal(a);
  // col(j)[i] of the tall matrix: flattened is [rows, cols] row-major; tall = flattened or its transpose.
  const q: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const v = new Float64Array(m);
    for (let i = 0; i < m; i++) v[i] = transposed ? a[j * cols + i]! : a[i * cols + j]!;
    q.push(v);
  }
  // Modified Gram–Schmidt, applied twice ("twice is enough") for orthogonality to machine precision.
  // R's diagonal is the norm (positive) so no further sign correction is needed: this is the Q of a
  // Householder QR after PyTorch's `q *= sign(diag(r))`.
  for (let j = 0; j < n; j++) {
    const v = q[j]!;
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        const u = q[k]!;
        let dot = 0;
        for (let i = 0; i < m; i++) dot += u[i]! * v[i]!;
        for (let i = 0; i < m; i++) v[i]! -= dot * u[i]!;
      }
    }
    let nrm = 0;
    for (let i = 0; i < m; i++) nrm += v[i]! * v[i]!;
    nrm = Math.sqrt(nrm);
    for (let i = 0; i < m; i++) v[i]! /= nrm;
  }
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = g * (transposed ? q[r]![c]! : q[c]![r]!);
  }
  // copy_ converts to t's dtype and writes through t's own layout (t may be a view).
  return noGrad(() => t.copy_(fromHost(out, t.shape)));
}
