// The fused recurrent cells at the tensor level (nn reaches ops only through here): each applies
// its op and hands out views of the new state, never the saved activations that follow it.

import { GRUCell, LSTMCell } from "../ops/rnn.js";
import { apply, type Tensor } from "./tensor.js";

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
