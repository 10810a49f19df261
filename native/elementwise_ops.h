// The per-element operations of the native element-wise kernels (elementwise.cc), each the C++
// twin of an expression in src/backends/js/kernels.ts, written so that it gives the same bits.
// The js backend computes a float32 op in double and rounds on the Float32Array store. For
// + − × ÷ and sqrt that double rounding is innocuous (53 ≥ 2·24 + 2 bits), so computing them in
// float gives the same result and lets the compiler vectorise. Transcendentals are computed in
// double by libm and rounded: glibc's exp/log/sin/... and V8's fdlibm ports are each within ~1 ulp
// of the true double, so float64 results can differ from js by an ulp or two (the tests allow 4)
// and float32 results agree except when a double lands within that much of a float rounding
// boundary (rare; the tests allow 1 float ulp). float32 exp, log, tanh and sigmoid instead run as
// double polynomials on 8 lanes (elementwise_loops.h), accurate to ~4e-16, with the same exposure.
// Comparisons are written exactly as the js ones so NaN, ±0 and ±Inf take the same branch.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace descent {
namespace ew {

/** The js backend's overflow-free form (the naive one gives Inf/Inf = NaN for x ≪ 0). */
inline double sigmoid(double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }

#define EW_OP(NAME, EXPR)                                      \
  struct NAME {                                                \
    template <typename T>                                      \
    static inline __attribute__((always_inline)) T f(T x) {    \
      return EXPR;                                             \
    }                                                          \
  };

// Exact in T (no rounding, or a single correctly rounded IEEE operation).
EW_OP(Neg, -x)
EW_OP(Abs, std::fabs(x))
EW_OP(Sign, x > 0 ? T(1) : x < 0 ? T(-1) : x)
EW_OP(Sqrt, std::sqrt(x))
EW_OP(Reciprocal, T(1) / x)
EW_OP(Relu, (x > 0 || x != x) ? x : T(0))
EW_OP(Floor, std::floor(x))
EW_OP(Ceil, std::ceil(x))
EW_OP(Round, std::nearbyint(x))  // half to even in the default rounding mode, as roundHalfEven
EW_OP(IsNan, x != x ? T(1) : T(0))
EW_OP(IsInf, (x == std::numeric_limits<T>::infinity() || x == -std::numeric_limits<T>::infinity()) ? T(1) : T(0))
// Through double, as Math.* sees a float32 element.
EW_OP(Exp, T(std::exp(double(x))))
EW_OP(Expm1, T(std::expm1(double(x))))
EW_OP(Log, T(std::log(double(x))))
EW_OP(Log1p, T(std::log1p(double(x))))
EW_OP(Sin, T(std::sin(double(x))))
EW_OP(Cos, T(std::cos(double(x))))
EW_OP(Tanh, T(std::tanh(double(x))))
// js erf is a series / continued fraction good to a few double ulp; glibc's erf to < 1 ulp.
EW_OP(Erf, T(std::erf(double(x))))
EW_OP(Sigmoid, T(sigmoid(double(x))))
#undef EW_OP

#define EW_BIN(NAME, EXPR)                                        \
  struct NAME {                                                   \
    template <typename T>                                         \
    static inline __attribute__((always_inline)) T f(T a, T b) {  \
      return EXPR;                                                \
    }                                                             \
  };

EW_BIN(Add, a + b)
EW_BIN(Sub, a - b)
EW_BIN(Mul, a* b)
EW_BIN(Div, a / b)
// Math.pow differs from C's pow at (−1, ±Inf): NaN in JS, 1 in C. a === 1 is 1 in both (js tests it first).
EW_BIN(Pow, a == 1 ? T(1) : (a == -1 && std::isinf(b)) ? std::numeric_limits<T>::quiet_NaN() : T(std::pow(double(a), double(b))))
EW_BIN(Maximum, (a != a || a > b) ? a : b)
EW_BIN(Minimum, (a != a || a < b) ? a : b)
EW_BIN(Eq, a == b ? T(1) : T(0))
EW_BIN(Ne, a != b ? T(1) : T(0))
EW_BIN(Lt, a < b ? T(1) : T(0))
EW_BIN(Le, a <= b ? T(1) : T(0))
EW_BIN(Gt, a > b ? T(1) : T(0))
EW_BIN(Ge, a >= b ? T(1) : T(0))
#undef EW_BIN

// Reductions fold float64 accumulators whatever the dtype, as js does.
struct SumR {
  static constexpr double init = 0;
  static inline __attribute__((always_inline)) double f(double c, double v) { return c + v; }
};
struct MaxR {
  static constexpr double init = -std::numeric_limits<double>::infinity();
  static inline __attribute__((always_inline)) double f(double c, double v) { return (v > c || v != v) ? v : c; }
};
struct MinR {
  static constexpr double init = std::numeric_limits<double>::infinity();
  static inline __attribute__((always_inline)) double f(double c, double v) { return (v < c || v != v) ? v : c; }
};

/** One row of a loop: n elements, p[k] operand k's first element, s[k] its stride in bytes. */
using Inner = void (*)(const void* ctx, std::ptrdiff_t n, char* const* p, const std::ptrdiff_t* s);

// Vectors of the generic extensions (an ISA's registers inside a target function, SSE pairs
// elsewhere); only used inside always-inlined code, so no vector crosses a call (-Wpsabi is moot).
typedef double d8 __attribute__((vector_size(64)));
typedef float f8 __attribute__((vector_size(32)));
typedef long long i8 __attribute__((vector_size(64)));

/** A transposing copy's panel: column count and x's stride along the columns (bytes). */
struct TileCtx {
  std::ptrdiff_t cols, xStride;
};

/** argReduce's reduced dim: its length and x's stride along it (bytes). */
struct ArgCtx {
  std::ptrdiff_t len, stride;
};

// The ops this addon implements, by their names in src/backends/op_list.ts and the functors above.
// The addon reports these names (elementwise.cc's opNames) and elementwise.ts sends an op's
// position here as its code, so the order is this file's own: adding a line adds an op, and an op
// listed in TS but not here runs in the js backend.
#define EW_UNARY_OPS(X)                                                                                              \
  X(neg, Neg) X(abs, Abs) X(sign, Sign) X(exp, Exp) X(expm1, Expm1) X(log, Log) X(log1p, Log1p) X(sqrt, Sqrt)       \
  X(reciprocal, Reciprocal) X(sin, Sin) X(cos, Cos) X(tanh, Tanh) X(sigmoid, Sigmoid) X(relu, Relu) X(erf, Erf)      \
  X(floor, Floor) X(ceil, Ceil) X(round, Round) X(isnan, IsNan) X(isinf, IsInf)
#define EW_BINARY_OPS(X)                                                                                             \
  X(add, Add) X(sub, Sub) X(mul, Mul) X(div, Div) X(pow, Pow) X(maximum, Maximum) X(minimum, Minimum) X(eq, Eq)      \
  X(ne, Ne) X(lt, Lt) X(le, Le) X(gt, Gt) X(ge, Ge)

#define EW_REDUCE_OPS(X) X(sum, SumR) X(max, MaxR) X(min, MinR)

#define EW_COUNT(name, F) +1
constexpr int kUnary = 0 EW_UNARY_OPS(EW_COUNT), kBinary = 0 EW_BINARY_OPS(EW_COUNT),
              kReduce = 0 EW_REDUCE_OPS(EW_COUNT);
#undef EW_COUNT

/** Every inner loop of one dtype for one ISA; indices are positions in EW_UNARY_OPS / EW_BINARY_OPS. */
struct Set {
  Inner unary[kUnary];
  Inner binary[kBinary];
  Inner copy;
  Inner copy_tiled;
  Inner fill;
  Inner where[3];  // by cond dtype: float32, float64, int32
  Inner reduce[kReduce];
  Inner arg[2];     // argmax, argmin
};

}  // namespace ew
}  // namespace descent
