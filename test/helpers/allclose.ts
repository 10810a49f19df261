// allclose: element-wise comparison of numeric arrays (or tensors) with PyTorch's rule
// |actual - expected| <= atol + rtol * |expected|, where NaN equals NaN and an infinity must be
// matched exactly (same sign). `assertAllclose` throws an AssertionError naming the worst element
// (flat index, multi-index, both values, the error and what was allowed), so a failing test says
// where it went wrong instead of dumping two arrays.

import { AssertionError } from "node:assert";

export interface Tolerance {
  /** Relative tolerance (default 1e-5, as torch.allclose). */
  rtol?: number;
  /** Absolute tolerance (default 1e-8, as torch.allclose). */
  atol?: number;
}

/** Anything with a flat read-out: a Descent Tensor qualifies. */
export interface FlatReadable {
  readonly shape: readonly number[];
  toFlatArray(): ArrayLike<number>;
}

export type Numbers = ArrayLike<number> | FlatReadable | number;

export interface Mismatch {
  /** Flat (row-major) index of the element. */
  index: number;
  /** Multi-index, when a shape is known. */
  position: number[] | null;
  actual: number;
  expected: number;
  /** |actual - expected| (Infinity for a NaN/Inf mismatch). */
  error: number;
  /** atol + rtol·|expected|. */
  allowed: number;
}

export interface Comparison {
  ok: boolean;
  /** How many elements are outside the tolerance. */
  failures: number;
  /** The element with the largest error/allowed ratio (null when everything is within tolerance). */
  worst: Mismatch | null;
  /** Set when the two inputs do not have the same number of elements. */
  lengthMismatch: { actual: number; expected: number } | null;
}

function isReadable(x: Numbers): x is FlatReadable {
  return typeof x === "object" && x !== null && typeof (x as FlatReadable).toFlatArray === "function";
}

function flat(x: Numbers): { values: ArrayLike<number>; shape: readonly number[] | null } {
  if (typeof x === "number") return { values: [x], shape: [] };
  if (isReadable(x)) return { values: x.toFlatArray(), shape: x.shape };
  return { values: x, shape: null };
}

function unravel(i: number, shape: readonly number[]): number[] {
  const pos = new Array<number>(shape.length).fill(0);
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k]!;
    pos[k] = d > 0 ? i % d : 0;
    i = d > 0 ? Math.floor(i / d) : 0;
  }
  return pos;
}

/** Whether one pair of elements agrees; NaN == NaN, infinities exactly. */
export function closeEnough(actual: number, expected: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(expected) || Number.isNaN(actual)) return Number.isNaN(expected) && Number.isNaN(actual);
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return actual === expected;
  return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
}

/** Compares and reports the worst element. `shape` (or a tensor argument) gives multi-indices. */
export function compare(
  actual: Numbers,
  expected: Numbers,
  tol: Tolerance = {},
  shape?: readonly number[],
): Comparison {
  const rtol = tol.rtol ?? 1e-5;
  const atol = tol.atol ?? 1e-8;
  const a = flat(actual);
  const e = flat(expected);
  const dims = shape ?? e.shape ?? a.shape;
  if (a.values.length !== e.values.length) {
    return {
      ok: false,
      failures: Math.max(a.values.length, e.values.length),
      worst: null,
      lengthMismatch: { actual: a.values.length, expected: e.values.length },
    };
  }
  let failures = 0;
  let worst: Mismatch | null = null;
  let worstScore = -1;
  for (let i = 0; i < e.values.length; i++) {
    const av = a.values[i]!;
    const ev = e.values[i]!;
    if (closeEnough(av, ev, rtol, atol)) continue;
    failures++;
    const finite = Number.isFinite(av) && Number.isFinite(ev);
    const error = finite ? Math.abs(av - ev) : Infinity;
    const allowed = finite ? atol + rtol * Math.abs(ev) : 0;
    const score = allowed > 0 ? error / allowed : Infinity;
    if (score > worstScore) {
      worstScore = score;
      worst = { index: i, position: dims ? unravel(i, dims) : null, actual: av, expected: ev, error, allowed };
    }
  }
  return { ok: failures === 0, failures, worst, lengthMismatch: null };
}

export function allclose(actual: Numbers, expected: Numbers, tol: Tolerance = {}): boolean {
  return compare(actual, expected, tol).ok;
}

/** One line describing a failed comparison (empty string when it passed). */
export function describeComparison(c: Comparison, total?: number): string {
  if (c.ok) return "";
  if (c.lengthMismatch) {
    return `element counts differ: actual ${c.lengthMismatch.actual}, expected ${c.lengthMismatch.expected}`;
  }
  const w = c.worst!;
  const where = w.position ? `[${w.position.join(",")}] (flat ${w.index})` : `flat ${w.index}`;
  const of = total === undefined ? "" : ` of ${total}`;
  return (
    `${c.failures}${of} element(s) differ; worst at ${where}: actual ${w.actual}, expected ${w.expected}, ` +
    `|error| ${w.error.toExponential(3)} > allowed ${w.allowed.toExponential(3)}`
  );
}

/** Throws an AssertionError naming the worst element when `actual` and `expected` are not close. */
export function assertAllclose(
  actual: Numbers,
  expected: Numbers,
  tol: Tolerance & { shape?: readonly number[]; message?: string } = {},
): void {
  const c = compare(actual, expected, tol, tol.shape);
  if (c.ok) return;
  const n = flat(expected).values.length;
  const prefix = tol.message ? `${tol.message}: ` : "";
  const rt = `(rtol ${tol.rtol ?? 1e-5}, atol ${tol.atol ?? 1e-8})`;
  throw new AssertionError({ message: `${prefix}${describeComparison(c, n)} ${rt}` });
}
