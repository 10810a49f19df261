// The window steps of compiled plans (plan_steps.h): im2col and max pooling of one (image,
// channel) plane of a contiguous x [N, C, H, W]. Each output row is cut once into its padded edges
// (zeros, or skipped) and its interior, so the interior is a plain copy (stride 1: memcpy) or a
// strided one, with no per-element bounds test. Max pooling whose windows tile the image (kernel
// == stride, no padding or dilation, every window inside: MaxPool2d(2) and the like) runs as
// passes over the plane, one per window element, each sweeping a whole output row (no dependency
// between iterations, as window.cc's eager kernel); the 2×2 case has an AVX-512 loop. Other
// geometries keep the per-output scan. NaN: the first NaN of a window in row-major order is its
// result (PyTorch's CPU rule, and the js kernel's).
#pragma once

#include <algorithm>
#include <cstring>
#include <limits>

#include "gemm.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define DESCENT_PLAN_X86 1
#endif

namespace descent {
namespace planexec {

using idx = std::ptrdiff_t;

/** The geometry of a window step (its n[0..14)). */
struct Window {
  idx N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
};

/** First and one-past-last output o whose input o·s − p + off lies in [0, size). */
inline void valid_span(idx out, idx size, idx s, idx p, idx off, idx* o0, idx* o1) {
  const idx lo = p - off, hi = size - 1 + p - off;
  const idx a = lo <= 0 ? 0 : (lo + s - 1) / s, b = hi < 0 ? 0 : hi / s + 1;
  *o0 = std::min(a, out), *o1 = std::max(*o0, std::min(b, out));
}

/** The portable copy of an im2col row block's interior (stride 1): `rows` runs of n, at strides ld and ls. */
struct CopyPortable {
  static void rows(float* __restrict d, idx ld, const float* __restrict s, idx ls, idx rows, idx n) {
    for (idx r = 0; r < rows; r++) std::memcpy(d + r * ld, s + r * ls, std::size_t(n) * sizeof(float));
  }
};

/** im2col of plane (n, c): rows (c·kh + i)·kw + j of image n's [C·kh·kw, oh·ow] block of out. */
template <class Copy>
inline void im2col_plane_t(const Window& g, const float* plane, float* out, idx n, idx c) {
  const idx L = g.oh * g.ow;
  for (idx i = 0; i < g.kh; i++)
    for (idx j = 0; j < g.kw; j++) {
      float* row = out + (n * g.C * g.kh * g.kw + (c * g.kh + i) * g.kw + j) * L;
      idx x0, x1, y0, y1;
      valid_span(g.ow, g.W, g.sw, g.pw, j * g.dw, &x0, &x1);
      valid_span(g.oh, g.H, g.sh, g.ph, i * g.dh, &y0, &y1);
      std::fill(row, row + y0 * g.ow, 0.f);
      if (x0 > 0 || x1 < g.ow)
        for (idx oy = y0; oy < y1; oy++) {
          std::fill(row + oy * g.ow, row + oy * g.ow + x0, 0.f);
          std::fill(row + oy * g.ow + x1, row + (oy + 1) * g.ow, 0.f);
        }
      if (y1 > y0 && x1 > x0) {
        const float* src = plane + (y0 * g.sh - g.ph + i * g.dh) * g.W + (x0 * g.sw - g.pw + j * g.dw);
        if (g.sw == 1) {
          Copy::rows(row + y0 * g.ow + x0, g.ow, src, g.sh * g.W, y1 - y0, x1 - x0);
        } else {
          for (idx oy = y0; oy < y1; oy++) {
            float* __restrict r = row + oy * g.ow;
            const float* __restrict sr = src + (oy - y0) * g.sh * g.W;
            for (idx x = x0; x < x1; x++) r[x] = sr[(x - x0) * g.sw];
          }
        }
      }
      std::fill(row + y1 * g.ow, row + L, 0.f);
    }
}

/** m, or v when v is greater or m is not NaN and v is: the window scan's rule, one element at a time. */
inline float nan_max(float m, float v) { return m != m ? m : (v > m || v != v) ? v : m; }

/** Whether every window is a disjoint tile inside the image (kernel == stride, no padding or dilation). */
inline bool tiles(const Window& g) {
  return g.kh == g.sh && g.kw == g.sw && g.ph == 0 && g.pw == 0 && g.dh == 1 && g.dw == 1 && g.kh > 0 &&
         g.kw > 0 && g.oh * g.kh <= g.H && g.ow * g.kw <= g.W;
}

#ifdef DESCENT_PLAN_X86
/**
 * A conv's im2col rows are short (26 for a 28×28 image, 11 for 13×13): a masked load and store
 * for each tail, not a memcpy call.
 */
struct CopyAvx512 {
  __attribute__((target("avx512f"))) static void rows(float* __restrict d, idx ld, const float* __restrict s, idx ls,
                                                      idx rows, idx n) {
    const __mmask16 tail = __mmask16((1u << (n % 16)) - 1);
    for (idx r = 0; r < rows; r++, d += ld, s += ls) {
      idx x = 0;
      for (; x + 16 <= n; x += 16) _mm512_storeu_ps(d + x, _mm512_loadu_ps(s + x));
      if (x < n) _mm512_mask_storeu_ps(d + x, tail, _mm512_maskz_loadu_ps(tail, s + x));
    }
  }
};

__attribute__((target("avx512f"))) inline void im2col_plane_avx512(const Window& g, const float* plane, float* out,
                                                                   idx n, idx c) {
  im2col_plane_t<CopyAvx512>(g, plane, out, n, c);
}

/**
 * One step of the window scan on 16 lanes: MAXPS(v, m) is v > m ? v : m, so a NaN m stays; a NaN
 * v that m is not replaces it.
 */
__attribute__((target("avx512f"))) inline __m512 fold(__m512 m, __m512 v) {
  const __m512 r = _mm512_mask_max_ps(m, __mmask16(0xFFFF), v, m);  // GCC 12: _mm512_max_ps warns inside its header
  const __mmask16 take = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) & _mm512_cmp_ps_mask(m, m, _CMP_ORD_Q);
  return _mm512_mask_mov_ps(r, take, v);
}

/**
 * 2×2 stride-2 pooling of a plane, 16 outputs a step: the two input rows' even and odd columns
 * are split with a two-source permute (a, b of the top row, c, d of the bottom one) and reduced as
 * a tree, or, when a lane has a NaN, folded in scan order so the first NaN wins as in the scalar
 * rule (the tree: ~15% less time in this loop than folding every vector, in a profile). A row's
 * last (or only: 13 of a 26-wide map) outputs take masked loads and a masked store; masked-off
 * lanes read nothing.
 */
__attribute__((target("avx512f"))) inline void pool2x2_avx512(const Window& g, const float* plane, float* out) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  for (idx oy = 0; oy < g.oh; oy++) {
    const float* top = plane + 2 * oy * g.W;
    const float* bot = top + g.W;
    float* o = out + oy * g.ow;
    for (idx ox = 0; ox < g.ow; ox += 16) {
      const idx n = std::min<idx>(16, g.ow - ox);  // outputs this step; 2n inputs per row
      const __mmask16 lo = __mmask16(n >= 8 ? 0xFFFF : (1u << (2 * n)) - 1);
      const __mmask16 hi = __mmask16(n <= 8 ? 0 : (1u << (2 * n - 16)) - 1);
      const __m512 t0 = _mm512_maskz_loadu_ps(lo, top + 2 * ox), t1 = _mm512_maskz_loadu_ps(hi, top + 2 * ox + 16);
      const __m512 b0 = _mm512_maskz_loadu_ps(lo, bot + 2 * ox), b1 = _mm512_maskz_loadu_ps(hi, bot + 2 * ox + 16);
      const __m512 a = _mm512_permutex2var_ps(t0, even, t1), b = _mm512_permutex2var_ps(t0, odd, t1);
      const __m512 c = _mm512_permutex2var_ps(b0, even, b1), d = _mm512_permutex2var_ps(b0, odd, b1);
      __m512 m;
      if (_mm512_kortestz(_mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q), _mm512_cmp_ps_mask(c, d, _CMP_UNORD_Q))) {
        // No NaN: a tree, MAXPS(later, earlier) keeping the earlier of equal values (±0) as the scan does.
        m = _mm512_mask_max_ps(a, __mmask16(0xFFFF), _mm512_mask_max_ps(d, __mmask16(0xFFFF), d, c),
                               _mm512_mask_max_ps(b, __mmask16(0xFFFF), b, a));
      } else {
        m = fold(fold(fold(a, b), c), d);
      }
      _mm512_mask_storeu_ps(o + ox, __mmask16((1u << n) - 1), m);
    }
  }
}
#endif

/** im2col of plane (n, c) (im2col_plane_t), with the AVX-512 row copy where there is one. */
inline void im2col_plane(const Window& g, const float* plane, float* out, idx n, idx c, Isa isa) {
#ifdef DESCENT_PLAN_X86
  if (isa == Isa::avx512) return im2col_plane_avx512(g, plane, out, n, c);
#endif
  im2col_plane_t<CopyPortable>(g, plane, out, n, c);
}

/** Max pooling of one plane into out (oh·ow values). */
inline void maxpool_plane(const Window& g, const float* plane, float* out, Isa isa) {
  if (tiles(g)) {
#ifdef DESCENT_PLAN_X86
    if (isa == Isa::avx512 && g.kh == 2 && g.kw == 2) return pool2x2_avx512(g, plane, out);
#endif
    // One pass per window element (i, j) in scan order; each sweeps every output of the plane.
    for (idx i = 0; i < g.kh; i++)
      for (idx j = 0; j < g.kw; j++)
        for (idx oy = 0; oy < g.oh; oy++) {
          const float* __restrict src = plane + (oy * g.kh + i) * g.W + j;
          float* __restrict o = out + oy * g.ow;
          if (i == 0 && j == 0)
            for (idx x = 0; x < g.ow; x++) o[x] = src[x * g.kw];
          else
            for (idx x = 0; x < g.ow; x++) o[x] = nan_max(o[x], src[x * g.kw]);
        }
    return;
  }
  for (idx oy = 0; oy < g.oh; oy++) {
    for (idx ox = 0; ox < g.ow; ox++) {
      float m = -std::numeric_limits<float>::infinity();
      for (idx i = 0; i < g.kh && m == m; i++) {
        const idx y = oy * g.sh - g.ph + i * g.dh;
        if (y < 0 || y >= g.H) continue;
        for (idx j = 0; j < g.kw; j++) {
          const idx x = ox * g.sw - g.pw + j * g.dw;
          if (x >= 0 && x < g.W) m = nan_max(m, plane[y * g.W + x]);
        }
      }
      *out++ = m;
    }
  }
}

}  // namespace planexec
}  // namespace descent
