// The fused LSTM / GRU cells of Descent's native backend (rnn.cc): registered on the addon's
// exports by addon.cc, reading the instruction set it chose through `isa`.
#pragma once

#include <node_api.h>

#include "gemm.h"

namespace descent {

/** Adds lstmCell, lstmCellBackward, gruCell and gruCellBackward to `exports`; *isa is read per call. */
bool register_rnn(napi_env env, napi_value exports, const Isa* isa);

}  // namespace descent
