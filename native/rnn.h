// The fused LSTM / GRU cells of Descent's native backend: the kernels (rnn.cc, one build per
// instruction set) and their Node-API glue (rnn_napi.cc), which addon.cc registers on its exports.
#pragma once

#include <node_api.h>

#include <cstddef>

#include "gemm.h"

namespace descent {

/** A [B, cols] operand: first element and row stride (column stride 1). */
template <typename T>
struct Mat {
  T* p;
  std::ptrdiff_t rs;
  T* row(std::ptrdiff_t b) const { return p + b * rs; }
};

// The operands of each kernel; the layouts are those of the Kernels interface
// (src/backends/backend.ts), every matrix [B, k·H] with unit column stride.
template <typename T>
struct LstmArgs {
  std::ptrdiff_t B, H;
  Mat<const T> xg, hg, c;
  Mat<T> out;
};

template <typename T>
struct LstmBackArgs {
  std::ptrdiff_t B, H;
  Mat<const T> ws, c, dh, dc;
  Mat<T> dg, dcp;
};

template <typename T>
struct GruArgs {
  std::ptrdiff_t B, H;
  Mat<const T> xg, hg, h, bhn;  // bhn.p null when absent
  Mat<T> out;
};

template <typename T>
struct GruBackArgs {
  std::ptrdiff_t B, H;
  Mat<const T> ws, h, dh;
  Mat<T> dxg, dhg, dhp;
};

/** The cells, with the kernels compiled for `isa` (portable where this build has no such variant). */
void lstm_cell(const LstmArgs<float>& a, Isa isa);
void lstm_cell(const LstmArgs<double>& a, Isa isa);
void lstm_cell_backward(const LstmBackArgs<float>& a, Isa isa);
void lstm_cell_backward(const LstmBackArgs<double>& a, Isa isa);
void gru_cell(const GruArgs<float>& a, Isa isa);
void gru_cell(const GruArgs<double>& a, Isa isa);
void gru_cell_backward(const GruBackArgs<float>& a, Isa isa);
void gru_cell_backward(const GruBackArgs<double>& a, Isa isa);

/** Adds lstmCell, lstmCellBackward, gruCell and gruCellBackward to `exports`; *isa is read per call. */
bool register_rnn(napi_env env, napi_value exports, const Isa* isa);

}  // namespace descent
