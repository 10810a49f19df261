// The fused recurrent cells at the tensor level (nn reaches ops only through here): each applies
// its op and hands out views of the new state, never the saved activations that follow it.

import { GRUCell, LSTMCell } from "../ops/rnn.js";
import { GRUSeq, LSTMSeq } from "../ops/rnn_seq.js";
import { apply } from "./apply.js";
import type { Tensor } from "./tensor.js";

/**
 * One LSTM step, gate order i, f, g, o: xg + hg [B, 4H] are the gate pre-activations (input and
 * hidden products with their biases), c [B, H] the cell state → [h', c'].
 */
export function lstmCell(xg: Tensor, hg: Tensor, c: Tensor): [Tensor, Tensor] {
  const ws = apply(LSTMCell, [xg, hg, c]);
  const H = c.shape[1]!;
  return [ws.narrow(1, 0, H), ws.narrow(1, H, H)];
}

/**
 * One GRU step as PyTorch's: xg [B, 3H] = x·W_ihᵀ + b_ih, hg [B, 3H] = h·W_hhᵀ (+ b_hh), gate order
 * r, z, n; bhn [H], when given, is added to hg's n part (so r multiplies it) → h'.
 */
export function gruCell(xg: Tensor, hg: Tensor, h: Tensor, bhn: Tensor | null = null): Tensor {
  const ws = apply(GRUCell, bhn ? [xg, hg, h, bhn] : [xg, hg, h]);
  return ws.narrow(1, 0, h.shape[1]!);
}

/**
 * One LSTM layer direction over a whole sequence: proj [T, B, 4H] = x·W_ihᵀ + biases, W_hh [4H, H],
 * h0, c0 [B, H] → out [T, B, H] (every step's h) and the last step's h, c (step 0 when reverse).
 */
export function lstmSequence(
  proj: Tensor,
  whh: Tensor,
  h0: Tensor,
  c0: Tensor,
  reverse = false,
): { out: Tensor; h: Tensor; c: Tensor } {
  const ws = apply(LSTMSeq, [proj, whh, h0, c0], { reverse });
  const H = whh.shape[1]!;
  const last = ws.select(0, reverse ? 0 : ws.shape[0]! - 1);
  return { out: ws.narrow(2, 0, H), h: last.narrow(1, 0, H), c: last.narrow(1, H, H) };
}

/**
 * One GRU layer direction over a whole sequence: proj [T, B, 3H] = x·W_ihᵀ + b_ih + [b_hr, b_hz, 0],
 * W_hh [3H, H], h0 [B, H], bhn [H] or null → out [T, B, H] and the last step's h.
 */
export function gruSequence(
  proj: Tensor,
  whh: Tensor,
  h0: Tensor,
  bhn: Tensor | null,
  reverse = false,
): { out: Tensor; h: Tensor } {
  const ws = apply(GRUSeq, bhn ? [proj, whh, h0, bhn] : [proj, whh, h0], { reverse });
  const H = whh.shape[1]!;
  return { out: ws.narrow(2, 0, H), h: ws.select(0, reverse ? 0 : ws.shape[0]! - 1).narrow(1, 0, H) };
}
