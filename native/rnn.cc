// Fused LSTM and GRU cells (the element-wise part of one time step, after the two gate GEMMs), the
// native twins of src/backends/js/rnn.ts; the layouts are those of the Kernels interface
// (src/backends/backend.ts). Every operand is a [B, cols] matrix with unit column stride and any row
// stride (0 for a broadcast bias); the JS side falls back to js for anything else.
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
#include <cstdio>
#include <cstring>

namespace descent {
namespace {

using idx = std::ptrdiff_t;
#define INLINE inline __attribute__((always_inline))

/** e^v for v ≤ 0 (NaN gives garbage: callers pass NaN on), vectorisable: 2^n · e^r, r = v − n·ln2. */
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
template <typename T>
struct Mat {
  T* p;
  idx rs;
  INLINE T* row(idx b) const { return p + b * rs; }
};

template <typename T>
struct LstmArgs {
  idx B, H;
  Mat<const T> xg, hg, c;
  Mat<T> out;
};

template <typename T>
struct LstmBackArgs {
  idx B, H;
  Mat<const T> ws, c, dh, dc;
  Mat<T> dg, dcp;
};

template <typename T>
struct GruArgs {
  idx B, H;
  Mat<const T> xg, hg, h, bhn;  // bhn.p null when absent
  Mat<T> out;
};

template <typename T>
struct GruBackArgs {
  idx B, H;
  Mat<const T> ws, h, dh;
  Mat<T> dxg, dhg, dhp;
};

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

// ---- Node-API glue ----

const Isa* g_isa_ptr = nullptr;

/** The arguments of one call: n typed arrays of one float type, then meta = [B, H, (offset, rowStride) × n]. */
struct Call {
  bool f32 = false;
  idx B = 0, H = 0;
  void* data[8] = {};
  idx off[8] = {}, rs[8] = {};
  bool present[8] = {};
};

/**
 * Reads and validates a call: arrays[k] (null allowed where `optional` has bit k) holds a [B,
 * cols[k]·H] matrix at its (offset, row stride) with unit column stride, inside the array.
 */
bool read_call(napi_env env, napi_callback_info info, const char* name, int n, const int* cols, unsigned optional,
               Call* call) {
  std::size_t argc = 9;
  napi_value argv[9];
  char msg[160];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return false;
  auto fail = [&](const char* what) {
    std::snprintf(msg, sizeof msg, "%s: %s", name, what);
    napi_throw_type_error(env, nullptr, msg);
    return false;
  };
  if (int(argc) < n + 1) return fail("too few arguments");
  napi_typedarray_type mt;
  std::size_t mlen;
  void* mdata;
  bool is = false;
  if (napi_is_typedarray(env, argv[n], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[n], &mt, &mlen, &mdata, nullptr, nullptr) != napi_ok ||
      mt != napi_float64_array || mlen < std::size_t(2 + 2 * n))
    return fail("expected meta: Float64Array [B, H, (offset, rowStride) per array]");
  const double* meta = static_cast<const double*>(mdata);
  for (int k = 0; k < 2 + 2 * n; k++)
    if (!(std::fabs(meta[k]) < 9e15) || meta[k] != std::floor(meta[k])) return fail("meta must hold integers");
  call->B = idx(meta[0]), call->H = idx(meta[1]);
  if (call->B < 0 || call->H < 0) return fail("negative size");
  int type = -1;
  for (int k = 0; k < n; k++) {
    napi_valuetype vt;
    if (napi_typeof(env, argv[k], &vt) != napi_ok) return false;
    if ((vt == napi_null || vt == napi_undefined) && (optional >> k & 1)) continue;
    napi_typedarray_type t;
    std::size_t len;
    if (napi_is_typedarray(env, argv[k], &is) != napi_ok || !is ||
        napi_get_typedarray_info(env, argv[k], &t, &len, &call->data[k], nullptr, nullptr) != napi_ok)
      return fail("expected typed arrays");
    if (t != napi_float32_array && t != napi_float64_array) return fail("expected Float32Array or Float64Array");
    if (type >= 0 && int(t) != type) return fail("all arrays must have one dtype");
    type = int(t);
    call->present[k] = true;
    call->off[k] = idx(meta[2 + 2 * k]), call->rs[k] = idx(meta[3 + 2 * k]);
    // Rows b·rs + [0, cols·H) for b < B must lie in [0, len).
    const idx width = cols[k] * call->H;
    if (call->B > 0 && width > 0) {
      const idx first = call->off[k] + std::min<idx>(0, (call->B - 1) * call->rs[k]);
      const idx last = call->off[k] + std::max<idx>(0, (call->B - 1) * call->rs[k]) + width - 1;
      if (first < 0 || last >= idx(len)) {
        std::snprintf(msg, sizeof msg, "%s: array %d: a view reaches outside its array", name, k);
        napi_throw_error(env, nullptr, msg);
        return false;
      }
    }
  }
  if (type < 0) return fail("no arrays");
  call->f32 = type == napi_float32_array;
  return true;
}

template <typename T>
Mat<const T> in(const Call& c, int k) {
  return {c.present[k] ? static_cast<const T*>(c.data[k]) + c.off[k] : nullptr, c.rs[k]};
}
template <typename T>
Mat<T> out(const Call& c, int k) {
  return {static_cast<T*>(c.data[k]) + c.off[k], c.rs[k]};
}

Isa cur_isa() { return g_isa_ptr ? *g_isa_ptr : Isa::portable; }

/** lstmCell(xg, hg, c, out, meta) */
napi_value LstmCell(napi_env env, napi_callback_info info) {
  static const int cols[] = {4, 4, 1, 7};
  Call c;
  if (!read_call(env, info, "lstmCell", 4, cols, 0, &c)) return nullptr;
  if (c.f32)
    PICK(lstm_f32, cur_isa())({c.B, c.H, in<float>(c, 0), in<float>(c, 1), in<float>(c, 2), out<float>(c, 3)});
  else
    PICK(lstm_f64, cur_isa())({c.B, c.H, in<double>(c, 0), in<double>(c, 1), in<double>(c, 2), out<double>(c, 3)});
  return nullptr;
}

/** lstmCellBackward(ws, c, dh, dc, dgates, dcPrev, meta); ws's offset is that of its first column. */
napi_value LstmCellBackward(napi_env env, napi_callback_info info) {
  static const int cols[] = {7, 1, 1, 1, 4, 1};
  Call c;
  if (!read_call(env, info, "lstmCellBackward", 6, cols, 0, &c)) return nullptr;
  if (c.f32)
    PICK(lstm_back_f32, cur_isa())({c.B, c.H, in<float>(c, 0), in<float>(c, 1), in<float>(c, 2), in<float>(c, 3),
                                    out<float>(c, 4), out<float>(c, 5)});
  else
    PICK(lstm_back_f64, cur_isa())({c.B, c.H, in<double>(c, 0), in<double>(c, 1), in<double>(c, 2),
                                    in<double>(c, 3), out<double>(c, 4), out<double>(c, 5)});
  return nullptr;
}

/** gruCell(xg, hg, h, bhn | null, out, meta) */
napi_value GruCell(napi_env env, napi_callback_info info) {
  static const int cols[] = {3, 3, 1, 1, 5};
  Call c;
  if (!read_call(env, info, "gruCell", 5, cols, 1u << 3, &c)) return nullptr;
  if (c.f32)
    PICK(gru_f32, cur_isa())({c.B, c.H, in<float>(c, 0), in<float>(c, 1), in<float>(c, 2), in<float>(c, 3),
                              out<float>(c, 4)});
  else
    PICK(gru_f64, cur_isa())({c.B, c.H, in<double>(c, 0), in<double>(c, 1), in<double>(c, 2), in<double>(c, 3),
                              out<double>(c, 4)});
  return nullptr;
}

/** gruCellBackward(ws, h, dh, dxg, dhg, dhPrev, meta) */
napi_value GruCellBackward(napi_env env, napi_callback_info info) {
  static const int cols[] = {5, 1, 1, 3, 3, 1};
  Call c;
  if (!read_call(env, info, "gruCellBackward", 6, cols, 0, &c)) return nullptr;
  if (c.f32)
    PICK(gru_back_f32, cur_isa())({c.B, c.H, in<float>(c, 0), in<float>(c, 1), in<float>(c, 2), out<float>(c, 3),
                                   out<float>(c, 4), out<float>(c, 5)});
  else
    PICK(gru_back_f64, cur_isa())({c.B, c.H, in<double>(c, 0), in<double>(c, 1), in<double>(c, 2),
                                   out<double>(c, 3), out<double>(c, 4), out<double>(c, 5)});
  return nullptr;
}

}  // namespace

bool register_rnn(napi_env env, napi_value exports, const Isa* isa) {
  g_isa_ptr = isa;
  napi_property_descriptor props[] = {
      {"lstmCell", nullptr, LstmCell, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"lstmCellBackward", nullptr, LstmCellBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gruCell", nullptr, GruCell, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gruCellBackward", nullptr, GruCellBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok;
}

}  // namespace descent
