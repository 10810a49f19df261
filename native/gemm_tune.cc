// What the GEMM runs on this CPU: the instruction set (detect_isa), the micro-kernel tile for it,
// the cache sizes read from cpuid, and the cache block sizes derived from them (gemm.h's Tuning).
// The suite prints all of it next to the measured peak (probe.cc's gemmTuning), so a run on
// another machine shows what was chosen there, not what was measured here.
//
// Tiles (kernels_x86.cc): every AVX-512 core gets 8×32 float / 8×16 double. On the Zen 4 these
// machines had (512-bit FMAs run as two 256-bit halves, 1 zmm FMA a cycle) 8×32, 12×32 and 14×32
// all ran an L1-resident kernel at the core's peak; on the Zen 5 they have now (full-width: 2 zmm
// FMAs a cycle, 4-cycle latency, so 8 accumulators in flight are needed and 16 are held) 8×32,
// 10×32, 12×32, 6×64 and 4×64 measured 214–234 GFLOP/s of a 236 peak, within the machine's noise
// of each other. Intel's full-width cores (Skylake-SP to Sapphire Rapids: 2 FMA ports, 2 load
// ports) need, per depth step of 8×32, 10 loads for 16 FMAs (8 cycles): 1.25 loads a cycle of 2,
// so the same tile is not load-bound there either; the smallest tile wastes least at ragged edges.
// AVX2 cores (16 ymm) get 6×16 float: 12 accumulators + 2 B vectors + 1 broadcast.
#include <algorithm>
#include <atomic>
#include <cstring>

#include "gemm.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define DESCENT_CPUID 1
#endif
#ifdef __linux__
#include <unistd.h>
#endif

namespace descent {
namespace {

using idx = std::ptrdiff_t;

#ifdef DESCENT_CPUID
/** Deterministic cache parameters (AMD leaf 0x8000001D, Intel leaf 4): level → size in bytes. */
bool cache_leaf(unsigned leaf, CacheSizes& out) {
  bool any = false;
  for (unsigned i = 0; i < 16; i++) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(leaf, i, &a, &b, &c, &d)) return any;
    const unsigned type = a & 31, level = (a >> 5) & 7;
    if (type == 0) break;
    if (type == 2) continue;  // instruction cache
    const std::size_t size = std::size_t((b >> 22) + 1) * (((b >> 12) & 0x3ff) + 1) * ((b & 0xfff) + 1) * (std::size_t(c) + 1);
    if (level == 1) out.l1d = size;
    if (level == 2) out.l2 = size;
    if (level == 3) out.l3 = size;
    any = true;
  }
  return any;
}

CacheSizes cpuid_caches(bool& amd, unsigned& family) {
  CacheSizes s{};
  unsigned a, b, c, d;
  __cpuid(0, a, b, c, d);
  const unsigned maxStd = a;
  amd = b == 0x68747541;  // "Auth"enticAMD
  __cpuid(1, a, b, c, d);
  family = ((a >> 8) & 15) + (((a >> 8) & 15) == 15 ? (a >> 20) & 0xff : 0);
  unsigned maxExt = __get_cpuid_max(0x80000000, nullptr);
  if (amd) {
    __cpuid(0x80000001, a, b, c, d);
    // Leaf 0x8000001D needs TOPOEXT, which some hypervisors hide (the VMs here): then the legacy leaves.
    if ((c >> 22 & 1) && maxExt >= 0x8000001D && cache_leaf(0x8000001D, s)) return s.source = "cpuid 0x8000001D", s;
    if (maxExt >= 0x80000006) {
      __cpuid(0x80000005, a, b, c, d);
      s.l1d = std::size_t(c >> 24) * 1024;
      __cpuid(0x80000006, a, b, c, d);
      s.l2 = std::size_t(c >> 16) * 1024;
      s.l3 = std::size_t(d >> 18) * 512 * 1024;
      if (s.l1d && s.l2) return s.source = "cpuid 0x80000005/6", s;
    }
  } else if (maxStd >= 4 && cache_leaf(4, s)) {
    return s.source = "cpuid 4", s;
  }
  return CacheSizes{};
}
#endif

CacheSizes detect_caches(const char*& uarch) {
  CacheSizes s{};
  uarch = "unknown";
#ifdef DESCENT_CPUID
  bool amd = false;
  unsigned family = 0;
  s = cpuid_caches(amd, family);
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  if (amd) uarch = family == 0x1A ? "Zen 5" : family == 0x19 ? (avx512 ? "Zen 4" : "Zen 3") : "AMD";
  else uarch = avx512 ? "Intel AVX-512" : "Intel";
#endif
#ifdef _SC_LEVEL1_DCACHE_SIZE
  if (!s.l1d) {
    s.l1d = std::size_t(sysconf(_SC_LEVEL1_DCACHE_SIZE) > 0 ? sysconf(_SC_LEVEL1_DCACHE_SIZE) : 0);
    s.l2 = std::size_t(sysconf(_SC_LEVEL2_CACHE_SIZE) > 0 ? sysconf(_SC_LEVEL2_CACHE_SIZE) : 0);
    s.l3 = std::size_t(sysconf(_SC_LEVEL3_CACHE_SIZE) > 0 ? sysconf(_SC_LEVEL3_CACHE_SIZE) : 0);
    s.source = "sysconf";
  }
#endif
  if (!s.l1d || !s.l2) s = CacheSizes{32 * 1024, 512 * 1024, 8 << 20, "defaults"};
  return s;
}

/**
 * Block budgets from the caches. kc: a KC×NR panel of B fills 2/3 of L1d (32 KiB of Zen 4's 32
 * measured best there, where C is prefetched), except on Zen 5, where an eighth of L2 measured
 * better (below); mc: an MC×KC block of A in half of L2 (the other half holds the C rows
 * it updates and the B panels streaming through); the packed B block (all of K × NC) is capped at
 * 4 MiB, well inside any L3 share: a VM here reports the whole socket's L3 (508 MiB) through the
 * legacy leaf, so the L3 figure is only an upper bound.
 */
Tuning derive(const CacheSizes& c, const char* uarch) {
  Tuning t;
  t.cache = c;
  t.uarch = uarch;
  t.l1Panel = c.l1d >= 48 * 1024 ? c.l1d * 2 / 3 : c.l1d;
  // Zen 5 feeds both operands from L2 fast enough (64 B a cycle; the 8×32 kernel needs 160 B per
  // 8-cycle depth step), so a deeper panel that streams from L2 wins: fewer passes over each C
  // tile, fewer blocks to pack and start. 1024³ float32, raw product, medians of 15 interleaved
  // runs (bench/gemm_kc.ts): KC 256 (the L1 rule) 187 / 321 GFLOP/s at 1 / 2 threads, 512 186 /
  // 344, 1024 196 / 350; equal or better at 256³–2048³ and the MLP/attention shapes there.
  if (std::strcmp(uarch, "Zen 5") == 0) t.l1Panel = std::max(t.l1Panel, c.l2 / 8);
  t.l2Block = c.l2 / 2;
  t.l3Block = std::min<std::size_t>(c.l3 ? c.l3 / 4 : std::size_t(4) << 20, std::size_t(4) << 20);
  return t;
}

std::atomic<std::size_t> g_override[3];  // l1Panel, l2Block, l3Block in bytes; 0 = derived

/** The portable 4×4 kernel: plain C that any compiler vectorises a little (SSE2, NEON). */
template <typename T>
void micro_portable(idx kc, const T* a, const T* b, T* c, idx ldc, bool accumulate) {
  T s[4][4] = {};
  for (idx p = 0; p < kc; p++, a += 4, b += 4)
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 4; j++) s[i][j] += a[i] * b[j];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) c[i * ldc + j] = (accumulate ? c[i * ldc + j] : T(0)) + s[i][j];
}

}  // namespace

Tuning tuning() {
  static const Tuning base = [] {
    const char* uarch;
    CacheSizes c = detect_caches(uarch);
    return derive(c, uarch);
  }();
  Tuning t = base;
  if (std::size_t v = g_override[0].load(std::memory_order_relaxed)) t.l1Panel = v;
  if (std::size_t v = g_override[1].load(std::memory_order_relaxed)) t.l2Block = v;
  if (std::size_t v = g_override[2].load(std::memory_order_relaxed)) t.l3Block = v;
  return t;
}

void set_tuning(std::size_t l1Panel, std::size_t l2Block, std::size_t l3Block) {
  g_override[0].store(l1Panel);
  g_override[1].store(l2Block);
  g_override[2].store(l3Block);
}

Isa detect_isa() {
#ifdef DESCENT_CPUID
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return Isa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
#endif
  return Isa::portable;
}

Kernel<float> kernel_f32(Isa isa) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (isa == Isa::avx512) return kernel_f32_avx512();
  if (isa == Isa::avx2) return kernel_f32_avx2();
#endif
  (void)isa;
  return {4, 4, micro_portable<float>};
}

Kernel<double> kernel_f64(Isa isa) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (isa == Isa::avx512) return kernel_f64_avx512();
  if (isa == Isa::avx2) return kernel_f64_avx2();
#endif
  (void)isa;
  return {4, 4, micro_portable<double>};
}

}  // namespace descent
