// Fused scaled dot-product attention of the native backend (src/backends/native/attention.ts is the
// caller), flash-attention style: for each batch·head, query blocks meet key blocks of 64, the
// block's scores go through an online softmax (running max m, running sum l, the output rescaled
// when m grows), so only a [64, 64] tile of the [L, S] scores ever exists. The backward recomputes
// each tile's weights from the saved log Σ exp (lse = m + log l) and accumulates dQ, dK, dV per key
// block (FlashAttention-2's loop order). The tile products run on the GEMM's own packed
// micro-kernels (gemm.h, picked for the ISA in use); the softmax loops are plain C++. Batch·heads
// are split over the pool. The definition is src/backends/fallback/attention.ts; results agree to
// float rounding (test/backends/accelerations.test.ts). The loops live in attention_loops.h.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
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

#include "attention_loops.h"

template <typename T>
struct Args {
  idx B, H, L, S, E, Ev;
  T scale;
  bool causal;
  const T *q, *k, *v, *mask;
  idx ms[4];  // mask strides over [B, H, L, S]
  // Strides of q, k, v over [B, H, row] (the last dim is contiguous): both passes read views, e.g.
  // the filled prefix of a preallocated KV cache or the heads of a fused qkv projection.
  idx qs[3], ks[3], vs[3];
  T* ws;      // [B, H, L, Ev + 1]: output row, then lse
  const T* gws;
  T *dq, *dk, *dv;
};

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

/**
 * A few query rows (a generated token's step: L = 1): each row's scores, softmax and weighted sum of
 * values directly, with no packing and no tile buffers, which cost more than the work at this size.
 */
constexpr idx kDirectRows = 4;

template <typename T>
ATT_INLINE void forward_direct(const Args<T>& a, idx b0, idx b1) {
  const idx L = a.L, S = a.S, E = a.E, Ev = a.Ev, W = Ev + 1, qr = a.qs[2], kr = a.ks[2], vr = a.vs[2];
  std::vector<T> sbuf(std::max<idx>(S, 1)), acc(std::max<idx>(Ev, 1));
  T* s = sbuf.data();
  const T ninf = -std::numeric_limits<T>::infinity();
  for (idx b = b0; b < b1; b++) {
    const idx bb = b / a.H, hh = b % a.H;
    const T* q = a.q + bb * a.qs[0] + hh * a.qs[1];
    const T* k = a.k + bb * a.ks[0] + hh * a.ks[1];
    const T* v = a.v + bb * a.vs[0] + hh * a.vs[1];
    const T* mk = a.mask ? a.mask + bb * a.ms[0] + hh * a.ms[1] : nullptr;
    for (idx i = 0; i < L; i++) {
      const T* qi = q + i * qr;
      const idx jn = a.causal ? std::min(S, i + 1) : S;
      for (idx j = 0; j < jn; j++) {
        const T* kj = k + j * kr;
        T p[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // 8 lanes, so that the dot product vectorises
        idx c = 0;
        for (; c + 8 <= E; c += 8)
          for (int u = 0; u < 8; u++) p[u] += qi[c + u] * kj[c + u];
        for (; c < E; c++) p[0] += qi[c] * kj[c];
        s[j] = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));
      }
      scale_mask(s, jn, a.scale, mk, a.ms, i, 0);
      const T m = row_max(s, jn);
      const T l = m == ninf ? T(0) : exp_sum(s, jn, m);
      T* o = a.ws + (b * L + i) * W;
      if (!(l > T(0))) {  // every key masked out (or NaN): NaN, as the composed softmax
        for (idx c = 0; c <= Ev; c++) o[c] = std::numeric_limits<T>::quiet_NaN();
        continue;
      }
      std::fill(acc.begin(), acc.end(), T(0));
      for (idx j = 0; j < jn; j++) {
        const T pj = s[j];
        const T* vj = v + j * vr;
        for (idx c = 0; c < Ev; c++) acc[c] += pj * vj[c];
      }
      const T inv = T(1) / l;
      for (idx c = 0; c < Ev; c++) o[c] = acc[c] * inv;
      o[Ev] = m + std::log(l);
    }
  }
}

template <typename T>
ATT_INLINE void forward_body(const Args<T>& a, idx b0, idx b1, Isa isa) {
  if (a.L <= kDirectRows) return forward_direct(a, b0, b1);
  Work<T> w(a, isa);
  const idx L = a.L, S = a.S, E = a.E, Ev = a.Ev, W = Ev + 1, QB = w.QB, KB = w.KB, EvP = w.EvP;
  const int MR = w.kn.mr, NR = w.kn.nr;
  w.carve({QB * E, KB * E, QB * KB, QB * KB, KB * EvP, QB * EvP, QB, QB});
  T *qp = w.parts[0], *kp = w.parts[1], *s = w.parts[2], *pp = w.parts[3];
  T *vp = w.parts[4], *acc = w.parts[5], *m = w.parts[6], *l = w.parts[7];
  const T ninf = -std::numeric_limits<T>::infinity();
  for (idx b = b0; b < b1; b++) {
    const idx bb = b / a.H, hh = b % a.H, qr = a.qs[2], kr = a.ks[2], vr = a.vs[2];
    const T* q = a.q + bb * a.qs[0] + hh * a.qs[1];
    const T* k = a.k + bb * a.ks[0] + hh * a.ks[1];
    const T* v = a.v + bb * a.vs[0] + hh * a.vs[1];
    const T* mk = a.mask ? a.mask + (b / a.H) * a.ms[0] + (b % a.H) * a.ms[1] : nullptr;
    T* ws = a.ws + b * L * W;
    for (idx i0 = 0; i0 < L; i0 += QB) {
      const idx rows = std::min(QB, L - i0);
      pack_a(q + i0 * qr, qr, 1, rows, E, MR, qp);
      std::fill(acc, acc + QB * EvP, T(0));
      std::fill(m, m + QB, ninf);
      std::fill(l, l + QB, T(0));
      for (idx j0 = 0; j0 < S; j0 += KB) {
        if (a.causal && j0 > i0 + rows - 1) break;
        const idx cols = std::min(KB, S - j0);
        pack_b(k + j0 * kr, 1, kr, E, cols, NR, kp);
        tiles(w.kn, rows, cols, E, qp, kp, s, KB, false);
        for (idx r = 0; r < rows; r++) {
          const idx i = i0 + r;
          T* sr = s + r * KB;
          const idx jn = a.causal ? std::max<idx>(0, std::min(cols, i - j0 + 1)) : cols;
          scale_mask(sr, jn, a.scale, mk, a.ms, i, j0);
          const T mnew = std::max(m[r], row_max(sr, jn));
          if (mnew == ninf) {  // every key so far masked out: nothing to add
            std::fill(sr, sr + cols, T(0));
            continue;
          }
          const T corr = exp_att(m[r] - mnew);
          const T sum = exp_sum(sr, jn, mnew);
          std::fill(sr + jn, sr + cols, T(0));
          l[r] = l[r] * corr + sum;
          m[r] = mnew;
          if (corr != T(1))
            for (idx c = 0; c < EvP; c++) acc[r * EvP + c] *= corr;
        }
        pack_a(s, KB, 1, rows, cols, MR, pp);
        pack_b(v + j0 * vr, vr, 1, cols, Ev, NR, vp);
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
ATT_INLINE void backward_body(const Args<T>& a, idx b0, idx b1, Isa isa) {
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
    const idx bb = b / a.H, hh = b % a.H, qr = a.qs[2], kr = a.ks[2], vr = a.vs[2];
    const T* q = a.q + bb * a.qs[0] + hh * a.qs[1];
    const T* k = a.k + bb * a.ks[0] + hh * a.ks[1];
    const T* v = a.v + bb * a.vs[0] + hh * a.vs[1];
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
      pack_b(k + j0 * kr, 1, kr, E, cols, NR, kp);     // S = Q·Kᵀ: depth e, columns j
      pack_b(v + j0 * vr, 1, vr, Ev, cols, NR, vtp);  // dP = dO·Vᵀ
      pack_b(k + j0 * kr, kr, 1, cols, E, NR, kb2);     // dQ = dS·K: depth j, columns e
      std::fill(dkacc, dkacc + KBm * EP, T(0));
      std::fill(dvacc, dvacc + KBm * EvP, T(0));
      for (idx i0 = 0; i0 < L; i0 += QB) {
        const idx rows = std::min(QB, L - i0);
        if (a.causal && i0 + rows - 1 < j0) continue;
        pack_a(q + i0 * qr, qr, 1, rows, E, MR, qp);
        tiles(w.kn, rows, cols, E, qp, kp, s, KB, false);
        pack_a(g + i0 * W, W, 1, rows, Ev, MR, dop);
        tiles(w.kn, rows, cols, Ev, dop, vtp, dp, KB, false);
        for (idx r = 0; r < rows; r++) {
          const idx i = i0 + r;
          const T lse = ws[i * W + Ev], Di = D[i];
          T* sr = s + r * KB;
          T* dr = dp + r * KB;
          const idx jn = a.causal ? std::max<idx>(0, std::min(cols, i - j0 + 1)) : cols;
          scale_mask(sr, jn, a.scale, mk, a.ms, i, j0);
          for (idx j = 0; j < jn; j++) {
            const T p = exp_att(sr[j] - lse);
            sr[j] = p;
            dr[j] = p * (dr[j] - Di) * a.scale;
          }
          std::fill(sr + jn, sr + cols, T(0));  // keys a causal row does not see
          std::fill(dr + jn, dr + cols, T(0));
        }
        pack_a(s, 1, KB, cols, rows, MR, ptp);  // dV += Pᵀ·dO
        pack_b(g + i0 * W, W, 1, rows, Ev, NR, dob);
        tiles(w.kn, cols, Ev, rows, ptp, dob, dvacc, EvP, true);
        pack_a(dp, 1, KB, cols, rows, MR, dstp);  // dK += dSᵀ·Q
        pack_b(q + i0 * qr, qr, 1, rows, E, NR, qb);
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

// The bodies compiled once per instruction set (target attributes, as the GEMM's kernels), so the
// softmax loops use the wide registers too; picked by the ISA the addon uses.
#define ATT_VARIANTS(NAME, ATTR)                                                                                 \
  ATTR void fwd_##NAME(const Args<float>& a, idx b0, idx b1, Isa isa) { forward_body(a, b0, b1, isa); }      \
  ATTR void fwd_##NAME(const Args<double>& a, idx b0, idx b1, Isa isa) { forward_body(a, b0, b1, isa); }     \
  ATTR void bwd_##NAME(const Args<float>& a, idx b0, idx b1, Isa isa) { backward_body(a, b0, b1, isa); }     \
  ATTR void bwd_##NAME(const Args<double>& a, idx b0, idx b1, Isa isa) { backward_body(a, b0, b1, isa); }
ATT_VARIANTS(portable, )
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
ATT_VARIANTS(avx2, __attribute__((target("avx2,fma"))))
ATT_VARIANTS(avx512, __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma"))))
#define ATT_PICK(DIR, isa, ...) \
  ((isa) == Isa::avx512 ? DIR##_avx512(__VA_ARGS__) : (isa) == Isa::avx2 ? DIR##_avx2(__VA_ARGS__) : DIR##_portable(__VA_ARGS__))
#else
#define ATT_PICK(DIR, isa, ...) DIR##_portable(__VA_ARGS__)
#endif

template <typename T>
void forward_range(const Args<T>& a, idx b0, idx b1, Isa isa) {
  ATT_PICK(fwd, isa, a, b0, b1, isa);
}
template <typename T>
void backward_range(const Args<T>& a, idx b0, idx b1, Isa isa) {
  ATT_PICK(bwd, isa, a, b0, b1, isa);
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
 * arrays in argument order (9), strides of q, k, v over [B, H, row] (3 each)]. Every view is checked
 * to lie inside its array; q, k, v may be strided views (last dim contiguous) in both passes.
 */
napi_value call(napi_env env, napi_callback_info info, bool backward) {
  const int n = backward ? 9 : 5;
  Entry e(env, info, backward ? "attentionBackward" : "attention");
  if (!e.at_least(n + 1)) return nullptr;
  const double* md = e.meta(n, 30, 6);  // md[6] is the scale
  if (!md) return nullptr;
  const idx B = idx(md[0]), H = idx(md[1]), L = idx(md[2]), S = idx(md[3]), E = idx(md[4]), Ev = idx(md[5]);
  if (B < 0 || H < 0 || L < 0 || S < 0 || E < 0 || Ev < 0) return e.fail("negative size");
  Array arr[9];
  int type;
  if (!e.float_arrays(n, arr, &type, [](int i) { return i == 3; })) return nullptr;  // the mask may be null
  // q, k, v by their strides (last dim contiguous); the rest contiguous: extents of (mask), ws, gws, dq, dk, dv.
  idx qkv[3][4];
  const idx rows[3] = {L, S, S}, cols[3] = {E, E, Ev};
  for (int i = 0; i < 3; i++) {
    for (int j = 0; j < 3; j++) qkv[i][j] = idx(md[21 + 3 * i + j]);
    qkv[i][3] = 1;
  }
  const idx ext[9] = {0, 0, 0, 0, B * H * L * (Ev + 1), B * H * L * (Ev + 1),
                      B * H * L * E, B * H * S * E, B * H * S * Ev};
  idx off[9];
  for (int i = 0; i < n; i++) {
    off[i] = idx(md[12 + i]);
    if (i == 3 || !arr[i].data) continue;
    if (i < 3) {
      const idx sizes[4] = {B, H, rows[i], cols[i]};
      if (!inside(off[i], sizes, qkv[i], 4, arr[i].length)) return e.fail("a view reaches outside its array");
      continue;
    }
    if (!span_inside(off[i], ext[i], arr[i].length)) return e.fail("a view reaches outside its array");
  }
  idx ms[4] = {idx(md[8]), idx(md[9]), idx(md[10]), idx(md[11])};
  if (arr[3].data) {
    const idx sizes[4] = {B, H, L, S};
    if (!inside(off[3], sizes, ms, 4, arr[3].length)) return e.fail("the mask reaches outside its array");
  }
  auto go = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    auto p = [&](int i) { return arr[i].data ? static_cast<T*>(arr[i].data) + off[i] : nullptr; };
    Args<T> a{B, H, L, S, E, Ev, T(md[6]), md[7] != 0, p(0), p(1), p(2), p(3), {ms[0], ms[1], ms[2], ms[3]},
              {qkv[0][0], qkv[0][1], qkv[0][2]}, {qkv[1][0], qkv[1][1], qkv[1][2]},
              {qkv[2][0], qkv[2][1], qkv[2][2]}, p(4), backward ? p(5) : nullptr, backward ? p(6) : nullptr, backward ? p(7) : nullptr,
              backward ? p(8) : nullptr};
    if (B * H * L == 0 || (B * H * S == 0 && !backward)) return;
    run(a, backward);
  };
  by_dtype(type, go);
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
