// Node-API glue of Descent's native backend (src/backends/native/index.ts is its only caller).
// Kernels read and write the tensors' own typed arrays: napi_get_typedarray_info hands out the
// pointer, nothing is copied. Layout numbers arrive in one Float64Array (one call to read them all
// instead of one per number). Every call checks that the views stay inside their arrays, so a bug
// on the JS side throws instead of corrupting memory.
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "elementwise.h"
#include "gemm.h"
#include "pool.h"
#include "napi_util.h"
#include "rnn.h"

namespace descent {
napi_status register_window(napi_env env, napi_value exports);  // window.cc
namespace {

using idx = std::ptrdiff_t;

Isa g_best = Isa::portable;  // what the CPU supports
Isa g_isa = Isa::portable;   // what is used (setIsa may lower it, for tests)

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    default: return "portable";
  }
}

#define CHECK(call)                                         \
  do {                                                      \
    if ((call) != napi_ok) return throw_error(env, #call);  \
  } while (0)

napi_value throw_error(napi_env env, const char* what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, nullptr, what);
  return nullptr;
}

napi_value throw_type(napi_env env, const char* what) {
  napi_throw_type_error(env, nullptr, what);
  return nullptr;
}

/** matmul(a, b, c, meta): meta = [nb, M, K, N, aOff, sAm, sAk, bOff, sBk, sBn, cOff, (size, sA, sB) × nb]. */
napi_value Matmul(napi_env env, napi_callback_info info) {
  std::size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Array a, b, c, m;
  if (argc < 4 || !typed_array(env, argv[0], &a) || !typed_array(env, argv[1], &b) ||
      !typed_array(env, argv[2], &c) || !typed_array(env, argv[3], &m) || m.type != napi_float64_array)
    return throw_type(env, "matmul: expected (a, b, out, meta: Float64Array)");
  if (a.type != c.type || b.type != c.type || (c.type != napi_float32_array && c.type != napi_float64_array))
    return throw_type(env, "matmul: a, b and out must all be Float32Array or all Float64Array");
  const double* meta = static_cast<const double*>(m.data);
  if (m.length < 11) return throw_type(env, "matmul: meta too short");
  const int nb = int(meta[0]);
  if (nb < 0 || std::size_t(11 + 3 * nb) > m.length) return throw_type(env, "matmul: meta too short");
  // Sizes, strides and offsets are whole numbers a JS number holds exactly (|v| ≤ 2^53), so the
  // products below fit in 64 bits unless the counts overflow, which is checked where they are formed.
  for (std::size_t i = 0; i < std::size_t(11 + 3 * nb); i++)
    if (!(std::fabs(meta[i]) <= 9007199254740992.0) || meta[i] != std::floor(meta[i]))
      return throw_type(env, "matmul: meta holds a size, stride or offset that is not a whole number within ±2^53");
  const idx M = idx(meta[1]), K = idx(meta[2]), N = idx(meta[3]);
  std::vector<idx> aSizes, aStrides, bSizes, bStrides;
  idx count = 1;
  for (int d = 0; d < nb; d++) {
    idx size = idx(meta[11 + 3 * d]);
    if (size < 0 || __builtin_mul_overflow(count, size, &count)) return throw_type(env, "matmul: bad batch size");
    aSizes.push_back(size), aStrides.push_back(idx(meta[12 + 3 * d]));
    bSizes.push_back(size), bStrides.push_back(idx(meta[13 + 3 * d]));
  }
  aSizes.push_back(M), aStrides.push_back(idx(meta[5])), aSizes.push_back(K), aStrides.push_back(idx(meta[6]));
  bSizes.push_back(K), bStrides.push_back(idx(meta[8])), bSizes.push_back(N), bStrides.push_back(idx(meta[9]));
  const idx aOff = idx(meta[4]), bOff = idx(meta[7]), cOff = idx(meta[10]);
  if (M < 0 || K < 0 || N < 0 || count < 0) return throw_type(env, "matmul: negative size");
  if (count == 0 || M == 0 || N == 0) return nullptr;
  idx cells = 0;  // count·M·N, the elements of out (an overflow here slipped past the size check)
  if (__builtin_mul_overflow(count, M, &cells) || __builtin_mul_overflow(cells, N, &cells) || cOff < 0 ||
      cells > idx(c.length) - cOff)
    return throw_error(env, "matmul: out is too small");
  if (!inside(aOff, aSizes.data(), aStrides.data(), nb + 2, a.length) ||
      !inside(bOff, bSizes.data(), bStrides.data(), nb + 2, b.length))
    return throw_error(env, "matmul: a view reaches outside its array");

  // Start of each matrix of the batch (an odometer over the batch dims; stride 0 = broadcast).
  std::vector<idx> aStart(count), bStart(count), pos(nb, 0);
  idx ap = 0, bp = 0;
  for (idx t = 0; t < count; t++) {
    aStart[t] = ap, bStart[t] = bp;
    for (int d = nb - 1; d >= 0; d--) {
      ap += aStrides[d], bp += bStrides[d];
      if (++pos[d] < aSizes[d]) break;
      pos[d] = 0;
      ap -= aStrides[d] * aSizes[d], bp -= bStrides[d] * bSizes[d];
    }
  }
  const idx sAm = aStrides[nb], sAk = aStrides[nb + 1], sBk = bStrides[nb], sBn = bStrides[nb + 1];
  if (c.type == napi_float32_array) {
    Product<float> p{M, N, K, static_cast<float*>(a.data) + aOff, sAm, sAk, static_cast<float*>(b.data) + bOff,
                     sBk, sBn, static_cast<float*>(c.data) + cOff, N};
    gemm_batch(Batch<float>{p, count, aStart.data(), bStart.data()}, g_isa, pool_threads());
  } else {
    Product<double> p{M, N, K, static_cast<double*>(a.data) + aOff, sAm, sAk, static_cast<double*>(b.data) + bOff,
                      sBk, sBn, static_cast<double*>(c.data) + cOff, N};
    gemm_batch(Batch<double>{p, count, aStart.data(), bStart.data()}, g_isa, pool_threads());
  }
  return nullptr;
}

napi_value GetIsa(napi_env env, napi_callback_info) {
  napi_value out;
  CHECK(napi_create_string_utf8(env, isa_name(g_isa), NAPI_AUTO_LENGTH, &out));
  return out;
}

/** setIsa(name): use a lesser kernel set than the CPU's best (tests cover every path this way). */
napi_value SetIsa(napi_env env, napi_callback_info info) {
  std::size_t argc = 1;
  napi_value argv[1];
  char name[16] = {0};
  std::size_t len = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok)
    return throw_type(env, "setIsa: expected a string");
  for (Isa isa : {Isa::portable, Isa::avx2, Isa::avx512}) {
    if (std::strcmp(name, isa_name(isa)) != 0) continue;
    if (int(isa) > int(g_best)) return throw_error(env, "setIsa: this CPU does not support that instruction set");
    g_isa = isa;
    return nullptr;
  }
  return throw_type(env, "setIsa: expected \"portable\", \"avx2\" or \"avx512\"");
}

napi_value GetThreads(napi_env env, napi_callback_info) {
  napi_value out;
  CHECK(napi_create_int32(env, pool_threads(), &out));
  return out;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  std::size_t argc = 1;
  napi_value argv[1];
  int32_t n = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1)
    return throw_type(env, "setThreads: expected a positive integer");
  set_pool_threads(n);
  return nullptr;
}

}  // namespace

void register_fused(napi_env env, napi_value exports, const Isa* isa);  // fused.cc
void register_attention(napi_env env, napi_value exports, const Isa* isa);  // attention.cc
bool register_probe(napi_env env, napi_value exports);  // probe.cc (the benchmark suite's FMA peak)
void register_layernorm(napi_env env, napi_value exports);  // layernorm.cc
void register_linear(napi_env env, napi_value exports, const Isa* isa);  // linear.cc
void register_gelu(napi_env env, napi_value exports);  // gelu.cc
void register_plan(napi_env env, napi_value exports, Isa* isa);  // plan.cc
void register_random(napi_env env, napi_value exports);  // random.cc
}  // namespace descent

NAPI_MODULE_INIT() {
  using namespace descent;
  static bool detected = false;
  if (!detected) g_best = g_isa = detect_isa(), detected = true;
  reserve_huge_heap();
  napi_property_descriptor props[] = {
      {"matmul", nullptr, Matmul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isa", nullptr, GetIsa, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setIsa", nullptr, SetIsa, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"threads", nullptr, GetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return nullptr;
  if (register_window(env, exports) != napi_ok) return nullptr;
  register_fused(env, exports, &g_isa);
  register_attention(env, exports, &g_isa);
  register_layernorm(env, exports);
  register_linear(env, exports, &g_isa);
  register_gelu(env, exports);
  register_plan(env, exports, &g_isa);
  register_random(env, exports);
  if (!register_elementwise(env, exports, &g_isa)) return nullptr;
  if (!register_rnn(env, exports, &g_isa)) return nullptr;
  if (!register_probe(env, exports)) return nullptr;
  return exports;
}
