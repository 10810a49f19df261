// Argument checks shared by the Node-API entry points (addon.cc, window.cc, fused.cc, elementwise.cc): typed arrays are read
// in place, and every strided view is checked to stay inside its array before a kernel touches it.
#pragma once

#include <node_api.h>

#include <cstddef>

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

}  // namespace descent
