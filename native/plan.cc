// The executor of compiled inference plans (src/compile, src/backends/plan/native.ts): the plan
// arrives once as an instruction list (a Float64Array) plus its buffers, is checked and kept
// behind an external handle, and then each forward is one Node-API call (`planRun`) that runs
// every step: GEMMs with their fused epilogue (bias, folded BatchNorm, activation: gemm.cc),
// im2col, fused element-wise programs, softmax, LayerNorm, max pooling, reductions and strided
// copies. Buffers
// are float32 slots: fixed ones (weights, scratch) whose pointers are taken once, and per-call ones
// (inputs and outputs) bound at each run; every access a step makes is checked against its slot's
// length when the plan is made (fixed slots) or when a per-call slot is bound.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "napi_util.h"
#include "plan_segment.h"

namespace descent {
namespace {

using idx = std::ptrdiff_t;
using namespace planexec;

Isa* g_isa_ptr = nullptr;

/** Reads the instruction list; `need` grows each slot's required length. Returns an error or null. */
struct Reader {
  const double* p;
  const double* end;
  bool ok = true;
  double num() {
    if (p >= end) return ok = false, 0;
    return *p++;
  }
  idx i() {
    double v = num();
    if (!(std::fabs(v) <= 9007199254740992.0) || v != std::floor(v)) ok = false;
    return ok ? idx(v) : 0;
  }
  Ref ref(std::size_t slots) {
    Ref r;
    r.slot = int(i());
    r.off = i();
    if (r.slot < -1 || r.slot >= int(slots) || r.off < 0) ok = false;
    return r;
  }
};

void need(std::vector<idx>& req, const Ref& r, idx extent) {
  if (r.slot >= 0 && extent > 0) req[r.slot] = std::max(req[r.slot], r.off + extent);
}

const char* parse(Plan& plan, const double* code, std::size_t n, std::vector<idx>& req) {
  Reader rd{code, code + n};
  const std::size_t S = plan.ptr.size();
  idx count = rd.i();
  if (count < 0) return "planCreate: bad step count";
  for (idx s = 0; s < count && rd.ok; s++) {
    Step st;
    st.kind = int(rd.i());
    switch (st.kind) {
      case kGemm: {
        st.x = rd.ref(S), st.y = rd.ref(S), st.out = rd.ref(S);
        // M, N, K, sAm, sAk, sBk, sBn, count, aBatch, bBatch
        for (int k = 0; k < 10; k++) st.n.push_back(rd.i());
        st.scale = rd.ref(S), st.shift = rd.ref(S);
        st.ep.perRow = rd.i() != 0;
        st.ep.act = int(rd.i());
        st.ep.alpha = float(rd.num());
        const idx M = st.n[0], N = st.n[1], K = st.n[2], cnt = st.n[7];
        if (M < 0 || N < 0 || K < 0 || cnt < 1 || st.ep.act < 0 || st.ep.act >= plan::op_count ||
            plan::arity(st.ep.act) != 1 || st.x.slot < 0 || st.y.slot < 0 || st.out.slot < 0)
          return "planCreate: bad gemm step";
        for (int k = 3; k < 7; k++)
          if (st.n[k] < 0) return "planCreate: gemm strides must be non-negative";
        if (M > 0 && N > 0 && K > 0) {
          need(req, st.x, (cnt - 1) * st.n[8] + (M - 1) * st.n[3] + (K - 1) * st.n[4] + 1);
          need(req, st.y, (cnt - 1) * st.n[9] + (K - 1) * st.n[5] + (N - 1) * st.n[6] + 1);
        }
        need(req, st.out, cnt * M * N);
        const idx ch = st.ep.perRow ? M : N;
        need(req, st.scale, ch), need(req, st.shift, ch);
        for (idx t = 0; t < cnt; t++) st.aStart.push_back(t * st.n[8]), st.bStart.push_back(t * st.n[9]);
        break;
      }
      case kIm2col:
      case kMaxPool: {
        st.x = rd.ref(S), st.out = rd.ref(S);
        // N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow
        for (int k = 0; k < 14; k++) st.n.push_back(rd.i());
        for (idx v : st.n)
          if (v < 0) return "planCreate: bad window step";
        if (st.x.slot < 0 || st.out.slot < 0 || st.n[6] < 1 || st.n[7] < 1 || st.n[10] < 1 || st.n[11] < 1)
          return "planCreate: bad window step";  // strides and dilations are at least 1
        const idx N = st.n[0], C = st.n[1], L = st.n[12] * st.n[13];
        need(req, st.x, N * C * st.n[2] * st.n[3]);
        need(req, st.out, st.kind == kIm2col ? N * C * st.n[4] * st.n[5] * L : N * C * L);
        break;
      }
      case kEw: {
        st.n.push_back(rd.i());
        st.out = rd.ref(S);
        const idx nIn = rd.i();
        if (nIn < 0 || nIn > kMaxRegs) return "planCreate: too many element-wise inputs";
        for (idx k = 0; k < nIn; k++) {
          EwIn in{rd.ref(S), rd.i(), rd.i()};
          if (in.ref.slot < 0 || in.inner < 1 || in.len < 1) return "planCreate: bad element-wise input";
          need(req, in.ref, in.len);
          st.ins.push_back(in);
        }
        const idx nProg = rd.i();
        if (nProg < 0 || nProg > 1024) return "planCreate: bad element-wise program";
        for (idx k = 0; k < nProg; k++) {
          EwInstr in{int(rd.i()), int(rd.i()), int(rd.i()), int(rd.i()), float(rd.num())};
          if (in.op < 0 || in.op >= plan::op_count || in.dst < 0 || in.dst >= kMaxRegs || in.a < 0 ||
              in.a >= kMaxRegs || in.b >= kMaxRegs)
            return "planCreate: bad element-wise instruction";
          st.prog.push_back(in);
        }
        st.result = int(rd.i());
        if (st.result < 0 || st.result >= kMaxRegs || st.out.slot < 0 || st.n[0] < 0)
          return "planCreate: bad element-wise result";
        need(req, st.out, st.n[0]);
        break;
      }
      case kSoftmax:
      case kLayerNorm: {
        st.x = rd.ref(S), st.out = rd.ref(S);
        st.n.push_back(rd.i()), st.n.push_back(rd.i());
        if (st.kind == kSoftmax) {
          st.n.push_back(rd.i());  // log
        } else {
          st.eps = float(rd.num());
          st.scale = rd.ref(S), st.shift = rd.ref(S);
          need(req, st.scale, st.n[1]), need(req, st.shift, st.n[1]);
        }
        if (st.n[0] < 0 || st.n[1] < 1 || st.x.slot < 0 || st.out.slot < 0) return "planCreate: bad row step";
        need(req, st.x, st.n[0] * st.n[1]), need(req, st.out, st.n[0] * st.n[1]);
        break;
      }
      case kCopy: {
        st.x = rd.ref(S), st.out = rd.ref(S);
        const idx nd = rd.i();
        if (nd < 1 || nd > 8 || st.x.slot < 0 || st.out.slot < 0) return "planCreate: bad copy step";
        idx total = 1, span = 1;
        for (idx d = 0; d < nd; d++) {
          idx size = rd.i(), stride = rd.i();
          if (size < 0 || stride < 0) return "planCreate: bad copy step";
          st.n.push_back(size), st.n.push_back(stride);
          total *= size, span += size > 0 ? (size - 1) * stride : 0;
        }
        if (total > 0) need(req, st.x, span), need(req, st.out, total);
        break;
      }
      case kReduce: {
        st.x = rd.ref(S), st.out = rd.ref(S);
        for (int k = 0; k < 4; k++) st.n.push_back(rd.i());  // outer, R, inner, op
        if (st.n[0] < 0 || st.n[1] < 1 || st.n[2] < 1 || st.n[3] < 0 || st.n[3] > 2 || st.x.slot < 0 ||
            st.out.slot < 0)
          return "planCreate: bad reduce step";
        need(req, st.x, st.n[0] * st.n[1] * st.n[2]), need(req, st.out, st.n[0] * st.n[2]);
        break;
      }
      default: return "planCreate: unknown step kind";
    }
    plan.steps.push_back(std::move(st));
  }
  return rd.ok ? nullptr : "planCreate: malformed instruction list";
}

void finalize(napi_env, void* data, void*) { delete static_cast<Plan*>(data); }

/**
 * planCreate(code: Float64Array, slots: (Float32Array | null)[], internal?: Int32Array): a handle;
 * null slots are bound per call, in order. `internal` names fixed slots whose contents nobody but
 * this plan's steps reads after a run (scratch between steps): the plan may then keep an image's
 * part of them in a thread's own buffer instead (plan_segment.h), and leave the slot unwritten.
 */
napi_value PlanCreate(napi_env env, napi_callback_info info) {
  std::size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return fail(env, "planCreate: bad call");
  Array code;
  bool isArr = false;
  if (argc < 2 || !typed_array(env, argv[0], &code) || code.type != napi_float64_array ||
      napi_is_array(env, argv[1], &isArr) != napi_ok || !isArr)
    return fail(env, "planCreate: expected (code: Float64Array, slots: array)");
  uint32_t nSlots = 0;
  napi_get_array_length(env, argv[1], &nSlots);
  auto* plan = new Plan();
  plan->isa = g_isa_ptr;
  for (uint32_t s = 0; s < nSlots; s++) {
    napi_value v;
    napi_valuetype t;
    Array a;
    napi_get_element(env, argv[1], s, &v);
    napi_typeof(env, v, &t);
    if (t == napi_null) {
      plan->ptr.push_back(nullptr), plan->len.push_back(0), plan->dynamic.push_back(int(s));
    } else if (typed_array(env, v, &a) && a.type == napi_float32_array) {
      plan->ptr.push_back(static_cast<float*>(a.data)), plan->len.push_back(idx(a.length));
    } else {
      delete plan;
      return fail(env, "planCreate: a slot is neither a Float32Array nor null");
    }
  }
  std::vector<bool> internal(nSlots, false);
  Array in;
  if (argc >= 3) {
    napi_valuetype t;
    napi_typeof(env, argv[2], &t);
    if (t != napi_undefined && (!typed_array(env, argv[2], &in) || in.type != napi_int32_array)) {
      delete plan;
      return fail(env, "planCreate: internal slots must be an Int32Array");
    }
    for (std::size_t k = 0; k < in.length; k++) {
      const int32_t s = static_cast<const int32_t*>(in.data)[k];
      if (s >= 0 && uint32_t(s) < nSlots) internal[std::size_t(s)] = true;
    }
  }
  std::vector<idx> req(nSlots, 0);
  if (const char* err = parse(*plan, static_cast<const double*>(code.data), code.length, req)) {
    delete plan;
    return fail(env, err, false);
  }
  for (uint32_t s = 0; s < nSlots; s++) {
    const bool dyn = plan->ptr[s] == nullptr;
    if (!dyn && req[s] > plan->len[s]) {
      delete plan;
      return fail(env, "planCreate: a step reaches outside a buffer", false);
    }
    if (dyn) plan->len[s] = req[s];
  }
  for (auto [first, count] : find_segments(plan->steps))
    plan->segments.push_back(lay_out(*plan, first, count, internal));
  napi_value handle;
  if (napi_create_external(env, plan, finalize, nullptr, &handle) != napi_ok) {
    delete plan;
    return fail(env, "planCreate: cannot create the handle", false);
  }
  return handle;
}

/** planRun(handle, ...perCallSlots: Float32Array[]): runs every step. */
napi_value PlanRun(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  std::size_t argc = 9;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1)
    return fail(env, "planRun: expected (handle, ...buffers)");
  void* data = nullptr;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok || !data) return fail(env, "planRun: not a plan handle");
  Plan& plan = *static_cast<Plan*>(data);
  if (argc - 1 != plan.dynamic.size()) return fail(env, "planRun: wrong number of per-call buffers");
  for (std::size_t k = 0; k < plan.dynamic.size(); k++) {
    Array a;
    const int s = plan.dynamic[k];
    if (!typed_array(env, argv[k + 1], &a) || a.type != napi_float32_array)
      return fail(env, "planRun: per-call buffers must be Float32Arrays");
    if (idx(a.length) < plan.len[s]) return fail(env, "planRun: a per-call buffer is too short", false);
    plan.ptr[s] = static_cast<float*>(a.data);
  }
  std::size_t seg = 0;
  for (std::size_t i = 0; i < plan.steps.size(); i++) {
    if (seg < plan.segments.size() && plan.segments[seg].first == int(i)) {
      const int count = plan.segments[seg].count;
      if (run_segment(plan, plan.segments[seg++])) {
        i += std::size_t(count) - 1;
        continue;
      }
    }
    Step& st = plan.steps[i];
    switch (st.kind) {
      case kGemm: run_gemm(plan, st); break;
      case kIm2col:
      case kMaxPool: run_window(plan, st); break;
      case kEw: run_ew(plan, st); break;
      case kSoftmax:
      case kLayerNorm: run_rows(plan, st); break;
      case kCopy: run_copy(plan, st); break;
      case kReduce: run_reduce(plan, st); break;
      default: break;
    }
  }
  return nullptr;
}

/** planOps(): the element-wise op names in code order (plan_ops.h). */
napi_value PlanOps(napi_env env, napi_callback_info) {
  static const char* names[] = {
#define PLAN_NAME(name, ar, expr) #name,
      PLAN_OPS(PLAN_NAME)
#undef PLAN_NAME
  };
  napi_value arr;
  napi_create_array_with_length(env, plan::op_count, &arr);
  for (int k = 0; k < plan::op_count; k++) {
    napi_value s;
    napi_create_string_utf8(env, names[k], NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, arr, uint32_t(k), s);
  }
  return arr;
}

}  // namespace

void register_plan(napi_env env, napi_value exports, Isa* isa) {
  g_isa_ptr = isa;
  napi_property_descriptor props[] = {
      {"planCreate", nullptr, PlanCreate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"planRun", nullptr, PlanRun, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"planOps", nullptr, PlanOps, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}

}  // namespace descent
