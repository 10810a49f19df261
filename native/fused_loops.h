// The element loops of native/fused.cc (included there only, inside its anonymous namespace):
// plain loops the compiler vectorises, one template instance per option set so the loops carry no
// branches, and one copy per instruction set (target attributes; XXX_isa picks at run time).
// Every operation is that of the op-by-op rule (src/backends/fallback/optim.ts, softmax.ts), in
// order and in type: float32 values are float variables, and FMA contraction is off (fused.cc's
// pragma), so results match it bit for bit (test/backends/accelerations.test.ts checks).
#pragma once

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
