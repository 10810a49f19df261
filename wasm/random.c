// Bulk draws of the seeded generator (src/core/random.ts) as WebAssembly: the same xoshiro128**
// steps, the same 53-bit uniforms and the same Box-Muller pairs as Generator.uniform() and
// normal(), so a fill gives bit-identical values and state (issue 15). Why WebAssembly: a fresh
// process runs the JavaScript loop in the interpreter until TurboFan has compiled it (~10 ms on a
// busy 2-vCPU machine), ~160 ns a draw, which made Linear's initial weights a third of W6's start-up;
// V8 compiles this module with Liftoff in well under a millisecond and runs it at ~20 ns a draw.
// Bit-identical because every step is exact IEEE arithmetic (wasm has no fused multiply-add and no
// reassociation), and log, cos and sin are imported from JavaScript's Math: V8 calls the same
// functions it calls for Math.log/cos/sin.
// scripts/make_random_wasm.mjs compiles this (clang --target=wasm32) into src/core/random_wasm.ts.

typedef unsigned int u32;
#define EXPORT(name) __attribute__((export_name(name)))
#define MATH(name) __attribute__((import_module("Math"), import_name(name)))

MATH("log") double js_log(double);
MATH("cos") double js_cos(double);
MATH("sin") double js_sin(double);

// A fill writes at most BLOCK doubles; JavaScript copies them out (TypedArray.set converts to the
// tensor's dtype exactly as an element store would).
#define BLOCK 8192
static u32 s[4];
static double block[BLOCK];

/** Where JavaScript writes the generator's four state words before a fill and reads them after. */
EXPORT("state") u32 *state(void) { return s; }
/** Where a fill writes its values. */
EXPORT("block") double *block_ptr(void) { return block; }

static inline u32 rotl(u32 x, int k) { return (x << k) | (x >> (32 - k)); }

/** Generator.nextUint32. */
static inline u32 next(void) {
  u32 result = rotl(s[1] * 5, 7) * 9;
  u32 t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

/** Generator.uniform: hi and lo are exact in a double, the division by 2^53 too. */
static inline double uniform(void) {
  u32 hi = next() >> 5;
  u32 lo = next() >> 6;
  return ((double)hi * 67108864.0 + (double)lo) / 9007199254740992.0;
}

/** block[i] = uniform() (affine: uniform() * a + b) for i < n <= BLOCK. */
EXPORT("uniform") void fill_uniform(int n, double a, double b, int affine) {
  for (int i = 0; i < n; i++) {
    double u = uniform();
    block[i] = affine ? u * a + b : u;
  }
}

/** `pairs` Box-Muller pairs (2 * pairs <= BLOCK) as normal() makes them: the cosine deviate first. */
EXPORT("normal") void fill_normal(int pairs, double a, double b, int affine) {
  for (int k = 0; k < pairs; k++) {
    double u1 = 1 - uniform(); // (0, 1]: log stays finite
    double u2 = uniform();
    double r = __builtin_sqrt(-2 * js_log(u1));
    double c = r * js_cos(2 * 3.141592653589793 * u2); // 2 * Math.PI * u2, as (2 * Math.PI) * u2
    double sn = r * js_sin(2 * 3.141592653589793 * u2);
    block[2 * k] = affine ? c * a + b : c;
    block[2 * k + 1] = affine ? sn * a + b : sn;
  }
}

/** block[i] = low + floor(uniform() * range) for i < n <= BLOCK: Generator.randint shifted by low. */
EXPORT("randint") void fill_randint(int n, double low, double range) {
  for (int i = 0; i < n; i++) block[i] = low + __builtin_floor(uniform() * range);
}
