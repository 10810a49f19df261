// The x86-64 micro-kernels, each compiled for its own instruction set through a target attribute,
// so one build runs everywhere and detect_isa() picks at run time. A kernel keeps an MR×(NV·W)
// tile of C in vector registers (W lanes per vector): per depth step it loads NV vectors of the
// packed B panel, broadcasts each of the MR values of the packed A panel and issues MR·NV FMAs.
// Tiles: AVX-512 8×32 float / 8×16 double (16 accumulators of the 32 zmm registers), AVX2 6×16
// float / 6×8 double (12 of the 16 ymm registers). On a Zen 4 (which runs a 512-bit FMA as two
// 256-bit halves: 32 float flops per cycle) 8×32, 12×32 and 14×32 all ran an L1-resident kernel at
// ~115 GFLOP/s, the core's peak, so the smallest tile (least edge waste) was kept; gemm_tune.cc
// gives the reasons it stays right on Zen 5 and Intel (measured on the Zen 5: ~227 of 227–236). The kernel
// prefetches its C tile first: C comes from L2/L3 at the end, and overlapping those misses with
// the FMAs was worth ~8% at 1024².
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <immintrin.h>

#include "gemm.h"

namespace descent {
namespace {

using idx = std::ptrdiff_t;

#define DESCENT_KERNEL(NAME, TARGET, T, VEC, W, LOAD, STORE, SET1, FMA, ADD, ZERO)             \
  template <int MR, int NV>                                                                 \
  __attribute__((target(TARGET))) void NAME(idx kc, const T* a, const T* b, T* c, idx ldc, \
                                            bool accumulate) {                              \
    /* C is read at the end; start fetching it now. */                                       \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                   \
        _Pragma("GCC unroll 4") for (int l = 0; l < int(NV * W * sizeof(T)); l += 64)       \
            _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc) + l, _MM_HINT_T0);      \
    VEC s[MR][NV];                                                                          \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                   \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) s[i][v] = ZERO();              \
    for (idx p = 0; p < kc; p++, a += MR, b += NV * W) {                                    \
      VEC bv[NV];                                                                           \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) bv[v] = LOAD(b + v * W);         \
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                               \
        VEC ai = SET1(a[i]);                                                                \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) s[i][v] = FMA(ai, bv[v], s[i][v]); \
      }                                                                                     \
    }                                                                                       \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                   \
        _Pragma("GCC unroll 4") for (int v = 0; v < NV; v++) {                              \
      T* dst = c + i * ldc + v * W;                                                         \
      STORE(dst, accumulate ? ADD(LOAD(dst), s[i][v]) : s[i][v]);                           \
    }                                                                                       \
  }

DESCENT_KERNEL(f32_avx512, "avx512f", float, __m512, 16, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps,
               _mm512_fmadd_ps, _mm512_add_ps, _mm512_setzero_ps)
DESCENT_KERNEL(f64_avx512, "avx512f", double, __m512d, 8, _mm512_loadu_pd, _mm512_storeu_pd, _mm512_set1_pd,
               _mm512_fmadd_pd, _mm512_add_pd, _mm512_setzero_pd)
DESCENT_KERNEL(f32_avx2, "avx2,fma", float, __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps,
               _mm256_fmadd_ps, _mm256_add_ps, _mm256_setzero_ps)
DESCENT_KERNEL(f64_avx2, "avx2,fma", double, __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd,
               _mm256_fmadd_pd, _mm256_add_pd, _mm256_setzero_pd)

#undef DESCENT_KERNEL

/**
 * PackT for float (gemm.h): 8 lines × 8 depth steps loaded as 8 rows, transposed with the usual
 * unpack/shuffle/permute sequence (24 shuffles per 64 values) and stored as 8 depth steps of the
 * panel. The scalar gather it replaces was 5% of a 1024² product (perf, Zen 5); AVX2 suffices.
 */
__attribute__((target("avx2"))) void pack_t8_f32(float* dst, int R, const float* src, idx sR, idx n, idx kc) {
  for (idx q = 0; q < n; q += R, src += R * sR, dst += R * kc) {
    idx p0 = 0;
    for (; p0 + 8 <= kc; p0 += 8) {
      for (int i0 = 0; i0 < R; i0 += 8) {
        const float* s = src + i0 * sR + p0;
        __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + sR), r2 = _mm256_loadu_ps(s + 2 * sR),
               r3 = _mm256_loadu_ps(s + 3 * sR), r4 = _mm256_loadu_ps(s + 4 * sR), r5 = _mm256_loadu_ps(s + 5 * sR),
               r6 = _mm256_loadu_ps(s + 6 * sR), r7 = _mm256_loadu_ps(s + 7 * sR);
        __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
               t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
               t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
        __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
               u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
               u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
               u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
        float* d = dst + p0 * R + i0;
        _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
        _mm256_storeu_ps(d + R, _mm256_permute2f128_ps(u1, u5, 0x20));
        _mm256_storeu_ps(d + 2 * R, _mm256_permute2f128_ps(u2, u6, 0x20));
        _mm256_storeu_ps(d + 3 * R, _mm256_permute2f128_ps(u3, u7, 0x20));
        _mm256_storeu_ps(d + 4 * R, _mm256_permute2f128_ps(u0, u4, 0x31));
        _mm256_storeu_ps(d + 5 * R, _mm256_permute2f128_ps(u1, u5, 0x31));
        _mm256_storeu_ps(d + 6 * R, _mm256_permute2f128_ps(u2, u6, 0x31));
        _mm256_storeu_ps(d + 7 * R, _mm256_permute2f128_ps(u3, u7, 0x31));
      }
    }
    for (int i = 0; i < R; i++)
      for (idx p = p0; p < kc; p++) dst[p * R + i] = src[i * sR + p];
  }
}

}  // namespace

Kernel<float> kernel_f32_avx512() { return {8, 32, f32_avx512<8, 2>, pack_t8_f32}; }
Kernel<double> kernel_f64_avx512() { return {8, 16, f64_avx512<8, 2>}; }
Kernel<float> kernel_f32_avx2() { return {6, 16, f32_avx2<6, 2>, pack_t8_f32}; }
Kernel<double> kernel_f64_avx2() { return {6, 8, f64_avx2<6, 2>}; }

}  // namespace descent

#endif
