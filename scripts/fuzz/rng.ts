// The fuzz harness's deterministic randomness: every input is drawn from a generator seeded by
// (target, seed, index) alone, so `--replay target:seed:index` rebuilds exactly the input that a
// run reported, in any worker and in any order.

/** sfc32 (a small, fast, well-mixed 32-bit generator) seeded by a string hash. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(key: string) {
    // xmur3: four 32-bit seeds from the key.
    let h = 1779033703 ^ key.length;
    for (let i = 0; i < key.length; i++) {
      h = Math.imul(h ^ key.charCodeAt(i), 3432918353);
      h = (h << 13) | (h >>> 19);
    }
    const next = () => {
      h = Math.imul(h ^ (h >>> 16), 2246822507);
      h = Math.imul(h ^ (h >>> 13), 3266489909);
      return (h ^= h >>> 16) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  static forInput(target: string, seed: number, index: number): Rng {
    return new Rng(`${target}:${seed}:${index}`);
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.float() * xs.length)]!;
  }

  /** A standard normal (Box–Muller). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.float())) * Math.cos(2 * Math.PI * this.float());
  }

  /** Sizes that find bugs: 0, 1, small, powers of two and their neighbours, huge, negative, fractional. */
  weirdInt(): number {
    return this.pick([
      0,
      1,
      2,
      3,
      -1,
      -2,
      7,
      255,
      256,
      65535,
      65536,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 32 + 1,
      2 ** 53 - 1,
      2 ** 53,
      2 ** 53 + 2,
      2 ** 63,
      2 ** 64,
      1e300,
      -(2 ** 31),
      0.5,
      1.5,
      -0.5,
      this.int(0, 100),
      this.int(0, 100000),
    ]);
  }
}
