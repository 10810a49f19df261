// Fused kernels of the native backend (src/backends/native/fused.ts is the caller): the optimizer
// updates (Adam/AdamW, SGD, RMSprop, Adagrad: a parameter and its state updated in place in one
// pass), softmax / log-softmax along the last dim with their backward, and ReLU's backward; the
// loops are in fused_loops.h, this file holds the pool split and the Node-API glue. They are
// accelerations of the op-by-op rules of src/backends/fallback/ (the definitions; js/fused.ts is
// the js twin) and give their numbers bit for bit (test/backends/accelerations.test.ts): every
// operation is the same IEEE operation in the same order, float32 values are float variables (the js side rounds with
// Math.fround after each step; +, −, ×, ÷ and √ of floats computed in double and rounded equal the
// float operation), and contraction into FMAs is off, since an FMA skips a rounding. Softmax's exp
// and log run in double as in js; libm's and V8's agree to the last bit nearly always, so those two
// kernels agree with js up to that (the tests allow 2 ulps there).
// The loops are written plainly and vectorised by the compiler, once per instruction set (target
// attributes, picked at run time by the ISA the addon uses); large arrays are split over the pool.
// √ vectorises only without errno (binding.gyp's -fno-math-errno: a negative operand gives NaN
// either way, and nothing reads errno).
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "gemm.h"
#include "napi_util.h"
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

#include "fused_loops.h"


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

/** A typed array, or (optional) null/undefined leaving data null. */
bool get_arr(napi_env env, napi_value v, Array* out, bool optional) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (optional && (t == napi_null || t == napi_undefined)) return true;
  return typed_array(env, v, out);
}

/** The element pointer at offset `off` of `a` when [off, off + n) lies inside it; else null. */
template <typename T>
T* at(const Array& a, double off, idx n) {
  if (!a.data || !(off >= 0) || off != std::floor(off) || idx(off) + n > idx(a.length)) return nullptr;
  return static_cast<T*>(a.data) + idx(off);
}

/**
 * optimStep(kind, p, g, a, b, c, meta) with kind 0 Adam (a = m, b = v, c = vmax or null),
 * 1 SGD (a = buf or null), 2 RMSprop (a = square avg, b = grad avg or null, c = buf or null),
 * 3 Adagrad (a = sum); meta = [n, offsets of p g a b c, constants…] as native/fused.ts packs them.
 */
template <typename T>
napi_value optim_step(napi_env env, int kind, const Array* arr, const double* k, std::size_t nk) {
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
  Array arr[5], meta;
  bool ok = argc == 7 && napi_get_value_int32(env, argv[0], &kind) == napi_ok && kind >= 0 && kind <= 3;
  for (int i = 0; ok && i < 5; i++) ok = get_arr(env, argv[1 + i], &arr[i], i >= 2);
  ok = ok && get_arr(env, argv[6], &meta, false) && meta.type == napi_float64_array && meta.length >= 6;
  if (!ok) return fail(env, "optimStep: expected (kind 0-3, p, grad, a, b, c, meta: Float64Array)");
  const auto type = arr[0].type;
  if (type != napi_float32_array && type != napi_float64_array)
    return fail(env, "optimStep: arrays must be Float32Array or Float64Array");
  for (const Array& a : arr)
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
  Array x, y, o, m;
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
  Array g, y, o, m;
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

/**
 * Adds optimStep, softmax, reluBackward and setFusedParallelMin to the addon's exports; `isa` points
 * at the addon's current instruction set (setIsa changes it).
 */
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
