// Descent's WebAssembly GEMM: C = A·B in float32 for strided A and B (element strides, possibly 0
// or negative, so transposed and broadcast views need no copy), C row-major. The GotoBLAS/BLIS
// layout of native/gemm.cc: blocks of A and B are packed into contiguous panels (the packing reads
// the strides), and a register-tiled micro-kernel multiplies an MR-row panel of A by an NR-column
// panel of B with wasm SIMD128. SIMD128 has no FMA (relaxed-simd is not on in Node 20's V8), so
// each step is a mul and an add; V8 maps v128 locals to the 16 xmm registers (one is its
// scratch), which bounds the tile. Measured at 1024³ here (Node 20, V8 11.3, Zen 5), as a share of
// the SIMD128 peak of wasm/probe.c (~59 GFLOP/s, 16 flops a cycle): 2x16 (8 accumulators, 4 B
// vectors, 1 A broadcast) 82-88%, 4x8 2-3 points less at 64-1024 and on MLP shapes; 5x8, 6x8 and
// 3x12 ~22-28 GFLOP/s (spills). What did not help (2026-12-06): A packed pre-broadcast (a v128
// load instead of load32_splat: V8 already emits a load-only vbroadcastss), KC 128-512, MC 24-192,
// a pointer-compare loop, and unrolling the k loop in C (LLVM, and then TurboFan's scheduler,
// hoist every unrolled step's loads to the top, so V8 spills: ~30 GFLOP/s; V8 unrolls the 1-step
// loop itself, keeping each step's loads in its own block). Without packing (timing only) the
// kernel gains ~3%: the loss to the peak is in the micro-kernel's loads and loop overhead.
// MR/NR/KC/MC/NC may be set with -D to retry.
#include <wasm_simd128.h>

#include "descent_wasm.h"

#ifndef MR
#define MR 2
#endif
#ifndef NR
#define NR 16
#endif
#define NV (NR / 4)
#ifndef KC
#define KC 256
#endif
#ifndef MC
#define MC 96
#endif
#ifndef NC
#define NC 1024
#endif

/** The calling thread's packing space: MC·KC floats for A, then NC·KC for B (static for the main thread). */
#define SCRATCH_FLOATS (MC * KC + NC * KC)
static float mainScratch[SCRATCH_FLOATS] __attribute__((aligned(16)));

/** Packs rows [i0, i0+mc) × depth [k0, k0+kc) of A into MR-row panels, depth-major, zero-padded. */
static void pack_a(float* packA, int mc, int kc, const float* a, int sAm, int sAk) {
  float* d = packA;
  for (int i = 0; i < mc; i += MR) {
    int rows = mc - i < MR ? mc - i : MR;
    const float* r = a + (long)i * sAm;
    if (rows == MR) {
      for (int k = 0; k < kc; k++, d += MR) {
        const float* p = r + (long)k * sAk;
        for (int t = 0; t < MR; t++) d[t] = p[(long)t * sAm];
      }
    } else {
      for (int k = 0; k < kc; k++, d += MR) {
        const float* p = r + (long)k * sAk;
        for (int t = 0; t < MR; t++) d[t] = t < rows ? p[(long)t * sAm] : 0.0f;
      }
    }
  }
}

/** Packs depth [k0, k0+kc) × columns [j0, j0+nc) of B into NR-column panels, depth-major, zero-padded. */
static void pack_b(float* packB, int kc, int nc, const float* b, int sBk, int sBn) {
  float* d = packB;
  for (int j = 0; j < nc; j += NR) {
    int cols = nc - j < NR ? nc - j : NR;
    const float* c0 = b + (long)j * sBn;
    if (cols == NR && sBn == 1) {
      for (int k = 0; k < kc; k++, d += NR) {
        const float* p = c0 + (long)k * sBk;
        for (int u = 0; u < NV; u++) wasm_v128_store(d + 4 * u, wasm_v128_load(p + 4 * u));
      }
    } else {
      for (int k = 0; k < kc; k++, d += NR) {
        const float* p = c0 + (long)k * sBk;
        for (int t = 0; t < NR; t++) d[t] = t < cols ? p[(long)t * sBn] : 0.0f;
      }
    }
  }
}


/** c[MR×NR] (row stride ldc; rows < MR or cols < NR: only that corner) (+)= Apanel·Bpanel. */
static void micro(int kc, const float* a, const float* b, float* c, int ldc, int rows, int cols, int acc) {
  v128_t r[MR][NV];
  for (int t = 0; t < MR; t++)
    for (int u = 0; u < NV; u++) r[t][u] = wasm_f32x4_splat(0.0f);
  for (int k = 0; k < kc; k++, a += MR, b += NR) {
    v128_t bv[NV];
    for (int u = 0; u < NV; u++) bv[u] = wasm_v128_load(b + 4 * u);
    for (int t = 0; t < MR; t++) {
      v128_t av = wasm_v128_load32_splat(a + t);
      for (int u = 0; u < NV; u++) r[t][u] = wasm_f32x4_add(r[t][u], wasm_f32x4_mul(av, bv[u]));
    }
  }
  if (rows == MR && cols == NR) {
    for (int t = 0; t < MR; t++) {
      float* p = c + (long)t * ldc;
      for (int u = 0; u < NV; u++) {
        v128_t v = acc ? wasm_f32x4_add(r[t][u], wasm_v128_load(p + 4 * u)) : r[t][u];
        wasm_v128_store(p + 4 * u, v);
      }
    }
    return;
  }
  float tile[MR * NR] __attribute__((aligned(16)));
  for (int t = 0; t < MR; t++) {
    for (int u = 0; u < NV; u++) wasm_v128_store(tile + t * NR + 4 * u, r[t][u]);
  }
  for (int t = 0; t < rows; t++)
    for (int u = 0; u < cols; u++) c[(long)t * ldc + u] = acc ? c[(long)t * ldc + u] + tile[t * NR + u] : tile[t * NR + u];
}

/** One product C[M×N] (row stride ldc) = A·B, blocked NC → KC → MC → NR → MR, packing into `scratch`. */
static void gemm_f32(int M, int N, int K, const float* a, int sAm, int sAk, const float* b, int sBk, int sBn, float* c,
                     int ldc, float* scratch) {
  float* packA = scratch;
  float* packB = scratch + MC * KC;
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) c[(long)i * ldc + j] = 0.0f;
    return;
  }
  for (int j0 = 0; j0 < N; j0 += NC) {
    int nc = N - j0 < NC ? N - j0 : NC;
    for (int k0 = 0; k0 < K; k0 += KC) {
      int kc = K - k0 < KC ? K - k0 : KC;
      pack_b(packB, kc, nc, b + (long)k0 * sBk + (long)j0 * sBn, sBk, sBn);
      for (int i0 = 0; i0 < M; i0 += MC) {
        int mc = M - i0 < MC ? M - i0 : MC;
        pack_a(packA, mc, kc, a + (long)i0 * sAm + (long)k0 * sAk, sAm, sAk);
        for (int j = 0; j < nc; j += NR) {
          int cols = nc - j < NR ? nc - j : NR;
          for (int i = 0; i < mc; i += MR) {
            int rows = mc - i < MR ? mc - i : MR;
            micro(kc, packA + i * kc, packB + j * kc, c + (long)(i0 + i) * ldc + j0 + j, ldc, rows, cols, k0 > 0);
          }
        }
      }
    }
  }
}

/**
 * Columns [j0, j1) of a batch of products: meta = [nb, M, K, N, aOff, sAm, sAk, bOff, sBk, sBn,
 * (size, sA, sB) per batch dim]; C is contiguous [...batch, M, N] (the native addon's meta, in
 * int32). Threads (src/backends/wasm/threads.ts) each take a column range with their own scratch
 * (SCRATCH_FLOATS floats; 0: the main thread's static one).
 */
EXPORT void matmul_f32_cols(const int* meta, const float* a, const float* b, float* c, int j0, int j1,
                            float* scratch) {
  int nb = meta[0], M = meta[1], K = meta[2], N = meta[3];
  if (!scratch) scratch = mainScratch;
  if (j1 > N) j1 = N;
  if (j0 >= j1) return;
  long batch = 1;
  for (int d = 0; d < nb; d++) batch *= meta[10 + 3 * d];
  int idx[32] = {0};
  long aOff = meta[4], bOff = meta[7];
  for (long t = 0; t < batch; t++) {
    gemm_f32(M, j1 - j0, K, a + aOff, meta[5], meta[6], b + bOff + (long)j0 * meta[9], meta[8], meta[9],
             c + t * (long)M * N + j0, N, scratch);
    for (int d = nb - 1; d >= 0; d--) {
      const int* m = meta + 10 + 3 * d;
      aOff += m[1];
      bOff += m[2];
      if (++idx[d] < m[0]) break;
      idx[d] = 0;
      aOff -= (long)m[1] * m[0];
      bOff -= (long)m[2] * m[0];
    }
  }
}

/** The whole batch of products on the calling thread. */
EXPORT void matmul_f32(const int* meta, const float* a, const float* b, float* c) {
  matmul_f32_cols(meta, a, b, c, 0, meta[3], 0);
}

/** Floats of packing space a thread needs (threads.ts reserves this much per worker). */
EXPORT int matmul_scratch_floats(void) { return SCRATCH_FLOATS; }
