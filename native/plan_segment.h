// Image-by-image runs of a compiled plan's convolutional front (plan.cc). A CNN's plan is im2col,
// GEMM (with its epilogue), max pooling, im2col, ... each over the whole batch: every
// intermediate (the batch's im2col columns, 9 MB for the benchmark CNN's second conv) goes out
// to L3 or memory between steps, and the next step reads it back. A segment is a run of
// consecutive steps that all work image by image on the same N images, each step reading only
// image t's part of what an earlier step of the segment wrote for image t; it is run as "for each
// image: every step", and the images are shared by the pool's threads (each step then runs on one
// thread). An intermediate that nothing outside the segment reads (the columns, a conv's output
// before its pooling: planCreate's `internal` slots) is not written to its slot at all but to the
// thread's own scratch, reused image after image, so it stays in L2. The values are the same as
// step by step: each output element is computed by the same loop from the same inputs.
// Benchmark CNN ([64,1,28,28], bench/suite/models.ts cnn()), 1 thread: 7.0 → 4.6 ms.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "plan_conv.h"
#include "plan_steps.h"

namespace descent {
namespace planexec {

/** Where one image's part of a step's operand lies: slot, start of image 0, per-image stride, extent. */
struct Part {
  int slot;
  idx off, stride, len;
};

/** Steps that can run image by image: their image count, per-image write and reads (false: not such a step). */
inline bool image_parts(const Step& st, idx* images, Part* write, std::vector<Part>* reads) {
  reads->clear();
  if (st.kind == kIm2col || st.kind == kMaxPool) {
    const Window g = window_of(st);
    const idx in = g.C * g.H * g.W, out = g.C * g.oh * g.ow * (st.kind == kIm2col ? g.kh * g.kw : 1);
    *images = g.N;
    *write = {st.out.slot, st.out.off, out, out};
    reads->push_back({st.x.slot, st.x.off, in, in});
    return true;
  }
  if (st.kind == kGemm) {
    const idx M = st.n[0], N = st.n[1], K = st.n[2], count = st.n[7];
    // A shared A (the weight) and B per image (the columns), strides non-negative (parse checks).
    if (count < 1 || st.n[8] != 0 || st.n[9] < 0 || M < 1 || N < 1 || K < 1) return false;
    *images = count;
    *write = {st.out.slot, st.out.off, M * N, M * N};
    reads->push_back({st.y.slot, st.y.off, st.n[9], (K - 1) * st.n[5] + (N - 1) * st.n[6] + 1});
    reads->push_back({st.x.slot, st.x.off, 0, (M - 1) * st.n[3] + (K - 1) * st.n[4] + 1});
    if (st.scale.slot >= 0) reads->push_back({st.scale.slot, st.scale.off, 0, 0});
    if (st.shift.slot >= 0) reads->push_back({st.shift.slot, st.shift.off, 0, 0});
    return true;
  }
  return false;
}

/**
 * The segments of a plan: [first, first + count) for each run of two or more steps that can go
 * image by image. A step joins the run when it has the run's image count, writes a slot no step
 * of the run touches, and reads a slot written in the run only as exactly the part the writer
 * wrote for the same image (same start and stride, no further); every other slot it reads must not
 * be written in the run.
 */
inline std::vector<std::pair<int, int>> find_segments(const std::vector<Step>& steps) {
  std::vector<std::pair<int, int>> segs;
  std::vector<Part> written, touched, reads;  // touched: every slot the run reads or writes
  idx images = 0;
  int first = 0;
  auto close = [&](int end) {
    if (end - first >= 2) segs.push_back({first, end - first});
    written.clear(), touched.clear();
  };
  for (int s = 0; s <= int(steps.size()); s++) {
    idx n = 0;
    Part w{};
    bool ok = s < int(steps.size()) && image_parts(steps[std::size_t(s)], &n, &w, &reads);
    for (std::size_t k = 0; ok && k < reads.size(); k++) ok = reads[k].slot != w.slot;  // in place: as it is
    bool joins = ok && !written.empty() && n == images;
    for (std::size_t k = 0; joins && k < reads.size(); k++) {
      const Part& r = reads[k];
      for (const Part& p : written)
        if (p.slot == r.slot && (p.off != r.off || p.stride != r.stride || r.len > p.stride)) joins = false;
    }
    for (const Part& t : touched)
      if (joins && t.slot == w.slot) joins = false;
    if (!joins) {
      close(s);
      first = s, images = n;
      if (!ok) continue;
    }
    written.push_back(w), touched.push_back(w);
    for (const Part& r : reads) touched.push_back(r);
  }
  return segs;
}

/** Most floats of thread scratch a segment's image may use (8 MiB). */
constexpr idx kMaxLocal = idx(1) << 21;

/** Slots a step reads (any kind). */
inline void step_reads(const Step& st, std::vector<int>* out) {
  for (const Ref* r : {&st.x, &st.y, &st.scale, &st.shift})
    if (r->slot >= 0) out->push_back(r->slot);
  for (const EwIn& in : st.ins) out->push_back(in.ref.slot);
}

/**
 * Lays out segment [first, first + count) of plan p. A step's output is local when its slot is in
 * `internal` (the caller reads it after the run only through this plan's steps), fixed, and no
 * step outside the segment reads it.
 */
inline Segment lay_out(const Plan& p, int first, int count, const std::vector<bool>& internal) {
  Segment sg{first, count, std::vector<SegStep>(std::size_t(count)), 0};
  std::vector<int> outside;
  for (int s = 0; s < int(p.steps.size()); s++)
    if (s < first || s >= first + count) step_reads(p.steps[std::size_t(s)], &outside);
  std::vector<Part> reads;
  std::vector<Part> writes(std::size_t(count), Part{});
  for (int k = 0; k < count; k++) {
    const Step& st = p.steps[std::size_t(first + k)];
    idx n;
    image_parts(st, &n, &writes[std::size_t(k)], &reads);
    SegStep& q = sg.steps[std::size_t(k)];
    q.inStride = reads[0].stride, q.outStride = writes[std::size_t(k)].stride;
    for (int w = 0; w < k; w++)
      if (writes[std::size_t(w)].slot == reads[0].slot) q.from = w;
    const int slot = st.out.slot;
    q.local = slot < int(internal.size()) && internal[std::size_t(slot)] && p.ptr[std::size_t(slot)] != nullptr &&
              std::find(outside.begin(), outside.end(), slot) == outside.end();
    q.direct = st.kind == kGemm && st.n[6] == 1 && st.n[2] <= kMaxDepth;
    if (q.local) q.at = sg.scratch, sg.scratch += (q.outStride + 15) / 16 * 16;  // 64-byte aligned
  }
  // Each thread keeps its scratch (grow-only): past kMaxLocal the images' intermediates, too big
  // for a cache anyway, stay in their slots.
  if (sg.scratch > kMaxLocal) {
    for (SegStep& q : sg.steps) q.local = false;
    sg.scratch = 0;
  }
  return sg;
}

/** Image t of a step that image_parts accepted, on the calling thread: x (B) and out point at image t's part. */
inline void run_image(const Plan& p, const Step& st, const float* x, float* out) {
  if (st.kind == kGemm) {  // its epilogue's pointers were set by run_segment
    Product<float> q{st.n[0], st.n[1], st.n[2], at(p, st.x), st.n[3], st.n[4], x, st.n[5], st.n[6], out, st.n[1]};
    q.ep = &st.ep;
    const idx zero = 0;
    gemm_batch(Batch<float>{q, 1, &zero, &zero}, *p.isa, 1);
    return;
  }
  const Window g = window_of(st);
  for (idx c = 0; c < g.C; c++) {
    const float* plane = x + c * g.H * g.W;
    if (st.kind == kMaxPool)
      maxpool_plane(g, plane, out + c * g.oh * g.ow, *p.isa);
    else
      im2col_plane(g, plane, out, 0, c, *p.isa);
  }
}

struct SegmentJob {
  const Plan* p;
  const Segment* sg;
  idx images;
  Kernel<float> k;
  static void run(void* ctx, int part, int parts) {
    const SegmentJob& j = *static_cast<const SegmentJob*>(ctx);
    const Segment& sg = *j.sg;
    // No memory for it: the images' intermediates go to their slots instead, as nothing else reads them.
    float* local = sg.scratch > 0 ? scratch<float, 3>(sg.scratch) : nullptr;
    std::vector<float*> outs(std::size_t(sg.count));
    for (idx t = j.images * part / parts; t < j.images * (part + 1) / parts; t++)
      for (int k = 0; k < sg.count; k++) {
        const SegStep& q = sg.steps[std::size_t(k)];
        const Step& st = j.p->steps[std::size_t(sg.first + k)];
        const Ref& in = st.kind == kGemm ? st.y : st.x;
        const float* x = q.from >= 0 ? outs[std::size_t(q.from)] : at(*j.p, in) + t * q.inStride;
        float* out = q.local && local ? local + q.at : at(*j.p, st.out) + t * q.outStride;
        outs[std::size_t(k)] = out;
        if (!q.direct || !conv_product(j.k, q.aPack.data(), st.n[0], st.n[1], st.n[2], x, st.n[5], out, &st.ep))
          run_image(*j.p, st, x, out);
      }
  }
};

/**
 * Runs segment sg image by image when there are images to share and that keeps the threads busy
 * (one thread, or at least two images per thread; one image per part, so a thread slow to get its
 * core leaves its images to the others) and returns true; false leaves its steps to run one by one.
 */
inline bool run_segment(Plan& p, Segment& sg) {
  Step& st = p.steps[std::size_t(sg.first)];
  const idx images = st.kind == kGemm ? st.n[7] : st.n[0];
  const int threads = pool_threads();
  if (images < 2 || (threads > 1 && images < 2 * threads)) return false;  // one image: nothing to gain
  // The epilogue pointers and packed weights are set once here: the threads only read them.
  const Kernel<float> k = kernel_f32(*p.isa);
  for (int s = sg.first; s < sg.first + sg.count; s++) {
    Step& q = p.steps[std::size_t(s)];
    q.ep.scale = at(p, q.scale), q.ep.shift = at(p, q.shift);
    SegStep& g = sg.steps[std::size_t(s - sg.first)];
    if (g.direct) pack_weight(&g.aPack, at(p, q.x), q.n[0], q.n[2], q.n[3], q.n[4], k.mr);
  }
  SegmentJob j{&p, &sg, images, k};
  pool_run(SegmentJob::run, &j, threads > 1 ? int(images) : 1, threads);
  return true;
}

}  // namespace planexec
}  // namespace descent
