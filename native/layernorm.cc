// Fused LayerNorm of the native backend (src/backends/native/norm.ts is the caller): per row of
// x [R, N] the mean and biased variance in double, then y = (x − mean)·rstd·weight + bias rounded
// once, and the statistics (mean, rstd) its backward reads; the backward gives dx and, summed over
// rows, dweight and dbias. The definition is src/backends/fallback/norm.ts (parity to float
// rounding in test/backends/accelerations.test.ts). Rows are split over the pool when there are
// enough of them; the column sums of the backward are kept per part, then added in part order.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "napi_util.h"
#include "pool.h"

namespace descent {
namespace {

using idx = std::ptrdiff_t;

template <typename T>
struct Ln {
  idx R, N;
  double eps;
  const T *x, *w, *b, *g;  // x, g: row stride xr / gr, unit column stride
  idx xr, gr;
  T *y, *stats, *dx;         // contiguous
  double* colsums;           // backward: per part, [dw (N) | db (N)]
  int parts;
};

template <typename T>
void forward_rows(const Ln<T>& a, idx r0, idx r1) {
  const idx N = a.N;
  for (idx r = r0; r < r1; r++) {
    const T* x = a.x + r * a.xr;
    double s = 0;
    for (idx j = 0; j < N; j++) s += x[j];
    const double mean = s / double(N);
    double q = 0;
    for (idx j = 0; j < N; j++) {
      const double d = x[j] - mean;
      q += d * d;
    }
    const double rstd = 1.0 / std::sqrt(q / double(N) + a.eps);
    T* y = a.y + r * N;
    for (idx j = 0; j < N; j++) {
      double v = (x[j] - mean) * rstd;
      if (a.w) v *= a.w[j];
      if (a.b) v += a.b[j];
      y[j] = T(v);
    }
    a.stats[2 * r] = T(mean);
    a.stats[2 * r + 1] = T(rstd);
  }
}

template <typename T>
void backward_rows(const Ln<T>& a, idx r0, idx r1, double* dw, double* db) {
  const idx N = a.N;
  for (idx r = r0; r < r1; r++) {
    const T* x = a.x + r * a.xr;
    const T* g = a.g + r * a.gr;
    const double mean = a.stats[2 * r], rstd = a.stats[2 * r + 1];
    double s1 = 0, s2 = 0;
    for (idx j = 0; j < N; j++) {
      const double xhat = (x[j] - mean) * rstd;
      const double gw = a.w ? double(g[j]) * a.w[j] : double(g[j]);
      s1 += gw;
      s2 += gw * xhat;
      if (dw) dw[j] += double(g[j]) * xhat;
      if (db) db[j] += g[j];
    }
    s1 /= double(N);
    s2 /= double(N);
    T* dx = a.dx + r * N;
    for (idx j = 0; j < N; j++) {
      const double xhat = (x[j] - mean) * rstd;
      const double gw = a.w ? double(g[j]) * a.w[j] : double(g[j]);
      dx[j] = T((gw - s1 - xhat * s2) * rstd);
    }
  }
}

template <typename T>
struct Job {
  const Ln<T>* a;
  bool backward;
  bool dw, db;
};

template <typename T>
void job(void* ctx, int part, int parts) {
  const Job<T>& j = *static_cast<Job<T>*>(ctx);
  const Ln<T>& a = *j.a;
  const idx r0 = a.R * part / parts, r1 = a.R * (part + 1) / parts;
  if (!j.backward) return forward_rows(a, r0, r1);
  double* sums = a.colsums + std::size_t(part) * 2 * a.N;
  backward_rows(a, r0, r1, j.dw ? sums : nullptr, j.db ? sums + a.N : nullptr);
}

/**
 * layerNorm(x, w | null, b | null, out, stats, meta) and layerNormBackward(g, x, w | null, stats, dx,
 * dw | null, db | null, meta); meta = [R, N, eps, xOff, xRowStride, gOff, gRowStride, wOff, bOff,
 * outOff (y or dx), statsOff, dwOff, dbOff]. x and g have unit column strides; the rest is contiguous.
 */
napi_value call(napi_env env, napi_callback_info info, bool backward) {
  const int n = backward ? 7 : 5;
  Entry e(env, info, backward ? "layerNormBackward" : "layerNorm");
  if (!e.at_least(n + 1)) return nullptr;
  const double* md = e.meta(n, 13, 2);  // md[2] is eps
  if (!md) return nullptr;
  const idx R = idx(md[0]), N = idx(md[1]);
  if (R < 0 || N < 0) return e.fail("negative size");
  // Argument order → role: forward x, w, b, y, stats; backward g, x, w, stats, dx, dw, db.
  enum { X, G, W, B, Y, S, DW, DB, K };
  const int fw[5] = {X, W, B, Y, S}, bw[7] = {G, X, W, S, Y, DW, DB};
  const int* role = backward ? bw : fw;
  Array given[7], arr[K];
  int type;
  auto optional = [&](int i) { return role[i] == W || role[i] == B || role[i] == DW || role[i] == DB; };
  if (!e.float_arrays(n, given, &type, optional)) return nullptr;
  for (int i = 0; i < n; i++) arr[role[i]] = given[i];
  const idx off[K] = {idx(md[3]), idx(md[5]), idx(md[7]), idx(md[8]), idx(md[9]), idx(md[10]), idx(md[11]), idx(md[12])};
  const idx xr = idx(md[4]), gr = idx(md[6]);
  // Extents: x and g by their row strides, the rest contiguous.
  for (int r = 0; r < K; r++) {
    if (!arr[r].data) continue;
    bool ok;
    if (r == X || r == G) {
      const idx sizes[2] = {R, N}, strides[2] = {r == X ? xr : gr, 1};
      ok = inside(off[r], sizes, strides, 2, arr[r].length);
    } else {
      ok = span_inside(off[r], r == Y ? R * N : r == S ? 2 * R : N, arr[r].length);
    }
    if (!ok) return e.fail("a view reaches outside its array");
  }
  if (!arr[X].data || !arr[Y].data || !arr[S].data || (backward && !arr[G].data)) return e.fail("missing an array");
  if (R == 0) return nullptr;
  auto go = [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    auto p = [&](int r) { return arr[r].data ? static_cast<T*>(arr[r].data) + off[r] : nullptr; };
    // A part per ~16k elements, at most the pool's threads: small calls stay on this thread.
    const int parts = int(std::max<idx>(1, std::min<idx>(pool_threads(), R * N / 16384)));
    std::vector<double> sums(backward ? std::size_t(parts) * 2 * N : 0, 0.0);
    Ln<T> a{R, N, md[2], p(X), p(W), p(B), p(G), xr, gr, p(Y), p(S), p(Y), sums.data(), parts};
    Job<T> j{&a, backward, arr[DW].data != nullptr, arr[DB].data != nullptr};
    if (parts == 1)
      job<T>(&j, 0, 1);
    else
      pool_run(job<T>, &j, parts, parts);
    if (!backward) return;
    for (int which = 0; which < 2; which++) {
      T* out = p(which == 0 ? DW : DB);
      if (!out) continue;
      for (idx c = 0; c < N; c++) {
        double s = 0;
        for (int q = 0; q < parts; q++) s += sums[std::size_t(q) * 2 * N + which * N + c];
        out[c] = T(s);
      }
    }
  };
  by_dtype(type, go);
  return nullptr;
}

napi_value LayerNorm(napi_env env, napi_callback_info info) { return call(env, info, false); }
napi_value LayerNormBackward(napi_env env, napi_callback_info info) { return call(env, info, true); }

}  // namespace

void register_layernorm(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"layerNorm", nullptr, LayerNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layerNormBackward", nullptr, LayerNormBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}

}  // namespace descent
