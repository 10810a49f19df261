// Registration of the native element-wise kernels (elementwise.cc) on the addon's exports.
#pragma once

#include <node_api.h>

#include "gemm.h"

namespace descent {

/** Adds copy, fill, unary, binary, where, reduce and argReduce to exports; they dispatch on *isa. */
bool register_elementwise(napi_env env, napi_value exports, const Isa* isa);

}  // namespace descent
