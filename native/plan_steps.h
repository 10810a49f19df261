// The steps of a compiled inference plan as native/plan.cc holds them, and the loops that run
// them (GEMM goes to gemm.cc with its epilogue, the window loops are plan_window.h). Included by
// plan.cc only; the GEMM and large window steps use the pool's threads, the rest runs on the
// calling thread.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "gemm.h"
#include "plan_ops.h"
#include "plan_window.h"
#include "pool.h"

namespace descent {
namespace planexec {

using idx = std::ptrdiff_t;

enum Kind { kGemm = 1, kIm2col = 2, kEw = 3, kSoftmax = 4, kLayerNorm = 5, kMaxPool = 6, kCopy = 7, kReduce = 8 };
constexpr int kBlock = 256;  // element-wise programs run in blocks this long (registers stay in L1)
constexpr int kMaxRegs = 16;

struct Ref {
  int slot = -1;
  idx off = 0;
};

struct EwIn {
  Ref ref;
  idx inner, len;  // element i reads ref[(i / inner) % len]
};
struct EwInstr {
  int op, dst, a, b;  // b < 0: the immediate is the second operand
  float imm;
};

struct Step {
  int kind = 0;
  Ref x, y, out, scale, shift;  // y: GEMM's B
  std::vector<idx> n;           // the step's sizes (kind-specific)
  Epilogue<float> ep;
  std::vector<idx> aStart, bStart;
  std::vector<EwIn> ins;
  std::vector<EwInstr> prog;
  int result = 0;
  float eps = 0;
};

/**
 * How a segment's step finds image t's operands: `from` is the step of the segment whose output
 * it reads (x for window steps, B for GEMM; -1: a slot outside the segment), `local` whether its
 * own output goes to the thread's scratch at `at` instead of its slot (an intermediate that only
 * the segment reads), `inStride`/`outStride` its input's and output's per-image strides.
 */
struct SegStep {
  int from = -1;
  bool local = false;
  idx at = 0, inStride = 0, outStride = 0;
  bool direct = false;       // a GEMM run by plan_conv.h's conv_product
  std::vector<float> aPack;  // its packed A, redone each run
};

struct Segment {
  int first, count;
  std::vector<SegStep> steps;
  idx scratch = 0;  // floats of thread scratch an image needs
};

struct Plan {
  std::vector<Step> steps;
  std::vector<float*> ptr;
  std::vector<idx> len;      // fixed slots: their length; per-call slots: what the steps need
  std::vector<int> dynamic;  // the per-call slots, in planRun's argument order
  std::vector<Segment> segments;  // runs of steps that go image by image (plan_segment.h)
  Isa* isa;
};

inline float* at(const Plan& p, const Ref& r) { return r.slot < 0 ? nullptr : p.ptr[r.slot] + r.off; }

inline void run_gemm(const Plan& p, Step& st) {
  const idx M = st.n[0], N = st.n[1], K = st.n[2];
  st.ep.scale = at(p, st.scale), st.ep.shift = at(p, st.shift);
  Product<float> q{M, N, K, at(p, st.x), st.n[3], st.n[4], at(p, st.y), st.n[5], st.n[6], at(p, st.out), N};
  q.ep = &st.ep;
  gemm_batch(Batch<float>{q, st.n[7], st.aStart.data(), st.bStart.data()}, *p.isa, pool_threads());
}

/** Below this many output values a window step runs on the calling thread (a wake-up costs ~5-10 µs). */
constexpr idx kWindowParallel = 1 << 16;

struct WindowJob {
  Window g;
  const float* x;
  float* out;
  bool pool;
  Isa isa;
  static void run(void* ctx, int part, int parts) {
    const WindowJob& j = *static_cast<const WindowJob*>(ctx);
    const Window& g = j.g;
    const idx planes = g.N * g.C, L = g.oh * g.ow;
    for (idx nc = planes * part / parts; nc < planes * (part + 1) / parts; nc++) {
      const float* plane = j.x + nc * g.H * g.W;
      if (j.pool)
        maxpool_plane(g, plane, j.out + nc * L, j.isa);
      else
        im2col_plane(g, plane, j.out, nc / g.C, nc % g.C, j.isa);
    }
  }
};

inline Window window_of(const Step& st) {
  const idx* n = st.n.data();
  return {n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8], n[9], n[10], n[11], n[12], n[13]};
}

/** im2col or max pooling, its (image, channel) planes shared by the pool's threads when large. */
inline void run_window(const Plan& p, const Step& st) {
  WindowJob j{window_of(st), at(p, st.x), at(p, st.out), st.kind == kMaxPool, *p.isa};
  const idx planes = j.g.N * j.g.C;
  const idx work = planes * j.g.oh * j.g.ow * (j.pool ? 1 : j.g.kh * j.g.kw);
  const int threads = work < kWindowParallel ? 1 : pool_threads();
  pool_run(WindowJob::run, &j, threads > 1 ? int(std::min<idx>(planes, 4 * threads)) : 1, threads);
}

inline void run_ew(const Plan& p, const Step& st) {
  alignas(64) float reg[kMaxRegs][kBlock];
  const idx n = st.n[0];
  float* out = at(p, st.out);
  const std::size_t nIn = st.ins.size();
  for (idx b0 = 0; b0 < n; b0 += kBlock) {
    const idx bn = std::min<idx>(kBlock, n - b0);
    const float* src[kMaxRegs] = {};
    for (std::size_t k = 0; k < nIn; k++) {
      const EwIn& in = st.ins[k];
      const float* base = at(p, in.ref);
      if (in.inner == 1 && in.len >= n) {
        src[k] = base + b0;  // a full input is read in place
        continue;
      }
      for (idx i = 0; i < bn; i++) reg[k][i] = base[((b0 + i) / in.inner) % in.len];
      src[k] = reg[k];
    }
    for (std::size_t k = nIn; k < kMaxRegs; k++) src[k] = reg[k];
    for (const EwInstr& in : st.prog) {
      const float* ys = in.b >= 0 ? src[in.b] : nullptr;
      plan::apply(in.op, src[in.a], ys, in.imm, reg[in.dst], bn, in.imm);
      src[in.dst] = reg[in.dst];
    }
    std::memcpy(out + b0, src[st.result], bn * sizeof(float));
  }
}

inline void run_rows(const Plan& p, const Step& st) {
  const idx rows = st.n[0], cols = st.n[1];
  const float* x = at(p, st.x);
  float* out = at(p, st.out);
  const float* w = at(p, st.scale);
  const float* b = at(p, st.shift);
  for (idx r = 0; r < rows; r++, x += cols, out += cols) {
    if (st.kind == kSoftmax) {
      // As the js softmax kernel: max, exp(x - max) in double, sum, then divide (or log-sum-exp).
      float m = -std::numeric_limits<float>::infinity();
      for (idx j = 0; j < cols; j++) m = (x[j] > m || x[j] != x[j]) ? x[j] : m;
      double s = 0;
      for (idx j = 0; j < cols; j++) s += std::exp(double(x[j]) - double(m));
      if (st.n[2]) {
        const double ls = std::log(s);
        for (idx j = 0; j < cols; j++) out[j] = float(double(x[j]) - double(m) - ls);
      } else {
        for (idx j = 0; j < cols; j++) out[j] = float(std::exp(double(x[j]) - double(m)) / s);
      }
      continue;
    }
    double mean = 0, var = 0;
    for (idx j = 0; j < cols; j++) mean += x[j];
    mean /= double(cols);
    for (idx j = 0; j < cols; j++) var += (x[j] - mean) * (x[j] - mean);
    const double inv = 1 / std::sqrt(var / double(cols) + double(st.eps));
    for (idx j = 0; j < cols; j++) {
      double v = (x[j] - mean) * inv;
      if (w) v *= w[j];
      if (b) v += b[j];
      out[j] = float(v);
    }
  }
}

inline void run_copy(const Plan& p, const Step& st) {
  const idx nd = idx(st.n.size() / 2);
  idx total = 1;
  for (idx d = 0; d < nd; d++) total *= st.n[2 * d];
  if (total == 0) return;
  const float* x = at(p, st.x);
  float* out = at(p, st.out);
  idx pos[8] = {}, off = 0;
  const idx inner = st.n[2 * (nd - 1)], istride = st.n[2 * (nd - 1) + 1];
  for (idx o = 0; o < total; o += inner) {
    for (idx j = 0; j < inner; j++) out[o + j] = x[off + j * istride];
    for (idx d = nd - 2; d >= 0; d--) {
      off += st.n[2 * d + 1];
      if (++pos[d] < st.n[2 * d]) break;
      off -= st.n[2 * d + 1] * st.n[2 * d];
      pos[d] = 0;
    }
  }
}

/** out[o, i] = sum (0), max (1) or min (2) of x[o, r, i] over r < R (double sums; NaN wins max and min, as js). */
inline void run_reduce(const Plan& p, const Step& st) {
  const idx outer = st.n[0], R = st.n[1], inner = st.n[2], op = st.n[3];
  const float* x = at(p, st.x);
  float* out = at(p, st.out);
  for (idx o = 0; o < outer; o++)
    for (idx i = 0; i < inner; i++) {
      const float* v = x + o * R * inner + i;
      if (op == 0) {
        double s = 0;
        for (idx r = 0; r < R; r++) s += v[r * inner];
        out[o * inner + i] = float(s);
        continue;
      }
      float m = v[0];
      for (idx r = 1; r < R && m == m; r++) {
        const float e = v[r * inner];
        if (e != e || (op == 1 ? e > m : e < m)) m = e;
      }
      out[o * inner + i] = m;
    }
}

}  // namespace planexec
}  // namespace descent
