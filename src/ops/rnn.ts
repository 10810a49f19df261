// Fused recurrent cells: one LSTM or GRU time step (everything after the two gate products) as one
// acceleration forward and one backward (op-by-op fallbacks in backends/fallback/rnn.ts), instead
// of ~10 element-wise ops each with its own dispatch, allocation and graph node (bench/rnn_step.ts
// measured the gain). Ops have one output, so a cell
// returns a workspace: the new state first, then the activations its backward reads (as cuDNN's
// reserve space); the tensor layer hands out only narrowed views of the state, so the gradient of
// the rest is always zero and the backward reads only the state columns of it.

import { DescentError, shapeStr } from "../core/errors.js";
import type { Tensor } from "../tensor/tensor.js";
import { accel, alloc, need, type OpDef } from "./op.js";

function check(op: string, gates: number, xg: Tensor, hg: Tensor, s: Tensor): [number, number] {
  const [B, H] = s.shape as [number, number];
  const ok = (t: Tensor, cols: number) => t.ndim === 2 && t.shape[0] === B && t.shape[1] === cols;
  if (s.ndim !== 2 || !ok(xg, gates * H) || !ok(hg, gates * H)) {
    throw new DescentError(
      `${op}: expected gate pre-activations [B, ${gates}·H] and a state [B, H], got ${shapeStr(xg.shape)}, ${shapeStr(hg.shape)} and ${shapeStr(s.shape)}`,
    );
  }
  if (xg.dtype !== s.dtype || hg.dtype !== s.dtype || (s.dtype !== "float32" && s.dtype !== "float64"))
    throw new DescentError(
      `${op}: expected float32 or float64 inputs of one dtype, got ${xg.dtype}, ${hg.dtype}, ${s.dtype}`,
    );
  return [B, H];
}

/** [xg, hg, c] → [B, 7H] workspace [h' | c' | σi σf tanh g σo | tanh c'] (gate order i, f, g, o). */
export const LSTMCell: OpDef = {
  name: "lstmCell",
  saves: "both",
  forward([xg, hg, c]) {
    const [B, H] = check("lstmCell", 4, xg!, hg!, c!);
    const out = alloc(c!.dtype, [B, 7 * H]);
    accel().lstmCell(xg!, hg!, c!, out);
    return out;
  },
  // c' = σf·c + σi·tanh g, h' = σo·tanh c': the same dgates reach both pre-activation inputs.
  backward(g, [xg, hg, c], ws) {
    const [B, H] = c!.shape as [number, number];
    const dgates = g.newZeros([B, 4 * H]);
    const dc = g.newZeros([B, H]);
    accel().lstmCellBackward(ws, c!, g.narrow(1, 0, H), g.narrow(1, H, H), dgates, dc);
    return [need(xg!, () => dgates), need(hg!, () => dgates), need(c!, () => dc)];
  },
};

/**
 * [xg, hg, h] or [xg, hg, h, bhn] → [B, 5H] workspace [h' | r | z | n | hg_n + bhn] (gate order
 * r, z, n, as PyTorch: r multiplies the hidden side of n including its bias bhn [H]).
 */
export const GRUCell: OpDef = {
  name: "gruCell",
  saves: "both",
  forward([xg, hg, h, bhn]) {
    const [B, H] = check("gruCell", 3, xg!, hg!, h!);
    if (bhn && (bhn.ndim !== 1 || bhn.shape[0] !== H || bhn.dtype !== h!.dtype))
      throw new DescentError(
        `gruCell: expected bhn of shape [${H}] and dtype ${h!.dtype}, got ${shapeStr(bhn.shape)} ${bhn.dtype}`,
      );
    const out = alloc(h!.dtype, [B, 5 * H]);
    const bias = bhn ? { data: bhn.data, shape: [B, H], strides: [0, bhn.strides[0]!], offset: bhn.offset } : null;
    accel().gruCell(xg!, hg!, h!, bias, out);
    return out;
  },
  // h' = n + z·(h − n), n = tanh(xn + r·hn): hg gets dxg except dhn = dn·r; bhn gets Σ_batch dhn.
  backward(g, [xg, hg, h, bhn], ws) {
    const [B, H] = h!.shape as [number, number];
    const dxg = g.newZeros([B, 3 * H]);
    const dhg = g.newZeros([B, 3 * H]);
    const dh = g.newZeros([B, H]);
    accel().gruCellBackward(ws, h!, g.narrow(1, 0, H), dxg, dhg, dh);
    const grads = [need(xg!, () => dxg), need(hg!, () => dhg), need(h!, () => dh)];
    if (bhn) grads.push(need(bhn, () => dhg.narrow(1, 2 * H, H).sum(0)));
    return grads;
  },
  freshGrads: true,
};
