// Run-time checks of the options objects of the public API and of the values in them. From plain
// JavaScript a typo (`{ paddng: 1 }`) would otherwise be ignored silently, so every public function
// or constructor that takes an options object calls checkOptions at its entry with its key list.
// Key lists live beside their Options interface, built with keysOf<T>() so that a key added to the
// interface but not to the list fails to compile.

import { DTYPES, isDType, type DType } from "./dtype.js";
import { DescentError } from "./errors.js";

/** The valid keys of one Options interface, as a Set checked by checkOptions. */
export type OptionKeys = ReadonlySet<string>;

/**
 * Builds the key Set of an Options interface from an object naming every key: `keysOf<ConvOptions>()({
 * stride: true, padding: true, ... })`. The Record type makes TypeScript refuse a missing or an extra key.
 */
export function keysOf<T>(): (keys: Record<keyof T, true>) => OptionKeys {
  return (keys) => new Set(Object.keys(keys));
}

/** The union of key Sets, for options objects that extend another one. */
export function mergeKeys(...sets: OptionKeys[]): OptionKeys {
  return new Set(sets.flatMap((s) => [...s]));
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment); short strings only. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The valid key nearest to `key`, or undefined when none is close enough to be the one meant. */
export function nearestKey(key: string, known: Iterable<string>): string | undefined {
  // Case and separators are the commonest slips from Python (batch_size for batchSize), then a
  // shortened or lengthened name (replace for replacement); both count as one edit.
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, "");
  const k0 = norm(key);
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const k1 = norm(k);
    const prefix = Math.min(k0.length, k1.length) >= 3 && (k0.startsWith(k1) || k1.startsWith(k0));
    const d = k0 === k1 ? 0 : prefix ? 1 : editDistance(k0, k1);
    if (d < bestD) [best, bestD] = [k, d];
  }
  const limit = key.length <= 3 ? 1 : key.length <= 6 ? 2 : 3;
  return bestD <= limit ? best : undefined;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string "${v}"`;
  if (typeof v === "object" || typeof v === "function") return `a ${typeof v}`;
  return `${typeof v} ${String(v)}`;
}

/** The error for a key `where` does not know: names it, the owner and the nearest valid key (or all). */
export function unknownOptionError(where: string, key: string, known: OptionKeys): DescentError {
  const near = nearestKey(key, known);
  const hint = near !== undefined ? `did you mean '${near}'?` : `valid options: ${[...known].sort().join(", ")}`;
  return new DescentError(`unknown option '${key}' for ${where}; ${hint}`);
}

/**
 * Refuses an options object that is not a plain object (an array, a number, null) or that holds a
 * key not in `known`. undefined passes (the options were left out). Cheap enough for per-call
 * options: an empty object costs one for-in.
 */
export function checkOptions(where: string, opts: unknown, known: OptionKeys): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== "object" || Array.isArray(opts)) {
    throw new DescentError(`${where}: options must be an object, got ${describe(opts)}`);
  }
  for (const k in opts) {
    if (!known.has(k)) throw unknownOptionError(where, k, known);
  }
}

/** Refuses anything but an integer ≥ 1 (sizes, counts, batch sizes). */
export function checkPositiveInt(where: string, name: string, v: unknown): void {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw new DescentError(`${where}: ${name} must be an integer ≥ 1, got ${describe(v)}`);
  }
}

/** Refuses anything but an integer ≥ 0. */
export function checkNonNegativeInt(where: string, name: string, v: unknown): void {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new DescentError(`${where}: ${name} must be a non-negative integer, got ${describe(v)}`);
  }
}

/** Refuses NaN, ±Infinity and non-numbers. */
export function checkFinite(where: string, name: string, v: unknown): void {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new DescentError(`${where}: ${name} must be a finite number, got ${describe(v)}`);
  }
}

/** Refuses anything but a finite number ≥ 0 (learning rates, weight decay, epsilons). */
export function checkNonNegative(where: string, name: string, v: unknown): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new DescentError(`${where}: ${name} must be a finite number ≥ 0, got ${describe(v)}`);
  }
}

/** Refuses anything but a boolean. */
export function checkBool(where: string, name: string, v: unknown): void {
  if (typeof v !== "boolean") throw new DescentError(`${where}: ${name} must be true or false, got ${describe(v)}`);
}

/** Refuses a value not in `allowed`, listing the allowed ones (reduction, mode, nonlinearity…). */
export function checkOneOf<T extends string>(where: string, name: string, v: unknown, allowed: readonly T[]): T {
  if (!(allowed as readonly unknown[]).includes(v)) {
    throw new DescentError(
      `${where}: ${name} must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, got ${describe(v)}`,
    );
  }
  return v as T;
}

/** Refuses a dtype name Descent does not have ("float16", "float"), listing the valid ones. */
export function checkDType(where: string, v: unknown): DType {
  if (!isDType(v)) {
    throw new DescentError(`${where}: unknown dtype ${describe(v)} (valid dtypes: ${DTYPES.join(", ")})`);
  }
  return v;
}

/** A `dtype` option: the fallback when left out, else a checked dtype name. */
export function dtypeOption(where: string, v: unknown, fallback: DType = "float32"): DType {
  return v === undefined ? fallback : checkDType(where, v);
}

/** Refuses anything but a number in [0, 1] (dropout probabilities, momenta of running statistics). */
export function checkProbability(where: string, name: string, v: unknown): void {
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
    throw new DescentError(`${where}: ${name} must be a number in [0, 1], got ${describe(v)}`);
  }
}
