// The small-M (and small-N) GEMM path: products with a few rows, such as batch-1 inference
// x·Wᵀ ([1,784]·[784,256]), where the blocked driver of gemm.cc would pack all of B for an 8-row
// micro-kernel that is mostly zero padding. Here B is streamed once, straight from its own
// layout: a vectorised dot product per output when B's columns are contiguous (the transposed
// weight), register tiles of C accumulated from B's rows when its rows are. With few columns
// instead (N small, A's rows contiguous: the logits layer) the product is transposed, Cᵀ = Bᵀ·Aᵀ,
// and runs the dot layout. Other layouts (both strides of B non-unit) return false and take the
// general path. The kernels (gemm_small_body.h) are compiled once per instruction set.
#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm.h"

namespace descent {
namespace {

using idx = std::ptrdiff_t;

namespace portable {
#define DESCENT_TGT
template <typename T>
struct V {
  using vec = T;
  static constexpr int W = 1;
  static constexpr int ROWS = 4;
  static vec zero() { return T(0); }
  static vec load(const T* p) { return *p; }
  static vec loadn(const T*, int) { return T(0); }  // never called: W = 1 leaves no partial vector
  static void store(T* p, vec v) { *p = v; }
  static void storen(T*, vec, int) {}
  static vec set1(T x) { return x; }
  static vec fma(vec a, vec b, vec c) { return c + a * b; }
  static T hsum(vec v) { return v; }
};
#include "gemm_small_body.h"
#undef DESCENT_TGT
}  // namespace portable

}  // namespace
}  // namespace descent

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

namespace descent {
namespace {

namespace avx512 {
#define DESCENT_TGT __attribute__((target("avx512f")))
template <typename T>
struct V;
template <>
struct V<float> {
  using vec = __m512;
  static constexpr int W = 16;
  static constexpr int ROWS = 4;  // 4 rows × 4 columns: 16 accumulators + 4 loads of 32 zmm
  DESCENT_TGT static vec zero() { return _mm512_setzero_ps(); }
  DESCENT_TGT static vec load(const float* p) { return _mm512_loadu_ps(p); }
  DESCENT_TGT static vec loadn(const float* p, int n) { return _mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p); }
  DESCENT_TGT static void store(float* p, vec v) { _mm512_storeu_ps(p, v); }
  DESCENT_TGT static void storen(float* p, vec v, int n) { _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), v); }
  DESCENT_TGT static vec set1(float x) { return _mm512_set1_ps(x); }
  DESCENT_TGT static vec fma(vec a, vec b, vec c) { return _mm512_fmadd_ps(a, b, c); }
  // Through memory: GCC 12's _mm512_reduce_add_* and lane shuffles trip -Wuninitialized inside
  // its own header (they start from an undefined vector); this runs once per output only.
  DESCENT_TGT static float hsum(vec v) {
    alignas(64) float t[16];
    _mm512_store_ps(t, v);
    for (int w = 8; w > 0; w /= 2)
      for (int i = 0; i < w; i++) t[i] += t[i + w];
    return t[0];
  }
};
template <>
struct V<double> {
  using vec = __m512d;
  static constexpr int W = 8;
  static constexpr int ROWS = 4;
  DESCENT_TGT static vec zero() { return _mm512_setzero_pd(); }
  DESCENT_TGT static vec load(const double* p) { return _mm512_loadu_pd(p); }
  DESCENT_TGT static vec loadn(const double* p, int n) { return _mm512_maskz_loadu_pd(__mmask8((1u << n) - 1), p); }
  DESCENT_TGT static void store(double* p, vec v) { _mm512_storeu_pd(p, v); }
  DESCENT_TGT static void storen(double* p, vec v, int n) { _mm512_mask_storeu_pd(p, __mmask8((1u << n) - 1), v); }
  DESCENT_TGT static vec set1(double x) { return _mm512_set1_pd(x); }
  DESCENT_TGT static vec fma(vec a, vec b, vec c) { return _mm512_fmadd_pd(a, b, c); }
  DESCENT_TGT static double hsum(vec v) {
    alignas(64) double t[8];
    _mm512_store_pd(t, v);
    for (int w = 4; w > 0; w /= 2)
      for (int i = 0; i < w; i++) t[i] += t[i + w];
    return t[0];
  }
};
#include "gemm_small_body.h"
#undef DESCENT_TGT
}  // namespace avx512

namespace avx2 {
#define DESCENT_TGT __attribute__((target("avx2,fma")))
template <typename T>
struct V;
template <>
struct V<float> {
  using vec = __m256;
  static constexpr int W = 8;
  static constexpr int ROWS = 2;  // 2 rows × 4 columns: 8 accumulators + 4 loads of 16 ymm
  DESCENT_TGT static __m256i mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  DESCENT_TGT static vec zero() { return _mm256_setzero_ps(); }
  DESCENT_TGT static vec load(const float* p) { return _mm256_loadu_ps(p); }
  DESCENT_TGT static vec loadn(const float* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  DESCENT_TGT static void store(float* p, vec v) { _mm256_storeu_ps(p, v); }
  DESCENT_TGT static void storen(float* p, vec v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
  DESCENT_TGT static vec set1(float x) { return _mm256_set1_ps(x); }
  DESCENT_TGT static vec fma(vec a, vec b, vec c) { return _mm256_fmadd_ps(a, b, c); }
  DESCENT_TGT static float hsum(vec v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
};
template <>
struct V<double> {
  using vec = __m256d;
  static constexpr int W = 4;
  static constexpr int ROWS = 2;
  DESCENT_TGT static __m256i mask(int n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  DESCENT_TGT static vec zero() { return _mm256_setzero_pd(); }
  DESCENT_TGT static vec load(const double* p) { return _mm256_loadu_pd(p); }
  DESCENT_TGT static vec loadn(const double* p, int n) { return _mm256_maskload_pd(p, mask(n)); }
  DESCENT_TGT static void store(double* p, vec v) { _mm256_storeu_pd(p, v); }
  DESCENT_TGT static void storen(double* p, vec v, int n) { _mm256_maskstore_pd(p, mask(n), v); }
  DESCENT_TGT static vec set1(double x) { return _mm256_set1_pd(x); }
  DESCENT_TGT static vec fma(vec a, vec b, vec c) { return _mm256_fmadd_pd(a, b, c); }
  DESCENT_TGT static double hsum(vec v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
};
#include "gemm_small_body.h"
#undef DESCENT_TGT
}  // namespace avx2

}  // namespace
}  // namespace descent
#endif

namespace descent {
namespace {

/**
 * At most this many rows (columns) take the small path. Measured with bench/gemm_small.ts, float32
 * avx512, one thread, µs small path vs blocked driver, [M,784]·[784,256] with B a transposed view /
 * contiguous: M = 1: 12 vs 120 / 9 vs 61; M = 8: 44 vs 108 / 31 vs 52; M = 16: 96 vs 147 / 64 vs
 * 88; M = 32: 194 vs 212 / 135 vs 159 (narrow; the blocked kernel also threads there). Few
 * columns: [128,128]·[128,10] (Wᵀ view) 12 vs 17.5, [128,256]·[256,16] 25 vs 38.
 */
constexpr idx kSmallM = 16;
constexpr idx kSmallN = 16;

template <typename T>
using DotFn = void (*)(idx M, idx K, idx N, const T* a, const T* b, idx sBn, T* c, idx sCm, idx sCn);
template <typename T>
using AxpyFn = void (*)(idx M, idx K, idx N, const T* a, idx sAm, idx sAk, const T* b, idx sBk, T* c, idx sCm);

/** `rows` lines of length K (line r at src + r·sR, step sK) copied contiguously, or src itself if they are. */
template <typename T>
const T* packed_rows(const T* src, idx sR, idx sK, idx rows, idx K) {
  if (sK == 1 && (rows == 1 || sR == K)) return src;
  thread_local std::vector<T> buf;
  if (buf.size() < std::size_t(rows * K)) buf.resize(std::size_t(rows * K));
  for (idx r = 0; r < rows; r++)
    for (idx p = 0; p < K; p++) buf[r * K + p] = src[r * sR + p * sK];
  return buf.data();
}

template <typename T>
bool run_small(const Product<T>& q, DotFn<T> dot, AxpyFn<T> axpy) {
  if (q.K <= 0 || q.M <= 0 || q.N <= 0) return false;
  if (q.M <= kSmallM && q.sBk == 1) {
    dot(q.M, q.K, q.N, packed_rows(q.a, q.sAm, q.sAk, q.M, q.K), q.b, q.sBn, q.c, q.ldc, 1);
    return true;
  }
  if (q.M <= kSmallM && q.sBn == 1) {
    axpy(q.M, q.K, q.N, q.a, q.sAm, q.sAk, q.b, q.sBk, q.c, q.ldc);
    return true;
  }
  if (q.N <= kSmallN && q.sAk == 1) {  // Cᵀ = Bᵀ·Aᵀ: B's columns are the packed rows, A's rows the streamed columns
    dot(q.N, q.K, q.M, packed_rows(q.b, q.sBn, q.sBk, q.N, q.K), q.a, q.sAm, q.c, 1, q.ldc);
    return true;
  }
  return false;
}

template <typename T>
bool small_portable(const Product<T>& q) {
  return run_small<T>(q, portable::dot_all<T>, portable::axpy_all<T>);
}
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
template <typename T>
bool small_avx512(const Product<T>& q) {
  return run_small<T>(q, avx512::dot_all<T>, avx512::axpy_all<T>);
}
template <typename T>
bool small_avx2(const Product<T>& q) {
  return run_small<T>(q, avx2::dot_all<T>, avx2::axpy_all<T>);
}
#endif

template <typename T>
SmallGemm<T> pick(Isa isa) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (isa == Isa::avx512) return small_avx512<T>;
  if (isa == Isa::avx2) return small_avx2<T>;
#endif
  (void)isa;
  return small_portable<T>;
}

}  // namespace

SmallGemm<float> small_gemm_f32(Isa isa) { return pick<float>(isa); }
SmallGemm<double> small_gemm_f64(Isa isa) { return pick<double>(isa); }

}  // namespace descent
