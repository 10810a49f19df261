// Inner loops of the native element-wise kernels, compiled once per instruction set: elementwise.cc
// includes this file three times on x86-64, with EW_NS naming the namespace and EW_TARGET the
// target attribute (avx512f / avx2 / none), and once elsewhere. Each loop runs one row of n
// elements; p[0] is the output, p[1..] the inputs, s[k] their strides in bytes. The compiler
// vectorises the unit-stride and scalar-broadcast cases (plain loops, no intrinsics: the same source
// serves every ISA and arm64); any other stride takes the scalar strided loop.
// No include guard on purpose.

namespace descent {
namespace EW_NS {

using idx = std::ptrdiff_t;
using ew::Inner;

#define EW_P(T, k) reinterpret_cast<T*>(p[k])
#define EW_CP(T, k) reinterpret_cast<const T*>(p[k])

/** Eight elements of a contiguous row as doubles (exact for float). */
EW_TARGET inline __attribute__((always_inline)) ew::d8 load8(const float* p) {
  ew::f8 f;
  std::memcpy(&f, p, sizeof f);
  return __builtin_convertvector(f, ew::d8);
}
EW_TARGET inline __attribute__((always_inline)) ew::d8 load8(const double* p) {
  ew::d8 d;
  std::memcpy(&d, p, sizeof d);
  return d;
}

/**
 * e^x on eight doubles, for float32 results only: x is clamped to [−110, 90] (beyond, the float
 * is 0 or Inf either way), split as k·ln2 + r (Cody–Waite, |r| ≤ 0.35) and e^r summed to r¹³
 * (truncation < 1e-17 relative). With rounding, the double is within ~4e-16 of e^x: rounded to
 * float it equals the correctly rounded float unless e^x lies within that of a rounding boundary
 * (about one element in 10⁸, and then 1 float ulp off; js's fdlibm exp has the same exposure).
 */
EW_TARGET inline __attribute__((always_inline)) ew::d8 vexp(const ew::d8& xin) {
  ew::d8 x = xin < -110.0 ? ew::d8{} - 110.0 : xin;
  x = x > 90.0 ? ew::d8{} + 90.0 : x;  // NaN compares false both times and passes through
  const double shift = 0x1.8p52;     // adding it rounds to an integer held in the low mantissa bits
  const ew::d8 t = x * 1.4426950408889634 + shift;
  const ew::d8 k = t - shift;
  const ew::d8 r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
  ew::d8 p = ew::d8{} + 1.0 / 6227020800.0;  // 1/13!
  const double c[] = {1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880, 1.0 / 40320, 1.0 / 5040,
                      1.0 / 720,       1.0 / 120,      1.0 / 24,      1.0 / 6,      0.5,          1.0, 1.0};
  for (double ci : c) p = p * r + ci;
  ew::i8 bits;
  std::memcpy(&bits, &t, sizeof bits);
  bits = (bits - 0x4338000000000000LL + 1023) << 52;  // 2^k (k within the normal exponent range)
  ew::d8 scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

/** The js sigmoid's two branches on eight doubles: 1/(1+e^−x) for x ≥ 0, e^x/(1+e^x) below. */
EW_TARGET inline __attribute__((always_inline)) ew::d8 vsigmoid(const ew::d8& x) {
  const ew::d8 e = vexp(x >= 0 ? -x : x);
  return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

/**
 * tanh on eight doubles: an odd series to x¹¹ for |x| < 1/16 (truncation < 2e-17 relative; 1 − 2/(e+1)
 * would cancel there), else sign(x)·(1 − 2/(e^{2|x|} + 1)) (relative error < 16·4e-16).
 */
EW_TARGET inline __attribute__((always_inline)) ew::d8 vtanh(const ew::d8& x) {
  const ew::d8 ax = x < 0 ? -x : x, x2 = x * x;
  const ew::d8 series =
      x + x * x2 * (-1.0 / 3 + x2 * (2.0 / 15 + x2 * (-17.0 / 315 + x2 * (62.0 / 2835 + x2 * (-1382.0 / 155925)))));
  const ew::d8 big = 1.0 - 2.0 / (vexp(2.0 * ax) + 1.0);
  return ax < 0.0625 ? series : x < 0 ? -big : big;  // NaN: ax < 1/16 is false, big is NaN
}

/**
 * ln x on eight doubles, for float32 results only (every float is a normal double, subnormals
 * included): x = m·2^e with m in [√½, √2), ln x = e·ln2 + 2·atanh(s), s = (m − 1)/(m + 1),
 * |s| ≤ 0.172, the series summed to s²³ (truncation < 1e-18 relative). m − 1 is exact, so there is
 * no cancellation near 1. Zero, negatives, +Inf and NaN are patched in from their IEEE results.
 */
EW_TARGET inline __attribute__((always_inline)) ew::d8 vlog(const ew::d8& x) {
  ew::i8 bits;
  std::memcpy(&bits, &x, sizeof bits);
  ew::i8 e = ((bits >> 52) & 0x7ff) - 1023;
  bits = (bits & 0x000fffffffffffffLL) | 0x3ff0000000000000LL;  // m in [1, 2)
  ew::d8 m;
  std::memcpy(&m, &bits, sizeof m);
  const auto high = m > 1.4142135623730951;
  m = high ? m * 0.5 : m;
  e = high ? e + 1 : e;
  const ew::d8 s = (m - 1.0) / (m + 1.0), s2 = s * s;
  ew::d8 p = ew::d8{} + 1.0 / 23;
  for (int k = 21; k >= 1; k -= 2) p = p * s2 + 1.0 / k;
  const ew::d8 ef = __builtin_convertvector(e, ew::d8);
  ew::d8 y = ef * 0.6931471805599453 + 2.0 * s * p;
  const double inf = std::numeric_limits<double>::infinity();
  y = x == 0 ? ew::d8{} - inf : y;
  y = x == inf ? x : y;
  return (x < 0) | (x != x) ? ew::d8{} + std::numeric_limits<double>::quiet_NaN() : y;
}

/** The vectorised form of Op on float32 rows, where there is one. */
template <class Op>
EW_TARGET inline __attribute__((always_inline)) ew::d8 vapply(const ew::d8& x) {
  if constexpr (std::is_same_v<Op, ew::Exp>) return vexp(x);
  else if constexpr (std::is_same_v<Op, ew::Sigmoid>) return vsigmoid(x);
  else if constexpr (std::is_same_v<Op, ew::Log>) return vlog(x);
  else return vtanh(x);
}
template <class Op>
constexpr bool kVecF32 = std::is_same_v<Op, ew::Exp> || std::is_same_v<Op, ew::Sigmoid> || std::is_same_v<Op, ew::Tanh> ||
                         std::is_same_v<Op, ew::Log>;

template <class Op, class T>
EW_TARGET void unary(const void*, idx n, char* const* p, const idx* s) {
  constexpr idx E = sizeof(T);
  T* o = EW_P(T, 0);
  const T* x = EW_CP(T, 1);
  if constexpr (std::is_same_v<T, float> && kVecF32<Op>) {
    if (s[0] == E && s[1] == E) {
      idx i = 0;
      for (; i + 8 <= n; i += 8) {
        const ew::f8 y = __builtin_convertvector(vapply<Op>(load8(x + i)), ew::f8);
        std::memcpy(o + i, &y, sizeof y);
      }
      for (; i < n; i++) o[i] = Op::f(x[i]);
      return;
    }
  }
  if (s[0] == E && s[1] == E) {
    if (o == x) {  // in place: one pointer, so no aliasing check stops vectorisation
      for (idx i = 0; i < n; i++) o[i] = Op::f(o[i]);
    } else {
      for (idx i = 0; i < n; i++) o[i] = Op::f(x[i]);
    }
    return;
  }
  const idx so = s[0] / E, sx = s[1] / E;
  for (idx i = 0; i < n; i++) o[i * so] = Op::f(x[i * sx]);
}

template <class Op, class T>
EW_TARGET void binary(const void*, idx n, char* const* p, const idx* s) {
  constexpr idx E = sizeof(T);
  T* o = EW_P(T, 0);
  const T *a = EW_CP(T, 1), *b = EW_CP(T, 2);
  if (s[0] == E && s[1] == E && s[2] == E) {
    if (o == a) {  // a.add_(b)
      for (idx i = 0; i < n; i++) o[i] = Op::f(o[i], b[i]);
    } else {
      for (idx i = 0; i < n; i++) o[i] = Op::f(a[i], b[i]);
    }
    return;
  }
  if (s[0] == E && s[1] == E && s[2] == 0) {  // tensor ∘ scalar (or a row broadcast along it)
    const T bv = *b;
    for (idx i = 0; i < n; i++) o[i] = Op::f(a[i], bv);
    return;
  }
  if (s[0] == E && s[1] == 0 && s[2] == E) {
    const T av = *a;
    for (idx i = 0; i < n; i++) o[i] = Op::f(av, b[i]);
    return;
  }
  const idx so = s[0] / E, sa = s[1] / E, sb = s[2] / E;
  for (idx i = 0; i < n; i++) o[i * so] = Op::f(a[i * sa], b[i * sb]);
}

/** out = cond != 0 ? a : b (NaN != 0 is true, as in js). */
template <class C, class T>
EW_TARGET void where(const void*, idx n, char* const* p, const idx* s) {
  constexpr idx E = sizeof(T);
  T* o = EW_P(T, 0);
  const C* c = EW_CP(C, 1);
  const T *a = EW_CP(T, 2), *b = EW_CP(T, 3);
  if (s[0] == E && s[1] == idx(sizeof(C))) {
    if (s[2] == E && s[3] == E) {
      for (idx i = 0; i < n; i++) o[i] = c[i] != 0 ? a[i] : b[i];
      return;
    }
    if (s[2] == 0 && s[3] == E) {  // maskedFill's where(mask, value, x)
      const T av = *a;
      for (idx i = 0; i < n; i++) o[i] = c[i] != 0 ? av : b[i];
      return;
    }
    if (s[2] == E && s[3] == 0) {
      const T bv = *b;
      for (idx i = 0; i < n; i++) o[i] = c[i] != 0 ? a[i] : bv;
      return;
    }
  }
  const idx so = s[0] / E, sc = s[1] / idx(sizeof(C)), sa = s[2] / E, sb = s[3] / E;
  for (idx i = 0; i < n; i++) o[i * so] = c[i * sc] != 0 ? a[i * sa] : b[i * sb];
}

template <class T>
EW_TARGET void copy(const void*, idx n, char* const* p, const idx* s) {
  constexpr idx E = sizeof(T);
  T* o = EW_P(T, 0);
  const T* x = EW_CP(T, 1);
  if (s[0] == E && s[1] == E) {
    std::memmove(o, x, std::size_t(n) * E);
    return;
  }
  const idx so = s[0] / E, sx = s[1] / E;
  for (idx i = 0; i < n; i++) o[i * so] = x[i * sx];
}

/**
 * A transposing copy, one n × ctx.cols panel per call: along the rows (this loop's dim) x is
 * contiguous and out strided, along the columns out is contiguous and x strided. 16 × 16 tiles keep
 * both sides in cache; row-by-row, every read would touch a new cache line.
 */
template <class T>
EW_TARGET void copy_tiled(const void* ctx, idx n, char* const* p, const idx* s) {
  constexpr idx E = sizeof(T), B = 16;
  const ew::TileCtx& c = *static_cast<const ew::TileCtx*>(ctx);
  T* o = EW_P(T, 0);
  const T* x = EW_CP(T, 1);
  const idx soi = s[0] / E, sxj = c.xStride / E;
  for (idx i0 = 0; i0 < n; i0 += B)
    for (idx j0 = 0; j0 < c.cols; j0 += B) {
      const idx i1 = std::min(n, i0 + B), j1 = std::min(c.cols, j0 + B);
      for (idx j = j0; j < j1; j++) {
        // Each column is its own stream through x, more than the hardware prefetcher follows.
        __builtin_prefetch(x + i0 + 4 * B + j * sxj);
        for (idx i = i0; i < i1; i++) o[i * soi + j] = x[i + j * sxj];
      }
    }
}

/** ctx: the fill value as a double; rounding it to T is what a Float32Array store does. */
template <class T>
EW_TARGET void fill(const void* ctx, idx n, char* const* p, const idx* s) {
  const T v = T(*static_cast<const double*>(ctx));
  T* o = EW_P(T, 0);
  const idx so = s[0] / idx(sizeof(T));
  if (so == 1) {
    for (idx i = 0; i < n; i++) o[i] = v;
    return;
  }
  for (idx i = 0; i < n; i++) o[i * so] = v;
}

/** R::f on eight lanes at once (GCC vector extensions: the same source for every ISA). */
template <class R>
EW_TARGET inline __attribute__((always_inline)) ew::d8 combine8(const ew::d8& c, const ew::d8& v) {
  if constexpr (std::is_same_v<R, ew::SumR>) return c + v;
  else if constexpr (std::is_same_v<R, ew::MaxR>) return ((v > c) | (v != v)) ? v : c;
  else return ((v < c) | (v != v)) ? v : c;
}

/**
 * x[0..n) (stride sx) folded into `init`. Contiguous rows use 16 independent lanes (two 8-double
 * vectors), so a sum is added in another order than js's left-to-right one; max/min are exact
 * in any order (up to which of ±0 wins a tie and which NaN payload survives).
 */
template <class R, class T>
EW_TARGET double fold(double init, const T* x, idx n, idx sx) {
  double c = init;
  idx i = 0;
  if (sx == 1 && n >= 16) {
    ew::d8 a0 = ew::d8{} + R::init, a1 = a0;
    for (; i + 16 <= n; i += 16) {
      a0 = combine8<R>(a0, load8(x + i));
      a1 = combine8<R>(a1, load8(x + i + 8));
    }
    a0 = combine8<R>(a0, a1);
    for (int j = 0; j < 8; j++) c = R::f(c, a0[j]);
  }
  for (; i < n; i++) c = R::f(c, double(x[i * sx]));
  return c;
}

/** p[0]: the float64 accumulators (stride 0 along reduced dims), p[1]: x. */
template <class R, class T>
EW_TARGET void reduce(const void*, idx n, char* const* p, const idx* s) {
  double* acc = EW_P(double, 0);
  const T* x = EW_CP(T, 1);
  const idx sx = s[1] / idx(sizeof(T));
  if (s[0] == 0) {
    *acc = fold<R>(*acc, x, n, sx);
    return;
  }
  const idx sa = s[0] / idx(sizeof(double));
  if (sa == 1 && sx == 1) {
    for (idx i = 0; i < n; i++) acc[i] = R::f(acc[i], double(x[i]));
    return;
  }
  for (idx i = 0; i < n; i++) acc[i * sa] = R::f(acc[i * sa], double(x[i * sx]));
}

/** One row per element of the loop: the first extreme along the reduced dim (NaN wins at once). */
template <bool Max, class T>
EW_TARGET void arg(const void* ctx, idx n, char* const* p, const idx* s) {
  const ew::ArgCtx& c = *static_cast<const ew::ArgCtx*>(ctx);
  for (idx r = 0; r < n; r++) {
    const char* row = p[1] + r * s[1];
    T best = *reinterpret_cast<const T*>(row);
    idx at = 0;
    if (best == best)
      for (idx j = 1; j < c.len; j++) {
        const T v = *reinterpret_cast<const T*>(row + j * c.stride);
        if ((Max ? v > best : v < best) || v != v) {
          best = v, at = j;
          if (v != v) break;
        }
      }
    *reinterpret_cast<std::int32_t*>(p[0] + r * s[0]) = std::int32_t(at);
  }
}

#undef EW_P
#undef EW_CP

template <class T>
ew::Set make_set() {
  using namespace ew;
  return {
#define EW_UNARY_LOOP(name, F) unary<F, T>,
#define EW_BINARY_LOOP(name, F) binary<F, T>,
      {EW_UNARY_OPS(EW_UNARY_LOOP)},
      {EW_BINARY_OPS(EW_BINARY_LOOP)},
#undef EW_UNARY_LOOP
#undef EW_BINARY_LOOP
      copy<T>,
      copy_tiled<T>,
      fill<T>,
      {where<float, T>, where<double, T>, where<std::int32_t, T>},
#define EW_REDUCE_LOOP(name, R) reduce<R, T>,
      {EW_REDUCE_OPS(EW_REDUCE_LOOP)},
#undef EW_REDUCE_LOOP
      {arg<true, T>, arg<false, T>},
  };
}

/** The kernels for float32 [0] and float64 [1]. */
inline const ew::Set* sets() {
  static const ew::Set s[2] = {make_set<float>(), make_set<double>()};
  return s;
}

}  // namespace EW_NS
}  // namespace descent
