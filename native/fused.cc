// Fused kernels of the native backend (src/backends/native/fused.ts is the caller): the optimizer
// updates (Adam/AdamW, SGD, RMSprop, Adagrad: a parameter and its state updated in place in one
// pass), softmax / log-softmax along the last dim with their backward, and ReLU's backward. They must give the js
// reference's numbers (src/backends/js/fused.ts) bit for bit: every operation is the same IEEE
// operation in the same order, float32 values are float variables (the js side rounds with
// Math.fround after each step; +, −, ×, ÷ and √ of floats computed in double and rounded equal the
// float operation), and contraction into FMAs is off, since an FMA skips a rounding. Softmax's exp
// and log run in double as in js; libm's and V8's agree to the last bit nearly always, so those two
// kernels agree with js up to that (the tests allow 1 ulp there).
// The loops are written plainly and vectorised by the compiler, once per instruction set (target
// attributes, picked at run time by the ISA the addon uses); large arrays are split over the pool.
// √ vectorises only without errno (binding.gyp's -fno-math-errno: a negative operand gives NaN
// either way, and nothing reads errno).
#include <node_api.h>

#include <cmath>
#include <algorithm>
#include <cstddef>

#include "gemm.h"
#include "pool.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace descent {
namespace {

using idx = std::ptrdiff_t;
#define DESCENT_INLINE inline __attribute__((always_inline))

const Isa* g_fused_isa = nullptr;

// ---- the element loops ----------------------------------------------------------------------

template <typename T>
struct AdamArgs {
  T *p, *m, *v, *x;  // x: amsgrad's running max, or null
  const T* g;
  T decay, wd, b1, omb1, b2, omb2, ns, bc2, eps, sg;
  bool l2;
};

template <typename T, bool L2, bool AMS>
DESCENT_INLINE void adam_loop(const AdamArgs<T>& a, idx i0, idx i1) {
  T *__restrict p = a.p, *__restrict m = a.m, *__restrict v = a.v, *__restrict x = a.x;
  const T* __restrict g = a.g;
  for (idx i = i0; i < i1; i++) {
    T pi = p[i] * a.decay;
    T d = a.sg * g[i];
    if (L2) d = d + pi * a.wd;
    T mi = m[i] * a.b1 + d * a.omb1;
    T vi = v[i] * a.b2 + (d * a.omb2) * d;
    m[i] = mi, v[i] = vi;
    T s = vi;
    if (AMS) {
      T old = x[i];
      s = (old != old || old > vi) ? old : vi;
      x[i] = s;
    }
    T denom = std::sqrt(s) / a.bc2 + a.eps;
    p[i] = pi + (mi * a.ns) / denom;
  }
}

template <typename T>
struct SgdArgs {
  T *p, *b;  // b: momentum buffer, or null
  const T* g;
  T wd, mom, omd, nlr, sg;
  bool l2, first, damp, nesterov;
};

template <typename T, bool L2, int MODE>  // MODE 0: no momentum, 1: first step, 2: momentum, 3: nesterov
DESCENT_INLINE void sgd_loop(const SgdArgs<T>& a, idx i0, idx i1, bool damp) {
  T *__restrict p = a.p, *__restrict b = a.b;
  const T* __restrict g = a.g;
  for (idx i = i0; i < i1; i++) {
    T pi = p[i];
    T d = a.sg * g[i];
    if (L2) d = d + pi * a.wd;
    if (MODE != 0) {
      T bi = MODE == 1 ? d : b[i] * a.mom + (damp ? d * a.omd : d);
      b[i] = bi;
      const bool nesterov = MODE == 3 || (MODE == 1 && a.nesterov);
      d = nesterov ? d + bi * a.mom : bi;
    }
    p[i] = pi + d * a.nlr;
  }
}

template <typename T>
struct RmsArgs {
  T *p, *s, *ga, *b;  // ga: centered average, b: momentum buffer; either may be null
  const T* g;
  T wd, alpha, oma, eps, mom, nlr, sg;
  bool l2;
};

template <typename T, bool L2, bool CEN, bool MOM>
DESCENT_INLINE void rms_loop(const RmsArgs<T>& a, idx i0, idx i1) {
  T *__restrict p = a.p, *__restrict s = a.s, *__restrict ga = a.ga, *__restrict b = a.b;
  const T* __restrict g = a.g;
  for (idx i = i0; i < i1; i++) {
    T pi = p[i];
    T d = a.sg * g[i];
    if (L2) d = d + pi * a.wd;
    T si = s[i] * a.alpha + (d * a.oma) * d;
    s[i] = si;
    T avg;
    if (CEN) {
      T ai = ga[i] * a.alpha + d * a.oma;
      ga[i] = ai;
      avg = std::sqrt(si - ai * ai) + a.eps;
    } else {
      avg = std::sqrt(si) + a.eps;
    }
    if (MOM) {
      T bi = b[i] * a.mom + d / avg;
      b[i] = bi;
      p[i] = pi + bi * a.nlr;
    } else {
      p[i] = pi + (d * a.nlr) / avg;
    }
  }
}

template <typename T>
struct AdagradArgs {
  T *p, *s;
  const T* g;
  T wd, eps, nclr, sg;
  bool l2;
};

template <typename T, bool L2>
DESCENT_INLINE void adagrad_loop(const AdagradArgs<T>& a, idx i0, idx i1) {
  T *__restrict p = a.p, *__restrict s = a.s;
  const T* __restrict g = a.g;
  for (idx i = i0; i < i1; i++) {
    T pi = p[i];
    T d = a.sg * g[i];
    if (L2) d = d + pi * a.wd;
    T si = s[i] + d * d;
    s[i] = si;
    p[i] = pi + (d * a.nclr) / (std::sqrt(si) + a.eps);
  }
}

/** Picks the template instance for the runtime flags (the loops then carry no branches). */
template <typename T>
DESCENT_INLINE void adam_range(const AdamArgs<T>& a, idx i0, idx i1) {
  if (a.l2) a.x ? adam_loop<T, true, true>(a, i0, i1) : adam_loop<T, true, false>(a, i0, i1);
  else a.x ? adam_loop<T, false, true>(a, i0, i1) : adam_loop<T, false, false>(a, i0, i1);
}
template <typename T>
DESCENT_INLINE void sgd_range(const SgdArgs<T>& a, idx i0, idx i1) {
  const int mode = !a.b ? 0 : a.first ? 1 : a.nesterov ? 3 : 2;
#define DESCENT_SGD(L2)                                  \
  switch (mode) {                                        \
    case 0: return sgd_loop<T, L2, 0>(a, i0, i1, false); \
    case 1: return sgd_loop<T, L2, 1>(a, i0, i1, false); \
    case 3: return sgd_loop<T, L2, 3>(a, i0, i1, false); \
    default:                                             \
      return a.damp ? sgd_loop<T, L2, 2>(a, i0, i1, true) : sgd_loop<T, L2, 2>(a, i0, i1, false); \
  }
  if (a.l2) DESCENT_SGD(true) else DESCENT_SGD(false)
#undef DESCENT_SGD
}
template <typename T>
DESCENT_INLINE void rms_range(const RmsArgs<T>& a, idx i0, idx i1) {
  const int k = (a.l2 ? 4 : 0) + (a.ga ? 2 : 0) + (a.b ? 1 : 0);
  switch (k) {
    case 0: return rms_loop<T, false, false, false>(a, i0, i1);
    case 1: return rms_loop<T, false, false, true>(a, i0, i1);
    case 2: return rms_loop<T, false, true, false>(a, i0, i1);
    case 3: return rms_loop<T, false, true, true>(a, i0, i1);
    case 4: return rms_loop<T, true, false, false>(a, i0, i1);
    case 5: return rms_loop<T, true, false, true>(a, i0, i1);
    case 6: return rms_loop<T, true, true, false>(a, i0, i1);
    default: return rms_loop<T, true, true, true>(a, i0, i1);
  }
}
template <typename T>
DESCENT_INLINE void adagrad_range(const AdagradArgs<T>& a, idx i0, idx i1) {
  a.l2 ? adagrad_loop<T, true>(a, i0, i1) : adagrad_loop<T, false>(a, i0, i1);
}

/** Softmax (log: log-softmax) of rows [r0, r1) of n elements; sums in double in index order, as js. */
template <typename T>
DESCENT_INLINE void softmax_rows(const T* x, T* y, idx n, idx r0, idx r1, bool log) {
  for (idx r = r0; r < r1; r++) {
    const T* xr = x + r * n;
    T* yr = y + r * n;
    T m = -INFINITY;
    for (idx j = 0; j < n; j++)
      if (xr[j] > m || xr[j] != xr[j]) m = xr[j];
    double s = 0;
    for (idx j = 0; j < n; j++) {
      T e = T(std::exp(double(T(xr[j] - m))));
      if (!log) yr[j] = e;
      s += double(e);
    }
    const T st = T(s);
    if (log) {
      const T ls = T(std::log(double(st)));
      for (idx j = 0; j < n; j++) yr[j] = T(xr[j] - m) - ls;
    } else {
      for (idx j = 0; j < n; j++) yr[j] = yr[j] / st;
    }
  }
}

/** log: o = g − exp(y)·Σg;  else o = y·(g − Σ g·y). */
template <typename T>
DESCENT_INLINE void softmax_back_rows(const T* g, const T* y, T* o, idx n, idx r0, idx r1, bool log) {
  for (idx r = r0; r < r1; r++) {
    const T *gr = g + r * n, *yr = y + r * n;
    T* orow = o + r * n;
    double s = 0;
    if (log)
      for (idx j = 0; j < n; j++) s += double(gr[j]);
    else
      for (idx j = 0; j < n; j++) s += double(T(gr[j] * yr[j]));
    const T st = T(s);
    if (log)
      for (idx j = 0; j < n; j++) orow[j] = gr[j] - T(std::exp(double(yr[j]))) * st;
    else
      for (idx j = 0; j < n; j++) orow[j] = yr[j] * (gr[j] - st);
  }
}

template <typename T>
struct SoftmaxArgs {
  const T *x, *y;  // forward: x; backward: g (as x) and y
  T* out;
  idx n;
  bool log, backward;
};
template <typename T>
DESCENT_INLINE void softmax_range(const SoftmaxArgs<T>& a, idx r0, idx r1) {
  if (a.backward) softmax_back_rows(a.x, a.y, a.out, a.n, r0, r1, a.log);
  else softmax_rows(a.x, a.out, a.n, r0, r1, a.log);
}

template <typename T>
struct ReluArgs {
  const T *g, *y;
  T* out;
};
/** ReLU's backward: g where y > 0 or NaN, else 0. */
template <typename T>
DESCENT_INLINE void relu_range(const ReluArgs<T>& a, idx i0, idx i1) {
  const T *__restrict g = a.g, *__restrict y = a.y;
  T* __restrict o = a.out;
  for (idx i = i0; i < i1; i++) o[i] = y[i] <= T(0) ? T(0) : g[i];
}

// One copy of each range function per instruction set: the always-inline loops above are compiled
// into each, so the compiler vectorises them with that set's registers.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DESCENT_VARIANTS(NAME, ARGS)                                                                 \
  template <typename T>                                                                              \
  __attribute__((target("avx512f"))) void NAME##_avx512(const ARGS<T>& a, idx i0, idx i1) {          \
    NAME##_range(a, i0, i1);                                                                         \
  }                                                                                                  \
  template <typename T>                                                                              \
  __attribute__((target("avx2"))) void NAME##_avx2(const ARGS<T>& a, idx i0, idx i1) {               \
    NAME##_range(a, i0, i1);                                                                         \
  }                                                                                                  \
  template <typename T>                                                                              \
  void NAME##_isa(Isa isa, const ARGS<T>& a, idx i0, idx i1) {                                       \
    if (isa == Isa::avx512) NAME##_avx512(a, i0, i1);                                                \
    else if (isa == Isa::avx2) NAME##_avx2(a, i0, i1);                                               \
    else NAME##_range(a, i0, i1);                                                                    \
  }
#else
#define DESCENT_VARIANTS(NAME, ARGS) \
  template <typename T>              \
  void NAME##_isa(Isa, const ARGS<T>& a, idx i0, idx i1) { NAME##_range(a, i0, i1); }
#endif
DESCENT_VARIANTS(adam, AdamArgs)
DESCENT_VARIANTS(sgd, SgdArgs)
DESCENT_VARIANTS(rms, RmsArgs)
DESCENT_VARIANTS(adagrad, AdagradArgs)
DESCENT_VARIANTS(softmax, SoftmaxArgs)
DESCENT_VARIANTS(relu, ReluArgs)
#undef DESCENT_VARIANTS

/**
 * Below this much work (elements; rows × row length for softmax) one thread does all. Measured with
 * bench/fused.ts here: two threads lost at every size up to 200k elements (Adam float32, 200704:
 * 109 µs on one thread, 146 on two; log-softmax 81920: 1428 vs 1328 µs), these loops being bound
 * by memory and the second core often busy; so the pool is kept for much larger arrays only.
 */
idx kParallelMin = idx(1) << 21;  // tests lower it (setFusedParallelMin) to cover the split

/** Runs fn over [0, n) in ranges on the pool when the work is large (ranges start at multiples of 16). */
template <typename A>
void run_ranges(void (*fn)(Isa, const A&, idx, idx), const A& a, idx n, idx unit) {
  const Isa isa = *g_fused_isa;
  const int threads = pool_threads();
  if (n * unit < kParallelMin || threads < 2 || n < 32) return fn(isa, a, 0, n);
  struct Ctx {
    void (*fn)(Isa, const A&, idx, idx);
    const A* a;
    idx n;
    Isa isa;
  } ctx{fn, &a, n, isa};
  pool_run(
      [](void* c, int part, int parts) {
        const Ctx& x = *static_cast<const Ctx*>(c);
        auto cut = [](idx n, int k, int parts) { return k == parts ? n : (n * k / parts) & ~idx(15); };
        x.fn(x.isa, *x.a, cut(x.n, part, parts), cut(x.n, part + 1, parts));
      },
      &ctx, threads, threads);
}

// ---- Node-API glue ----------------------------------------------------------------------------

napi_value fail(napi_env env, const char* what, bool type = true) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) type ? napi_throw_type_error(env, nullptr, what) : napi_throw_error(env, nullptr, what);
  return nullptr;
}

struct Arr {
  napi_typedarray_type type = napi_float32_array;
  std::size_t length = 0;
  void* data = nullptr;
};

/** A typed array, or (optional) null/undefined leaving data null. */
bool get_arr(napi_env env, napi_value v, Arr* out, bool optional) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (optional && (t == napi_null || t == napi_undefined)) return true;
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  return napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, nullptr, nullptr) == napi_ok;
}

/** The element pointer at offset `off` of `a` when [off, off + n) lies inside it; else null. */
template <typename T>
T* at(const Arr& a, double off, idx n) {
  if (!a.data || !(off >= 0) || off != std::floor(off) || idx(off) + n > idx(a.length)) return nullptr;
  return static_cast<T*>(a.data) + idx(off);
}

/**
 * optimStep(kind, p, g, a, b, c, meta) with kind 0 Adam (a = m, b = v, c = vmax or null),
 * 1 SGD (a = buf or null), 2 RMSprop (a = square avg, b = grad avg or null, c = buf or null),
 * 3 Adagrad (a = sum); meta = [n, offsets of p g a b c, constants…] as native/fused.ts packs them.
 */
template <typename T>
napi_value optim_step(napi_env env, int kind, const Arr* arr, const double* k, std::size_t nk) {
  const idx n = idx(k[0]);
  T* ptr[5];
  const bool need[4][5] = {{1, 1, 1, 1, 0}, {1, 1, 0, 0, 0}, {1, 1, 1, 0, 0}, {1, 1, 1, 0, 0}};
  for (int i = 0; i < 5; i++) {
    ptr[i] = arr[i].data ? at<T>(arr[i], k[1 + i], n) : nullptr;
    if (arr[i].data && !ptr[i]) return fail(env, "optimStep: a view reaches outside its array", false);
    if (need[kind][i] && !ptr[i]) return fail(env, "optimStep: a required array is missing");
  }
  const double* c = k + 6;
  const auto R = [](double x) { return T(x); };
  if (kind == 0 && nk >= 14) {
    AdamArgs<T> a{ptr[0], ptr[2], ptr[3], ptr[4], ptr[1], R(c[0]), R(c[1]), R(c[2]), R(1 - c[2]),
                  R(c[3]), R(1 - c[3]), R(c[5]), R(c[6]), R(c[4]), c[7] != 0 ? T(-1) : T(1), c[1] != 0};
    run_ranges<AdamArgs<T>>(adam_isa<T>, a, n, 1);
  } else if (kind == 1 && nk >= 13) {
    SgdArgs<T> a{ptr[0], ptr[2], ptr[1], R(c[3]), R(c[1]), R(1 - c[2]), R(-c[0]), c[5] != 0 ? T(-1) : T(1),
                 c[3] != 0, c[6] != 0, c[2] != 0, c[4] != 0};
    run_ranges<SgdArgs<T>>(sgd_isa<T>, a, n, 1);
  } else if (kind == 2 && nk >= 12) {
    RmsArgs<T> a{ptr[0], ptr[2], ptr[3], ptr[4], ptr[1], R(c[3]), R(c[1]), R(1 - c[1]), R(c[2]),
                 R(c[4]), R(-c[0]), c[5] != 0 ? T(-1) : T(1), c[3] != 0};
    run_ranges<RmsArgs<T>>(rms_isa<T>, a, n, 1);
  } else if (kind == 3 && nk >= 10) {
    AdagradArgs<T> a{ptr[0], ptr[2], ptr[1], R(c[1]), R(c[2]), R(-c[0]), c[3] != 0 ? T(-1) : T(1), c[1] != 0};
    run_ranges<AdagradArgs<T>>(adagrad_isa<T>, a, n, 1);
  } else {
    return fail(env, "optimStep: unknown kind or meta too short");
  }
  return nullptr;
}

napi_value OptimStep(napi_env env, napi_callback_info info) {
  std::size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return fail(env, "optimStep: bad call");
  int32_t kind = -1;
  Arr arr[5], meta;
  bool ok = argc == 7 && napi_get_value_int32(env, argv[0], &kind) == napi_ok && kind >= 0 && kind <= 3;
  for (int i = 0; ok && i < 5; i++) ok = get_arr(env, argv[1 + i], &arr[i], i >= 2);
  ok = ok && get_arr(env, argv[6], &meta, false) && meta.type == napi_float64_array && meta.length >= 6;
  if (!ok) return fail(env, "optimStep: expected (kind 0-3, p, grad, a, b, c, meta: Float64Array)");
  const auto type = arr[0].type;
  if (type != napi_float32_array && type != napi_float64_array)
    return fail(env, "optimStep: arrays must be Float32Array or Float64Array");
  for (const Arr& a : arr)
    if (a.data && a.type != type) return fail(env, "optimStep: arrays must all have one type");
  const double* k = static_cast<const double*>(meta.data);
  if (!(k[0] >= 0)) return fail(env, "optimStep: negative size");
  return type == napi_float32_array ? optim_step<float>(env, kind, arr, k, meta.length)
                                    : optim_step<double>(env, kind, arr, k, meta.length);
}

/**
 * softmax(x, y, out, meta): meta = [rows, n, xOff, yOff, outOff, log, backward]. Forward reads x
 * (y unused: pass x); backward reads g as x and the forward's output y.
 */
napi_value Softmax(napi_env env, napi_callback_info info) {
  std::size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return fail(env, "softmax: bad call");
  Arr x, y, o, m;
  if (argc != 4 || !get_arr(env, argv[0], &x, false) || !get_arr(env, argv[1], &y, false) ||
      !get_arr(env, argv[2], &o, false) || !get_arr(env, argv[3], &m, false) || m.type != napi_float64_array ||
      m.length < 7)
    return fail(env, "softmax: expected (x, y, out, meta: Float64Array)");
  if (x.type != o.type || y.type != o.type || (o.type != napi_float32_array && o.type != napi_float64_array))
    return fail(env, "softmax: arrays must all be Float32Array or all Float64Array");
  const double* k = static_cast<const double*>(m.data);
  const double rows = k[0], n = k[1];
  if (!(rows >= 0) || !(n >= 0) || rows != std::floor(rows) || n != std::floor(n))
    return fail(env, "softmax: bad size");
  const idx total = idx(rows) * idx(n);
  const bool log = k[5] != 0, backward = k[6] != 0;
  if (o.type == napi_float32_array) {
    const float *xp = at<float>(x, k[2], total), *yp = at<float>(y, k[3], total);
    float* op = at<float>(o, k[4], total);
    if (!xp || !yp || !op) return fail(env, "softmax: a view reaches outside its array", false);
    run_ranges<SoftmaxArgs<float>>(softmax_isa<float>, {xp, yp, op, idx(n), log, backward}, idx(rows), idx(n));
  } else {
    const double *xp = at<double>(x, k[2], total), *yp = at<double>(y, k[3], total);
    double* op = at<double>(o, k[4], total);
    if (!xp || !yp || !op) return fail(env, "softmax: a view reaches outside its array", false);
    run_ranges<SoftmaxArgs<double>>(softmax_isa<double>, {xp, yp, op, idx(n), log, backward}, idx(rows), idx(n));
  }
  return nullptr;
}

/** reluBackward(g, y, out, meta = [n, gOff, yOff, outOff]): contiguous views of one float type. */
napi_value ReluBackward(napi_env env, napi_callback_info info) {
  std::size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return fail(env, "reluBackward: bad call");
  Arr g, y, o, m;
  if (argc != 4 || !get_arr(env, argv[0], &g, false) || !get_arr(env, argv[1], &y, false) ||
      !get_arr(env, argv[2], &o, false) || !get_arr(env, argv[3], &m, false) || m.type != napi_float64_array ||
      m.length < 4)
    return fail(env, "reluBackward: expected (g, y, out, meta: Float64Array)");
  if (g.type != o.type || y.type != o.type || (o.type != napi_float32_array && o.type != napi_float64_array))
    return fail(env, "reluBackward: arrays must all be Float32Array or all Float64Array");
  const double* k = static_cast<const double*>(m.data);
  if (!(k[0] >= 0) || k[0] != std::floor(k[0])) return fail(env, "reluBackward: bad size");
  const idx n = idx(k[0]);
  if (o.type == napi_float32_array) {
    ReluArgs<float> a{at<float>(g, k[1], n), at<float>(y, k[2], n), at<float>(o, k[3], n)};
    if (!a.g || !a.y || !a.out) return fail(env, "reluBackward: a view reaches outside its array", false);
    run_ranges<ReluArgs<float>>(relu_isa<float>, a, n, 1);
  } else {
    ReluArgs<double> a{at<double>(g, k[1], n), at<double>(y, k[2], n), at<double>(o, k[3], n)};
    if (!a.g || !a.y || !a.out) return fail(env, "reluBackward: a view reaches outside its array", false);
    run_ranges<ReluArgs<double>>(relu_isa<double>, a, n, 1);
  }
  return nullptr;
}

/** setFusedParallelMin(n): the work above which the pool splits a call; returns the previous value. */
napi_value SetParallelMin(napi_env env, napi_callback_info info) {
  std::size_t argc = 1;
  napi_value argv[1];
  double n = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1 ||
      napi_get_value_double(env, argv[0], &n) != napi_ok || !(n >= 1))
    return fail(env, "setFusedParallelMin: expected a number ≥ 1");
  napi_value out;
  if (napi_create_double(env, double(kParallelMin), &out) != napi_ok) return fail(env, "setFusedParallelMin: failed");
  kParallelMin = idx(std::min(n, 9e15));
  return out;
}

}  // namespace

/** Adds optimStep, softmax, reluBackward and setFusedParallelMin to the addon's exports; `isa` is the addon's current instruction set. */
void register_fused(napi_env env, napi_value exports, const Isa* isa) {
  g_fused_isa = isa;
  napi_property_descriptor props[] = {
      {"optimStep", nullptr, OptimStep, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmax", nullptr, Softmax, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reluBackward", nullptr, ReluBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setFusedParallelMin", nullptr, SetParallelMin, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}

}  // namespace descent
