// The element-wise operations of compiled inference plans (plan.cc): the GEMM epilogue's
// activations (gemm.cc) and the fused element-wise programs use this one list. An op's code is its
// position in PLAN_OPS; the addon reports the names in order (`planOps`) and the TypeScript side
// (src/backends/plan/native.ts) matches them by name, so no number is kept equal by hand. Unary ops
// read `x` (and the immediate `a`: LeakyReLU's slope, ELU's alpha); binary ops read `x` and `y`.
// Values are float32, as the eager kernels store them; transcendentals go through double like the
// js kernels, so a plan agrees with the eager forward to float32 rounding.
#pragma once

#include <cmath>
#include <cstddef>

namespace descent {
namespace plan {

inline double sigmoid_d(double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }

// X(name, arity, expression in float x, float y, float a)
#define PLAN_OPS(X)                                                                               \
  X(identity, 1, x)                                                                               \
  X(neg, 1, -x)                                                                                   \
  X(abs, 1, std::fabs(x))                                                                         \
  X(sign, 1, x > 0 ? 1.f : x < 0 ? -1.f : x)                                                      \
  X(sqrt, 1, std::sqrt(x))                                                                        \
  X(reciprocal, 1, 1.f / x)                                                                       \
  X(relu, 1, (x > 0 || x != x) ? x : 0.f)                                                         \
  X(floor, 1, std::floor(x))                                                                      \
  X(ceil, 1, std::ceil(x))                                                                        \
  X(exp, 1, float(std::exp(double(x))))                                                          \
  X(expm1, 1, float(std::expm1(double(x))))                                                      \
  X(log, 1, float(std::log(double(x))))                                                          \
  X(log1p, 1, float(std::log1p(double(x))))                                                      \
  X(sin, 1, float(std::sin(double(x))))                                                          \
  X(cos, 1, float(std::cos(double(x))))                                                          \
  X(tanh, 1, float(std::tanh(double(x))))                                                        \
  X(erf, 1, float(std::erf(double(x))))                                                          \
  X(sigmoid, 1, float(sigmoid_d(double(x))))                                                     \
  X(gelu, 1, float(0.5 * double(x) * (1 + std::erf(double(x) * 0.70710678118654752))))           \
  X(geluTanh, 1,                                                                                  \
    float(0.5 * double(x) *                                                                       \
          (1 + std::tanh(0.79788456080286536 * (double(x) + 0.044715 * double(x) * x * x)))))    \
  X(silu, 1, float(double(x) * sigmoid_d(double(x))))                                            \
  X(leakyRelu, 1, x > 0 ? x : x * a)                                                              \
  X(elu, 1, x > 0 ? x : float(double(a) * std::expm1(double(x))))                                \
  X(add, 2, x + y)                                                                                \
  X(sub, 2, x - y)                                                                                \
  X(mul, 2, x * y)                                                                                \
  X(div, 2, x / y)                                                                                \
  X(maximum, 2, (x != x || y != y) ? x + y : x > y ? x : y)                                       \
  X(minimum, 2, (x != x || y != y) ? x + y : x < y ? x : y)                                       \
  X(pow, 2, float(std::pow(double(x), double(y))))

enum Op : int {
#define PLAN_ENUM(name, arity, expr) op_##name,
  PLAN_OPS(PLAN_ENUM)
#undef PLAN_ENUM
      op_count
};

/** Arity of each op (1 or 2), by code. */
inline int arity(int op) {
  static const int a[] = {
#define PLAN_ARITY(name, ar, expr) ar,
      PLAN_OPS(PLAN_ARITY)
#undef PLAN_ARITY
  };
  return op >= 0 && op < op_count ? a[op] : 0;
}

/**
 * out[i] = op(x[i], y[i]) over n values (y null: a broadcast scalar b; unary ops ignore y and b).
 * The switch sits outside the loop, so each case is one simple loop the compiler can vectorise.
 */
inline void apply(int op, const float* xs, const float* ys, float b, float* out, std::ptrdiff_t n, float a) {
  switch (op) {
#define PLAN_CASE(name, ar, expr)                   \
  case op_##name:                                   \
    if (ys)                                         \
      for (std::ptrdiff_t i = 0; i < n; i++) {      \
        const float x = xs[i], y = ys[i];           \
        (void)y;                                    \
        out[i] = (expr);                            \
      }                                             \
    else                                            \
      for (std::ptrdiff_t i = 0; i < n; i++) {      \
        const float x = xs[i], y = b;               \
        (void)y;                                    \
        out[i] = (expr);                            \
      }                                             \
    break;
    PLAN_OPS(PLAN_CASE)
#undef PLAN_CASE
    default: break;
  }
}

}  // namespace plan
}  // namespace descent
