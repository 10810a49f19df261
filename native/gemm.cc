// The blocked GEMM driver (GotoBLAS/BLIS layout), the portable micro-kernel, runtime dispatch and
// the split of a batch over the pool's threads. Blocks of A and B are packed into contiguous,
// aligned panels, reading the inputs through their strides (so transposed and stride-0 broadcast
// views cost nothing extra); a register-blocked micro-kernel multiplies an MR-row panel of A by an
// NR-column panel of B. Loop nest: jc (NC columns; the packed B block lives in L2/L3) › pc (KC
// depth) › ic (MC rows; the packed A block lives in L2) › jr (one KC×NR panel of B, kept in L1
// while) › ir (every MR-row panel of A streams past it).
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "gemm.h"
#include "plan_ops.h"
#include "pool.h"

namespace descent {
namespace {

using idx = std::ptrdiff_t;

/** Grow-only, 64-byte aligned scratch, one per thread (the caller's and each worker's). */
template <typename T>
T* scratch(std::size_t n) {
  struct Buf {
    void* p = nullptr;
    std::size_t cap = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf buf;
  std::size_t bytes = (n * sizeof(T) + 63) & ~std::size_t(63);
  if (buf.cap < bytes) {
    std::free(buf.p);
    buf.p = std::aligned_alloc(64, bytes);
    buf.cap = buf.p ? bytes : 0;
  }
  return static_cast<T*>(buf.p);
}

/**
 * Copies n lines × kc depth into panels of R lines: panel q holds, for each depth p, its R values
 * side by side at dst + q·R·kc + p·R. Line r is at src + r·sR, depth at stride sK. Lines past n are
 * zero-filled (the kernel computes whole tiles; zeros keep stale scratch, NaN say, out of them).
 * R is a compile-time constant so the full-panel loops unroll; the loop order follows whichever
 * input stride is the smaller.
 */
template <typename T, int R>
void pack(T* dst, const T* src, idx sR, idx sK, idx n, idx kc) {
  idx r0 = 0;
  for (; r0 + R <= n; r0 += R, dst += R * kc) {
    const T* s = src + r0 * sR;
    if (sR == 1) {
      for (idx p = 0; p < kc; p++) std::memcpy(dst + p * R, s + p * sK, R * sizeof(T));
    } else if (sK == 1) {
      // Lines contiguous along depth (a transposed B: Linear's weight): 8 depth steps at a time,
      // so the writes stay in 8·R values of the panel instead of sweeping all of it per line.
      idx p0 = 0;
      for (; p0 + 8 <= kc; p0 += 8)
        for (int i = 0; i < R; i++)
#pragma GCC unroll 8
          for (int p = 0; p < 8; p++) dst[(p0 + p) * R + i] = s[i * sR + p0 + p];
      for (int i = 0; i < R; i++)
        for (idx p = p0; p < kc; p++) dst[p * R + i] = s[i * sR + p];
    } else if (std::abs(sK) <= std::abs(sR)) {
      for (int i = 0; i < R; i++)
        for (idx p = 0; p < kc; p++) dst[p * R + i] = s[i * sR + p * sK];
    } else {
      for (idx p = 0; p < kc; p++)
#pragma GCC unroll 32
        for (int i = 0; i < R; i++) dst[p * R + i] = s[i * sR + p * sK];
    }
  }
  if (r0 < n) {
    idx r = n - r0;
    const T* s = src + r0 * sR;
    for (idx p = 0; p < kc; p++)
      for (int i = 0; i < R; i++) dst[p * R + i] = i < r ? s[i * sR + p * sK] : T(0);
  }
}

template <typename T>
using PackFn = void (*)(T*, const T*, idx, idx, idx, idx);

template <typename T>
PackFn<T> packer(int r) {
  switch (r) {
    case 4: return pack<T, 4>;
    case 6: return pack<T, 6>;
    case 8: return pack<T, 8>;
    case 12: return pack<T, 12>;
    case 14: return pack<T, 14>;
    case 16: return pack<T, 16>;
    case 32: return pack<T, 32>;
    default: return nullptr;  // kernel_* only hands out the shapes above
  }
}

/** Splits n into equal blocks of at most `max`, rounded up to `multiple` (257 = 129 + 128, not 256 + 1). */
idx block_size(idx n, idx max, idx multiple) {
  idx blocks = (n + max - 1) / max;
  idx b = (n + blocks - 1) / blocks;
  return (b + multiple - 1) / multiple * multiple;
}

/**
 * Cache blocks in bytes, measured on the 2-core Zen 4 these machines have (32 KiB L1d, 1 MiB L2):
 * a KC×NR panel of B of 32 KiB (KC = 256 floats for the 8×32 kernel) and an MC×KC block of A of
 * 512 KiB. On 1024² float32, 16 and 32 KiB panels with 256 to 768 KiB blocks measured within
 * ±5% of each other (the machine is shared and noisy); with the kernel prefetching its C tile,
 * 32 KiB (fewer passes over C) came out ahead at 1024 and 2048.
 */
constexpr std::size_t kL1Panel = 32 * 1024;
constexpr std::size_t kL2Block = 512 * 1024;
constexpr idx kNC = 4096;

template <typename T>
void gemm(const Kernel<T>& k, const Product<T>& q) {
  const idx M = q.M, N = q.N, K = q.K;
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (idx i = 0; i < M; i++) std::fill(q.c + i * q.ldc, q.c + i * q.ldc + N, T(0));
    if (q.ep) apply_epilogue(*q.ep, q.c, q.ldc, q.epRow, q.epCol, M, N);
    return;
  }
  const idx MR = k.mr, NR = k.nr;
  const idx kcMax = block_size(K, std::max<idx>(64, kL1Panel / (NR * sizeof(T))), 1);
  const idx mcMax = block_size(M, std::max<idx>(MR, kL2Block / (kcMax * sizeof(T)) / MR * MR), MR);
  const idx ncMax = block_size(N, kNC, NR);
  T* aPack = scratch<T>(kcMax * (mcMax + ncMax) + MR * NR);
  T* bPack = aPack + kcMax * mcMax;
  T* tile = bPack + kcMax * ncMax;
  PackFn<T> packA = packer<T>(k.mr), packB = packer<T>(k.nr);

  for (idx jc = 0; jc < N; jc += ncMax) {
    const idx nc = std::min(ncMax, N - jc);
    for (idx pc = 0; pc < K; pc += kcMax) {
      const idx kc = std::min(kcMax, K - pc);
      const bool acc = pc > 0;  // the first depth block overwrites C, so C needs no zeroing
      packB(bPack, q.b + pc * q.sBk + jc * q.sBn, q.sBn, q.sBk, nc, kc);
      for (idx ic = 0; ic < M; ic += mcMax) {
        const idx mc = std::min(mcMax, M - ic);
        packA(aPack, q.a + ic * q.sAm + pc * q.sAk, q.sAm, q.sAk, mc, kc);
        for (idx jr = 0; jr < nc; jr += NR) {
          const idx nr = std::min(NR, nc - jr);
          const T* bp = bPack + jr * kc;
          for (idx ir = 0; ir < mc; ir += MR) {
            const idx mr = std::min(MR, mc - ir);
            T* c = q.c + (ic + ir) * q.ldc + jc + jr;
            if (mr == MR && nr == NR) {
              k.fn(kc, aPack + ir * kc, bp, c, q.ldc, acc);
            } else {
              // Ragged edge: a whole tile into scratch, then only the part that exists.
              k.fn(kc, aPack + ir * kc, bp, tile, NR, false);
              for (idx i = 0; i < mr; i++)
                for (idx j = 0; j < nr; j++) c[i * q.ldc + j] = (acc ? c[i * q.ldc + j] : T(0)) + tile[i * NR + j];
            }
            // The last depth block leaves the tile final while it is still in L1: write-out here.
            if (q.ep && pc + kc == K) apply_epilogue(*q.ep, c, q.ldc, q.epRow + ic + ir, q.epCol + jc + jr, mr, nr);
          }
        }
      }
    }
  }
}

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

/**
 * How the threads share a batch: whole matrices when there are enough of them to balance,
 * otherwise each matrix is cut into column (or, for tall products, row) strips, one per thread.
 */
template <typename T>
struct Split {
  const Batch<T>* batch;
  Kernel<T> kernel;
  bool byMatrix;
  SmallGemm<T> small;
};

template <typename T>
Product<T> matrix(const Batch<T>& b, idx t) {
  Product<T> q = b.p;
  q.a = b.p.a + b.aStart[t];
  q.b = b.p.b + b.bStart[t];
  q.c = b.p.c + t * b.p.M * b.p.N;
  return q;
}

/** One product: the small path (then the epilogue over its few rows or columns, still in cache) or the blocked one. */
template <typename T>
void run_one(const Split<T>& s, const Product<T>& q) {
  if (!s.small(q)) return gemm(s.kernel, q);
  if (q.ep) apply_epilogue(*q.ep, q.c, q.ldc, q.epRow, q.epCol, q.M, q.N);
}

/** Part `part` of `parts`: a range of whole matrices, or one strip of columns (rows) of every matrix. */
template <typename T>
void run_part(void* ctx, int part, int parts) {
  const Split<T>& s = *static_cast<const Split<T>*>(ctx);
  const Batch<T>& b = *s.batch;
  if (s.byMatrix) {
    for (idx t = b.count * part / parts; t < b.count * (part + 1) / parts; t++) run_one(s, matrix(b, t));
    return;
  }
  const bool byCols = b.p.N >= b.p.M;
  const idx len = byCols ? b.p.N : b.p.M, unit = byCols ? s.kernel.nr : s.kernel.mr;
  const idx units = (len + unit - 1) / unit;
  const idx lo = std::min(len, units * part / parts * unit), hi = std::min(len, units * (part + 1) / parts * unit);
  if (lo >= hi) return;
  for (idx t = 0; t < b.count; t++) {
    Product<T> q = matrix(b, t);
    if (byCols) {
      q.b += lo * q.sBn;
      q.c += lo;
      q.N = hi - lo;
      q.epCol += lo;
    } else {
      q.a += lo * q.sAm;
      q.c += lo * q.ldc;
      q.M = hi - lo;
      q.epRow += lo;
    }
    run_one(s, q);
  }
}

/**
 * Below this many multiply-adds a second thread costs more (wake-up, split edges, and a second
 * vCPU that is often busy on these shared 2-core machines) than it saves. Measured with
 * bench/gemm_small.ts (float32 avx512, µs with 1 vs 2 threads, medians of 11), once with the
 * machine loaded (load average ~5) and once quieter (~2.5):
 *   96³ (0.9M)                 loaded 21 vs 42     quiet 21.6 vs 19.5
 *   128³ (2.1M)                loaded 48 vs 85     quiet 44 vs 37, 47 vs 29.5
 *   [128,256]·[256,128] (4.2M) loaded 107 vs 147   quiet 100 vs 74
 *   256³ (16.8M)               loaded 330 vs 400   quiet 325 vs 194, 340 vs 193
 *   [128,784]·[784,256] (26M)  loaded 625 vs 745   quiet 600 vs 386
 *   1024³                                          quiet 23400 vs 15500
 * Below ~4M the second thread gains little when it is free and doubles the time when it is not;
 * above, it gains 25–40% quiet and loses 3–30% loaded. Hence 2²² (was 96³).
 */
constexpr double kThreadMinWork = 4.0 * 1024 * 1024;

/**
 * Parts: with enough matrices, whole matrices (several parts per thread, so a late thread's share
 * is taken by the others); otherwise one strip per thread, since each strip repacks the whole of
 * the other operand.
 */
template <typename T>
void gemm_batch_impl(const Batch<T>& b, const Kernel<T>& k, SmallGemm<T> small, int threads) {
  const double work = double(b.p.M) * double(b.p.N) * double(b.p.K) * double(b.count);
  if (work < kThreadMinWork || b.p.K == 0) threads = 1;
  Split<T> s{&b, k, b.count >= 2 * threads, small};
  int parts = s.byMatrix ? int(std::min<idx>(b.count, 4 * threads)) : threads;
  if (!s.byMatrix && std::max(b.p.N / k.nr, b.p.M / k.mr) < threads) parts = 1;
  if (threads == 1) s.byMatrix = true, parts = 1;
  pool_run(run_part<T>, &s, parts, threads);
}

void act_row(int act, float* row, idx n, float alpha) { plan::apply(act, row, nullptr, 0.f, row, n, alpha); }
void act_row(int act, double* row, idx n, double alpha) {
  // Plans are float32 only; a double product never carries an activation (kept for the template).
  (void)act, (void)row, (void)n, (void)alpha;
}

template <typename T>
void epilogue_impl(const Epilogue<T>& e, T* c, idx ldc, idx r0, idx c0, idx mr, idx nr) {
  for (idx i = 0; i < mr; i++) {
    T* row = c + i * ldc;
    if (e.perRow) {
      const T sc = e.scale ? e.scale[r0 + i] : T(1), sh = e.shift ? e.shift[r0 + i] : T(0);
      if (e.scale)
        for (idx j = 0; j < nr; j++) row[j] = row[j] * sc + sh;
      else if (e.shift)
        for (idx j = 0; j < nr; j++) row[j] += sh;
    } else if (e.scale) {
      const T* sc = e.scale + c0;
      const T* sh = e.shift ? e.shift + c0 : nullptr;
      for (idx j = 0; j < nr; j++) row[j] = row[j] * sc[j] + (sh ? sh[j] : T(0));
    } else if (e.shift) {
      const T* sh = e.shift + c0;
      for (idx j = 0; j < nr; j++) row[j] += sh[j];
    }
    if (e.act != plan::op_identity) act_row(e.act, row, nr, e.alpha);
  }
}

}  // namespace

void apply_epilogue(const Epilogue<float>& e, float* c, idx ldc, idx r0, idx c0, idx mr, idx nr) {
  epilogue_impl(e, c, ldc, r0, c0, mr, nr);
}
void apply_epilogue(const Epilogue<double>& e, double* c, idx ldc, idx r0, idx c0, idx mr, idx nr) {
  epilogue_impl(e, c, ldc, r0, c0, mr, nr);
}

Isa detect_isa() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
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

void gemm_batch(const Batch<float>& b, Isa isa, int threads) { gemm_batch_impl(b, kernel_f32(isa), small_gemm_f32(isa), threads); }
void gemm_batch(const Batch<double>& b, Isa isa, int threads) { gemm_batch_impl(b, kernel_f64(isa), small_gemm_f64(isa), threads); }

}  // namespace descent
