// The blocked GEMM driver (GotoBLAS/BLIS layout) and the split of a batch over the pool's threads.
// Blocks of A and B are packed into contiguous, aligned panels, reading the inputs through their
// strides (so transposed and stride-0 broadcast views cost nothing extra); a register-blocked
// micro-kernel multiplies an MR-row panel of A by an NR-column panel of B. Loop nest: jc (NC
// columns; B's block, all of K, packed once and shared by the threads, lives in L3) › ic (MC rows,
// one part for one thread) › pc (KC depth; the packed A block lives in L2) › jr (one KC×NR panel
// of B, kept in L1 while) › ir (every MR-row panel of A streams past it). The block sizes come
// from the caches (gemm_tune.cc). Before, each of two threads took half the columns and packed all
// of A itself: twice A's packing, and a strip stuck on a busy CPU held up the whole product.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#ifdef __linux__
#endif

#include "gemm.h"
#include "plan_ops.h"
#include "pool.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

namespace descent {
namespace {

using idx = std::ptrdiff_t;

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

/**
 * Row blocks per thread when threads share a product: a worker that gets its core late leaves its
 * blocks to the others, but smaller blocks reuse each B panel for fewer rows. 1024³ float32, 2
 * threads, GFLOP/s per CPU-second (immune to the other processes' share of the CPUs, not to their
 * cache traffic; load average 5–7, medians of 21 interleaved runs): 1 block 335, 2 blocks 326,
 * 4 blocks 301 (the column-strip split before: 337); wall clock under that load favoured 4 (214
 * vs 204 and 202; strips 188). 2 keeps most of both.
 */
constexpr idx kPartsPerThread = 2;

/** Packs as pack<T, R> does, the whole panels of depth-contiguous lines through the kernel's transposing packer. */
template <typename T>
void pack_panels(const Kernel<T>& k, int R, T* dst, const T* src, idx sR, idx sK, idx n, idx kc) {
  if (sK == 1 && k.packT && R % 8 == 0 && n >= R) {
    const idx full = n / R * R;
    k.packT(dst, R, src, sR, full, kc);
    dst += full * kc, src += full * sR, n -= full;
    if (n == 0) return;
  }
  packer<T>(R)(dst, src, sR, sK, n, kc);
}

/** Splits n into equal blocks of at most `max`, rounded up to `multiple` (257 = 129 + 128, not 256 + 1). */
idx block_size(idx n, idx max, idx multiple) {
  idx blocks = (n + max - 1) / max;
  idx b = (n + blocks - 1) / blocks;
  return (b + multiple - 1) / multiple * multiple;
}

/** Row blocks per thread when threads share a product: a worker that gets its core late leaves its blocks to the others. */


/**
 * Block sizes from the tuning's byte budgets (gemm_tune.cc): KC so a KC×NR panel of B fills the
 * L1 budget, MC so an MC×KC block of A fills the L2 budget (smaller with threads, kPartsPerThread
 * blocks each, but not under 4·MR rows, where the B panels would stream from L3 for too few
 * rows), NC so the packed K×NC block of B fits the L3 budget.
 */
template <typename T>
Blocks plan_blocks(const Kernel<T>& k, const Tuning& t, idx M, idx N, idx K, int threads) {
  const idx MR = k.mr, NR = k.nr;
  const idx kc = block_size(std::max<idx>(K, 1), std::max<idx>(64, t.l1Panel / (NR * sizeof(T))), 1);
  idx mcMax = std::max<idx>(MR, t.l2Block / (kc * sizeof(T)) / MR * MR);
  if (threads > 1) mcMax = std::min(mcMax, std::max<idx>(4 * MR, M / (kPartsPerThread * threads) / MR * MR));
  const idx mc = block_size(std::max<idx>(M, 1), mcMax, MR);
  const idx nc = block_size(std::max<idx>(N, 1), std::max<idx>(NR, t.l3Block / (std::max<idx>(K, 1) * sizeof(T)) / NR * NR), NR);
  return {int(MR), int(NR), kc, mc, nc};
}

/**
 * One column block [jc, jc + nc) of a product, shared by the threads (BLIS-style): B's block, all
 * of K, is packed once into the caller's scratch, its NR-column panels split between the threads
 * (pack_b_part); then each part takes MC rows (and, for short products, a share of the panels),
 * packs those rows of A into its own thread's scratch and runs them against the shared panels
 * (compute_part). Packed B: depth block pc (KC deep, the last shorter) starts at pc·ncPad, its
 * panel j at j·NR·kc from there.
 */
template <typename T>
struct Shared {
  const Kernel<T>* k;
  const Product<T>* q;
  Blocks bl;
  idx jc, nc, ncPad, panels;
  int colGroups;
  T* bPack;
  bool prefetchB;  // prefetch the next B panel (panels that fit L1; see compute_part)
};

template <typename T>
void pack_b_part(void* ctx, int part, int parts) {
  const Shared<T>& s = *static_cast<const Shared<T>*>(ctx);
  const Product<T>& q = *s.q;
  const idx NR = s.bl.nr, lo = s.panels * part / parts * NR, hi = std::min(s.nc, s.panels * (part + 1) / parts * NR);
  if (lo >= hi) return;
  for (idx pc = 0; pc < q.K; pc += s.bl.kc) {
    const idx kc = std::min(s.bl.kc, q.K - pc);
    pack_panels(*s.k, s.bl.nr, s.bPack + pc * s.ncPad + lo * kc, q.b + pc * q.sBk + (s.jc + lo) * q.sBn, q.sBn, q.sBk, hi - lo, kc);
  }
}

template <typename T>
void compute_part(void* ctx, int part, int parts) {
  const Shared<T>& s = *static_cast<const Shared<T>*>(ctx);
  const Product<T>& q = *s.q;
  const Kernel<T>& k = *s.k;
  const idx MR = s.bl.mr, NR = s.bl.nr, K = q.K;
  const idx ic = idx(part / s.colGroups) * s.bl.mc, mc = std::min(s.bl.mc, q.M - ic);
  const int g = part % s.colGroups;
  const idx j0 = s.panels * g / s.colGroups * NR, j1 = std::min(s.nc, s.panels * (g + 1) / s.colGroups * NR);
  if (mc <= 0 || j0 >= j1) return;
  T* aPack = scratch<T, 0>(std::min(s.bl.kc, K) * s.bl.mc + MR * NR);
  T* tile = aPack + std::min(s.bl.kc, K) * s.bl.mc;
  for (idx pc = 0; pc < K; pc += s.bl.kc) {
    const idx kc = std::min(s.bl.kc, K - pc);
    const bool acc = pc > 0, last = pc + kc == K;  // the first depth block overwrites C, so C needs no zeroing
    pack_panels(k, s.bl.mr, aPack, q.a + ic * q.sAm + pc * q.sAk, q.sAm, q.sAk, mc, kc);
    // Each tile also prefetches its share of the next B panel (from L3 otherwise, stalling that
    // panel's first tiles) when panels are meant to sit in L1: +0–6% at 1T on Zen 5 with 32 KiB
    // panels (within the noise), kept as BLIS does. A deeper panel streams from L2 anyway (Zen 5's
    // 128 KiB ones, gemm_tune.cc), and there the hints cost: 1024³ at 1T ran 2–3% faster in CPU
    // time without them, 8 of 9 interleaved pairs.
    const idx tiles = (mc + MR - 1) / MR;
    const idx slice = s.prefetchB ? (NR * kc * idx(sizeof(T)) + tiles - 1) / tiles : 0;
    for (idx jr = j0; jr < j1; jr += NR) {
      const idx nr = std::min(NR, j1 - jr);
      const T* bp = s.bPack + pc * s.ncPad + jr * kc;
      const char* next = reinterpret_cast<const char*>(bp + NR * kc);  // past the block's end: a harmless hint
      for (idx ir = 0; ir < mc; ir += MR) {
        const idx mr = std::min(MR, mc - ir);
        for (idx l = 0; l < slice; l += 64) __builtin_prefetch(next + (ir / MR) * slice + l, 0, 1);
        T* c = q.c + (ic + ir) * q.ldc + s.jc + jr;
        if (mr == MR && nr == NR) {
          k.fn(kc, aPack + ir * kc, bp, c, q.ldc, acc);
        } else {
          // Ragged edge: a whole tile into scratch, then only the part that exists.
          k.fn(kc, aPack + ir * kc, bp, tile, NR, false);
          for (idx i = 0; i < mr; i++)
            for (idx j = 0; j < nr; j++) c[i * q.ldc + j] = (acc ? c[i * q.ldc + j] : T(0)) + tile[i * NR + j];
        }
        // The last depth block leaves the tile final while it is still in L1: write-out here, once.
        if (q.ep && last) apply_epilogue(*q.ep, c, q.ldc, q.epRow + ic + ir, q.epCol + s.jc + jr, mr, nr);
      }
    }
  }
}

/** The blocked product q on up to `threads` threads (1: all parts on the calling thread, in order). */
template <typename T>
void gemm(const Kernel<T>& k, const Product<T>& q, int threads) {
  const idx M = q.M, N = q.N, K = q.K;
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (idx i = 0; i < M; i++) std::fill(q.c + i * q.ldc, q.c + i * q.ldc + N, T(0));
    if (q.ep) apply_epilogue(*q.ep, q.c, q.ldc, q.epRow, q.epCol, M, N);
    return;
  }
  const Tuning t = tuning();
  const Blocks bl = plan_blocks(k, t, M, N, K, threads);
  const idx ncMaxPad = (bl.nc + bl.nr - 1) / bl.nr * bl.nr;
  T* bPack = scratch<T, 1>(K * ncMaxPad);
  const idx rowBlocks = (M + bl.mc - 1) / bl.mc;
  const bool prefetchB = std::size_t(bl.kc * bl.nr) * sizeof(T) <= t.cache.l1d;
  for (idx jc = 0; jc < N; jc += bl.nc) {
    const idx nc = std::min(bl.nc, N - jc), panels = (nc + bl.nr - 1) / bl.nr;
    // Too few row blocks to go round (a short product): cut the panels into groups as well.
    const int groups = threads > 1 && rowBlocks < kPartsPerThread * threads
                           ? int(std::min<idx>(panels, (kPartsPerThread * threads + rowBlocks - 1) / rowBlocks))
                           : 1;
    Shared<T> s{&k, &q, bl, jc, nc, panels * bl.nr, panels, groups, bPack, prefetchB};
    pool_run(pack_b_part<T>, &s, int(std::min<idx>(panels, 2 * threads)), threads);
    pool_run(compute_part<T>, &s, int(rowBlocks * groups), threads);
  }
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
  if (!s.small(q)) return gemm(s.kernel, q, 1);
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

/** Products with at most this many rows or columns are cut into strips (each repacks only the thin operand). */
constexpr idx kStripMax = 32;

/**
 * Parts: with enough matrices, whole matrices (several parts per thread, so a late thread's share
 * is taken by the others); a large product is shared by the threads through one packed B (gemm);
 * a thin one is cut into one strip per thread, each repacking the thin operand and keeping the
 * small path (gemm_small.cc) for its strip.
 */
template <typename T>
void gemm_batch_impl(const Batch<T>& b, const Kernel<T>& k, SmallGemm<T> small, int threads) {
  const std::size_t cBytes = std::size_t(b.p.M) * std::size_t(b.p.N) * std::size_t(b.count) * sizeof(T);
  if (cBytes >= (std::size_t(128) << 10)) keep_freed_memory();  // glibc's first mmap threshold: smaller outputs reuse the heap already
  if (cBytes >= (std::size_t(4) << 20)) advise_huge(b.p.c, cBytes);
  const double work = double(b.p.M) * double(b.p.N) * double(b.p.K) * double(b.count);
  if (work < kThreadMinWork || b.p.K == 0) threads = 1;
  if (threads > 1 && b.count < 2 * threads && std::min(b.p.M, b.p.N) > kStripMax) {
    for (idx t = 0; t < b.count; t++) gemm(k, matrix(b, t), threads);  // too wide for the small path
    return;
  }
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

/**
 * c = relu(c·sc + sh) (NaN kept, as plan_ops.h's relu) in one pass: the common conv/Linear
 * epilogue. Before, scale-shift and the activation were two passes, the second through
 * plan::apply's switch for each 32-wide row of each tile (~10% of a CNN plan's time).
 */
template <typename T>
inline T relu_of(T v) {
  return (v > T(0) || v != v) ? v : T(0);
}

template <typename T>
void epilogue_relu(const Epilogue<T>& e, T* c, idx ldc, idx r0, idx c0, idx mr, idx nr) {
  for (idx i = 0; i < mr; i++) {
    T* __restrict row = c + i * ldc;
    if (e.perRow) {
      const T sc = e.scale ? e.scale[r0 + i] : T(1), sh = e.shift ? e.shift[r0 + i] : T(0);
      for (idx j = 0; j < nr; j++) row[j] = relu_of(row[j] * sc + sh);
    } else {
      const T* __restrict sc = e.scale ? e.scale + c0 : nullptr;
      const T* __restrict sh = e.shift ? e.shift + c0 : nullptr;
      if (sc && sh)
        for (idx j = 0; j < nr; j++) row[j] = relu_of(row[j] * sc[j] + sh[j]);
      else if (sc)
        for (idx j = 0; j < nr; j++) row[j] = relu_of(row[j] * sc[j]);
      else if (sh)
        for (idx j = 0; j < nr; j++) row[j] = relu_of(row[j] + sh[j]);
      else
        for (idx j = 0; j < nr; j++) row[j] = relu_of(row[j]);
    }
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/**
 * epilogue_relu for float on AVX-512, 16 lanes a step and a masked tail (a tile row is 32 wide):
 * the same multiply then add (no FMA), so the values are those of the portable loop. relu keeps
 * v where !(v <= 0), true for NaN.
 */
__attribute__((target("avx512f"))) void epilogue_relu_avx512(const Epilogue<float>& e, float* c, idx ldc, idx r0,
                                                             idx c0, idx mr, idx nr) {
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.f);
  for (idx i = 0; i < mr; i++) {
    float* row = c + i * ldc;
    const bool perRow = e.perRow;
    const __m512 rs = perRow && e.scale ? _mm512_set1_ps(e.scale[r0 + i]) : one;
    const __m512 rh = perRow && e.shift ? _mm512_set1_ps(e.shift[r0 + i]) : zero;
    for (idx j = 0; j < nr; j += 16) {
      const __mmask16 m = nr - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (nr - j)) - 1);
      __m512 v = _mm512_maskz_loadu_ps(m, row + j);
      const __m512 sc = perRow || !e.scale ? rs : _mm512_maskz_loadu_ps(m, e.scale + c0 + j);
      const __m512 sh = perRow || !e.shift ? rh : _mm512_maskz_loadu_ps(m, e.shift + c0 + j);
      if (e.scale) v = _mm512_mul_ps(v, sc);
      if (e.shift) v = _mm512_add_ps(v, sh);
      v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, zero, _CMP_NLE_UQ), v);
      _mm512_mask_storeu_ps(row + j, m, v);
    }
  }
}
#endif

template <typename T>
void epilogue_impl(const Epilogue<T>& e, T* c, idx ldc, idx r0, idx c0, idx mr, idx nr) {
  if (e.act == plan::op_relu) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static const bool avx512 = detect_isa() == Isa::avx512;
    if constexpr (std::is_same_v<T, float>)
      if (avx512) return epilogue_relu_avx512(e, c, ldc, r0, c0, mr, nr);
#endif
    return epilogue_relu(e, c, ldc, r0, c0, mr, nr);
  }
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

Blocks gemm_blocks(Isa isa, bool f64, idx M, idx N, idx K, int threads) {
  return f64 ? plan_blocks(kernel_f64(isa), tuning(), M, N, K, threads) : plan_blocks(kernel_f32(isa), tuning(), M, N, K, threads);
}

void gemm_batch(const Batch<float>& b, Isa isa, int threads) { gemm_batch_impl(b, kernel_f32(isa), small_gemm_f32(isa), threads); }
void gemm_batch(const Batch<double>& b, Isa isa, int threads) { gemm_batch_impl(b, kernel_f64(isa), small_gemm_f64(isa), threads); }

}  // namespace descent
