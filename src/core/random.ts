// The seeded generator behind every random draw (init, rand, randn, dropout, shuffling).
// xoshiro128** (Blackman & Vigna): 32-bit arithmetic, fast in JS, 2^128-1 period, and a state
// of four words that checkpoints can save and restore exactly.

import type { TypedArray } from "./dtype.js";
import { DescentError } from "./errors.js";
import { RANDOM_WASM_BASE64 } from "./random_wasm.js";

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

  /**
   * @internal the bulk draw behind rand and uniform_: out[i] = uniform() * scale + offset for
   * every i, in order (out[i] = uniform() without scale and offset): the same values, and the same
   * state afterwards, as out.length calls of uniform().
   * Large fills run in WebAssembly (wasm/random.c; issue 15: a fresh process drew Linear's initial
   * weights in the interpreter at ~160 ns each); the values are converted to out's type as an
   * element store converts them.
   */
  fillUniform(out: TypedArray, scale?: number, offset?: number): void {
    const affine = scale !== undefined || offset !== undefined;
    const a = scale ?? 1;
    const b = offset ?? 0;
    if (
      nativeUniform !== null &&
      out.length >= USE_AT &&
      (out instanceof Float32Array || out instanceof Float64Array)
    ) {
      nativeUniform(out, this.s, a, b, affine);
      return;
    }
    const w = bulk(out.length);
    if (w === null) {
      for (let i = 0; i < out.length; i++) out[i] = affine ? this.uniform() * a + b : this.uniform();
      return;
    }
    this.drawBlocks(w, out, (m) => w.exports.uniform(m, a, b, affine ? 1 : 0));
  }

  /**
   * @internal the bulk draw behind randn and normal_: out[i] = normal() * std + mean for every
   * i, in order (out[i] = normal() without std and mean): the same values, state and Box-Muller
   * spare afterwards as out.length calls of normal().
   */
  fillNormal(out: TypedArray, std?: number, mean?: number): void {
    const affine = std !== undefined || mean !== undefined;
    const a = std ?? 1;
    const b = mean ?? 0;
    const n = out.length;
    let i = 0;
    const native = nativeNormal !== null && n >= USE_AT && (out instanceof Float32Array || out instanceof Float64Array);
    const w = native ? null : bulk(n);
    if (native || w !== null) {
      if (this.spare !== null) {
        out[i++] = affine ? this.spare * a + b : this.spare;
        this.spare = null;
      }
      // Whole pairs in native code or WebAssembly; an odd last element below leaves its pair's sine as the spare.
      if (native) {
        const pairs = (n - i) >> 1;
        nativeNormal!(out, i, pairs, this.s, a, b, affine);
        i += 2 * pairs;
      } else {
        w!.state.set(this.s);
        while (n - i >= 2) {
          const pairs = Math.min(BLOCK / 2, (n - i) >> 1);
          w!.exports.normal(pairs, a, b, affine ? 1 : 0);
          out.set(2 * pairs === BLOCK ? w!.block : w!.block.subarray(0, 2 * pairs), i);
          i += 2 * pairs;
        }
        this.s.set(w!.state);
      }
    }
    for (; i < n; i++) out[i] = affine ? this.normal() * a + b : this.normal();
  }

  /**
   * @internal the bulk draw behind randint: out[i] = low + randint(n) for every i, in order (the
   * same values and state as calls of randint).
   */
  fillRandint(out: TypedArray, low: number, n: number): void {
    const w = bulk(out.length);
    if (w === null) {
      for (let i = 0; i < out.length; i++) out[i] = low + this.randint(n);
      return;
    }
    this.drawBlocks(w, out, (m) => w.exports.randint(m, low, n));
  }

  /**
   * Fills out in order, block by block: draw(m) makes the module write m ≤ BLOCK values into its
   * block, which is copied out; the state goes into the module first and comes back at the end.
   */
  private drawBlocks(w: RandomWasm, out: TypedArray, draw: (m: number) => void): void {
    w.state.set(this.s);
    for (let i = 0; i < out.length; i += BLOCK) {
      const m = Math.min(BLOCK, out.length - i);
      draw(m);
      out.set(m === BLOCK ? w.block : w.block.subarray(0, m), i);
    }
    this.s.set(w.state);
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

/** wasm/random.c's exports (src/core/random_wasm.ts holds the module). */
interface RandomWasmExports {
  memory: { readonly buffer: ArrayBuffer };
  state(): number;
  block(): number;
  uniform(n: number, a: number, b: number, affine: number): void;
  normal(pairs: number, a: number, b: number, affine: number): void;
  randint(n: number, low: number, range: number): void;
}
/** The parts of the WebAssembly API used here (the project's lib, ES2022 + @types/node, has none). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
}
/** The instantiated module and views of its state words and of its output block (its memory never grows). */
interface RandomWasm {
  exports: RandomWasmExports;
  state: Uint32Array;
  block: Float64Array;
}

/**
 * A uniform fill with fillUniform's values and state, in native code (native/random.cc): out[i] =
 * uniform() (affine: uniform() * a + b) for every i, the state words advanced in place.
 */
export type NativeUniformFill = (
  out: Float32Array | Float64Array,
  state: Uint32Array,
  a: number,
  b: number,
  affine: boolean,
) => void;
let nativeUniform: NativeUniformFill | null = null;

/**
 * `pairs` Box-Muller pairs as normal() makes them, into out[offset …], in native code with V8's own
 * Math.log/cos/sin (native/random.cc), the state words advanced in place.
 */
export type NativeNormalFill = (
  out: Float32Array | Float64Array,
  offset: number,
  pairs: number,
  state: Uint32Array,
  a: number,
  b: number,
  affine: boolean,
) => void;
let nativeNormal: NativeNormalFill | null = null;

/**
 * @internal Set by the native backend when its addon loads (null: the WebAssembly module and the
 * JavaScript loop again): float fills of USE_AT values or more then run there. The values do not
 * depend on it, only the time: in a new process the module's first fills run in V8's baseline
 * code, ~20 ns a draw (W6: ~5 ms of a model's initial weights).
 */
export function setNativeUniformFill(fill: NativeUniformFill | null): void {
  nativeUniform = fill;
}

/**
 * @internal As setNativeUniformFill, for normal fills (the addon has one where Node exports V8's
 * Math functions). A fill whose first 512 deviates from a fixed seed differ from normal()'s is not
 * taken (~0.1 ms): the addon calls v8::base::ieee754's log, cos and sin by name, which are Math's
 * only while this V8 implements Math.log/cos/sin with them (a build on libm's trigonometry would
 * not, and would draw other last bits, on native only).
 */
export function setNativeNormalFill(fill: NativeNormalFill | null): void {
  nativeNormal = fill;
  if (fill === null) return;
  const seed = 0x2545f491;
  const drawn = new Float64Array(512);
  new Generator(seed).fillNormal(drawn);
  const g = new Generator(seed);
  if (!drawn.every((v) => v === g.normal())) nativeNormal = null;
}

/** The most values one call of the module writes (wasm/random.c's BLOCK). */
const BLOCK = 8192;
/** Fills this long instantiate the module (~1-4 ms, once a process); shorter ones use it once it exists. */
const INSTANTIATE_AT = 4096;
const USE_AT = 32;
// undefined: not tried yet; null: unavailable (no WebAssembly, or a browser policy refused it).
let randomWasm: RandomWasm | null | undefined;

/** The module for a fill of n values, or null when n draws one at a time are as cheap or it is unavailable. */
function bulk(n: number): RandomWasm | null {
  if (n < USE_AT || (randomWasm === undefined && n < INSTANTIATE_AT)) return null;
  if (randomWasm === undefined) randomWasm = instantiate();
  return randomWasm;
}

/** @internal Whether large fills run in WebAssembly yet (tests check that they do in Node). */
export function bulkDrawsInWasm(): boolean {
  return bulk(INSTANTIATE_AT) !== null;
}

function instantiate(): RandomWasm | null {
  try {
    const bytes = Uint8Array.from(atob(RANDOM_WASM_BASE64), (c) => c.charCodeAt(0));
    // Math's own functions: V8 calls them from wasm as it does from JavaScript, so the deviates agree.
    const imports = { Math: { log: Math.log, cos: Math.cos, sin: Math.sin } };
    const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (wasm === undefined) return null;
    const exports = new wasm.Instance(new wasm.Module(bytes), imports).exports as RandomWasmExports;
    const buffer = exports.memory.buffer;
    return {
      exports,
      state: new Uint32Array(buffer, exports.state(), 4),
      block: new Float64Array(buffer, exports.block(), BLOCK),
    };
  } catch {
    return null; // one draw at a time: the same values, more slowly
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
