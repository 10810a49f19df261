// The native backend's fused LSTM / GRU cell accelerations (native/rnn.cc): the js kernels' signatures, with
// each view passed as (offset, row stride) in one Float64Array. Views whose columns are not
// contiguous, and cells too small to repay the call, run the js kernels instead.

import type { View } from "../backend.js";
import type { Accelerations } from "../accelerations.js";
import { rnnKernels as js } from "../js/rnn.js";

type F = Float32Array | Float64Array;

/** What native/rnn.cc adds to the addon: arrays, then meta = [B, H, (offset, rowStride) per array]. */
export interface RnnAddon {
  lstmCell(xg: F, hg: F, c: F, out: F, meta: Float64Array): void;
  lstmCellBackward(ws: F, c: F, dh: F, dc: F, dgates: F, dcPrev: F, meta: Float64Array): void;
  gruCell(xg: F, hg: F, h: F, bhn: F | null, out: F, meta: Float64Array): void;
  gruCellBackward(ws: F, h: F, dh: F, dxg: F, dhg: F, dhPrev: F, meta: Float64Array): void;
}

/**
 * Below these many cell elements (B·H) a cell stays in JS. Measured here (float32 LSTM, µs per call,
 * js / native): forward, with five exp/tanh per element, B·H = 4: 0.45 / 0.53, 16: 1.6 / 0.6,
 * 64: 7.0 / 1.3; backward, a few multiplies per element, 32: 0.38 / 0.61, 64: 0.68 / 0.83,
 * 128: 1.4 / 0.9. GRU cells do three fewer transcendentals but the same order of work.
 */
export const NATIVE_MIN_CELL = 8;
export const NATIVE_MIN_CELL_BACKWARD = 96;

type CellKernels = Pick<Accelerations, "lstmCell" | "lstmCellBackward" | "gruCell" | "gruCellBackward">;

export function nativeRnnKernels(
  addon: RnnAddon,
  minCell = NATIVE_MIN_CELL,
  minBackward = NATIVE_MIN_CELL_BACKWARD,
): CellKernels {
  const meta = new Float64Array(2 + 2 * 6);
  /** Fills meta for these views, or returns false when one of them cannot go native. */
  function fill(B: number, H: number, views: readonly (View | null)[], min: number): boolean {
    if (B * H < min) return false;
    const type = views[0]!.data.constructor;
    if (type !== Float32Array && type !== Float64Array) return false;
    meta[0] = B;
    meta[1] = H;
    for (let k = 0; k < views.length; k++) {
      const v = views[k];
      if (!v) continue;
      if (v.data.constructor !== type || (v.strides[1] !== 1 && H > 0)) return false;
      meta[2 + 2 * k] = v.offset;
      meta[3 + 2 * k] = v.strides[0]!;
    }
    return true;
  }
  const d = (v: View) => v.data as F;
  return {
    lstmCell(xg, hg, c, out) {
      const [B, H] = c.shape as [number, number];
      if (fill(B, H, [xg, hg, c, out], minCell)) addon.lstmCell(d(xg), d(hg), d(c), d(out), meta);
      else js.lstmCell(xg, hg, c, out);
    },
    lstmCellBackward(ws, c, dh, dc, dgates, dcPrev) {
      const [B, H] = c.shape as [number, number];
      if (fill(B, H, [ws, c, dh, dc, dgates, dcPrev], minBackward))
        addon.lstmCellBackward(d(ws), d(c), d(dh), d(dc), d(dgates), d(dcPrev), meta);
      else js.lstmCellBackward(ws, c, dh, dc, dgates, dcPrev);
    },
    gruCell(xg, hg, h, bhn, out) {
      const [B, H] = h.shape as [number, number];
      if (fill(B, H, [xg, hg, h, bhn, out], minCell))
        addon.gruCell(d(xg), d(hg), d(h), bhn ? d(bhn) : null, d(out), meta);
      else js.gruCell(xg, hg, h, bhn, out);
    },
    gruCellBackward(ws, h, dh, dxg, dhg, dhPrev) {
      const [B, H] = h.shape as [number, number];
      if (fill(B, H, [ws, h, dh, dxg, dhg, dhPrev], minBackward))
        addon.gruCellBackward(d(ws), d(h), d(dh), d(dxg), d(dhg), d(dhPrev), meta);
      else js.gruCellBackward(ws, h, dh, dxg, dhg, dhPrev);
    },
  };
}
