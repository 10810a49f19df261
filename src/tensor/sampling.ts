// multinomial: int32 category draws from rows of non-negative weights, through the seeded generator
// of src/core/random.ts (the default one unless opts.generator), so a seed reproduces the draws.
// Weights are read to the host once; the draws are sequential scalar work, not a kernel's.

import { DescentError, shapeStr } from "../core/errors.js";
import { checkOptions, keysOf } from "../core/options.js";
import { defaultGenerator, type Generator } from "../core/random.js";
import { fromArray, type Tensor } from "./tensor.js";

/** Options of multinomial (torch.multinomial's keyword arguments). */
export interface MultinomialOptions {
  /** Draw with replacement (default false: each category at most once per row). */
  replacement?: boolean;
  /** Draw from this generator instead of the default one. */
  generator?: Generator;
}

const MULTINOMIAL_KEYS = keysOf<MultinomialOptions>()({ replacement: true, generator: true });

/**
 * numSamples category indices per row of probs (1-D [C] → [numSamples], 2-D [N, C] → [N,
 * numSamples]), each drawn with probability proportional to its weight. Without replacement the
 * draws are as if sequential, each from the weights not yet drawn (PyTorch's semantics).
 */
export function multinomial(probs: Tensor, numSamples: number, opts: MultinomialOptions = {}): Tensor {
  const op = "multinomial";
  checkOptions(op, opts, MULTINOMIAL_KEYS);
  if (probs.dtype === "int32") throw new DescentError(`${op}: probs must be float32 or float64, got int32`);
  if (probs.ndim !== 1 && probs.ndim !== 2)
    throw new DescentError(`${op}: probs must be 1-D or 2-D, got shape ${shapeStr(probs.shape)}`);
  if (!Number.isInteger(numSamples) || numSamples <= 0)
    throw new DescentError(`${op}: numSamples must be a positive integer, got ${numSamples}`);
  const replacement = opts.replacement ?? false;
  const g = opts.generator ?? defaultGenerator;
  const rows = probs.ndim === 1 ? 1 : probs.shape[0]!;
  const cats = probs.shape[probs.ndim - 1]!;
  if (!replacement && numSamples > cats)
    throw new DescentError(
      `${op}: cannot draw ${numSamples} samples without replacement from ${cats} categories (probs ${shapeStr(probs.shape)}); pass {replacement: true}`,
    );
  const w = probs.toFlatArray();
  // Validate every row before drawing, so a refused call leaves the generator where it was.
  for (let r = 0; r < rows; r++) {
    let total = 0;
    let positive = 0;
    for (let c = 0; c < cats; c++) {
      const v = w[r * cats + c]!;
      if (!(v >= 0) || v === Infinity)
        throw new DescentError(
          `${op}: probs must be finite and non-negative, got ${v} at row ${r}, category ${c} (probs ${shapeStr(probs.shape)})`,
        );
      total += v;
      if (v > 0) positive++;
    }
    if (!(total > 0))
      throw new DescentError(`${op}: row ${r} of probs ${shapeStr(probs.shape)} sums to 0 (no category can be drawn)`);
    if (!replacement && positive < numSamples)
      throw new DescentError(
        `${op}: row ${r} of probs ${shapeStr(probs.shape)} has ${positive} non-zero categories, fewer than the ${numSamples} samples asked without replacement`,
      );
  }
  const out = new Int32Array(rows * numSamples);
  for (let r = 0; r < rows; r++) {
    const row = w.subarray(r * cats, (r + 1) * cats);
    const drawn = replacement ? withReplacement(row, numSamples, g) : withoutReplacement(row, numSamples, g);
    out.set(drawn, r * numSamples);
  }
  const shape = probs.ndim === 1 ? [numSamples] : [rows, numSamples];
  return fromArray("int32", shape, (i) => out[i]!);
}

/** Inverse-CDF draws: the first category whose cumulative weight exceeds u·total (never a zero-weight one). */
function withReplacement(w: ArrayLike<number>, n: number, g: Generator): Int32Array {
  const cdf = new Float64Array(w.length);
  let acc = 0;
  let last = 0;
  for (let c = 0; c < w.length; c++) {
    acc += w[c]!;
    cdf[c] = acc;
    if (w[c]! > 0) last = c;
  }
  const out = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const u = g.uniform() * acc;
    let lo = 0;
    let hi = w.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    out[s] = Math.min(lo, last); // u·total rounded up to total finds no category: take the last drawable one
  }
  return out;
}

/**
 * Sequential draws without replacement by exponential keys: category c gets E_c / w_c with E_c ~
 * Exp(1); the smallest key is a draw ∝ w, and the order of the smallest n keys is distributed as
 * n sequential draws that remove each winner (the same trick as PyTorch's CPU kernel).
 */
function withoutReplacement(w: ArrayLike<number>, n: number, g: Generator): Int32Array {
  const keys = new Float64Array(w.length);
  for (let c = 0; c < w.length; c++) {
    const e = -Math.log(1 - g.uniform()); // 1 - u is in (0, 1]: e is finite
    keys[c] = w[c]! > 0 ? e / w[c]! : Infinity;
  }
  if (n > 64) {
    const order = Array.from({ length: w.length }, (_, c) => c).sort((a, b) => keys[a]! - keys[b]! || a - b);
    return Int32Array.from(order.slice(0, n));
  }
  // Few samples (the usual case, e.g. next-token sampling): keep the n smallest keys in order, one pass.
  const best: number[] = [];
  for (let c = 0; c < w.length; c++) {
    const key = keys[c]!;
    if (best.length === n && !(key < keys[best[n - 1]!]!)) continue;
    let p = best.length;
    while (p > 0 && keys[best[p - 1]!]! > key) p--; // equal keys keep the lower category first
    best.splice(p, 0, c);
    if (best.length > n) best.pop();
  }
  return Int32Array.from(best);
}
