// Node-API glue of the fused LSTM / GRU cells (kernels in rnn.cc): validates the typed arrays and
// their (offset, row stride) layouts, then calls the kernel for the instruction set addon.cc chose.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "rnn.h"

namespace descent {
namespace {

using idx = std::ptrdiff_t;

const Isa* g_isa_ptr = nullptr;

/** The arguments of one call: n typed arrays of one float type, then meta = [B, H, (offset, rowStride) × n]. */
struct Call {
  bool f32 = false;
  idx B = 0, H = 0;
  void* data[8] = {};
  idx off[8] = {}, rs[8] = {};
  bool present[8] = {};
};

/**
 * Reads and validates a call: arrays[k] (null allowed where `optional` has bit k) holds a [B,
 * cols[k]·H] matrix at its (offset, row stride) with unit column stride, inside the array.
 */
bool read_call(napi_env env, napi_callback_info info, const char* name, int n, const int* cols, unsigned optional,
               Call* call) {
  std::size_t argc = 9;
  napi_value argv[9];
  char msg[160];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return false;
  auto fail = [&](const char* what) {
    std::snprintf(msg, sizeof msg, "%s: %s", name, what);
    napi_throw_type_error(env, nullptr, msg);
    return false;
  };
  if (int(argc) < n + 1) return fail("too few arguments");
  napi_typedarray_type mt;
  std::size_t mlen;
  void* mdata;
  bool is = false;
  if (napi_is_typedarray(env, argv[n], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[n], &mt, &mlen, &mdata, nullptr, nullptr) != napi_ok ||
      mt != napi_float64_array || mlen < std::size_t(2 + 2 * n))
    return fail("expected meta: Float64Array [B, H, (offset, rowStride) per array]");
  const double* meta = static_cast<const double*>(mdata);
  for (int k = 0; k < 2 + 2 * n; k++)
    if (!(std::fabs(meta[k]) < 9e15) || meta[k] != std::floor(meta[k])) return fail("meta must hold integers");
  call->B = idx(meta[0]), call->H = idx(meta[1]);
  if (call->B < 0 || call->H < 0) return fail("negative size");
  int type = -1;
  for (int k = 0; k < n; k++) {
    napi_valuetype vt;
    if (napi_typeof(env, argv[k], &vt) != napi_ok) return false;
    if ((vt == napi_null || vt == napi_undefined) && (optional >> k & 1)) continue;
    napi_typedarray_type t;
    std::size_t len;
    if (napi_is_typedarray(env, argv[k], &is) != napi_ok || !is ||
        napi_get_typedarray_info(env, argv[k], &t, &len, &call->data[k], nullptr, nullptr) != napi_ok)
      return fail("expected typed arrays");
    if (t != napi_float32_array && t != napi_float64_array) return fail("expected Float32Array or Float64Array");
    if (type >= 0 && int(t) != type) return fail("all arrays must have one dtype");
    type = int(t);
    call->present[k] = true;
    call->off[k] = idx(meta[2 + 2 * k]), call->rs[k] = idx(meta[3 + 2 * k]);
    // Rows b·rs + [0, cols·H) for b < B must lie in [0, len).
    const idx width = cols[k] * call->H;
    if (call->B > 0 && width > 0) {
      const idx first = call->off[k] + std::min<idx>(0, (call->B - 1) * call->rs[k]);
      const idx last = call->off[k] + std::max<idx>(0, (call->B - 1) * call->rs[k]) + width - 1;
      if (first < 0 || last >= idx(len)) {
        std::snprintf(msg, sizeof msg, "%s: array %d: a view reaches outside its array", name, k);
        napi_throw_error(env, nullptr, msg);
        return false;
      }
    }
  }
  if (type < 0) return fail("no arrays");
  call->f32 = type == napi_float32_array;
  return true;
}

template <typename T>
Mat<const T> in(const Call& c, int k) {
  return {c.present[k] ? static_cast<const T*>(c.data[k]) + c.off[k] : nullptr, c.rs[k]};
}
template <typename T>
Mat<T> out(const Call& c, int k) {
  return {static_cast<T*>(c.data[k]) + c.off[k], c.rs[k]};
}

Isa cur_isa() { return g_isa_ptr ? *g_isa_ptr : Isa::portable; }

/** lstmCell(xg, hg, c, out, meta) */
napi_value LstmCell(napi_env env, napi_callback_info info) {
  static const int cols[] = {4, 4, 1, 7};
  Call c;
  if (!read_call(env, info, "lstmCell", 4, cols, 0, &c)) return nullptr;
  if (c.f32)
    lstm_cell(LstmArgs<float>{c.B, c.H, in<float>(c, 0), in<float>(c, 1), in<float>(c, 2), out<float>(c, 3)},
              cur_isa());
  else
    lstm_cell(LstmArgs<double>{c.B, c.H, in<double>(c, 0), in<double>(c, 1), in<double>(c, 2), out<double>(c, 3)},
              cur_isa());
  return nullptr;
}

/** lstmCellBackward(ws, c, dh, dc, dgates, dcPrev, meta) */
napi_value LstmCellBackward(napi_env env, napi_callback_info info) {
  static const int cols[] = {7, 1, 1, 1, 4, 1};
  Call c;
  if (!read_call(env, info, "lstmCellBackward", 6, cols, 0, &c)) return nullptr;
  if (c.f32)
    lstm_cell_backward(LstmBackArgs<float>{c.B, c.H, in<float>(c, 0), in<float>(c, 1), in<float>(c, 2),
                                           in<float>(c, 3), out<float>(c, 4), out<float>(c, 5)},
                       cur_isa());
  else
    lstm_cell_backward(LstmBackArgs<double>{c.B, c.H, in<double>(c, 0), in<double>(c, 1), in<double>(c, 2),
                                            in<double>(c, 3), out<double>(c, 4), out<double>(c, 5)},
                       cur_isa());
  return nullptr;
}

/** gruCell(xg, hg, h, bhn | null, out, meta) */
napi_value GruCell(napi_env env, napi_callback_info info) {
  static const int cols[] = {3, 3, 1, 1, 5};
  Call c;
  if (!read_call(env, info, "gruCell", 5, cols, 1u << 3, &c)) return nullptr;
  if (c.f32)
    gru_cell(GruArgs<float>{c.B, c.H, in<float>(c, 0), in<float>(c, 1), in<float>(c, 2), in<float>(c, 3),
                            out<float>(c, 4)},
             cur_isa());
  else
    gru_cell(GruArgs<double>{c.B, c.H, in<double>(c, 0), in<double>(c, 1), in<double>(c, 2), in<double>(c, 3),
                             out<double>(c, 4)},
             cur_isa());
  return nullptr;
}

/** gruCellBackward(ws, h, dh, dxg, dhg, dhPrev, meta) */
napi_value GruCellBackward(napi_env env, napi_callback_info info) {
  static const int cols[] = {5, 1, 1, 3, 3, 1};
  Call c;
  if (!read_call(env, info, "gruCellBackward", 6, cols, 0, &c)) return nullptr;
  if (c.f32)
    gru_cell_backward(GruBackArgs<float>{c.B, c.H, in<float>(c, 0), in<float>(c, 1), in<float>(c, 2),
                                         out<float>(c, 3), out<float>(c, 4), out<float>(c, 5)},
                      cur_isa());
  else
    gru_cell_backward(GruBackArgs<double>{c.B, c.H, in<double>(c, 0), in<double>(c, 1), in<double>(c, 2),
                                          out<double>(c, 3), out<double>(c, 4), out<double>(c, 5)},
                      cur_isa());
  return nullptr;
}

}  // namespace

bool register_rnn(napi_env env, napi_value exports, const Isa* isa) {
  g_isa_ptr = isa;
  napi_property_descriptor props[] = {
      {"lstmCell", nullptr, LstmCell, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"lstmCellBackward", nullptr, LstmCellBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gruCell", nullptr, GruCell, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gruCellBackward", nullptr, GruCellBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok;
}

}  // namespace descent
