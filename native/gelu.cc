// Fused GELU of the native backend (src/backends/native/gelu.ts is the caller): forward and its
// backward in one pass each, in double with one rounding per element, split over the pool for large
// tensors. The definition is src/backends/fallback/gelu.ts (parity to float rounding in
// test/backends/accelerations.test.ts; erf is glibc's, as the element-wise erf kernel's).
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

template <typename T>
void gelu_part(void* ctx, int part, int parts) {
  const Gelu<T>& a = *static_cast<const Gelu<T>*>(ctx);
  const idx lo = a.n * part / parts, hi = a.n * (part + 1) / parts;
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
  std::size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  if (argc < 4) return fail(env, "gelu: too few arguments");
  Array x, g, out, meta;
  napi_valuetype vt;
  if (napi_typeof(env, argv[1], &vt) != napi_ok) return nullptr;
  const bool backward = vt != napi_null && vt != napi_undefined;
  if (!typed_array(env, argv[0], &x) || !typed_array(env, argv[2], &out) || (backward && !typed_array(env, argv[1], &g)) ||
      !typed_array(env, argv[3], &meta) || meta.type != napi_float64_array || meta.length < 5)
    return fail(env, "gelu: expected (x, g | null, out, meta: Float64Array(5))");
  if ((x.type != napi_float32_array && x.type != napi_float64_array) || out.type != x.type ||
      (backward && g.type != x.type))
    return fail(env, "gelu: x, g and out must all be Float32Array or all Float64Array");
  const double* m = static_cast<const double*>(meta.data);
  for (int i = 0; i < 4; i++)
    if (!(m[i] >= 0 && m[i] < 9e15) || m[i] != std::floor(m[i])) return fail(env, "gelu: meta must hold non-negative integers");
  const idx n = idx(m[0]), xo = idx(m[1]), go = idx(m[2]), oo = idx(m[3]);
  if (xo + n > idx(x.length) || oo + n > idx(out.length) || (backward && go + n > idx(g.length)))
    return fail(env, "gelu: a view reaches outside its array", false);
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
  if (x.type == napi_float32_array)
    go_(static_cast<float*>(nullptr));
  else
    go_(static_cast<double*>(nullptr));
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
