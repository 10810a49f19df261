// Fused LSTM and GRU cells (the element-wise part of one time step, after the two gate GEMMs), the
// native twins of src/backends/js/rnn.ts (Node-API glue in rnn_napi.cc, operands in rnn.h). Every
// operand is a [B, cols] matrix with unit column stride and any row stride (0 for a broadcast
// bias); the JS side falls back to js for anything else.
//
// Numerics. Every value is computed in double from the stored inputs and rounded once, as js does.
// float64 uses libm's exp/tanh (≤ 1 ulp, like V8's fdlibm ports: results agree to an ulp or two).
// float32 uses a branch-free double exp (Cody–Waite reduction, degree-13 Taylor, rel. error
// ~1e-16) that the compiler vectorises, once per instruction set (target attributes, as the GEMM):
// its results round to the same float32 as js's except when the double lands within ~1e-15 of a
// rounding boundary (then one ulp apart). The backward passes need no transcendental and use the
// same expression order as js, so they match it exactly (contraction into FMA is switched off below).
#include "rnn.h"

// No a·b + c → fma contraction (GCC contracts by default even in ISO mode): js rounds every
// product, and the backward passes are compared with it exactly. no-trapping-math changes no
// result (Node runs with FP traps off); it lets GCC compute both sides of a select, without which
// the AVX2 and SSE2 builds of the exp loops stayed scalar (measured: AVX2 ~9x slower).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off,no-trapping-math")
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace descent {
namespace {

using idx = std::ptrdiff_t;
#define INLINE inline __attribute__((always_inline))

/** e^v for v ≤ 0 (NaN in, NaN out; 0 below −745.2), vectorisable: 2^n · e^r with r = v − n·ln2. */
INLINE double exp_neg(double v0) {
  double v = v0 < -708.0 ? -708.0 : v0;  // keeps 2^n normal (e^-708 is 0 in float32 anyway); NaN stays
  const double magic = 6755399441055744.0;  // 1.5·2^52: adding it rounds to an integer in the low bits
  const double t = v * 1.4426950408889634 + magic;
  const double n = t - magic;
  const double r = (v - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  int64_t tb, bm;
  std::memcpy(&tb, &t, 8);
  std::memcpy(&bm, &magic, 8);
  const int64_t sb = (tb - bm + 1023) << 52;
  double scale;
  std::memcpy(&scale, &sb, 8);
  const double y = p * scale;
  return v0 < -745.2 ? 0.0 : y;  // exactly 0 where double e^v underflows, as in js (0·∞ is NaN there too)
}

/** The stable sigmoid of js: x ≥ 0 ? 1/(1+e^-x) : e^x/(1+e^x), both with e = e^-|x|. */
INLINE double sigmoid_fast(double x) {
  const double e = exp_neg(-std::fabs(x));
  const double s = (x >= 0 ? 1.0 : e) / (1.0 + e);
  return x == x ? s : x;
}

/** tanh x = sign(x)·(1 − e)/(1 + e) with e = e^-2|x|; x itself below 1e-5 (where 1 − e cancels). */
INLINE double tanh_fast(double x) {
  const double a = std::fabs(x);
  const double e = exp_neg(-2.0 * a);
  // Both computed unconditionally: a division inside a branch cannot be if-converted (it may trap).
  const double small = a - a * a * a / 3.0;
  const double big = (1.0 - e) / (1.0 + e);
  const double t = a < 1e-5 ? small : big;
  return x == x ? std::copysign(t, x) : x;
}

INLINE double sigmoid_libm(double x) { return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x)); }

/** A [B, cols] operand: first element and row stride (column stride 1). */
// Row kernels: one batch row each, with restrict parameters (GCC vectorises these loops, not the
// same loops nested under the batch loop with row pointers computed there).
// In passes over blocks of 64 columns through double scratch (pre-activations, activations, state,
// stores): one loop with all five transcendentals is more than GCC if-converts, so it stayed scalar.
template <bool Fast, bool Tanh>
INLINE void act(idx n, const double* __restrict p, double* __restrict a) {
  for (idx j = 0; j < n; j++) {
    if constexpr (Tanh)
      a[j] = Fast ? tanh_fast(p[j]) : std::tanh(p[j]);
    else
      a[j] = Fast ? sigmoid_fast(p[j]) : sigmoid_libm(p[j]);
  }
}

template <typename T>
INLINE void pre_sum(idx n, const T* __restrict x, const T* __restrict y, double* __restrict p) {
  for (idx j = 0; j < n; j++) p[j] = double(x[j]) + double(y[j]);
}

template <typename T>
INLINE void lstm_c(idx n, const double* __restrict a, const T* __restrict c, double* __restrict cn) {
  constexpr idx K = 64;
  for (idx j = 0; j < n; j++) cn[j] = a[K + j] * double(c[j]) + a[j] * a[2 * K + j];
}

template <typename T>
INLINE void lstm_store(idx n, idx H, const double* __restrict a, const double* __restrict cn,
                       const double* __restrict tc, T* __restrict o) {
  constexpr idx K = 64;
  for (idx j = 0; j < n; j++) {
    o[j] = T(a[3 * K + j] * tc[j]);
    o[H + j] = T(cn[j]);
    o[2 * H + j] = T(a[j]);
    o[3 * H + j] = T(a[K + j]);
    o[4 * H + j] = T(a[2 * K + j]);
    o[5 * H + j] = T(a[3 * K + j]);
    o[6 * H + j] = T(tc[j]);
  }
}

template <typename T, bool Fast>
INLINE void lstm_row(idx H, const T* x, const T* y, const T* c, T* o) {
  constexpr idx K = 64;
  double p[4 * K], a[4 * K], cn[K], tc[K];
  for (idx j0 = 0; j0 < H; j0 += K) {
    const idx n = std::min(K, H - j0);
    for (int k = 0; k < 4; k++) pre_sum<T>(n, x + k * H + j0, y + k * H + j0, p + k * K);
    act<Fast, false>(n, p, a);
    act<Fast, false>(n, p + K, a + K);
    act<Fast, true>(n, p + 2 * K, a + 2 * K);
    act<Fast, false>(n, p + 3 * K, a + 3 * K);
    lstm_c<T>(n, a, c + j0, cn);
    act<Fast, true>(n, cn, tc);
    lstm_store<T>(n, H, a, cn, tc, o + j0);
  }
}

template <typename T>
INLINE void lstm_back_row(idx H, const T* __restrict w, const T* __restrict c, const T* __restrict dh,
                          const T* __restrict dc, T* __restrict dg, T* __restrict dcp) {
  for (idx j = 0; j < H; j++) {
    const double i = w[j], f = w[H + j], g = w[2 * H + j], o = w[3 * H + j], tc = w[4 * H + j];
    const double gh = dh[j];
    const double dcn = double(dc[j]) + gh * o * (1 - tc * tc);
    dg[j] = T(dcn * g * i * (1 - i));
    dg[H + j] = T(dcn * double(c[j]) * f * (1 - f));
    dg[2 * H + j] = T(dcn * i * (1 - g * g));
    dg[3 * H + j] = T(gh * tc * o * (1 - o));
    dcp[j] = T(dcn * f);
  }
}

template <typename T, bool Fast, bool Bias>
INLINE void gru_row(idx H, const T* __restrict x, const T* __restrict y, const T* __restrict h,
                    const T* __restrict bn, T* __restrict o) {
  for (idx j = 0; j < H; j++) {
    const double pr = double(x[j]) + double(y[j]), pz = double(x[H + j]) + double(y[H + j]);
    const double r = Fast ? sigmoid_fast(pr) : sigmoid_libm(pr);
    const double z = Fast ? sigmoid_fast(pz) : sigmoid_libm(pz);
    const double hn = Bias ? double(y[2 * H + j]) + double(bn[j]) : double(y[2 * H + j]);
    const double pn = double(x[2 * H + j]) + r * hn;
    const double n = Fast ? tanh_fast(pn) : std::tanh(pn);
    o[j] = T(n + z * (double(h[j]) - n));
    o[H + j] = T(r);
    o[2 * H + j] = T(z);
    o[3 * H + j] = T(n);
    o[4 * H + j] = T(hn);
  }
}

template <typename T>
INLINE void gru_back_row(idx H, const T* __restrict w, const T* __restrict h, const T* __restrict dh,
                         T* __restrict dx, T* __restrict dy, T* __restrict dp) {
  for (idx j = 0; j < H; j++) {
    const double r = w[j], z = w[H + j], n = w[2 * H + j], hn = w[3 * H + j];
    const double g = dh[j];
    const double dn = g * (1 - z) * (1 - n * n);
    const double dr = dn * hn * r * (1 - r);
    const double dz = g * (double(h[j]) - n) * z * (1 - z);
    dx[j] = T(dr);
    dx[H + j] = T(dz);
    dx[2 * H + j] = T(dn);
    dy[j] = T(dr);
    dy[H + j] = T(dz);
    dy[2 * H + j] = T(dn * r);
    dp[j] = T(g * z);
  }
}

template <typename T, bool Fast>
INLINE void lstm_body(const LstmArgs<T>& a) {
  for (idx b = 0; b < a.B; b++) lstm_row<T, Fast>(a.H, a.xg.row(b), a.hg.row(b), a.c.row(b), a.out.row(b));
}

template <typename T>
INLINE void lstm_back_body(const LstmBackArgs<T>& a) {
  for (idx b = 0; b < a.B; b++)
    lstm_back_row<T>(a.H, a.ws.row(b) + 2 * a.H, a.c.row(b), a.dh.row(b), a.dc.row(b), a.dg.row(b), a.dcp.row(b));
}

template <typename T, bool Fast>
INLINE void gru_body(const GruArgs<T>& a) {
  for (idx b = 0; b < a.B; b++) {
    if (a.bhn.p)
      gru_row<T, Fast, true>(a.H, a.xg.row(b), a.hg.row(b), a.h.row(b), a.bhn.row(b), a.out.row(b));
    else
      gru_row<T, Fast, false>(a.H, a.xg.row(b), a.hg.row(b), a.h.row(b), nullptr, a.out.row(b));
  }
}

template <typename T>
INLINE void gru_back_body(const GruBackArgs<T>& a) {
  for (idx b = 0; b < a.B; b++)
    gru_back_row<T>(a.H, a.ws.row(b) + a.H, a.h.row(b), a.dh.row(b), a.dxg.row(b), a.dhg.row(b), a.dhp.row(b));
}

// One entry per kernel and dtype: portable, and on x86-64 an AVX2 and an AVX-512 compilation of
// the same body (the vectorised exp is where the wider registers pay).
#define VARIANTS(NAME, BODY, T, FAST)                                                   \
  void NAME##_portable(const BODY##Args<T>& a) { BODY##_body_call<T, FAST>(a); }       \
  X86_VARIANTS(NAME, BODY, T, FAST)

template <typename T, bool Fast>
INLINE void Lstm_body_call(const LstmArgs<T>& a) { lstm_body<T, Fast>(a); }
template <typename T, bool Fast>
INLINE void LstmBack_body_call(const LstmBackArgs<T>& a) { lstm_back_body<T>(a); }
template <typename T, bool Fast>
INLINE void Gru_body_call(const GruArgs<T>& a) { gru_body<T, Fast>(a); }
template <typename T, bool Fast>
INLINE void GruBack_body_call(const GruBackArgs<T>& a) { gru_back_body<T>(a); }

#if defined(__x86_64__)
#define AVX2_T __attribute__((target("avx2,fma")))
#define AVX512_T __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")))
#define X86_VARIANTS(NAME, BODY, T, FAST)                                                    \
  AVX2_T void NAME##_avx2(const BODY##Args<T>& a) { BODY##_body_call<T, FAST>(a); }         \
  AVX512_T void NAME##_avx512(const BODY##Args<T>& a) { BODY##_body_call<T, FAST>(a); }
#define PICK(NAME, isa) \
  ((isa) == Isa::avx512 ? NAME##_avx512 : (isa) == Isa::avx2 ? NAME##_avx2 : NAME##_portable)
#else
#define X86_VARIANTS(NAME, BODY, T, FAST)
#define PICK(NAME, isa) NAME##_portable
#endif

VARIANTS(lstm_f32, Lstm, float, true)
VARIANTS(lstm_f64, Lstm, double, false)
VARIANTS(lstm_back_f32, LstmBack, float, true)
VARIANTS(lstm_back_f64, LstmBack, double, false)
VARIANTS(gru_f32, Gru, float, true)
VARIANTS(gru_f64, Gru, double, false)
VARIANTS(gru_back_f32, GruBack, float, true)
VARIANTS(gru_back_f64, GruBack, double, false)

}  // namespace

void lstm_cell(const LstmArgs<float>& a, Isa isa) { PICK(lstm_f32, isa)(a); }
void lstm_cell(const LstmArgs<double>& a, Isa isa) { PICK(lstm_f64, isa)(a); }
void lstm_cell_backward(const LstmBackArgs<float>& a, Isa isa) { PICK(lstm_back_f32, isa)(a); }
void lstm_cell_backward(const LstmBackArgs<double>& a, Isa isa) { PICK(lstm_back_f64, isa)(a); }
void gru_cell(const GruArgs<float>& a, Isa isa) { PICK(gru_f32, isa)(a); }
void gru_cell(const GruArgs<double>& a, Isa isa) { PICK(gru_f64, isa)(a); }
void gru_cell_backward(const GruBackArgs<float>& a, Isa isa) { PICK(gru_back_f32, isa)(a); }
void gru_cell_backward(const GruBackArgs<double>& a, Isa isa) { PICK(gru_back_f64, isa)(a); }

}  // namespace descent
