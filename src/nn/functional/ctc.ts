// Connectionist temporal classification loss (torch.nn.functional.ctc_loss). The forward (alpha)
// and backward (beta) recursions are a dynamic programme over the extended label sequence
// (blank, l1, blank, l2, …, blank), run in log space in plain loops over float64 copies of the
// inputs; the exact gradient with respect to logProbs is computed from alpha·beta and attached to
// the graph without a new primitive (value + (a − a.detach()), see ctcLoss).

import { checkFloat } from "../../core/dtype.js";
import { DescentError, shapeStr } from "../../core/errors.js";
import { checkOptions, keysOf } from "../../core/options.js";
import { isGradEnabled } from "../../autograd/graph.js";
import { fromArray, type Tensor } from "../../tensor/tensor.js";
import { reductionOf, type ReductionOptions } from "./loss.js";

/** Options of ctcLoss and CTCLoss (F.ctc_loss's keyword arguments). */
export interface CtcOptions extends ReductionOptions {
  /** The blank class (default 0). */
  blank?: number;
  /** Replace infinite losses (impossible alignments) and their gradients by 0 (default false). */
  zeroInfinity?: boolean;
}

/** The keys of CtcOptions, for checkOptions. */
export const CTC_KEYS = keysOf<CtcOptions>()({ reduction: true, blank: true, zeroInfinity: true });

/** int32 tensor or plain numbers. */
export type Lengths = Tensor | readonly number[];

/**
 * CTC loss of logProbs [T, N, C] (log-softmax outputs; [T, C] unbatched) against int32 targets,
 * padded [N, S] or concatenated 1-D (sum of targetLengths), with per-sample inputLengths and
 * targetLengths. "mean" divides each sample's loss by its target length (at least 1) and averages,
 * as PyTorch. An impossible alignment gives an infinite loss whose gradient is NaN (PyTorch's), or 0
 * for both with zeroInfinity. The gradient is the true derivative with respect to logProbs.
 */
export function ctcLoss(
  logProbs: Tensor,
  targets: Tensor,
  inputLengths: Lengths,
  targetLengths: Lengths,
  opts: CtcOptions = {},
): Tensor {
  checkOptions("ctcLoss", opts, CTC_KEYS);
  const op = "ctcLoss";
  const r = reductionOf(op, opts.reduction);
  checkFloat(op, logProbs.dtype);
  if (logProbs.ndim !== 3 && logProbs.ndim !== 2) {
    throw new DescentError(`${op}: logProbs must be [T, N, C] (or [T, C] unbatched), got ${shapeStr(logProbs.shape)}`);
  }
  const unbatched = logProbs.ndim === 2;
  const lp = unbatched ? logProbs.unsqueeze(1) : logProbs;
  const [T, N, C] = lp.shape as [number, number, number];
  const blank = opts.blank ?? 0;
  if (!Number.isInteger(blank) || blank < 0 || blank >= C) {
    throw new DescentError(`${op}: blank ${blank} is out of range for ${C} classes`);
  }
  const inLen = lengths(op, "inputLengths", inputLengths, N, unbatched);
  const tgLen = lengths(op, "targetLengths", targetLengths, N, unbatched);
  inLen.forEach((v, n) => {
    if (v < 0 || v > T) throw new DescentError(`${op}: inputLengths[${n}] = ${v} is out of range for T = ${T}`);
  });
  const labels = splitTargets(op, targets, tgLen, N, unbatched);
  labels.forEach((l, n) =>
    l.forEach((c, i) => {
      if (c < 0 || c >= C || c === blank) {
        const what = c === blank ? `is the blank label` : `is out of range for ${C} classes`;
        throw new DescentError(`${op}: label ${c} of sample ${n} (position ${i}) ${what}`);
      }
    }),
  );

  const needGrad = lp.requiresGrad && isGradEnabled();
  const x = lp.toFlatArray(); // contiguous [T, N, C]
  const losses = new Float64Array(N);
  const grad = needGrad ? new Float64Array(T * N * C) : null;
  const nanRows: [number, number][] = []; // [sample, input length] of infinite losses without zeroInfinity
  for (let n = 0; n < N; n++) {
    const nll = sample(x, N, C, n, inLen[n]!, labels[n]!, blank, grad);
    if (nll === Infinity && opts.zeroInfinity) {
      losses[n] = 0;
      if (grad) for (let t = 0; t < T; t++) grad.fill(0, (t * N + n) * C, (t * N + n + 1) * C);
    } else {
      losses[n] = nll;
      if (nll === Infinity && inLen[n]! > 0) nanRows.push([n, inLen[n]!]);
    }
  }

  let perSample = fromArray(lp.dtype, [N], (i) => losses[i]!);
  if (grad) {
    // Entries of logProbs that are -Inf carry a zero gradient; they are zeroed here so that
    // (-Inf)·0 does not turn the attached term into NaN.
    const finite = x.every((v) => v - v === 0);
    const g = fromArray(lp.dtype, [T, N, C], (i) => grad[i]!);
    const src = finite ? lp : lp.maskedFill(lp.isFinite().eq(0), 0);
    // The values come from the loops above; the gradient is attached as value + (a − a.detach()) with
    // a = Σ_{t,c} logProbs·G: exactly 0 in the forward, and backward hands G·upstream to logProbs.
    const a = src.mul(g).sum([0, 2]);
    perSample = perSample.add(a.sub(a.detach()));
    for (const [n, len] of nanRows) perSample = perSample.add(nanGradient(lp.narrow(1, n, 1).narrow(0, 0, len)));
  }
  if (r === "none") return unbatched ? perSample.reshape([]) : perSample;
  if (r === "sum") return perSample.sum();
  const divisors = fromArray(lp.dtype, [N], (i) => Math.max(tgLen[i]!, 1));
  return perSample.div(divisors).mean();
}

/**
 * −log p(labels | x) for one sample; adds d(−log p)/d logProbs into grad (rows t < inputLength).
 * alpha[t][s] = log Σ over prefixes ending in extended state s at time t (includes x[t, ext[s]]);
 * beta[t][s] likewise for suffixes from time t, so alpha + beta counts x[t, ext[s]] twice and
 * Σ_s exp(alpha + beta − x[t, ext[s]]) = p for every t. Hence
 * d(−log p)/d x[t, k] = −Σ_{s: ext[s] = k} exp(alpha[t][s] + beta[t][s] − x[t, k] − log p).
 */
function sample(
  x: ArrayLike<number>,
  N: number,
  C: number,
  n: number,
  len: number,
  labels: Int32Array,
  blank: number,
  grad: Float64Array | null,
): number {
  const S = 2 * labels.length + 1;
  const ext = new Int32Array(S).fill(blank);
  for (let i = 0; i < labels.length; i++) ext[2 * i + 1] = labels[i]!;
  if (len === 0) return labels.length === 0 ? 0 : Infinity;
  const at = (t: number, c: number): number => x[(t * N + n) * C + c]!;
  // A skip from s-2 to s is allowed when s is a label differing from the label two states back.
  const skip = (s: number): boolean => s >= 2 && ext[s] !== blank && ext[s] !== ext[s - 2];

  const alpha = new Float64Array(len * S).fill(-Infinity);
  alpha[0] = at(0, blank);
  if (S > 1) alpha[1] = at(0, ext[1]!);
  for (let t = 1; t < len; t++) {
    const prev = (t - 1) * S;
    for (let s = 0; s < S; s++) {
      const a = logAdd3(
        alpha[prev + s]!,
        s > 0 ? alpha[prev + s - 1]! : -Infinity,
        skip(s) ? alpha[prev + s - 2]! : -Infinity,
      );
      alpha[t * S + s] = a + at(t, ext[s]!);
    }
  }
  const last = (len - 1) * S;
  const logP = logAdd3(alpha[last + S - 1]!, S > 1 ? alpha[last + S - 2]! : -Infinity, -Infinity);
  if (!grad || logP === -Infinity) return -logP;

  const beta = new Float64Array(len * S).fill(-Infinity);
  beta[last + S - 1] = at(len - 1, blank);
  if (S > 1) beta[last + S - 2] = at(len - 1, ext[S - 2]!);
  for (let t = len - 2; t >= 0; t--) {
    const next = (t + 1) * S;
    for (let s = 0; s < S; s++) {
      const b = logAdd3(
        beta[next + s]!,
        s + 1 < S ? beta[next + s + 1]! : -Infinity,
        s + 2 < S && skip(s + 2) ? beta[next + s + 2]! : -Infinity,
      );
      beta[t * S + s] = b + at(t, ext[s]!);
    }
  }
  const ab = new Float64Array(C);
  for (let t = 0; t < len; t++) {
    ab.fill(-Infinity);
    for (let s = 0; s < S; s++) {
      const k = ext[s]!;
      ab[k] = logAdd3(ab[k]!, alpha[t * S + s]! + beta[t * S + s]!, -Infinity);
    }
    const row = (t * N + n) * C;
    for (let k = 0; k < C; k++) {
      if (ab[k] !== -Infinity) grad[row + k] = -Math.exp(ab[k]! - at(t, k) - logP);
    }
  }
  return -logP;
}

/** log(e^a + e^b + e^c), exact for -Inf arguments. */
function logAdd3(a: number, b: number, c: number): number {
  const m = Math.max(a, b, c);
  if (m === -Infinity) return -Infinity;
  if (m !== m || m === Infinity) return m; // NaN or +Inf propagates
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m) + Math.exp(c - m));
}

/**
 * 0 in the forward whose gradient is NaN for every element of x: sqrt(0)'s derivative is Inf,
 * times the 0 of x·0 gives NaN. Used to hand PyTorch's NaN gradient to the time steps of a sample
 * whose loss is infinite (when zeroInfinity is off), without a NaN in the forward.
 */
function nanGradient(x: Tensor): Tensor {
  const finite = x.maskedFill(x.isFinite().eq(0), 0);
  return finite.mul(0).sqrt().sum();
}

function lengths(op: string, name: string, v: Lengths, N: number, unbatched: boolean): number[] {
  if (Array.isArray(v)) {
    const arr = v as readonly number[];
    if (arr.length !== N || !arr.every((x) => Number.isInteger(x))) {
      throw new DescentError(`${op}: ${name} must hold ${N} integers, got [${arr.join(",")}]`);
    }
    return [...arr];
  }
  const t = v as Tensor;
  const okShape = unbatched ? t.size === 1 && t.ndim <= 1 : t.ndim === 1 && t.shape[0] === N;
  if (t.dtype !== "int32" || !okShape) {
    throw new DescentError(
      `${op}: ${name} must be an int32 tensor of shape ${unbatched ? "[] (unbatched)" : `[${N}]`}, got ${t.dtype} ${shapeStr(t.shape)}`,
    );
  }
  return Array.from(t.toFlatArray());
}

/** Each sample's labels, from padded [N, S] or concatenated 1-D targets (or [S] unbatched). */
function splitTargets(op: string, targets: Tensor, tgLen: number[], N: number, unbatched: boolean): Int32Array[] {
  if (targets.dtype !== "int32") throw new DescentError(`${op}: targets must be int32, got ${targets.dtype}`);
  tgLen.forEach((v, n) => {
    if (v < 0) throw new DescentError(`${op}: targetLengths[${n}] = ${v} is negative`);
  });
  const data = Int32Array.from(targets.toFlatArray());
  const padded = unbatched ? targets.ndim === 1 : targets.ndim === 2;
  if (padded) {
    if (!unbatched && targets.shape[0] !== N) {
      throw new DescentError(`${op}: padded targets ${shapeStr(targets.shape)} must have N = ${N} rows`);
    }
    const S = targets.shape[targets.ndim - 1]!;
    return tgLen.map((len, n) => {
      if (len > S)
        throw new DescentError(`${op}: targetLengths[${n}] = ${len} exceeds the padded target length S = ${S}`);
      return data.subarray(n * S, n * S + len);
    });
  }
  if (targets.ndim !== 1) {
    throw new DescentError(
      `${op}: targets must be padded [N, S] or concatenated 1-D${unbatched ? " ([S] unbatched)" : ""}, got ${shapeStr(targets.shape)}`,
    );
  }
  const total = tgLen.reduce((a, b) => a + b, 0);
  if (total !== data.length) {
    throw new DescentError(`${op}: concatenated targets hold ${data.length} labels but targetLengths sum to ${total}`);
  }
  let at = 0;
  return tgLen.map((len) => data.subarray(at, (at += len)));
}
