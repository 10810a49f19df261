// Native element-wise, where, reduction and argmax kernels (the Backend's copy, fill, unary, binary,
// where, reduce, argReduce) for float32 and float64, on the tensors' own typed arrays through their
// strides. The caller is src/backends/native/elementwise.ts, which sends small ops, int32 and mixed
// dtypes to js. Every entry takes (out, inputs..., meta: Float64Array) with
//   meta = [op, nd, extra, parts, shape × nd, (offset, strides × nd) per operand (out first)].
// Here the views are checked to lie inside their arrays, size-1 dims dropped and dims that every
// operand walks evenly merged (a contiguous tensor becomes one row), then an odometer runs the
// per-ISA inner loop (elementwise_loops.h) on each row; with parts > 1 the rows are split along
// the largest dim across the pool.
#include "elementwise.h"

// The 8-double vectors of elementwise_ops.h live only inside always-inlined helpers, so GCC's note
// that passing them by value has another ABI without AVX-512 concerns no real call.
#pragma GCC diagnostic ignored "-Wpsabi"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "elementwise_ops.h"
#include "napi_util.h"
#include "pool.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define EW_NS avx512
#define EW_TARGET __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")))
#include "elementwise_loops.h"
#undef EW_NS
#undef EW_TARGET
#define EW_NS avx2
#define EW_TARGET __attribute__((target("avx2,fma")))
#include "elementwise_loops.h"
#undef EW_NS
#undef EW_TARGET
#define EW_HAVE_X86 1
#endif
#define EW_NS portable
#define EW_TARGET
#include "elementwise_loops.h"
#undef EW_NS
#undef EW_TARGET

namespace descent {
namespace {

using idx = std::ptrdiff_t;
constexpr int kMaxDims = 16, kMaxOps = 4, kMaxParts = 16;
const Isa* g_isa_ptr = nullptr;

const ew::Set& kernels(int dtype /* 0 float32, 1 float64 */) {
#if EW_HAVE_X86
  if (*g_isa_ptr == Isa::avx512) return avx512::sets()[dtype];
  if (*g_isa_ptr == Isa::avx2) return avx2::sets()[dtype];
#endif
  return portable::sets()[dtype];
}

/** A loop over `shape`: operand k starts at base[k] and moves st[k][d] bytes per step along dim d. */
struct Loop {
  int nd = 0, nops = 0;
  idx shape[kMaxDims];
  idx st[kMaxOps][kMaxDims];
  char* base[kMaxOps];
};

/** Drops size-1 dims, orders dims by operand orderBy's |stride| (largest first) when ≥ 0, merges. */
void collapse(Loop& L, int orderBy) {
  int dims[kMaxDims], m = 0;
  for (int d = 0; d < L.nd; d++)
    if (L.shape[d] != 1) dims[m++] = d;
  if (orderBy >= 0)
    std::stable_sort(dims, dims + m,
                     [&](int a, int b) { return std::abs(L.st[orderBy][a]) > std::abs(L.st[orderBy][b]); });
  Loop c = L;
  c.nd = 0;
  for (int i = 0; i < m; i++) {
    const int d = dims[i];
    const int last = c.nd - 1;
    bool merge = last >= 0;
    for (int k = 0; k < L.nops && merge; k++) merge = c.st[k][last] == L.st[k][d] * L.shape[d];
    if (merge) {
      c.shape[last] *= L.shape[d];
      for (int k = 0; k < L.nops; k++) c.st[k][last] = L.st[k][d];
    } else {
      c.shape[c.nd] = L.shape[d];
      for (int k = 0; k < L.nops; k++) c.st[k][c.nd] = L.st[k][d];
      c.nd++;
    }
  }
  if (c.nd == 0) {  // a single element
    c.nd = 1, c.shape[0] = 1;
    for (int k = 0; k < L.nops; k++) c.st[k][0] = 0;
  }
  L = c;
}

/** Runs f on every row of the box where dim `sd` is limited to [lo, hi). */
void run_box(const Loop& L, int sd, idx lo, idx hi, ew::Inner f, const void* ctx, char* base0) {
  if (lo >= hi) return;
  for (int d = 0; d < L.nd; d++)
    if (L.shape[d] == 0) return;
  const int inner = L.nd - 1;
  idx begin[kMaxDims], end[kMaxDims], pos[kMaxDims], off[kMaxOps] = {0};
  for (int d = 0; d < L.nd; d++) begin[d] = 0, end[d] = L.shape[d];
  begin[sd] = lo, end[sd] = hi;
  for (int d = 0; d < L.nd; d++) pos[d] = begin[d];
  for (int k = 0; k < L.nops; k++)
    for (int d = 0; d < L.nd; d++) off[k] += begin[d] * L.st[k][d];
  const idx n = end[inner] - begin[inner];
  idx s[kMaxOps];
  char* p[kMaxOps];
  for (int k = 0; k < L.nops; k++) s[k] = L.st[k][inner];
  char* base[kMaxOps];
  for (int k = 0; k < L.nops; k++) base[k] = L.base[k];
  if (base0) base[0] = base0;
  for (;;) {
    for (int k = 0; k < L.nops; k++) p[k] = base[k] + off[k];
    f(ctx, n, p, s);
    int d = inner - 1;
    for (; d >= 0; d--) {
      for (int k = 0; k < L.nops; k++) off[k] += L.st[k][d];
      if (++pos[d] < end[d]) break;
      for (int k = 0; k < L.nops; k++) off[k] -= L.st[k][d] * (end[d] - begin[d]);
      pos[d] = begin[d];
    }
    if (d < 0) return;
  }
}

struct Task {
  const Loop* L;
  ew::Inner f;
  const void* ctx;
  int dim;
  char* base0[kMaxParts];  // per-part replacement of operand 0 (private accumulators), or null
};

void task_part(void* c, int part, int parts) {
  const Task& t = *static_cast<const Task*>(c);
  const idx size = t.L->shape[t.dim];
  run_box(*t.L, t.dim, size * part / parts, size * (part + 1) / parts, t.f, t.ctx, t.base0[part]);
}

int largest_dim(const Loop& L) {
  int best = 0;
  for (int d = 1; d < L.nd; d++)
    if (L.shape[d] > L.shape[best]) best = d;
  return best;
}

/** Runs the loop in `parts` pieces split along `dim` (on the pool when parts > 1). */
void run_loop(const Loop& L, ew::Inner f, const void* ctx, int parts, int dim, char* const* base0 = nullptr) {
  Task t{&L, f, ctx, dim, {}};
  for (int i = 0; i < parts; i++) t.base0[i] = base0 ? base0[i] : nullptr;
  if (parts <= 1) return task_part(&t, 0, 1);
  pool_run(task_part, &t, parts, std::min(parts, pool_threads()));
}

// ---- argument checking -------------------------------------------------------------------------

bool whole(double v) { return std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15; }

int elem_size(napi_typedarray_type t) {
  switch (t) {
    case napi_float32_array: return 4;
    case napi_float64_array: return 8;
    case napi_int32_array: return 4;
    default: return 0;
  }
}

/** Everything a call passed: its arrays and the parsed meta (strides still in elements). */
struct Call {
  Array arr[kMaxOps];
  Array meta;
  int nops = 0, op = 0, nd = 0, parts = 1;
  double extra = 0;
  idx shape[kMaxDims];
  idx off[kMaxOps], st[kMaxOps][kMaxDims];
  idx count = 1;
};

/** Reads (arrays × nops, meta) into c; false (with a JS error thrown) when anything is off. */
bool read_call(napi_env env, napi_callback_info info, int nops, const char* name, Call& c) {
  std::size_t argc = kMaxOps + 1;
  napi_value argv[kMaxOps + 1];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < std::size_t(nops + 1))
    return fail(env, name, false), false;
  c.nops = nops;
  for (int k = 0; k <= nops; k++) {
    Array& a = k < nops ? c.arr[k] : c.meta;
    if (!typed_array(env, argv[k], &a)) return fail(env, name, false), false;
    if (k == nops) {
      if (a.type != napi_float64_array) return fail(env, name, false), false;
      const double* m = reinterpret_cast<const double*>(a.data);
      if (a.length < 4 || !whole(m[0]) || !whole(m[1]) || !whole(m[3]) || m[1] < 0 || m[1] > kMaxDims) return fail(env, name, false), false;
      c.op = int(m[0]), c.nd = int(m[1]), c.extra = m[2], c.parts = int(std::clamp(m[3], 1.0, double(kMaxParts)));
      if (a.length < std::size_t(4 + c.nd + nops * (1 + c.nd))) return fail(env, name, false), false;
      for (int d = 0; d < c.nd; d++) {
        if (!whole(m[4 + d]) || m[4 + d] < 0) return fail(env, name, false), false;
        c.shape[d] = idx(m[4 + d]);
        // The count must stay exact (≤ 2^53, as in JS): 2^32 × 2^32 wrapped to 0 and summed nothing.
        if (__builtin_mul_overflow(c.count, c.shape[d], &c.count) || c.count > (idx(1) << 53))
          return fail(env, name, false), false;
      }
      for (int j = 0; j < nops; j++) {
        const double* o = m + 4 + c.nd + j * (1 + c.nd);
        for (int d = 0; d <= c.nd; d++)
          if (!whole(o[d])) return fail(env, name, false), false;
        c.off[j] = idx(o[0]);
        for (int d = 0; d < c.nd; d++) c.st[j][d] = idx(o[1 + d]);
      }
    } else if (elem_size(a.type) == 0) {
      return fail(env, name, false), false;
    }
  }
  return true;
}

/** True when every element of operand k (over `shape`, plus one optional extra dim) is inside its array. */
bool inside(const Call& c, int k, const idx* shape, idx extraSize = 1, idx extraStride = 0) {
  idx lo = c.off[k], hi = c.off[k];
  for (int d = 0; d <= c.nd; d++) {
    const idx size = d < c.nd ? shape[d] : extraSize, stride = d < c.nd ? c.st[k][d] : extraStride;
    if (size == 0) return true;
    const idx span = (size - 1) * stride;
    (span < 0 ? lo : hi) += span;
  }
  return lo >= 0 && hi < idx(c.arr[k].length);
}

/** The loop of a checked call over its own shape, strides converted to bytes. */
Loop make_loop(const Call& c) {
  Loop L;
  L.nd = c.nd, L.nops = c.nops;
  for (int d = 0; d < c.nd; d++) L.shape[d] = c.shape[d];
  for (int k = 0; k < c.nops; k++) {
    const int e = elem_size(c.arr[k].type);
    L.base[k] = static_cast<char*>(c.arr[k].data) + c.off[k] * e;
    for (int d = 0; d < c.nd; d++) L.st[k][d] = c.st[k][d] * e;
  }
  return L;
}

int dtype_index(napi_typedarray_type t) { return t == napi_float32_array ? 0 : t == napi_float64_array ? 1 : -1; }

enum Family { kCopy, kFill, kUnary, kBinary, kWhere, kReduce, kArg };
const char* const kUsage[] = {
    "copy(out, x, meta): float32/float64 arrays of one dtype, views inside them",
    "fill(out, meta): a float32/float64 out, view inside it",
    "unary(out, x, meta): float32/float64 arrays of one dtype, a known op, views inside them",
    "binary(out, a, b, meta): float32/float64 arrays of one dtype, a known op, views inside them",
    "where(out, cond, a, b, meta): out, a, b float32/float64 of one dtype, views inside their arrays",
    "reduce(out, x, meta): float32/float64 arrays of one dtype, a known op, views inside them",
    "argReduce(out, x, meta): out int32, x float32/float64, len ≥ 1, views inside their arrays",
};
const int kOperands[] = {2, 1, 2, 3, 4, 2, 2};

void store_inner(const void* ctx, idx n, char* const* p, const idx* s) {
  const bool f32 = *static_cast<const bool*>(ctx);
  const double* acc = reinterpret_cast<const double*>(p[1]);
  for (idx i = 0; i < n; i++) {
    if (f32) *reinterpret_cast<float*>(p[0] + i * s[0]) = float(acc[i * s[1] / 8]);
    else *reinterpret_cast<double*>(p[0] + i * s[0]) = acc[i * s[1] / 8];
  }
}

/** reduce: x over the dims where out's stride is 0 (shape > 1), into float64 accumulators, then out. */
napi_value reduce(napi_env env, Call& c, int dt) {
  const int op = c.op;
  const double init = op == 0 ? 0.0 : op == 1 ? -INFINITY : INFINITY;
  idx outSize = 1, accSt[kMaxDims];
  for (int d = c.nd - 1; d >= 0; d--) {
    const bool reduced = c.st[0][d] == 0 && c.shape[d] > 1;
    accSt[d] = reduced ? 0 : outSize;
    if (!reduced) outSize *= c.shape[d];
  }
  Loop L = make_loop(c);
  std::vector<double> acc(std::size_t(outSize) * std::size_t(c.parts), init);
  L.base[0] = reinterpret_cast<char*>(acc.data());
  for (int d = 0; d < c.nd; d++) L.st[0][d] = accSt[d] * 8;
  // Belt and braces: out over exactly the elements the store below writes.
  idx kept[kMaxDims];
  for (int d = 0; d < c.nd; d++) kept[d] = accSt[d] == 0 ? 1 : c.shape[d];
  if (!inside(c, 0, kept)) return fail(env, "reduce: out reaches outside its array", false);
  Loop store = make_loop(c);  // out ← acc over the kept shape (reduced dims set to 1)
  store.base[1] = L.base[0];
  for (int d = 0; d < c.nd; d++) {
    store.st[1][d] = L.st[0][d];
    if (accSt[d] == 0) store.shape[d] = 1;
  }
  const ew::Inner f = kernels(dt).reduce[op];
  if (c.count > 0) {
    collapse(L, 1);  // walk x in memory order, as js does
    const int dim = largest_dim(L);
    const int parts = int(std::min<idx>(c.parts, L.shape[dim]));
    if (L.st[0][dim] != 0 || parts <= 1) {
      run_loop(L, f, nullptr, parts, dim);
    } else {  // split along a reduced dim: one accumulator set per part, folded in part order
      char* bases[kMaxParts];
      for (int i = 0; i < parts; i++) bases[i] = reinterpret_cast<char*>(acc.data() + i * outSize);
      run_loop(L, f, nullptr, parts, dim, bases);
      for (int i = 1; i < parts; i++)
        for (idx j = 0; j < outSize; j++) {
          const double v = acc[i * outSize + j], w = acc[j];
          acc[j] = op == 0 ? w + v : op == 1 ? ew::MaxR::f(w, v) : ew::MinR::f(w, v);
        }
    }
  }
  collapse(store, 0);
  const bool f32 = dt == 0;
  run_box(store, 0, 0, store.shape[0], store_inner, &f32, nullptr);
  return nullptr;
}

napi_value entry(napi_env env, napi_callback_info info) {
  void* data = nullptr;
  if (napi_get_cb_info(env, info, nullptr, nullptr, nullptr, &data) != napi_ok) return fail(env, "elementwise", false);
  const Family fam = Family(reinterpret_cast<std::intptr_t>(data));
  const char* usage = kUsage[fam];
  Call c;
  if (!read_call(env, info, kOperands[fam], usage, c)) return nullptr;
  const int dt = dtype_index(c.arr[fam == kArg ? 1 : 0].type);
  if (dt < 0 || (fam == kArg && c.arr[0].type != napi_int32_array)) return fail(env, usage, false);
  for (int k = 1; k < c.nops; k++)
    if (!(fam == kWhere && k == 1) && dtype_index(c.arr[k].type) != dt) return fail(env, usage, false);
  if ((fam == kUnary && (c.op < 0 || c.op >= ew::kUnary)) || (fam == kBinary && (c.op < 0 || c.op >= ew::kBinary)) ||
      (fam == kReduce && (c.op < 0 || c.op >= ew::kReduce)) || (fam == kArg && (c.op < 0 || c.op > 1)))
    return fail(env, usage, false);
  ew::ArgCtx arg{0, 0};
  if (fam == kArg) {
    if (!whole(c.extra) || c.extra < 1) return fail(env, usage, false);
    const double* m = reinterpret_cast<const double*>(c.meta.data);
    if (c.meta.length < std::size_t(5 + c.nd + 2 * (1 + c.nd)) || !whole(m[4 + c.nd + 2 * (1 + c.nd)]))
      return fail(env, usage, false);
    arg = {idx(c.extra), idx(m[4 + c.nd + 2 * (1 + c.nd)])};
  }
  for (int k = 0; k < c.nops; k++) {
    const bool ok = fam == kArg && k == 1 ? inside(c, k, c.shape, arg.len, arg.stride) : inside(c, k, c.shape);
    if (!ok) return fail(env, "elementwise: a view reaches outside its array", false);
  }
  if (fam == kReduce) return reduce(env, c, dt);
  if (c.count == 0) return nullptr;
  const ew::Set& K = kernels(dt);
  ew::Inner f = nullptr;
  const void* ctx = nullptr;
  switch (fam) {
    case kCopy: f = K.copy; break;
    case kFill: f = K.fill, ctx = &c.extra; break;
    case kUnary: f = K.unary[c.op]; break;
    case kBinary: f = K.binary[c.op]; break;
    case kWhere: f = K.where[c.arr[1].type == napi_float32_array ? 0 : c.arr[1].type == napi_float64_array ? 1 : 2]; break;
    case kArg: f = K.arg[c.op], arg.stride *= elem_size(c.arr[1].type), ctx = &arg; break;
    default: return fail(env, usage, false);
  }
  Loop L = make_loop(c);
  collapse(L, 0);  // walk out in memory order
  const idx E = elem_size(c.arr[0].type);
  ew::TileCtx tile{0, 0};
  if (fam == kCopy && L.nd >= 2 && L.st[0][L.nd - 1] == E && L.st[1][L.nd - 1] != E && L.st[1][L.nd - 2] == E &&
      L.shape[L.nd - 1] >= 8 && L.shape[L.nd - 2] >= 8) {
    // x transposed against out in the last two dims (contiguous() of a transpose): tiles, one
    // panel of the last two dims per call of the inner loop.
    tile = {L.shape[L.nd - 1], L.st[1][L.nd - 1]};
    L.nd--, f = K.copy_tiled, ctx = &tile;
  }
  const int dim = largest_dim(L);
  run_loop(L, f, ctx, int(std::min<idx>(c.parts, L.shape[dim])), dim);
  return nullptr;
}

/** opNames() → {unary, binary, reduce}: the names of EW_UNARY_OPS, EW_BINARY_OPS, EW_REDUCE_OPS in code order. */
napi_value op_names(napi_env env, napi_callback_info) {
#define EW_NAME(name, F) #name,
  static const char* const unary[] = {EW_UNARY_OPS(EW_NAME)};
  static const char* const binary[] = {EW_BINARY_OPS(EW_NAME)};
  static const char* const reduce[] = {EW_REDUCE_OPS(EW_NAME)};
#undef EW_NAME
  napi_value out;
  napi_create_object(env, &out);
  const char* const* lists[] = {unary, binary, reduce};
  const int counts[] = {ew::kUnary, ew::kBinary, ew::kReduce};
  const char* keys[] = {"unary", "binary", "reduce"};
  for (int l = 0; l < 3; l++) {
    napi_value arr;
    napi_create_array_with_length(env, counts[l], &arr);
    for (int i = 0; i < counts[l]; i++) {
      napi_value s;
      napi_create_string_utf8(env, lists[l][i], NAPI_AUTO_LENGTH, &s);
      napi_set_element(env, arr, i, s);
    }
    napi_set_named_property(env, out, keys[l], arr);
  }
  return out;
}

}  // namespace

bool register_elementwise(napi_env env, napi_value exports, const Isa* isa) {
  g_isa_ptr = isa;
  const char* names[] = {"copy", "fill", "unary", "binary", "where", "reduce", "argReduce"};
  napi_property_descriptor props[7];
  for (int i = 0; i < 7; i++)
    props[i] = {names[i], nullptr, entry, nullptr, nullptr, nullptr, napi_default,
                reinterpret_cast<void*>(std::intptr_t(i))};
  napi_property_descriptor names_prop = {"opNames", nullptr, op_names, nullptr, nullptr, nullptr, napi_default, nullptr};
  return napi_define_properties(env, exports, 7, props) == napi_ok &&
         napi_define_properties(env, exports, 1, &names_prop) == napi_ok;
}

}  // namespace descent
