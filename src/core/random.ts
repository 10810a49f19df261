// The seeded generator behind every random draw (init, rand, randn, dropout, shuffling).
// xoshiro128** (Blackman & Vigna): 32-bit arithmetic, fast in JS, 2^128-1 period, and a state
// of four words that checkpoints can save and restore exactly.

import { DescentError } from "./errors.js";

/** A Generator's complete state (getState / setState), as JSON-safe numbers. */
export interface GeneratorState {
  /** The xoshiro128** state words. */
  readonly s: readonly [number, number, number, number];
  /** A second normal deviate left over from the last Box–Muller pair, or null. */
  readonly spare: number | null;
}

/**
 * A seedable pseudo-random generator (xoshiro128**) that random creation functions, dropout,
 * shuffling and init draw from (torch.Generator); `defaultGenerator` is the one manualSeed seeds.
 */
export class Generator {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed = 67280421310721) {
    this.manualSeed(seed);
  }

  /** Seeds from any finite number; splitmix32 spreads it over the four state words. */
  manualSeed(seed: number): this {
    let x = (Math.floor(seed) >>> 0) ^ (Math.floor(seed / 4294967296) >>> 0);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1;
    this.spare = null;
    return this;
  }

  /** The next raw 32-bit output. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal by the Box–Muller transform, using both deviates of each pair. */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log stays finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** A uniformly drawn integer in [0, n), without modulo bias. */
  randint(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** The complete state, to restore later with setState (torch.Generator.get_state). */
  getState(): GeneratorState {
    return { s: [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!], spare: this.spare };
  }

  /**
   * Restores a state from getState(). Everything is checked first, so a refused state changes
   * nothing: a NaN spare would make the next normal() NaN, an all-zero state would draw only zeros.
   */
  setState(state: GeneratorState): void {
    const s = (state as { s?: unknown } | null)?.s;
    const spare = (state as { spare?: unknown } | null)?.spare;
    const words =
      Array.isArray(s) &&
      s.length === 4 &&
      s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) &&
      s.some((w) => w !== 0);
    if (!words)
      throw new DescentError(
        `Generator.setState: s must be four 32-bit unsigned integers, not all zero, got ${JSON.stringify(s)}`,
      );
    if (spare !== null && !(typeof spare === "number" && Number.isFinite(spare)))
      throw new DescentError(`Generator.setState: spare must be null or a finite number, got ${String(spare)}`);
    this.s.set(s as number[]);
    this.spare = spare;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The default generator, as PyTorch's: every draw that is not given a generator uses it. */
export const defaultGenerator = new Generator();

/** Seeds the default generator, making every later random draw reproducible. */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}
