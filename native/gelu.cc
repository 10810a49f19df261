// Fused GELU of the native backend (src/backends/native/gelu.ts is the caller): forward and its
// backward in one pass each, in double with one rounding per element, split over the pool for large
// tensors. The definition is src/backends/fallback/gelu.ts (parity to float rounding in
// test/backends/accelerations.test.ts). float64 uses glibc's erf, as the element-wise erf kernel;
// float32's exact form a vectorisable rational erf (glibc's is a call per element, and was most of
// a GPT training step's GELU time).
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "napi_util.h"
#include "pool.h"

namespace descent {
namespace {

using idx = std::ptrdiff_t;
constexpr double kK = 0.044715;

template <typename T>
struct Gelu {
  const T* x;
  const T* g;  // null: forward
  T* out;
  idx n;
  bool tanh;
};

/**
 * erf for float32 as a rational function of x on [−4, 4] (±1 outside), the approximation Eigen and
 * XLA use: a few float ulps, and a loop of it vectorises where glibc's erf is a call per element.
 */
inline float erf_f32(float x) {
  x = std::min(4.0f, std::max(-4.0f, x));
  const float x2 = x * x;
  float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
  p = p * x2 + -2.10102402082508e-06f;
  p = p * x2 + -5.69250639462346e-05f;
  p = p * x2 + -7.34990630326855e-04f;
  p = p * x2 + -2.95459980854025e-03f;
  p = p * x2 + -1.60960333262415e-02f;
  float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
  q = q * x2 + -1.68282697438203e-03f;
  q = q * x2 + -7.37332916720468e-03f;
  q = q * x2 + -1.42647390514189e-02f;
  return x * p / q;
}

/** The exact form in float32 (erf_f32; NaN passes through the clamp's comparisons as NaN). */
void gelu_exact_f32(const float* x, const float* g, float* out, idx lo, idx hi) {
  const float r2 = 0.70710678118654752f, inv = 0.39894228040143268f;
  if (!g) {
    for (idx i = lo; i < hi; i++) {
      const float v = x[i];
      out[i] = v != v ? v : v * 0.5f * (erf_f32(v * r2) + 1.0f);
    }
    return;
  }
  for (idx i = lo; i < hi; i++) {
    const float v = x[i];
    const float d = (erf_f32(v * r2) + 1.0f) * 0.5f + v * std::exp(v * v * -0.5f) * inv;
    out[i] = v != v ? v : g[i] * d;
  }
}

template <typename T>
void gelu_part(void* ctx, int part, int parts) {
  const Gelu<T>& a = *static_cast<const Gelu<T>*>(ctx);
  const idx lo = a.n * part / parts, hi = a.n * (part + 1) / parts;
  if constexpr (std::is_same_v<T, float>)
    if (!a.tanh) return gelu_exact_f32(a.x, a.g, a.out, lo, hi);
  const double s2p = std::sqrt(2.0 / M_PI), inv = 1.0 / std::sqrt(2.0 * M_PI), r2 = std::sqrt(0.5);
  for (idx i = lo; i < hi; i++) {
    const double v = a.x[i];
    if (!a.g) {
      const double inner = a.tanh ? std::tanh((v + v * v * v * kK) * s2p) : std::erf(v * r2);
      a.out[i] = T(v * 0.5 * (inner + 1));
      continue;
    }
    double d;
    if (a.tanh) {
      const double t = std::tanh((v + v * v * v * kK) * s2p);
      d = (t + 1) * 0.5 + v * 0.5 * (1 - t * t) * (v * v * 3 * kK + 1) * s2p;
    } else {
      d = (std::erf(v * r2) + 1) * 0.5 + v * std::exp(v * v * -0.5) * inv;
    }
    a.out[i] = T(a.g[i] * d);
  }
}

/** gelu(x, g | null, out, meta): meta = [n, xOff, gOff, outOff, tanh]; all contiguous. */
napi_value Call(napi_env env, napi_callback_info info) {
  Entry e(env, info, "gelu");
  if (!e.at_least(4)) return nullptr;
  Array x, g, out, meta;
  bool forward;  // g is null or undefined
  if (!e.absent(1, &forward)) return nullptr;
  const bool backward = !forward;
  const napi_value* argv = e.argv;
  if (!typed_array(env, argv[0], &x) || !typed_array(env, argv[2], &out) || (backward && !typed_array(env, argv[1], &g)) ||
      !typed_array(env, argv[3], &meta) || meta.type != napi_float64_array || meta.length < 5)
    return e.fail("expected (x, g | null, out, meta: Float64Array(5))");
  if ((x.type != napi_float32_array && x.type != napi_float64_array) || out.type != x.type ||
      (backward && g.type != x.type))
    return e.fail("x, g and out must all be Float32Array or all Float64Array");
  const double* m = static_cast<const double*>(meta.data);
  for (int i = 0; i < 4; i++)
    if (!(m[i] >= 0 && integral(m[i]))) return e.fail("meta must hold non-negative integers");
  const idx n = idx(m[0]), xo = idx(m[1]), go = idx(m[2]), oo = idx(m[3]);
  if (!span_inside(xo, n, x.length) || !span_inside(oo, n, out.length) || (backward && !span_inside(go, n, g.length)))
    return e.fail("a view reaches outside its array", false);
  if (n == 0) return nullptr;
  auto go_ = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    Gelu<T> a{static_cast<const T*>(x.data) + xo, backward ? static_cast<const T*>(g.data) + go : nullptr,
              static_cast<T*>(out.data) + oo, n, m[4] != 0};
    // ~20 ns an element (erf / tanh in double): a part per 16k elements.
    const int parts = int(std::max<idx>(1, std::min<idx>(pool_threads(), n / 16384)));
    if (parts == 1)
      gelu_part<T>(&a, 0, 1);
    else
      pool_run(gelu_part<T>, &a, parts, parts);
  };
  by_dtype(x.type, go_);
  return nullptr;
}

}  // namespace

void register_gelu(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gelu", nullptr, Call, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}

}  // namespace descent
