// Linear in one native call (src/backends/native/norm.ts is the caller): out = x·wᵀ by the GEMM
// driver (gemm.h, unchanged), then the bias added to each row while out is still in cache, instead
// of a matmul and a broadcast add crossing into the addon twice. The definition is
// src/backends/fallback/norm.ts's linear (the product's rounding is the GEMM's; the bias add is the
// same float addition as the element-wise kernel's).
#include <node_api.h>

#include <type_traits>

#include "gemm.h"
#include "napi_util.h"
#include "pool.h"

namespace descent {
namespace {

using idx = std::ptrdiff_t;
const Isa* g_lin_isa = nullptr;

template <typename T>
void run(const T* x, const T* w, const T* b, T* out, const idx* m) {
  const idx M = m[0], K = m[1], N = m[2];
  // B = wᵀ: depth k walks w's columns (stride sWk), columns n walk its rows (stride sWn).
  Product<T> p{M, N, K, x, m[4], m[5], w, m[8], m[7], out, N};
  const idx start = 0;
  gemm_batch(Batch<T>{p, 1, &start, &start}, *g_lin_isa, pool_threads());
  if (!b)
    return;
  const idx sb = m[10];
  for (idx i = 0; i < M; i++) {
    T* row = out + i * N;
    for (idx j = 0; j < N; j++) row[j] += b[j * sb];
  }
}

/**
 * linear(x, w, b | null, out, meta); meta = [M, K, N, xOff, sXm, sXk, wOff, sWn, sWk, bOff, sB,
 * outOff]. x, w and b strided (checked to lie inside their arrays), out contiguous [M, N].
 */
napi_value Linear(napi_env env, napi_callback_info info) {
  Entry e(env, info, "linear");
  if (!e.at_least(5)) return nullptr;
  const double* md = e.meta(4, 12);
  if (!md) return nullptr;
  idx m[12];
  for (int i = 0; i < 12; i++) m[i] = idx(md[i]);
  Array arr[4];
  int type;
  auto optional = [](int i) { return i == 2; };  // the bias may be null
  if (!e.float_arrays(4, arr, &type, optional, "expected Float32Array or Float64Array")) return nullptr;
  const idx M = m[0], K = m[1], N = m[2];
  if (M < 0 || K < 0 || N < 0) return e.fail("negative size");
  const idx xs[2] = {M, K}, xst[2] = {m[4], m[5]}, ws[2] = {N, K}, wst[2] = {m[7], m[8]}, bs[1] = {N}, bst[1] = {m[10]};
  idx cells = 0;
  if (__builtin_mul_overflow(M, N, &cells) || !span_inside(m[11], cells, arr[3].length) ||
      !inside(m[3], xs, xst, 2, arr[0].length) || !inside(m[6], ws, wst, 2, arr[1].length) ||
      (arr[2].data && !inside(m[9], bs, bst, 1, arr[2].length)))
    return e.fail("a view reaches outside its array", false);
  if (M == 0 || N == 0) return nullptr;
  auto go = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* b = arr[2].data ? static_cast<const T*>(arr[2].data) + m[9] : nullptr;
    run(static_cast<const T*>(arr[0].data) + m[3], static_cast<const T*>(arr[1].data) + m[6], b,
        static_cast<T*>(arr[3].data) + m[11], m);
  };
  by_dtype(type, go);
  return nullptr;
}

}  // namespace

void register_linear(napi_env env, napi_value exports, const Isa* isa) {
  g_lin_isa = isa;
  napi_property_descriptor props[] = {
      {"linear", nullptr, Linear, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}

}  // namespace descent
