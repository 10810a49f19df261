// Argument checks shared by the Node-API entry points (addon.cc, window.cc, fused.cc, elementwise.cc, and through Entry
// layernorm.cc, attention.cc, linear.cc, gelu.cc): typed arrays are read in place, and every strided view is checked to
// stay inside its array before a kernel touches it.
#pragma once

#include <node_api.h>

#include <cmath>
#include <cstddef>
#include <cstdio>

namespace descent {

/** Throws a TypeError (type) or an Error with `what`, unless an exception is already pending; returns null for the entry point to return. */
inline napi_value fail(napi_env env, const char* what, bool type = true) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) (type ? napi_throw_type_error : napi_throw_error)(env, nullptr, what);
  return nullptr;
}

/** A typed array's element type, length (elements) and data pointer, as Node-API hands them out. */
struct Array {
  napi_typedarray_type type = napi_int8_array;
  std::size_t length = 0;
  void* data = nullptr;
};

inline bool typed_array(napi_env env, napi_value v, Array* out) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  return napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, nullptr, nullptr) == napi_ok;
}

/** True when every element offset + Σ i_d·stride_d (0 ≤ i_d < size_d) lies in [0, length). */
inline bool inside(std::ptrdiff_t offset, const std::ptrdiff_t* sizes, const std::ptrdiff_t* strides, int n,
                   std::size_t length) {
  std::ptrdiff_t lo = offset, hi = offset;
  for (int d = 0; d < n; d++) {
    if (sizes[d] == 0) return true;  // nothing is touched
    std::ptrdiff_t span = (sizes[d] - 1) * strides[d];
    (span < 0 ? lo : hi) += span;
  }
  return lo >= 0 && hi < std::ptrdiff_t(length);
}

/** True when `offset .. offset + count` (count ≥ 0 elements, contiguous) lies in [0, length). */
inline bool span_inside(std::ptrdiff_t offset, std::ptrdiff_t count, std::size_t length) {
  return offset >= 0 && count <= std::ptrdiff_t(length) - offset;
}

/** An integer that a double holds exactly and that is far from ptrdiff_t's limits (not NaN, not ±Inf). */
inline bool integral(double v) { return std::fabs(v) < 9e15 && v == std::floor(v); }

/** Calls f with a null float* or double*, the element type of `type` (napi_float32_array, else float64). */
template <typename F>
void by_dtype(int type, F&& f) {
  if (type == napi_float32_array)
    f(static_cast<float*>(nullptr));
  else
    f(static_cast<double*>(nullptr));
}

/**
 * An entry point's arguments, unpacked with the checks the kernel entry points share; every message starts with the
 * entry point's name ("linear: negative size"). Each method returns false (or null) once it has thrown, or when
 * Node-API failed with an exception pending: the entry point then returns null.
 */
struct Entry {
  static constexpr int kMaxArgs = 12;
  napi_env env;
  const char* name;
  std::size_t argc = kMaxArgs;
  napi_value argv[kMaxArgs] = {};
  bool read;

  Entry(napi_env e, napi_callback_info info, const char* n) : env(e), name(n) {
    read = napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) == napi_ok;
  }

  /** Throws "<name>: <what>" (a TypeError, or with type false an Error); returns null for the entry point to return. */
  napi_value fail(const char* what, bool type = true) const {
    char msg[160];
    std::snprintf(msg, sizeof msg, "%s: %s", name, what);
    return descent::fail(env, msg, type);
  }

  /** At least n arguments were passed ("too few arguments"). */
  bool at_least(int n) const {
    if (!read) return false;
    if (int(argc) < n) return fail("too few arguments"), false;
    return true;
  }

  /** Whether argument i is null or undefined (an optional array left out). */
  bool absent(int i, bool* out) const {
    napi_valuetype vt;
    if (napi_typeof(env, argv[i], &vt) != napi_ok) return false;
    *out = vt == napi_null || vt == napi_undefined;
    return true;
  }

  /**
   * Argument i as meta, a Float64Array of at least n numbers, each an integer (integral) except the one at `real` (an
   * eps or a scale): null after "expected meta: Float64Array(n)" or "meta must hold integers".
   */
  const double* meta(int i, int n, int real = -1) const {
    Array m;
    if (!typed_array(env, argv[i], &m) || m.type != napi_float64_array || m.length < std::size_t(n)) {
      char what[48];
      std::snprintf(what, sizeof what, "expected meta: Float64Array(%d)", n);
      fail(what);
      return nullptr;
    }
    const double* md = static_cast<const double*>(m.data);
    for (int k = 0; k < n; k++)
      if (k != real && !integral(md[k])) return fail("meta must hold integers"), nullptr;
    return md;
  }

  /**
   * Arguments 0 .. n-1 into out[0 .. n-1]: each a Float32Array or Float64Array, all of one dtype (*type; -1 when none
   * was given), except that those for which optional(i) holds may be null or undefined (left empty). A value that is
   * no typed array is refused with `not_typed`, one of another element type with "expected Float32Array or
   * Float64Array", a second dtype with "all arrays must have one dtype".
   */
  template <typename Optional>
  bool float_arrays(int n, Array* out, int* type, Optional optional,
                    const char* not_typed = "expected typed arrays") const {
    *type = -1;
    for (int i = 0; i < n; i++) {
      bool skip = false;
      if (!absent(i, &skip)) return false;
      if (skip && optional(i)) continue;
      Array& t = out[i];
      if (!typed_array(env, argv[i], &t)) return fail(not_typed), false;
      if (t.type != napi_float32_array && t.type != napi_float64_array)
        return fail("expected Float32Array or Float64Array"), false;
      if (*type >= 0 && int(t.type) != *type) return fail("all arrays must have one dtype"), false;
      *type = int(t.type);
    }
    return true;
  }
};

}  // namespace descent
