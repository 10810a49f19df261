// Sliding-window kernels of Descent's native backend: im2col and its adjoint col2im (convolution =
// im2col + GEMM), and max pooling forward (values + int32 argmax) and backward (a scatter to those
// indices). They mirror src/backends/js/window.ts and pool.ts loop for loop, so float64 and float32
// results are bit-identical to the js reference (each output element is written, or accumulated,
// in the same order). Large calls are split over (image, channel) planes on the pool's threads:
// planes never share output memory, so no locking is needed.
//
// Memory-bound code, no intrinsics: the inner loops are plain strided copies the compiler
// vectorises where the stride is 1; an ISA switch would change nothing here.
#include <node_api.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "pool.h"
#include "napi_util.h"

namespace descent {
namespace {

using idx = std::ptrdiff_t;

/** Below this many elements moved a call runs on one thread (waking a worker costs ~5-10 µs). */
constexpr idx kParallelWork = 1 << 16;

/** Planes per part: enough parts that a late worker delays nothing, few enough to amortise the claim. */
int parts_for(idx planes, idx work) {
  if (pool_threads() < 2 || work < kParallelWork) return 1;
  return int(std::min<idx>(planes, 64));
}

/** First and one-past-last output x whose input column x·s − p + off lies in [0, size). */
inline void valid_range(idx out, idx size, idx s, idx p, idx off, idx* x0, idx* x1) {
  idx lo = p - off;  // need x·s ≥ lo
  idx a = lo <= 0 ? 0 : (lo + s - 1) / s;
  idx hi = size - 1 + p - off;  // need x·s ≤ hi
  idx b = hi < 0 ? 0 : hi / s + 1;
  *x0 = std::min(a, out), *x1 = std::max(*x0, std::min(b, out));
}

// ---- im2col / col2im ----

/** Geometry shared by im2col and col2im: the image [N, C, H, W] and the columns [N, C·kh·kw, oh·ow]. */
struct Slide {
  idx n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
  idx imOff, is0, is1, is2, is3;   // image view
  idx colOff, cs0, cs1, cs2;       // columns view
};

template <typename T, bool Adjoint>
struct SlideJob {
  const Slide* g;
  T* im;
  T* cols;
  static void run(void* ctx, int part, int parts) {
    const auto& j = *static_cast<SlideJob*>(ctx);
    const Slide& g = *j.g;
    const idx planes = g.n * g.c;
    for (idx plane = planes * part / parts; plane < planes * (part + 1) / parts; plane++) {
      const idx b = plane / g.c, ch = plane % g.c;
      T* im = j.im + g.imOff + b * g.is0 + ch * g.is1;
      for (idx i = 0; i < g.kh; i++) {
        for (idx jj = 0; jj < g.kw; jj++) {
          T* row = j.cols + g.colOff + b * g.cs0 + ((ch * g.kh + i) * g.kw + jj) * g.cs1;
          idx x0, x1;
          valid_range(g.ow, g.w, g.sw, g.pw, jj * g.dw, &x0, &x1);
          for (idx y = 0; y < g.oh; y++) {
            T* __restrict col = row + y * g.ow * g.cs2;
            const idx iy = y * g.sh - g.ph + i * g.dh;
            if (iy < 0 || iy >= g.h) {
              if (!Adjoint)
                for (idx x = 0; x < g.ow; x++) col[x * g.cs2] = T(0);
              continue;
            }
            const idx step = g.sw * g.is3;
            // The image and the columns are distinct arrays (the ops layer allocates the output).
            T* __restrict src = im + iy * g.is2 + (x1 > x0 ? (x0 * g.sw - g.pw + jj * g.dw) * g.is3 : 0);
            if (!Adjoint) {
              for (idx x = 0; x < x0; x++) col[x * g.cs2] = T(0);
              if (g.cs2 == 1 && step == 1)
                for (idx x = x0; x < x1; x++) col[x] = src[x - x0];
              else
                for (idx x = x0; x < x1; x++) col[x * g.cs2] = src[(x - x0) * step];
              for (idx x = x1; x < g.ow; x++) col[x * g.cs2] = T(0);
            } else if (g.cs2 == 1 && step == 1) {
              for (idx x = x0; x < x1; x++) src[x - x0] += col[x];
            } else {
              for (idx x = x0; x < x1; x++) src[(x - x0) * step] += col[x * g.cs2];
            }
          }
        }
      }
    }
  }
};

/**
 * im2col(x, cols, meta) / col2im(cols, img, meta); meta = [N, C, H, W, kh, kw, sh, sw, ph, pw, dh,
 * dw, oh, ow, imOff, is0..is3, colOff, cs0..cs2]. col2im adds into img, whose planes must not overlap
 * (the caller passes a contiguous one).
 */
template <bool Adjoint>
napi_value SlideCall(napi_env env, napi_callback_info info) {
  const char* name = Adjoint ? "col2im" : "im2col";
  std::size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return fail(env, name, false);
  Array src, dst, m;
  if (argc < 3 || !typed_array(env, argv[0], &src) || !typed_array(env, argv[1], &dst) ||
      !typed_array(env, argv[2], &m) || m.type != napi_float64_array || m.length < 23)
    return fail(env, Adjoint ? "col2im: expected (cols, img, meta: Float64Array(23))"
                             : "im2col: expected (x, cols, meta: Float64Array(23))");
  if (src.type != dst.type || (src.type != napi_float32_array && src.type != napi_float64_array))
    return fail(env, Adjoint ? "col2im: cols and img must both be Float32Array or both Float64Array"
                             : "im2col: x and cols must both be Float32Array or both Float64Array");
  const double* v = static_cast<const double*>(m.data);
  Slide g;
  idx* f[] = {&g.n, &g.c, &g.h, &g.w, &g.kh, &g.kw, &g.sh, &g.sw, &g.ph, &g.pw, &g.dh, &g.dw, &g.oh, &g.ow,
              &g.imOff, &g.is0, &g.is1, &g.is2, &g.is3, &g.colOff, &g.cs0, &g.cs1, &g.cs2};
  for (int i = 0; i < 23; i++) *f[i] = idx(v[i]);
  if (g.n < 0 || g.c < 0 || g.h < 0 || g.w < 0 || g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1 || g.ph < 0 ||
      g.pw < 0 || g.dh < 1 || g.dw < 1 || g.oh < 0 || g.ow < 0)
    return fail(env, Adjoint ? "col2im: invalid geometry" : "im2col: invalid geometry");
  if (g.n * g.c == 0 || g.oh == 0 || g.ow == 0) return nullptr;
  // oh, ow must be the window counts (the loops trust them to stay inside the image's padding).
  if (g.oh != (g.h + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh + 1 ||
      g.ow != (g.w + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw + 1)
    return fail(env, Adjoint ? "col2im: output size mismatch" : "im2col: output size mismatch");
  Array& im = Adjoint ? dst : src;
  Array& cols = Adjoint ? src : dst;
  const idx imSizes[] = {g.n, g.c, g.h, g.w}, imStrides[] = {g.is0, g.is1, g.is2, g.is3};
  const idx colSizes[] = {g.n, g.c * g.kh * g.kw, g.oh * g.ow}, colStrides[] = {g.cs0, g.cs1, g.cs2};
  if (!inside(g.imOff, imSizes, imStrides, 4, im.length) || !inside(g.colOff, colSizes, colStrides, 3, cols.length))
    return fail(env, Adjoint ? "col2im: a view reaches outside its array" : "im2col: a view reaches outside its array",
                false);
  // Parallel parts write disjoint planes only when the written view's planes do not overlap.
  const bool disjoint = Adjoint ? (g.is3 == 1 && g.is2 == g.w && g.is1 == g.h * g.w && g.is0 == g.c * g.h * g.w)
                                : (g.cs2 == 1 && g.cs1 == g.oh * g.ow && g.cs0 == g.c * g.kh * g.kw * g.cs1);
  const idx planes = g.n * g.c;
  const int parts = disjoint ? parts_for(planes, planes * g.kh * g.kw * g.oh * g.ow) : 1;
  if (src.type == napi_float32_array) {
    SlideJob<float, Adjoint> job{&g, static_cast<float*>(im.data), static_cast<float*>(cols.data)};
    pool_run(&SlideJob<float, Adjoint>::run, &job, parts, pool_threads());
  } else {
    SlideJob<double, Adjoint> job{&g, static_cast<double*>(im.data), static_cast<double*>(cols.data)};
    pool_run(&SlideJob<double, Adjoint>::run, &job, parts, pool_threads());
  }
  return nullptr;
}

// ---- max pooling ----

/** x [N, C, H, W] (strided) pooled to out/indices [N, C, oh, ow] (contiguous). */
struct Pool2d {
  idx n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow;
  idx off, s0, s1, s2, s3;
};

/**
 * Per window, row-major: the first element is the running best; a later one replaces it when
 * greater or NaN, and a NaN ends the window (js: argReduce's rule). Anything outside the image is
 * -Inf and, when it wins, is recorded as index H·W (no input element gets its gradient). The fast
 * scans select on v > best (branch-free: which element wins is random), which never picks a NaN,
 * so a window that read a NaN after its first element is rescanned with the exact rule.
 */
template <typename T>
struct MaxPoolJob {
  const Pool2d* g;
  const T* x;
  T* out;
  int32_t* ind;

  /** The exact rule, for windows with a NaN. */
  static void scan_nan(const Pool2d& g, const T* x, idx oy, idx ox, T* best, idx* at) {
    const idx none = g.h * g.w;
    bool first = true;
    for (idx i = 0; i < g.kh; i++) {
      const idx iy = oy * g.sh - g.ph + i * g.dh;
      for (idx j = 0; j < g.kw; j++) {
        const idx ix = ox * g.sw - g.pw + j * g.dw;
        const bool in = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
        const T v = in ? x[iy * g.s2 + ix * g.s3] : -std::numeric_limits<T>::infinity();
        if (first || v > *best || v != v) {
          *best = v, *at = in ? iy * g.w + ix : none;
          first = false;
          if (v != v) return;
        }
      }
    }
  }

  /** One window with bounds checks (border windows), branch-free; returns whether it saw a NaN. */
  static bool scan_border(const Pool2d& g, const T* x, idx oy, idx ox, T* best, idx* at) {
    const idx none = g.h * g.w;
    const T ninf = -std::numeric_limits<T>::infinity();
    bool nan = false, first = true;
    for (idx i = 0; i < g.kh; i++) {
      const idx iy = oy * g.sh - g.ph + i * g.dh;
      const bool rowIn = iy >= 0 && iy < g.h;
      for (idx jj = 0; jj < g.kw; jj++) {
        const idx ix = ox * g.sw - g.pw + jj * g.dw;
        const bool in = rowIn && ix >= 0 && ix < g.w;
        const T v = in ? x[iy * g.s2 + ix * g.s3] : ninf;
        const bool take = first || v > *best;
        *best = take ? v : *best;
        *at = take ? (in ? iy * g.w + ix : none) : *at;
        nan |= v != v;
        first = false;
      }
    }
    return nan;
  }

  /**
   * One window element for n outputs: o[t] = src[t·step] where it is greater (First: always), k[t]
   * its index; returns whether a NaN was read. Integer masks and an integer OR are forms the
   * vectoriser accepts; constant steps (1, 2) let it vectorise the loads too.
   */
  template <int Step, bool First>
  static bool sweep(const T* __restrict src, idx step, idx n, T* __restrict o, int32_t* __restrict k, int32_t at0,
                    int32_t atStep) {
    if (Step) step = Step;
    int32_t bad = 0;
    for (idx t = 0; t < n; t++) {
      const T v = src[t * step], cur = o[t];
      const int32_t take = First ? -1 : -int32_t(v > cur);
      o[t] = First || v > cur ? v : cur;
      k[t] = (k[t] & ~take) | ((at0 + int32_t(t) * atStep) & take);
      bad |= int32_t(v != v);
    }
    return bad != 0;
  }

  template <bool First>
  static bool sweep_any(const T* src, idx step, idx n, T* o, int32_t* k, int32_t at0, int32_t atStep) {
    if (step == 1) return sweep<1, First>(src, 1, n, o, k, at0, atStep);
    if (step == 2) return sweep<2, First>(src, 2, n, o, k, at0, atStep);
    return sweep<0, First>(src, step, n, o, k, at0, atStep);
  }

  // Interior windows (wholly inside the image) are scanned window element by window element, each
  // pass sweeping every interior output of the plane: the passes keep each window's row-major
  // order, and the inner loop has no dependency between iterations (a per-window loop of 4-9
  // elements did). Border windows, and windows with a NaN, are then scanned one by one.
  static void run(void* ctx, int part, int parts) {
    const auto& j = *static_cast<MaxPoolJob*>(ctx);
    const Pool2d& g = *j.g;
    const idx planes = g.n * g.c;
    // Interior outputs: o·s − p ≥ 0 and o·s − p + (k−1)·d < size, per axis.
    auto interior = [](idx out, idx size, idx k, idx s, idx p, idx d, idx* lo, idx* hi) {
      *lo = std::min(out, (p + s - 1) / s);
      const idx last = size - 1 + p - (k - 1) * d;
      *hi = std::max(*lo, std::min(out, last < 0 ? 0 : last / s + 1));
    };
    idx ya, yb, xa, xb;
    interior(g.oh, g.h, g.kh, g.sh, g.ph, g.dh, &ya, &yb);
    interior(g.ow, g.w, g.kw, g.sw, g.pw, g.dw, &xa, &xb);
    const idx n = xb - xa, step = g.sw * g.s3;
    for (idx plane = planes * part / parts; plane < planes * (part + 1) / parts; plane++) {
      const T* x = j.x + g.off + (plane / g.c) * g.s0 + (plane % g.c) * g.s1;
      T* out = j.out + plane * g.oh * g.ow;
      int32_t* ind = j.ind + plane * g.oh * g.ow;
      bool nan = false;
      for (idx i = 0; i < g.kh && n > 0; i++) {
        for (idx jj = 0; jj < g.kw; jj++) {
          for (idx oy = ya; oy < yb; oy++) {
            const idx iy = oy * g.sh - g.ph + i * g.dh, col0 = xa * g.sw - g.pw + jj * g.dw;
            const T* src = x + iy * g.s2 + col0 * g.s3;
            T* o = out + oy * g.ow + xa;
            int32_t* k = ind + oy * g.ow + xa;
            const int32_t at0 = int32_t(iy * g.w + col0), atStep = int32_t(g.sw);
            nan |= i == 0 && jj == 0 ? sweep_any<true>(src, step, n, o, k, at0, atStep)
                                     : sweep_any<false>(src, step, n, o, k, at0, atStep);
          }
        }
      }
      for (idx oy = 0; oy < g.oh; oy++) {
        const bool rowIn = oy >= ya && oy < yb;
        for (idx ox = 0; ox < g.ow; ox++) {
          const bool in = rowIn && ox >= xa && ox < xb;
          if (in && !nan) continue;
          T best = out[oy * g.ow + ox];
          idx at = ind[oy * g.ow + ox];
          const bool wnan = in ? true : scan_border(g, x, oy, ox, &best, &at);
          // A NaN first element already won (nothing compares greater); a later one needs the rule.
          if (wnan && (!in || best == best)) scan_nan(g, x, oy, ox, &best, &at);
          out[oy * g.ow + ox] = best;
          ind[oy * g.ow + ox] = int32_t(at);
        }
      }
    }
  }
};

/** maxPool2d(x, out, indices, meta); meta = [N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, off, s0..s3]. */
napi_value MaxPool(napi_env env, napi_callback_info info) {
  std::size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return fail(env, "maxPool2d", false);
  Array x, out, ind, m;
  if (argc < 4 || !typed_array(env, argv[0], &x) || !typed_array(env, argv[1], &out) ||
      !typed_array(env, argv[2], &ind) || !typed_array(env, argv[3], &m) || ind.type != napi_int32_array ||
      m.type != napi_float64_array || m.length < 19)
    return fail(env, "maxPool2d: expected (x, out, indices: Int32Array, meta: Float64Array(19))");
  if (x.type != out.type || (x.type != napi_float32_array && x.type != napi_float64_array))
    return fail(env, "maxPool2d: x and out must both be Float32Array or both Float64Array");
  const double* v = static_cast<const double*>(m.data);
  Pool2d g;
  idx* f[] = {&g.n, &g.c, &g.h, &g.w, &g.kh, &g.kw, &g.sh, &g.sw, &g.ph, &g.pw,
              &g.dh, &g.dw, &g.oh, &g.ow, &g.off, &g.s0, &g.s1, &g.s2, &g.s3};
  for (int i = 0; i < 19; i++) *f[i] = idx(v[i]);
  if (g.n < 0 || g.c < 0 || g.h < 0 || g.w < 0 || g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1 || g.ph < 0 ||
      g.pw < 0 || g.dh < 1 || g.dw < 1 || g.oh < 0 || g.ow < 0 || g.h * g.w > INT32_MAX)
    return fail(env, "maxPool2d: invalid geometry");
  const idx count = g.n * g.c * g.oh * g.ow;
  if (count == 0) return nullptr;
  const idx sizes[] = {g.n, g.c, g.h, g.w}, strides[] = {g.s0, g.s1, g.s2, g.s3};
  if (!inside(g.off, sizes, strides, 4, x.length) || idx(out.length) < count || idx(ind.length) < count)
    return fail(env, "maxPool2d: a view reaches outside its array", false);
  const idx planes = g.n * g.c;
  const int parts = parts_for(planes, count * g.kh * g.kw);
  if (x.type == napi_float32_array) {
    MaxPoolJob<float> job{&g, static_cast<const float*>(x.data), static_cast<float*>(out.data),
                          static_cast<int32_t*>(ind.data)};
    pool_run(&MaxPoolJob<float>::run, &job, parts, pool_threads());
  } else {
    MaxPoolJob<double> job{&g, static_cast<const double*>(x.data), static_cast<double*>(out.data),
                           static_cast<int32_t*>(ind.data)};
    pool_run(&MaxPoolJob<double>::run, &job, parts, pool_threads());
  }
  return nullptr;
}

/** g [N, C, oh, ow] (strided) added at indices (contiguous, same shape) into out [N, C, plane] (contiguous). */
struct Unpool {
  idx n, c, oh, ow, plane, off, s0, s1, s2, s3;
};

template <typename T>
struct UnpoolJob {
  const Unpool* g;
  const T* grad;
  const int32_t* ind;
  T* out;
  static void run(void* ctx, int part, int parts) {
    const auto& j = *static_cast<UnpoolJob*>(ctx);
    const Unpool& g = *j.g;
    const idx planes = g.n * g.c;
    for (idx plane = planes * part / parts; plane < planes * (part + 1) / parts; plane++) {
      const T* gr = j.grad + g.off + (plane / g.c) * g.s0 + (plane % g.c) * g.s1;
      const int32_t* ind = j.ind + plane * g.oh * g.ow;
      T* out = j.out + plane * g.plane;
      for (idx oy = 0; oy < g.oh; oy++, ind += g.ow) {
        const T* row = gr + oy * g.s2;
        for (idx ox = 0; ox < g.ow; ox++) {
          const idx at = ind[ox];
          if (at >= 0 && at < g.plane) out[at] += row[ox * g.s3];
        }
      }
    }
  }
};

/** maxPool2dBackward(g, indices, out, meta); meta = [N, C, oh, ow, H·W, off, s0, s1, s2, s3]. */
napi_value MaxUnpool(napi_env env, napi_callback_info info) {
  std::size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok)
    return fail(env, "maxPool2dBackward", false);
  Array gr, ind, out, m;
  if (argc < 4 || !typed_array(env, argv[0], &gr) || !typed_array(env, argv[1], &ind) ||
      !typed_array(env, argv[2], &out) || !typed_array(env, argv[3], &m) || ind.type != napi_int32_array ||
      m.type != napi_float64_array || m.length < 10)
    return fail(env, "maxPool2dBackward: expected (g, indices: Int32Array, out, meta: Float64Array(10))");
  if (gr.type != out.type || (gr.type != napi_float32_array && gr.type != napi_float64_array))
    return fail(env, "maxPool2dBackward: g and out must both be Float32Array or both Float64Array");
  const double* v = static_cast<const double*>(m.data);
  Unpool g{idx(v[0]), idx(v[1]), idx(v[2]), idx(v[3]), idx(v[4]), idx(v[5]), idx(v[6]), idx(v[7]), idx(v[8]), idx(v[9])};
  if (g.n < 0 || g.c < 0 || g.oh < 0 || g.ow < 0 || g.plane < 0) return fail(env, "maxPool2dBackward: invalid geometry");
  const idx planes = g.n * g.c;
  if (planes == 0) return nullptr;
  const idx sizes[] = {g.n, g.c, g.oh, g.ow}, strides[] = {g.s0, g.s1, g.s2, g.s3};
  if (!inside(g.off, sizes, strides, 4, gr.length) || idx(ind.length) < planes * g.oh * g.ow ||
      idx(out.length) < planes * g.plane)
    return fail(env, "maxPool2dBackward: a view reaches outside its array", false);
  const int parts = parts_for(planes, planes * (g.oh * g.ow + g.plane));
  if (gr.type == napi_float32_array) {
    UnpoolJob<float> job{&g, static_cast<const float*>(gr.data), static_cast<const int32_t*>(ind.data),
                         static_cast<float*>(out.data)};
    pool_run(&UnpoolJob<float>::run, &job, parts, pool_threads());
  } else {
    UnpoolJob<double> job{&g, static_cast<const double*>(gr.data), static_cast<const int32_t*>(ind.data),
                          static_cast<double*>(out.data)};
    pool_run(&UnpoolJob<double>::run, &job, parts, pool_threads());
  }
  return nullptr;
}

}  // namespace

/** Adds im2col, col2im, maxPool2d and maxPool2dBackward to the addon's exports (called by addon.cc). */
napi_status register_window(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"im2col", nullptr, SlideCall<false>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"col2im", nullptr, SlideCall<true>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPool2d", nullptr, MaxPool, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPool2dBackward", nullptr, MaxUnpool, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}

}  // namespace descent
