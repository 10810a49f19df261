// Whole-sequence LSTM and GRU (one layer, one direction) as single ops: the time loop runs inside
// the op over raw views, calling the matmul kernel for h·W_hhᵀ and the fused cell kernels
// (ops/rnn.ts) per step, with no Tensor, graph node or allocation per step. The backward walks the
// steps in reverse the same way and then forms dW_hh as one GEMM over all steps (Σ_t dgatesₜᵀ·hₜ₋₁)
// instead of T small ones each added into an accumulator: what PyTorch's fused RNN does. The
// profile of the per-step graph (bench/rnn_step.ts) was dominated by those accumulations, the
// slices' zero-filled gradients and allocation, not by the arithmetic.
//
// The output is the workspace [T, B, G·H] of every step's cell (the state first: h, and c for LSTM,
// then what the cell backward reads); the tensor layer hands out only views of the states.

import type { DType, TypedArray } from "../core/dtype.js";
import { DescentError, shapeStr } from "../core/errors.js";
import type { View } from "../backends/index.js";
import type { Tensor } from "../tensor/tensor.js";
import { accel, alloc, kernels, need, type OpDef } from "./op.js";

export interface SeqParams {
  /** Runs from the last step to the first (the reverse direction of a bidirectional layer). */
  readonly reverse: boolean;
}

/** Workspace columns per step, in units of H. */
export const LSTM_WS = 7;
export const GRU_WS = 5;

const mat = (data: TypedArray, rows: number, cols: number, rs: number, cs: number, offset: number): View => ({
  data,
  shape: [rows, cols],
  strides: [rs, cs],
  offset,
});

/** Step t of a [T, B, C] view as [B, cols] from column `col`. */
const step = (x: View, t: number, col: number, cols: number): View =>
  mat(x.data, x.shape[1]!, cols, x.strides[1]!, x.strides[2]!, x.offset + t * x.strides[0]! + col * x.strides[2]!);

const plain = (x: View, col = 0, cols = x.shape[1]! - col): View =>
  mat(x.data, x.shape[0]!, cols, x.strides[0]!, x.strides[1]!, x.offset + col * x.strides[1]!);

function check(
  op: string,
  gates: number,
  proj: Tensor,
  whh: Tensor,
  h0: Tensor,
  c0: Tensor | null,
): [number, number, number] {
  const [T, B, GH] = proj.shape as [number, number, number];
  const H = whh.shape[1]!;
  const ok2 = (t: Tensor | null) => !t || (t.ndim === 2 && t.shape[0] === B && t.shape[1] === H);
  if (proj.ndim !== 3 || whh.ndim !== 2 || GH !== gates * H || whh.shape[0] !== gates * H || !ok2(h0) || !ok2(c0)) {
    throw new DescentError(
      `${op}: expected proj [T, B, ${gates}·H], W_hh [${gates}·H, H] and states [B, H], got ${[proj, whh, h0, c0]
        .filter((t) => t)
        .map((t) => shapeStr(t!.shape))
        .join(", ")}`,
    );
  }
  const dtype = proj.dtype;
  if ((dtype !== "float32" && dtype !== "float64") || [whh, h0, c0].some((t) => t && t.dtype !== dtype))
    throw new DescentError(`${op}: expected float32 or float64 inputs of one dtype`);
  return [T, B, H];
}

/**
 * W_hhᵀ [H, G·H] as a contiguous copy: the GEMM packs its B operand on every call, and packing
 * reads rows; measured here (float32, [32,128]·[128,512], one thread) ~95 µs per step from the
 * copy against ~150 µs from the transposed view, for one 64K-element copy per forward.
 */
function transposed(w: Tensor, rows: number, cols: number): View {
  const out = alloc(w.dtype, [cols, rows]);
  kernels().copy(mat(w.data, cols, rows, w.strides[1]!, w.strides[0]!, w.offset), out);
  return out;
}

/** The step that runs k-th (forward or reverse) and the one before it (-1: the initial state). */
const order = (T: number, reverse: boolean, k: number) => (reverse ? T - 1 - k : k);

/** dW_hh = Σ_t dgₜᵀ·h_prev(t) as two GEMMs: steps whose h_prev is in ws (one strided matrix) and the h0 step. */
function hiddenWeightGrad(
  dg: View,
  ws: View,
  h0: View,
  T: number,
  B: number,
  G: number,
  H: number,
  reverse: boolean,
  dtype: DType,
): View {
  const k = kernels();
  const wsCols = ws.shape[2]!;
  const out = alloc(dtype, [G * H, H]);
  const first = reverse ? T - 1 : 0; // the step whose h_prev is h0
  k.matmul(mat(dg.data, G * H, B, 1, G * H, dg.offset + first * B * G * H), h0, out);
  if (T > 1) {
    // Steps with t ≥ 1 (forward) read h_{t−1}; reverse steps t ≤ T−2 read h_{t+1}: rows of ws, stride ws-row.
    const dgStart = reverse ? 0 : B;
    const hStart = reverse ? B : 0;
    const rest = alloc(dtype, [G * H, H]);
    const dgT = mat(dg.data, G * H, (T - 1) * B, 1, G * H, dg.offset + dgStart * G * H);
    const hs = mat(ws.data, (T - 1) * B, H, wsCols, 1, ws.offset + hStart * wsCols);
    k.matmul(dgT, hs, rest);
    k.binary("add", out, rest, out);
  }
  return out;
}

/** [proj [T, B, 4H], W_hh [4H, H], h0, c0 [B, H]] → workspace [T, B, 7H] (lstmCell's per step). */
export const LSTMSeq: OpDef<SeqParams> = {
  name: "lstm",
  saves: "both",
  forward([proj, whh, h0, c0], { reverse }) {
    const [T, B, H] = check("lstm", 4, proj!, whh!, h0!, c0!);
    const k = kernels();
    const a = accel();
    const ws = alloc(proj!.dtype, [T, B, LSTM_WS * H]);
    const gh = alloc(proj!.dtype, [B, 4 * H]);
    const whhT = transposed(whh!, 4 * H, H);
    let h: View = h0!;
    let c: View = c0!;
    for (let s = 0; s < T; s++) {
      const t = order(T, reverse, s);
      k.matmul(h, whhT, gh);
      const out = step(ws, t, 0, LSTM_WS * H);
      a.lstmCell(step(proj!, t, 0, 4 * H), gh, c, out);
      h = plain(out, 0, H);
      c = plain(out, H, H);
    }
    return ws;
  },
  // Per step, last first: dh = g_h + dgates_next·W_hh, dc = g_c + dc_next, then the cell backward.
  backward(g, [proj, whh, h0, c0], ws, { reverse }) {
    const [T, B] = proj!.shape as [number, number];
    const H = whh!.shape[1]!;
    const k = kernels();
    const a = accel();
    const dproj = g.newZeros(proj!.shape);
    const dh0 = g.newZeros([B, H]);
    const dc0 = g.newZeros([B, H]);
    const dh = alloc(g.dtype, [B, H]);
    const dc = alloc(g.dtype, [B, H]);
    const carryH = alloc(g.dtype, [B, H]);
    let carryC = alloc(g.dtype, [B, H]);
    let nextC = alloc(g.dtype, [B, H]);
    for (let s = T - 1; s >= 0; s--) {
      const t = order(T, reverse, s);
      const prev = s === 0 ? -1 : order(T, reverse, s - 1);
      const gh = step(g, t, 0, H);
      const gc = step(g, t, H, H);
      if (s < T - 1) {
        k.binary("add", gh, carryH, dh);
        k.binary("add", gc, carryC, dc);
      }
      const cPrev = prev < 0 ? c0! : step(ws, prev, H, H);
      const dgt = step(dproj, t, 0, 4 * H);
      const dcOut = s === 0 ? dc0 : nextC;
      a.lstmCellBackward(step(ws, t, 0, LSTM_WS * H), cPrev, s < T - 1 ? dh : gh, s < T - 1 ? dc : gc, dgt, dcOut);
      k.matmul(dgt, whh!, s === 0 ? dh0 : carryH);
      [carryC, nextC] = [nextC, carryC];
    }
    const dwhh = need(whh!, () => g.newZeros(whh!.shape));
    if (dwhh) {
      const w = hiddenWeightGrad(dproj, ws, h0!, T, B, 4, H, reverse, g.dtype);
      k.copy(w, dwhh);
    }
    return [need(proj!, () => dproj), dwhh, need(h0!, () => dh0), need(c0!, () => dc0)];
  },
  freshGrads: true,
};

/**
 * [proj [T, B, 3H], W_hh [3H, H], h0 [B, H]] or with bhn [H] → workspace [T, B, 5H] (gruCell's per
 * step); proj holds x·W_ihᵀ + b_ih + [b_hr, b_hz, 0], bhn stays inside r·(W_hn h + b_hn).
 */
export const GRUSeq: OpDef<SeqParams> = {
  name: "gru",
  saves: "both",
  forward([proj, whh, h0, bhn], { reverse }) {
    const [T, B, H] = check("gru", 3, proj!, whh!, h0!, null);
    if (bhn && (bhn.ndim !== 1 || bhn.shape[0] !== H || bhn.dtype !== proj!.dtype))
      throw new DescentError(`gru: expected bhn of shape [${H}], got ${shapeStr(bhn.shape)} ${bhn.dtype}`);
    const k = kernels();
    const a = accel();
    const ws = alloc(proj!.dtype, [T, B, GRU_WS * H]);
    const gh = alloc(proj!.dtype, [B, 3 * H]);
    const whhT = transposed(whh!, 3 * H, H);
    const bias = bhn ? mat(bhn.data, B, H, 0, bhn.strides[0]!, bhn.offset) : null;
    let h: View = h0!;
    for (let s = 0; s < T; s++) {
      const t = order(T, reverse, s);
      k.matmul(h, whhT, gh);
      const out = step(ws, t, 0, GRU_WS * H);
      a.gruCell(step(proj!, t, 0, 3 * H), gh, h, bias, out);
      h = plain(out, 0, H);
    }
    return ws;
  },
  // Per step, last first: dh = g_h + dhg_next·W_hh + (dh through z)_next, then the cell backward.
  backward(g, [proj, whh, h0, bhn], ws, { reverse }) {
    const [T, B] = proj!.shape as [number, number];
    const H = whh!.shape[1]!;
    const k = kernels();
    const a = accel();
    const dproj = g.newZeros(proj!.shape);
    const dhg = alloc(g.dtype, [T, B, 3 * H]);
    const dh0 = g.newZeros([B, H]);
    const dh = alloc(g.dtype, [B, H]);
    const direct = alloc(g.dtype, [B, H]);
    const carry = alloc(g.dtype, [B, H]);
    for (let s = T - 1; s >= 0; s--) {
      const t = order(T, reverse, s);
      const prev = s === 0 ? -1 : order(T, reverse, s - 1);
      const gh = step(g, t, 0, H);
      if (s < T - 1) k.binary("add", gh, carry, dh);
      const hPrev = prev < 0 ? h0! : step(ws, prev, 0, H);
      const dyt = step(dhg, t, 0, 3 * H);
      a.gruCellBackward(step(ws, t, 0, GRU_WS * H), hPrev, s < T - 1 ? dh : gh, step(dproj, t, 0, 3 * H), dyt, direct);
      const to = s === 0 ? dh0 : carry;
      k.matmul(dyt, whh!, to);
      k.binary("add", to, direct, to);
    }
    const dwhh = need(whh!, () => g.newZeros(whh!.shape));
    if (dwhh) k.copy(hiddenWeightGrad(dhg, ws, h0!, T, B, 3, H, reverse, g.dtype), dwhh);
    const grads = [need(proj!, () => dproj), dwhh, need(h0!, () => dh0)];
    if (bhn) {
      grads.push(
        need(bhn, () => {
          const db = g.newZeros([H]);
          const rows = mat(dhg.data, T * B, H, 3 * H, 1, 2 * H);
          k.reduce("sum", rows, [0], mat(db.data, 1, H, H, 1, 0));
          return db;
        }),
      );
    }
    return grads;
  },
  freshGrads: true,
};
