// Fused scaled dot-product attention of the native backend (src/backends/native/attention.ts is the
// caller), flash-attention style: for each batch·head, query blocks meet key blocks of 64, the
// block's scores go through an online softmax (running max m, running sum l, the output rescaled
// when m grows), so only a [64, 64] tile of the [L, S] scores ever exists. The backward recomputes
// each tile's weights from the saved log Σ exp (lse = m + log l) and accumulates dQ, dK, dV per key
// block (FlashAttention-2's loop order). The tile products run on the GEMM's own packed
// micro-kernels (gemm.h, picked for the ISA in use); the softmax loops are plain C++. Batch·heads
// are split over the pool. The definition is src/backends/fallback/attention.ts; results agree to
// float rounding (test/backends/accelerations.test.ts).
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <type_traits>
#include <vector>

#include "gemm.h"
#include "napi_util.h"
#include "pool.h"

#if defined(__GNUC__) && !defined(__clang__)
// Lets GCC compute both sides of the exp's selects, so its loops vectorise (no result changes).
#pragma GCC optimize("no-trapping-math")
#endif

namespace descent {
namespace {

using idx = std::ptrdiff_t;
#define ATT_INLINE inline __attribute__((always_inline))

const Isa* g_att_isa = nullptr;
constexpr idx kBlock = 64;  // query and key block (rounded up to the micro-kernel's tile)

/** e^v for v ≤ ~0: −∞ → 0, NaN → NaN; Cody–Waite reduction and Cephes' expf polynomial (~1 ulp). */
ATT_INLINE float exp_att(float v) {
  float x = v < -87.0f ? -87.0f : v;
  x = x > 88.0f ? 88.0f : x;
  const float magic = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer in the low bits
  const float t = x * 1.44269504088896341f + magic;
  const float n = t - magic;
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t tb, mb;
  std::memcpy(&tb, &t, 4);
  std::memcpy(&mb, &magic, 4);
  const int32_t sb = (tb - mb + 127) << 23;
  float s;
  std::memcpy(&s, &sb, 4);
  return v < -87.0f ? 0.0f : p * s;
}

/** The same in double (degree-13 Taylor after reduction, rel. error ~1e-16). */
ATT_INLINE double exp_att(double v) {
  double x = v < -708.0 ? -708.0 : v;
  x = x > 709.0 ? 709.0 : x;
  const double magic = 6755399441055744.0;  // 1.5·2^52
  const double t = x * 1.4426950408889634 + magic;
  const double n = t - magic;
  const double r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
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
  int64_t tb, mb;
  std::memcpy(&tb, &t, 8);
  std::memcpy(&mb, &magic, 8);
  const int64_t sb = (tb - mb + 1023) << 52;
  double s;
  std::memcpy(&s, &sb, 8);
  return v < -708.0 ? 0.0 : p * s;
}

template <typename T>
struct Args {
  idx B, H, L, S, E, Ev;
  T scale;
  bool causal;
  const T *q, *k, *v, *mask;
  idx ms[4];  // mask strides over [B, H, L, S]
  T* ws;      // [B, H, L, Ev + 1]: output row, then lse
  const T* gws;
  T *dq, *dk, *dv;
};

inline idx round_up(idx x, idx m) { return (x + m - 1) / m * m; }

/** A-panels of the micro-kernel: rows × depth of src (strides rs, cs), MR rows per panel, zero-padded. */
template <typename T>
void pack_a(const T* src, idx rs, idx cs, idx rows, idx depth, int MR, T* dst) {
  for (idx p = 0; p * MR < rows; p++)
    for (idx d = 0; d < depth; d++)
      for (int r = 0; r < MR; r++) {
        const idx row = p * MR + r;
        dst[(p * depth + d) * MR + r] = row < rows ? src[row * rs + d * cs] : T(0);
      }
}

/** B-panels: depth × cols of src (strides rs over depth, cs over columns), NR columns per panel. */
template <typename T>
void pack_b(const T* src, idx rs, idx cs, idx depth, idx cols, int NR, T* dst) {
  for (idx p = 0; p * NR < cols; p++)
    for (idx d = 0; d < depth; d++)
      for (int c = 0; c < NR; c++) {
        const idx col = p * NR + c;
        dst[(p * depth + d) * NR + c] = col < cols ? src[d * rs + col * cs] : T(0);
      }
}

/** C (+)= A·B over packed panels; C holds rows and cols rounded up to the tile, row stride ldc. */
template <typename T>
void tiles(const Kernel<T>& kn, idx rows, idx cols, idx depth, const T* ap, const T* bp, T* c, idx ldc, bool acc) {
  for (idx pr = 0; pr * kn.mr < rows; pr++)
    for (idx pc = 0; pc * kn.nr < cols; pc++)
      kn.fn(depth, ap + pr * depth * kn.mr, bp + pc * depth * kn.nr, c + pr * kn.mr * ldc + pc * kn.nr, ldc, acc);
}

Kernel<float> kern(float*, Isa isa) { return kernel_f32(isa); }
Kernel<double> kern(double*, Isa isa) { return kernel_f64(isa); }

/**
 * Block sizes and scratch of one thread: QB query rows (a multiple of the tile's rows MR), KB keys
 * (a multiple of its columns NR; KBm rounds it up to MR where keys are rows), E and Ev rounded up
 * to NR where they are tile columns.
 */
template <typename T>
struct Work {
  Kernel<T> kn;
  idx QB, KB, KBm, EP, EvP;
  std::vector<T> buf;
  std::vector<T*> parts;
  Work(const Args<T>& a, Isa isa) : kn(kern(static_cast<T*>(nullptr), isa)) {
    QB = round_up(kBlock, kn.mr);
    KB = round_up(kBlock, kn.nr);
    KBm = round_up(KB, kn.mr);
    EP = round_up(a.E, kn.nr);
    EvP = round_up(a.Ev, kn.nr);
  }
  /** One buffer carved into parts of these sizes (each rounded up to 16 elements). */
  void carve(std::initializer_list<idx> sizes) {
    idx total = 0;
    for (idx n : sizes) total += round_up(n, 16);
    buf.assign(total, T(0));
    idx at = 0;
    for (idx n : sizes) parts.push_back(buf.data() + at), at += round_up(n, 16);
  }
};

/** The mask value at (i, j) of batch·head b, 0 without a mask. */
template <typename T>
ATT_INLINE T mask_at(const T* mk, const idx* ms, idx i, idx j) {
  return mk ? mk[i * ms[2] + j * ms[3]] : T(0);
}

template <typename T>
void forward_range(const Args<T>& a, idx b0, idx b1, Isa isa) {
  Work<T> w(a, isa);
  const idx L = a.L, S = a.S, E = a.E, Ev = a.Ev, W = Ev + 1, QB = w.QB, KB = w.KB, EvP = w.EvP;
  const int MR = w.kn.mr, NR = w.kn.nr;
  w.carve({QB * E, KB * E, QB * KB, QB * KB, KB * EvP, QB * EvP, QB, QB});
  T *qp = w.parts[0], *kp = w.parts[1], *s = w.parts[2], *pp = w.parts[3];
  T *vp = w.parts[4], *acc = w.parts[5], *m = w.parts[6], *l = w.parts[7];
  const T ninf = -std::numeric_limits<T>::infinity();
  for (idx b = b0; b < b1; b++) {
    const T* q = a.q + b * L * E;
    const T* k = a.k + b * S * E;
    const T* v = a.v + b * S * Ev;
    const T* mk = a.mask ? a.mask + (b / a.H) * a.ms[0] + (b % a.H) * a.ms[1] : nullptr;
    T* ws = a.ws + b * L * W;
    for (idx i0 = 0; i0 < L; i0 += QB) {
      const idx rows = std::min(QB, L - i0);
      pack_a(q + i0 * E, E, 1, rows, E, MR, qp);
      std::fill(acc, acc + QB * EvP, T(0));
      std::fill(m, m + QB, ninf);
      std::fill(l, l + QB, T(0));
      for (idx j0 = 0; j0 < S; j0 += KB) {
        if (a.causal && j0 > i0 + rows - 1) break;
        const idx cols = std::min(KB, S - j0);
        pack_b(k + j0 * E, 1, E, E, cols, NR, kp);
        tiles(w.kn, rows, cols, E, qp, kp, s, KB, false);
        for (idx r = 0; r < rows; r++) {
          const idx i = i0 + r;
          T* sr = s + r * KB;
          const idx jn = a.causal ? std::max<idx>(0, std::min(cols, i - j0 + 1)) : cols;
          T mx = ninf;
          for (idx j = 0; j < jn; j++) {
            const T x = sr[j] * a.scale + mask_at(mk, a.ms, i, j0 + j);
            sr[j] = x;
            mx = x > mx ? x : mx;
          }
          const T mnew = std::max(m[r], mx);
          if (mnew == ninf) {  // every key so far masked out: nothing to add
            std::fill(sr, sr + cols, T(0));
            continue;
          }
          const T corr = exp_att(m[r] - mnew);
          T sum = 0;
          for (idx j = 0; j < jn; j++) {
            const T p = exp_att(sr[j] - mnew);
            sr[j] = p;
            sum += p;
          }
          std::fill(sr + jn, sr + cols, T(0));
          l[r] = l[r] * corr + sum;
          m[r] = mnew;
          if (corr != T(1))
            for (idx c = 0; c < EvP; c++) acc[r * EvP + c] *= corr;
        }
        pack_a(s, KB, 1, rows, cols, MR, pp);
        pack_b(v + j0 * Ev, Ev, 1, cols, Ev, NR, vp);
        tiles(w.kn, rows, Ev, cols, pp, vp, acc, EvP, true);
      }
      for (idx r = 0; r < rows; r++) {
        T* o = ws + (i0 + r) * W;
        const bool none = !(l[r] > T(0));  // every key masked out (or NaN): NaN, as the composed softmax
        const T inv = none ? std::numeric_limits<T>::quiet_NaN() : T(1) / l[r];
        for (idx c = 0; c < Ev; c++) o[c] = none ? inv : acc[r * EvP + c] * inv;
        o[Ev] = none ? inv : m[r] + std::log(l[r]);
      }
    }
  }
}

template <typename T>
void backward_range(const Args<T>& a, idx b0, idx b1, Isa isa) {
  Work<T> w(a, isa);
  const idx L = a.L, S = a.S, E = a.E, Ev = a.Ev, W = Ev + 1, QB = w.QB, KB = w.KB, KBm = w.KBm, EP = w.EP,
            EvP = w.EvP;
  const int MR = w.kn.mr, NR = w.kn.nr;
  const idx LP = round_up(L, QB);
  w.carve({KB * E, KB * Ev, KB * EP, QB * E, QB * Ev, KBm * QB, QB * EvP, KBm * QB, QB * EP, QB * KB, QB * KB,
           QB * KB, LP * EP, KBm * EP, KBm * EvP, L});
  T *kp = w.parts[0], *vtp = w.parts[1], *kb2 = w.parts[2], *qp = w.parts[3], *dop = w.parts[4];
  T *ptp = w.parts[5], *dob = w.parts[6], *dstp = w.parts[7], *qb = w.parts[8], *dsp = w.parts[9];
  T *s = w.parts[10], *dp = w.parts[11], *dqacc = w.parts[12], *dkacc = w.parts[13], *dvacc = w.parts[14];
  T* D = w.parts[15];
  for (idx b = b0; b < b1; b++) {
    const T* q = a.q + b * L * E;
    const T* k = a.k + b * S * E;
    const T* v = a.v + b * S * Ev;
    const T* mk = a.mask ? a.mask + (b / a.H) * a.ms[0] + (b % a.H) * a.ms[1] : nullptr;
    const T* ws = a.ws + b * L * W;
    const T* g = a.gws + b * L * W;
    for (idx i = 0; i < L; i++) {
      T d = 0;
      for (idx c = 0; c < Ev; c++) d += g[i * W + c] * ws[i * W + c];
      D[i] = d;
    }
    std::fill(dqacc, dqacc + LP * EP, T(0));
    for (idx j0 = 0; j0 < S; j0 += KB) {
      const idx cols = std::min(KB, S - j0);
      pack_b(k + j0 * E, 1, E, E, cols, NR, kp);     // S = Q·Kᵀ: depth e, columns j
      pack_b(v + j0 * Ev, 1, Ev, Ev, cols, NR, vtp);  // dP = dO·Vᵀ
      pack_b(k + j0 * E, E, 1, cols, E, NR, kb2);     // dQ = dS·K: depth j, columns e
      std::fill(dkacc, dkacc + KBm * EP, T(0));
      std::fill(dvacc, dvacc + KBm * EvP, T(0));
      for (idx i0 = 0; i0 < L; i0 += QB) {
        const idx rows = std::min(QB, L - i0);
        if (a.causal && i0 + rows - 1 < j0) continue;
        pack_a(q + i0 * E, E, 1, rows, E, MR, qp);
        tiles(w.kn, rows, cols, E, qp, kp, s, KB, false);
        pack_a(g + i0 * W, W, 1, rows, Ev, MR, dop);
        tiles(w.kn, rows, cols, Ev, dop, vtp, dp, KB, false);
        for (idx r = 0; r < rows; r++) {
          const idx i = i0 + r;
          const T lse = ws[i * W + Ev], Di = D[i];
          T* sr = s + r * KB;
          T* dr = dp + r * KB;
          for (idx j = 0; j < cols; j++) {
            const bool hidden = a.causal && j0 + j > i;
            const T x = sr[j] * a.scale + mask_at(mk, a.ms, i, j0 + j);
            const T p = hidden ? T(0) : exp_att(x - lse);
            sr[j] = p;
            dr[j] = p * (dr[j] - Di) * a.scale;
          }
        }
        pack_a(s, 1, KB, cols, rows, MR, ptp);  // dV += Pᵀ·dO
        pack_b(g + i0 * W, W, 1, rows, Ev, NR, dob);
        tiles(w.kn, cols, Ev, rows, ptp, dob, dvacc, EvP, true);
        pack_a(dp, 1, KB, cols, rows, MR, dstp);  // dK += dSᵀ·Q
        pack_b(q + i0 * E, E, 1, rows, E, NR, qb);
        tiles(w.kn, cols, E, rows, dstp, qb, dkacc, EP, true);
        pack_a(dp, KB, 1, rows, cols, MR, dsp);  // dQ += dS·K
        tiles(w.kn, rows, E, cols, dsp, kb2, dqacc + i0 * EP, EP, true);
      }
      for (idx j = 0; j < cols; j++) {
        std::memcpy(a.dk + (b * S + j0 + j) * E, dkacc + j * EP, E * sizeof(T));
        std::memcpy(a.dv + (b * S + j0 + j) * Ev, dvacc + j * EvP, Ev * sizeof(T));
      }
    }
    for (idx i = 0; i < L; i++) std::memcpy(a.dq + (b * L + i) * E, dqacc + i * EP, E * sizeof(T));
  }
}

/** Splits the batch·heads over the pool when the work repays it. */
template <typename T>
void run(const Args<T>& a, bool backward) {
  const Isa isa = g_att_isa ? *g_att_isa : Isa::portable;
  const idx BH = a.B * a.H;
  const double work = double(BH) * double(a.L) * double(a.S) * double(a.E + a.Ev);
  const int threads = work < 2e6 ? 1 : int(std::min<idx>(BH, pool_threads()));
  struct Ctx {
    const Args<T>* a;
    bool backward;
    Isa isa;
    idx BH;
  } ctx{&a, backward, isa, BH};
  auto part = [](void* c, int part, int parts) {
    const Ctx& x = *static_cast<const Ctx*>(c);
    const idx lo = x.BH * part / parts, hi = x.BH * (part + 1) / parts;
    if (x.backward)
      backward_range(*x.a, lo, hi, x.isa);
    else
      forward_range(*x.a, lo, hi, x.isa);
  };
  if (threads < 2) return part(&ctx, 0, 1);
  pool_run(part, &ctx, int(std::min<idx>(BH, threads * 4)), threads);
}

// ---- Node-API glue ----------------------------------------------------------------------------

/**
 * attention(q, k, v, mask | null, ws, meta) and attentionBackward(q, k, v, mask | null, ws, gws,
 * dq, dk, dv, meta); meta = [B, H, L, S, E, Ev, scale, causal, mask strides × 4, offsets of the
 * arrays in argument order (9)]. Every view is checked to lie inside its array.
 */
napi_value call(napi_env env, napi_callback_info info, bool backward) {
  const char* name = backward ? "attentionBackward" : "attention";
  const int n = backward ? 9 : 5;
  std::size_t argc = 10;
  napi_value argv[10];
  char msg[160];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  auto bad = [&](const char* what) {
    std::snprintf(msg, sizeof msg, "%s: %s", name, what);
    return fail(env, msg);
  };
  if (int(argc) < n + 1) return bad("too few arguments");
  Array meta;
  if (!typed_array(env, argv[n], &meta) || meta.type != napi_float64_array || meta.length < 21)
    return bad("expected meta: Float64Array(21)");
  const double* md = static_cast<const double*>(meta.data);
  for (int i = 0; i < 21; i++)
    if (i != 6 && (!(std::fabs(md[i]) < 9e15) || md[i] != std::floor(md[i]))) return bad("meta must hold integers");
  const idx B = idx(md[0]), H = idx(md[1]), L = idx(md[2]), S = idx(md[3]), E = idx(md[4]), Ev = idx(md[5]);
  if (B < 0 || H < 0 || L < 0 || S < 0 || E < 0 || Ev < 0) return bad("negative size");
  Array arr[9];
  int type = -1;
  for (int i = 0; i < n; i++) {
    napi_valuetype vt;
    if (napi_typeof(env, argv[i], &vt) != napi_ok) return nullptr;
    if (i == 3 && (vt == napi_null || vt == napi_undefined)) continue;
    if (!typed_array(env, argv[i], &arr[i])) return bad("expected typed arrays");
    if (arr[i].type != napi_float32_array && arr[i].type != napi_float64_array)
      return bad("expected Float32Array or Float64Array");
    if (type >= 0 && int(arr[i].type) != type) return bad("all arrays must have one dtype");
    type = int(arr[i].type);
  }
  // Contiguous extents of q, k, v, (mask), ws, gws, dq, dk, dv.
  const idx ext[9] = {B * H * L * E, B * H * S * E, B * H * S * Ev, 0, B * H * L * (Ev + 1), B * H * L * (Ev + 1),
                      B * H * L * E, B * H * S * E, B * H * S * Ev};
  idx off[9];
  for (int i = 0; i < n; i++) {
    off[i] = idx(md[12 + i]);
    if (i == 3 || !arr[i].data) continue;
    if (off[i] < 0 || off[i] + ext[i] > idx(arr[i].length)) return bad("a view reaches outside its array");
  }
  idx ms[4] = {idx(md[8]), idx(md[9]), idx(md[10]), idx(md[11])};
  if (arr[3].data) {
    const idx sizes[4] = {B, H, L, S};
    if (!inside(off[3], sizes, ms, 4, arr[3].length)) return bad("the mask reaches outside its array");
  }
  auto go = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    auto p = [&](int i) { return arr[i].data ? static_cast<T*>(arr[i].data) + off[i] : nullptr; };
    Args<T> a{B, H, L, S, E, Ev, T(md[6]), md[7] != 0, p(0), p(1), p(2), p(3), {ms[0], ms[1], ms[2], ms[3]},
              p(4), backward ? p(5) : nullptr, backward ? p(6) : nullptr, backward ? p(7) : nullptr,
              backward ? p(8) : nullptr};
    if (B * H * L == 0 || (B * H * S == 0 && !backward)) return;
    run(a, backward);
  };
  if (type == napi_float32_array)
    go(static_cast<float*>(nullptr));
  else
    go(static_cast<double*>(nullptr));
  return nullptr;
}

napi_value Attention(napi_env env, napi_callback_info info) { return call(env, info, false); }
napi_value AttentionBackward(napi_env env, napi_callback_info info) { return call(env, info, true); }

}  // namespace

void register_attention(napi_env env, napi_value exports, const Isa* isa) {
  g_att_isa = isa;
  napi_property_descriptor props[] = {
      {"attention", nullptr, Attention, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionBackward", nullptr, AttentionBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}

}  // namespace descent
