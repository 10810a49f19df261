// The FMA-throughput probe of the benchmark suite (issue 15): this machine's measured float32 peak,
// so bench/suite.ts can report W1's GEMM as a share of what the cores can do rather than of a
// datasheet figure. Each thread runs kChains independent fused multiply-add chains on the widest
// vector the CPU has (AVX-512, else AVX2+FMA, else scalar); independent chains hide the FMA latency,
// so the loop is bound by FMA issue throughput alone. No memory is touched inside the loop.
// JS: fmaPeak(threads) -> { gflops, isa } (best of 40 short timed runs, threads started per run).
// Beside it, what the GEMM chose on this machine (gemm_tune.cc), so the suite shows the cache sizes
// and block sizes its W1 figure came from: gemmTuning(M, N, K) -> { uarch, l1d, l2, l3, cacheSource,
// l1Panel, l2Block, l3Block, mr, nr, kc, mc, mc2, nc } (float32, best ISA; mc2: with 2 threads), and
// setGemmTuning(l1Panel, l2Block, l3Block) (bytes, 0 = derived) for benchmarks that sweep them.
#include <node_api.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define DESCENT_X86 1
#endif

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>
#include <thread>
#include <vector>

#include "gemm.h"

namespace descent {
namespace {

// Zen 4/5 and recent Intel cores issue 2 FMAs a cycle with a 4-cycle latency: 8 chains keep both
// pipes busy; 16 leave slack and still fit the 16 ymm / 32 zmm registers without spills.
constexpr int kChains = 16;

/** One run: `iters` steps of every chain; returns a value that depends on all of them (so nothing is elided). */
using Kernel = float (*)(long iters);

#ifdef DESCENT_X86
__attribute__((target("avx512f"))) float chains_avx512(long iters) {
  __m512 acc[kChains];
  for (int k = 0; k < kChains; k++) acc[k] = _mm512_set1_ps(1.0f + 0.01f * k);
  const __m512 b = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-7f);
  for (long i = 0; i < iters; i++)
    for (int k = 0; k < kChains; k++) acc[k] = _mm512_fmadd_ps(acc[k], b, c);
  __m512 s = acc[0];
  for (int k = 1; k < kChains; k++) s = _mm512_add_ps(s, acc[k]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) float chains_avx2(long iters) {
  __m256 acc[kChains];
  for (int k = 0; k < kChains; k++) acc[k] = _mm256_set1_ps(1.0f + 0.01f * k);
  const __m256 b = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iters; i++)
    for (int k = 0; k < kChains; k++) acc[k] = _mm256_fmadd_ps(acc[k], b, c);
  alignas(32) float lanes[8];
  __m256 s = acc[0];
  for (int k = 1; k < kChains; k++) s = _mm256_add_ps(s, acc[k]);
  _mm256_store_ps(lanes, s);
  float t = 0;
  for (float v : lanes) t += v;
  return t;
}
#endif

float chains_scalar(long iters) {
  float acc[kChains];
  for (int k = 0; k < kChains; k++) acc[k] = 1.0f + 0.01f * k;
  for (long i = 0; i < iters; i++)
    for (int k = 0; k < kChains; k++) acc[k] = acc[k] * 0.9999999f + 1e-7f;
  float t = 0;
  for (float v : acc) t += v;
  return t;
}

struct Choice {
  Kernel run;
  int lanes;
  const char* isa;
};

Choice widest() {
#ifdef DESCENT_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {chains_avx512, 16, "avx512"};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {chains_avx2, 8, "avx2"};
#endif
  return {chains_scalar, 1, "portable"};
}

volatile float g_sink;  // where every run's result goes, so no chain is optimised away

/** Seconds for `threads` threads each running `iters` steps (wall time, thread start included). */
double timed(const Choice& c, int threads, long iters) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  std::vector<float> out(threads);
  for (int t = 1; t < threads; t++) pool.emplace_back([&, t] { out[t] = c.run(iters); });
  out[0] = c.run(iters);
  for (auto& th : pool) th.join();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (float v : out) g_sink = v;
  return s;
}

napi_value FmaPeak(napi_env env, napi_callback_info info) {
  std::size_t argc = 1;
  napi_value argv[1];
  int32_t threads = 1;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &threads) != napi_ok || threads < 1 || threads > 256) {
    napi_throw_type_error(env, nullptr, "fmaPeak: expected a thread count from 1 to 256");
    return nullptr;
  }
  const Choice c = widest();
  // Calibrate to ~3 ms a run, then keep the best of 40 (~0.15 s): a shared machine only ever slows a
  // run down, and a run that short often fits in one scheduler slice when other processes compete.
  long iters = 1 << 12;
  while (timed(c, 1, iters) < 0.001 && iters < (1L << 40)) iters *= 4;
  iters = std::max(1L, static_cast<long>(iters * (0.003 / std::max(timed(c, 1, iters), 1e-9))));
  double best = 0;
  for (int r = 0; r < 40; r++) best = std::max(best, 2.0 * kChains * c.lanes * iters * threads / timed(c, threads, iters));
  napi_value out, gflops, isa;
  if (napi_create_object(env, &out) != napi_ok || napi_create_double(env, best / 1e9, &gflops) != napi_ok ||
      napi_create_string_utf8(env, c.isa, NAPI_AUTO_LENGTH, &isa) != napi_ok ||
      napi_set_named_property(env, out, "gflops", gflops) != napi_ok ||
      napi_set_named_property(env, out, "isa", isa) != napi_ok)
    return nullptr;
  return out;
}

bool set_number(napi_env env, napi_value obj, const char* key, double v) {
  napi_value x;
  return napi_create_double(env, v, &x) == napi_ok && napi_set_named_property(env, obj, key, x) == napi_ok;
}

/** Reads up to `n` non-negative whole numbers (missing ones stay as given); false (and a TypeError) otherwise. */
bool read_sizes(napi_env env, napi_callback_info info, double* out, std::size_t n, const char* what) {
  std::size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return false;
  for (std::size_t i = 0; i < argc && i < n; i++) {
    double v;
    if (napi_get_value_double(env, argv[i], &v) != napi_ok || !(v >= 0 && v <= 9007199254740991.0) || v != double(int64_t(v))) {
      napi_throw_type_error(env, nullptr, what);
      return false;
    }
    out[i] = v;
  }
  return true;
}

napi_value GemmTuning(napi_env env, napi_callback_info info) {
  double size[3] = {1024, 1024, 1024};
  if (!read_sizes(env, info, size, 3, "gemmTuning: expected sizes M, N, K as whole numbers")) return nullptr;
  const Tuning t = tuning();
  const Isa isa = detect_isa();
  const Blocks b1 = gemm_blocks(isa, false, std::ptrdiff_t(size[0]), std::ptrdiff_t(size[1]), std::ptrdiff_t(size[2]), 1);
  const Blocks b2 = gemm_blocks(isa, false, std::ptrdiff_t(size[0]), std::ptrdiff_t(size[1]), std::ptrdiff_t(size[2]), 2);
  napi_value out, uarch, source;
  if (napi_create_object(env, &out) != napi_ok || napi_create_string_utf8(env, t.uarch, NAPI_AUTO_LENGTH, &uarch) != napi_ok ||
      napi_create_string_utf8(env, t.cache.source, NAPI_AUTO_LENGTH, &source) != napi_ok ||
      napi_set_named_property(env, out, "uarch", uarch) != napi_ok ||
      napi_set_named_property(env, out, "cacheSource", source) != napi_ok)
    return nullptr;
  const std::pair<const char*, double> fields[] = {
      {"l1d", double(t.cache.l1d)}, {"l2", double(t.cache.l2)}, {"l3", double(t.cache.l3)}, {"l1Panel", double(t.l1Panel)},
      {"l2Block", double(t.l2Block)}, {"l3Block", double(t.l3Block)}, {"mr", double(b1.mr)}, {"nr", double(b1.nr)},
      {"kc", double(b1.kc)}, {"mc", double(b1.mc)}, {"mc2", double(b2.mc)}, {"nc", double(b1.nc)}};
  for (const auto& f : fields)
    if (!set_number(env, out, f.first, f.second)) return nullptr;
  return out;
}

napi_value SetGemmTuning(napi_env env, napi_callback_info info) {
  double bytes[3] = {0, 0, 0};
  if (!read_sizes(env, info, bytes, 3, "setGemmTuning: expected byte budgets (l1Panel, l2Block, l3Block) as whole numbers, 0 for derived"))
    return nullptr;
  set_tuning(std::size_t(bytes[0]), std::size_t(bytes[1]), std::size_t(bytes[2]));
  return nullptr;
}

}  // namespace

/** Adds fmaPeak, gemmTuning and setGemmTuning to the addon's exports (called from addon.cc). */
bool register_probe(napi_env env, napi_value exports) {
  napi_property_descriptor p[] = {
      {"fmaPeak", nullptr, FmaPeak, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gemmTuning", nullptr, GemmTuning, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setGemmTuning", nullptr, SetGemmTuning, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  return napi_define_properties(env, exports, 3, p) == napi_ok;
}

}  // namespace descent
