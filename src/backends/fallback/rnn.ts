// The LSTM and GRU cells and their backward, op by op with the required kernels, writing the same
// workspace layouts as the fused cells (accelerations.ts). The fused cells compute each element in
// doubles and round once, so on float32 they agree with these to a few ulps, not bit for bit.

import type { Accelerations } from "../accelerations.js";
import type { View } from "../backend.js";
import type { Calc } from "./calc.js";

type CellKernels = Pick<Accelerations, "lstmCell" | "lstmCellBackward" | "gruCell" | "gruCellBackward">;

export function rnnFallbacks({ k, un, bin, oneMinus, cols }: Calc): CellKernels {
  /** Block j of H columns. */
  const block = (x: View, H: number) => (j: number) => cols(x, j * H, H);
  /** σ' from σ: s·(1 − s) */
  const dsig = (s: View) => bin("mul", s, oneMinus(s));
  return {
    // c' = σf·c + σi·tanh g,  h' = σo·tanh c'
    lstmCell(xg, hg, c, out) {
      const H = c.shape[1]!;
      const gate = block(bin("add", xg, hg), H);
      const o = block(out, H);
      un("sigmoid", gate(0), o(2));
      un("sigmoid", gate(1), o(3));
      un("tanh", gate(2), o(4));
      un("sigmoid", gate(3), o(5));
      bin("add", bin("mul", o(3), c, o(1)), bin("mul", o(2), o(4)), o(1));
      un("tanh", o(1), o(6));
      bin("mul", o(5), o(6), o(0));
    },
    // dc' = dc + dh·σo·(1 − tanh² c'); di = dc'·g·σi', df = dc'·c·σf', dg = dc'·σi·(1 − g²), do = dh·tanh c'·σo'
    lstmCellBackward(ws, c, dh, dc, dgates, dcPrev) {
      const H = c.shape[1]!;
      const [i, f, g, o, tc] = [2, 3, 4, 5, 6].map(block(ws, H)) as [View, View, View, View, View];
      const d = block(dgates, H);
      const dcn = bin("add", dc, bin("mul", bin("mul", dh, o), oneMinus(bin("mul", tc, tc))));
      bin("mul", bin("mul", dcn, g), dsig(i), d(0));
      bin("mul", bin("mul", dcn, c), dsig(f), d(1));
      bin("mul", bin("mul", dcn, i), oneMinus(bin("mul", g, g)), d(2));
      bin("mul", bin("mul", dh, tc), dsig(o), d(3));
      bin("mul", dcn, f, dcPrev);
    },
    // r, z = σ(x + h parts), hn = hg_n + bhn, n = tanh(xg_n + r·hn), h' = n + z·(h − n)
    gruCell(xg, hg, h, bhn, out) {
      const H = h.shape[1]!;
      const [x, y, o] = [block(xg, H), block(hg, H), block(out, H)];
      un("sigmoid", bin("add", x(0), y(0)), o(1));
      un("sigmoid", bin("add", x(1), y(1)), o(2));
      if (bhn) bin("add", y(2), bhn, o(4));
      else k.copy(y(2), o(4));
      un("tanh", bin("add", x(2), bin("mul", o(1), o(4))), o(3));
      bin("add", o(3), bin("mul", o(2), bin("sub", h, o(3))), o(0));
    },
    // dn = dh·(1 − z)·(1 − n²), dr = dn·hn·σr', dz = dh·(h − n)·σz'; dhg_n = dn·r; dh_prev = dh·z
    gruCellBackward(ws, h, dh, dxg, dhg, dhPrev) {
      const H = h.shape[1]!;
      const [r, z, n, hn] = [1, 2, 3, 4].map(block(ws, H)) as [View, View, View, View];
      const [dx, dy] = [block(dxg, H), block(dhg, H)];
      const dn = bin("mul", bin("mul", dh, oneMinus(z)), oneMinus(bin("mul", n, n)), dx(2));
      bin("mul", bin("mul", dn, hn), dsig(r), dx(0));
      bin("mul", bin("mul", dh, bin("sub", h, n)), dsig(z), dx(1));
      k.copy(dx(0), dy(0));
      k.copy(dx(1), dy(1));
      bin("mul", dn, r, dy(2));
      bin("mul", dh, z, dhPrev);
    },
  };
}
