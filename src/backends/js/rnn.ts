// The js backend's fused LSTM and GRU cells (accelerations of fallback/rnn.ts's op-by-op cells).
// Every view is 2-D [B, ·] with any strides; each element is computed in doubles from the stored
// inputs and rounded once when written (so float32 results are correctly rounded double formulas,
// not a chain of float32 roundings). Sigmoid uses the same stable form as the unary kernel.
// Loops are written out by hand (row bases hoisted, no closures): this is also the js backend's
// hot path for LSTM/GRU training.

import type { Accelerations } from "../accelerations.js";

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

type CellKernels = Pick<Accelerations, "lstmCell" | "lstmCellBackward" | "gruCell" | "gruCellBackward">;

export const rnnKernels: CellKernels = {
  lstmCell(xg, hg, c, out) {
    const [B, H] = c.shape as [number, number];
    const [X, Y, C, O] = [xg.data, hg.data, c.data, out.data];
    const [xs, ys, cs] = [xg.strides[1]!, hg.strides[1]!, c.strides[1]!];
    for (let b = 0; b < B; b++) {
      const x0 = xg.offset + b * xg.strides[0]!;
      const y0 = hg.offset + b * hg.strides[0]!;
      const c0 = c.offset + b * c.strides[0]!;
      const o0 = out.offset + b * 7 * H;
      for (let j = 0; j < H; j++) {
        const xj = x0 + j * xs;
        const yj = y0 + j * ys;
        const i = sigmoid(X[xj]! + Y[yj]!);
        const f = sigmoid(X[xj + H * xs]! + Y[yj + H * ys]!);
        const g = Math.tanh(X[xj + 2 * H * xs]! + Y[yj + 2 * H * ys]!);
        const o = sigmoid(X[xj + 3 * H * xs]! + Y[yj + 3 * H * ys]!);
        const cn = f * C[c0 + j * cs]! + i * g;
        const tc = Math.tanh(cn);
        const r = o0 + j;
        O[r] = o * tc;
        O[r + H] = cn;
        O[r + 2 * H] = i;
        O[r + 3 * H] = f;
        O[r + 4 * H] = g;
        O[r + 5 * H] = o;
        O[r + 6 * H] = tc;
      }
    }
  },
  lstmCellBackward(ws, c, dh, dc, dgates, dcPrev) {
    const [B, H] = c.shape as [number, number];
    const [W, C, GH, GC, DG, DC] = [ws.data, c.data, dh.data, dc.data, dgates.data, dcPrev.data];
    const [ws1, cs, hs1, cs1, gs, ps] = [
      ws.strides[1]!,
      c.strides[1]!,
      dh.strides[1]!,
      dc.strides[1]!,
      dgates.strides[1]!,
      dcPrev.strides[1]!,
    ];
    for (let b = 0; b < B; b++) {
      const w0 = ws.offset + b * ws.strides[0]!;
      const c0 = c.offset + b * c.strides[0]!;
      const h0 = dh.offset + b * dh.strides[0]!;
      const k0 = dc.offset + b * dc.strides[0]!;
      const g0 = dgates.offset + b * dgates.strides[0]!;
      const p0 = dcPrev.offset + b * dcPrev.strides[0]!;
      for (let j = 0; j < H; j++) {
        const w = w0 + (2 * H + j) * ws1;
        const i = W[w]!;
        const f = W[w + H * ws1]!;
        const g = W[w + 2 * H * ws1]!;
        const o = W[w + 3 * H * ws1]!;
        const tc = W[w + 4 * H * ws1]!;
        const gh = GH[h0 + j * hs1]!;
        // c' = f·c + i·g and h' = o·tanh(c'): dc' collects both paths.
        const dcn = GC[k0 + j * cs1]! + gh * o * (1 - tc * tc);
        const q = g0 + j * gs;
        DG[q] = dcn * g * i * (1 - i);
        DG[q + H * gs] = dcn * C[c0 + j * cs]! * f * (1 - f);
        DG[q + 2 * H * gs] = dcn * i * (1 - g * g);
        DG[q + 3 * H * gs] = gh * tc * o * (1 - o);
        DC[p0 + j * ps] = dcn * f;
      }
    }
  },
  gruCell(xg, hg, h, bhn, out) {
    const [B, H] = h.shape as [number, number];
    const [X, Y, S, O] = [xg.data, hg.data, h.data, out.data];
    const [xs, ys, hs] = [xg.strides[1]!, hg.strides[1]!, h.strides[1]!];
    for (let b = 0; b < B; b++) {
      const x0 = xg.offset + b * xg.strides[0]!;
      const y0 = hg.offset + b * hg.strides[0]!;
      const h0 = h.offset + b * h.strides[0]!;
      const n0 = bhn ? bhn.offset + b * bhn.strides[0]! : 0;
      const o0 = out.offset + b * 5 * H;
      for (let j = 0; j < H; j++) {
        const xj = x0 + j * xs;
        const yj = y0 + j * ys;
        const r = sigmoid(X[xj]! + Y[yj]!);
        const z = sigmoid(X[xj + H * xs]! + Y[yj + H * ys]!);
        const hn = bhn ? Y[yj + 2 * H * ys]! + bhn.data[n0 + j * bhn.strides[1]!]! : Y[yj + 2 * H * ys]!;
        const n = Math.tanh(X[xj + 2 * H * xs]! + r * hn);
        const p = o0 + j;
        O[p] = n + z * (S[h0 + j * hs]! - n); // (1 - z)·n + z·h
        O[p + H] = r;
        O[p + 2 * H] = z;
        O[p + 3 * H] = n;
        O[p + 4 * H] = hn;
      }
    }
  },
  gruCellBackward(ws, h, dh, dxg, dhg, dhPrev) {
    const [B, H] = h.shape as [number, number];
    const [W, S, G, DX, DY, DP] = [ws.data, h.data, dh.data, dxg.data, dhg.data, dhPrev.data];
    const [ws1, hs, gs, xs, ys, ps] = [
      ws.strides[1]!,
      h.strides[1]!,
      dh.strides[1]!,
      dxg.strides[1]!,
      dhg.strides[1]!,
      dhPrev.strides[1]!,
    ];
    for (let b = 0; b < B; b++) {
      const w0 = ws.offset + b * ws.strides[0]!;
      const h0 = h.offset + b * h.strides[0]!;
      const g0 = dh.offset + b * dh.strides[0]!;
      const x0 = dxg.offset + b * dxg.strides[0]!;
      const y0 = dhg.offset + b * dhg.strides[0]!;
      const p0 = dhPrev.offset + b * dhPrev.strides[0]!;
      for (let j = 0; j < H; j++) {
        const w = w0 + (H + j) * ws1;
        const r = W[w]!;
        const z = W[w + H * ws1]!;
        const n = W[w + 2 * H * ws1]!;
        const hn = W[w + 3 * H * ws1]!;
        const g = G[g0 + j * gs]!;
        const dn = g * (1 - z) * (1 - n * n); // through n = tanh(x_n + r·hn)
        const dr = dn * hn * r * (1 - r);
        const dz = g * (S[h0 + j * hs]! - n) * z * (1 - z);
        const xj = x0 + j * xs;
        const yj = y0 + j * ys;
        DX[xj] = dr;
        DX[xj + H * xs] = dz;
        DX[xj + 2 * H * xs] = dn;
        DY[yj] = dr;
        DY[yj + H * ys] = dz;
        DY[yj + 2 * H * ys] = dn * r;
        DP[p0 + j * ps] = g * z;
      }
    }
  },
};
