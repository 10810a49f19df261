// The per-image product of a conv inside an image-by-image segment (plan_segment.h): W [M, K] ·
// cols [K, N] with the epilogue, straight on gemm.h's micro-kernel. Through gemm_batch each image
// repacked the whole weight (the same M×K panels, 64 times for a batch of 64: as much copying as
// the columns themselves) and packed all of B before the first tile. Here the weight is packed
// once per run (it may change between runs: parameters are live), and B one NR-column panel at a
// time, each kept in L1 while every MR-row panel of A passes over it, the epilogue applied to each
// finished tile. One depth block (K at most kMaxDepth), so each output is one kernel call's
// sum over K, in order, as gemm.cc's single-block products.
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm.h"

namespace descent {
namespace planexec {

using idx = std::ptrdiff_t;

/** Deepest K taken here: a K×NR float panel of 128 KiB (L2; the kernel streams it). Deeper: gemm_batch. */
constexpr idx kMaxDepth = 1024;

/** Packs A [M×K] (strides sAm, sAk) into MR-row panels: panel r holds its MR values per depth p (rows past M: 0). */
inline void pack_weight(std::vector<float>* dst, const float* a, idx M, idx K, idx sAm, idx sAk, int MR) {
  const idx panels = (M + MR - 1) / MR;
  dst->assign(std::size_t(panels * MR * K), 0.f);
  for (idx r = 0; r < panels; r++) {
    float* d = dst->data() + r * MR * K;
    for (idx i = 0; i < MR && r * MR + i < M; i++) {
      const float* row = a + (r * MR + i) * sAm;
      for (idx p = 0; p < K; p++) d[p * MR + i] = row[p * sAk];
    }
  }
}

/**
 * c [M×N] (row stride N) = epilogue(aPack · B), B [K×N] at b with row stride sBk and unit column
 * stride. Returns false (nothing done) when there is no memory for the panel.
 */
inline bool conv_product(const Kernel<float>& k, const float* aPack, idx M, idx N, idx K, const float* b, idx sBk,
                         float* c, const Epilogue<float>* ep) {
  const idx MR = k.mr, NR = k.nr;
  float* panel = scratch<float, 2>(K * NR + MR * NR);
  if (!panel) return false;
  float* tile = panel + K * NR;
  for (idx jr = 0; jr < N; jr += NR) {
    const idx nr = std::min(NR, N - jr);
    // A whole panel row is a fixed-size copy the compiler inlines, not a memcpy call per 32 floats
    // (memmove's share of a profile halved; 1-2% of the time); the last, partial panel is padded.
    if (nr == 32)
      for (idx p = 0; p < K; p++) std::memcpy(panel + p * 32, b + p * sBk + jr, 32 * sizeof(float));
    else if (nr == 16)
      for (idx p = 0; p < K; p++) std::memcpy(panel + p * 16, b + p * sBk + jr, 16 * sizeof(float));
    else
      for (idx p = 0; p < K; p++) {
        std::memcpy(panel + p * NR, b + p * sBk + jr, std::size_t(nr) * sizeof(float));
        std::fill(panel + p * NR + nr, panel + (p + 1) * NR, 0.f);
      }
    for (idx ir = 0; ir < M; ir += MR) {
      const idx mr = std::min(MR, M - ir);
      float* ct = c + ir * N + jr;
      if (mr == MR && nr == NR) {
        k.fn(K, aPack + ir * K, panel, ct, N, false);
      } else {
        k.fn(K, aPack + ir * K, panel, tile, NR, false);
        for (idx i = 0; i < mr; i++) std::memcpy(ct + i * N, tile + i * NR, std::size_t(nr) * sizeof(float));
      }
      if (ep) apply_epilogue(*ep, ct, N, ir, jr, mr, nr);
    }
  }
  return true;
}

}  // namespace planexec
}  // namespace descent
