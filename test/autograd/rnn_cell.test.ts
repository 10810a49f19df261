// The fused LSTM / GRU cell ops (src/ops/rnn.ts) and whole-sequence ops (src/ops/rnn_seq.ts), via
// src/tensor/rnn.ts: gradcheck in float64 of every input (including strided views, both directions
// and the GRU's hidden-side bias), agreement with the same cell written with unfused Tensor ops and
// of the sequence op with the cells step by step, and the shape/dtype checks. Runs on the
// current backend (DESCENT_BACKEND), so CI covers both.

import assert from "node:assert/strict";
import { test } from "node:test";

import { cat, DescentError, type Tensor } from "../../src/index.js";
import { gruCell, gruSequence, lstmCell, lstmSequence } from "../../src/tensor/rnn.js";
import { compare, describeComparison } from "../helpers/allclose.js";
import { dtensor, gradcheck } from "../helpers/gradcheck.js";

/** The LSTM cell from unfused ops, as src/nn/layers/rnn.ts computed it before the fused op. */
function lstmRef(xg: Tensor, hg: Tensor, c: Tensor): [Tensor, Tensor] {
  const H = c.shape[1]!;
  const gates = xg.add(hg);
  const s = gates.sigmoid();
  const g = gates.narrow(1, 2 * H, H).tanh();
  const cn = s
    .narrow(1, H, H)
    .mul(c)
    .add(s.narrow(1, 0, H).mul(g));
  return [s.narrow(1, 3 * H, H).mul(cn.tanh()), cn];
}

function gruRef(xg: Tensor, hg: Tensor, h: Tensor, bhn: Tensor | null): Tensor {
  const H = h.shape[1]!;
  const rz = xg
    .narrow(1, 0, 2 * H)
    .add(hg.narrow(1, 0, 2 * H))
    .sigmoid();
  const hn = bhn ? hg.narrow(1, 2 * H, H).add(bhn) : hg.narrow(1, 2 * H, H);
  const n = xg
    .narrow(1, 2 * H, H)
    .add(rz.narrow(1, 0, H).mul(hn))
    .tanh();
  return n.add(rz.narrow(1, H, H).mul(h.sub(n)));
}

function close(what: string, a: Tensor, b: Tensor): void {
  const c = compare(a.toFlatArray(), b.toFlatArray(), { rtol: 1e-12, atol: 1e-14 }, [...a.shape]);
  if (!c.ok) assert.fail(`${what}: ${describeComparison(c, a.size)}`);
}

for (const [B, H] of [
  [1, 1],
  [3, 2],
  [2, 5],
  [4, 9], // B·H ≥ 32: through the native cells on the native backend
] as const) {
  test(`lstmCell gradcheck, B=${B} H=${H}`, () => {
    const xg = dtensor([B, 4 * H], { seed: 1, lo: -2, hi: 2, signed: true });
    const hg = dtensor([B, 4 * H], { seed: 2, lo: -2, hi: 2, signed: true });
    const c = dtensor([B, H], { seed: 3, lo: -1, hi: 1, signed: true });
    gradcheck((x, y, s) => cat(lstmCell(x, y, s).map((t) => t.flatten())), [xg, hg, c]);
  });

  test(`gruCell gradcheck with and without bhn, B=${B} H=${H}`, () => {
    const xg = dtensor([B, 3 * H], { seed: 4, lo: -2, hi: 2, signed: true });
    const hg = dtensor([B, 3 * H], { seed: 5, lo: -2, hi: 2, signed: true });
    const h = dtensor([B, H], { seed: 6, lo: -1, hi: 1, signed: true });
    const bhn = dtensor([H], { seed: 7, lo: -1, hi: 1, signed: true });
    gradcheck((x, y, s, b) => gruCell(x, y, s, b), [xg, hg, h, bhn]);
    gradcheck((x, y, s) => gruCell(x, y, s), [xg, hg, h]);
  });
}

test("cells on strided views: gradcheck and agreement with the unfused ops", () => {
  const B = 3;
  const H = 4;
  // Transposed storage: unit row stride, column stride B (the native backend falls back to js).
  const xgT = dtensor([4 * H, B], { seed: 8, lo: -2, hi: 2, signed: true }).transpose(0, 1);
  const hgW = dtensor([B, 6 * H], { seed: 9, lo: -2, hi: 2, signed: true }).narrow(1, H, 4 * H); // row stride 6H
  const c = dtensor([B, H], { seed: 10, signed: true });
  gradcheck((x, y, s) => cat(lstmCell(x, y, s).map((t) => t.flatten())), [xgT, hgW, c]);

  const [h1, c1] = lstmCell(xgT, hgW, c);
  const [h2, c2] = lstmRef(xgT, hgW, c);
  close("lstm h", h1, h2);
  close("lstm c", c1, c2);
  // Gradients of the leaves under the views, through each form (fresh views per backward).
  const bx = dtensor([4 * H, B], { seed: 8, lo: -2, hi: 2, signed: true });
  const by = dtensor([B, 6 * H], { seed: 9, lo: -2, hi: 2, signed: true });
  const up = dtensor([B, H], { seed: 11, signed: true, requiresGrad: false });
  const grads = (f: (x: Tensor, y: Tensor, s: Tensor) => [Tensor, Tensor]) => {
    for (const t of [bx, by, c]) t.grad = null;
    const [h, cn] = f(bx.transpose(0, 1), by.narrow(1, H, 4 * H), c);
    h.mul(up).sum().add(cn.square().sum()).backward();
    return [bx, by, c].map((t) => t.grad!);
  };
  const g1 = grads(lstmCell);
  const g2 = grads(lstmRef);
  g1.forEach((g, i) => close(`lstm grad ${i}`, g, g2[i]!));

  const xg = dtensor([B, 3 * H], { seed: 12, lo: -2, hi: 2, signed: true });
  const bhg = dtensor([B, 5 * H], { seed: 13, lo: -2, hi: 2, signed: true });
  const h = dtensor([B, H], { seed: 14, signed: true });
  const bb = dtensor([2 * H], { seed: 15, signed: true });
  const gg = (f: (x: Tensor, y: Tensor, s: Tensor, b: Tensor) => Tensor) => {
    for (const t of [xg, bhg, h, bb]) t.grad = null;
    const out = f(xg, bhg.narrow(1, 2 * H, 3 * H), h, bb.narrow(0, H, H));
    out.mul(up).sum().backward();
    return [out, ...[xg, bhg, h, bb].map((t) => t.grad!)];
  };
  const q1 = gg(gruCell);
  const q2 = gg(gruRef);
  q1.forEach((g, i) => close(`gru ${i === 0 ? "h" : `grad ${i - 1}`}`, g, q2[i]!));
});

for (const reverse of [false, true]) {
  test(`lstmSequence / gruSequence gradcheck (reverse ${reverse})`, () => {
    // B·H = 36 ≥ 32: the native backend runs its cells; T = 3 exercises the carried gradients.
    const [T, B, H] = [3, 4, 9];
    const proj = dtensor([T, B, 4 * H], { seed: 20, lo: -2, hi: 2, signed: true });
    const whh = dtensor([4 * H, H], { seed: 21, lo: -0.5, hi: 0.5, signed: true });
    const h0 = dtensor([B, H], { seed: 22, signed: true });
    const c0 = dtensor([B, H], { seed: 23, signed: true });
    const lstm = (p: Tensor, w: Tensor, h: Tensor, c: Tensor) => {
      const r = lstmSequence(p, w, h, c, reverse);
      return cat([r.out.flatten(), r.h.flatten(), r.c.flatten()]);
    };
    gradcheck(lstm, [proj, whh, h0, c0]);
    const gp = dtensor([T, B, 3 * H], { seed: 24, lo: -2, hi: 2, signed: true });
    const gw = dtensor([3 * H, H], { seed: 25, lo: -0.5, hi: 0.5, signed: true });
    const bhn = dtensor([H], { seed: 26, signed: true });
    const gru = (p: Tensor, w: Tensor, h: Tensor, b?: Tensor) => {
      const r = gruSequence(p, w, h, b ?? null, reverse);
      return cat([r.out.flatten(), r.h.flatten()]);
    };
    gradcheck(gru, [gp, gw, h0, bhn]);
    gradcheck(gru, [gp, gw, h0]);
  });
}

test("lstmSequence equals the step-by-step cells", () => {
  const [T, B, H] = [4, 3, 11];
  const proj = dtensor([T, B, 4 * H], { seed: 30, lo: -2, hi: 2, signed: true });
  const whh = dtensor([4 * H, H], { seed: 31, lo: -0.5, hi: 0.5, signed: true });
  const h0 = dtensor([B, H], { seed: 32, signed: true });
  const c0 = dtensor([B, H], { seed: 33, signed: true });
  const seq = lstmSequence(proj, whh, h0, c0, true);
  let [h, c] = [h0, c0];
  const outs: Tensor[] = [];
  for (let t = T - 1; t >= 0; t--) {
    [h, c] = lstmCell(proj.select(0, t), h.matmul(whh.transpose(0, 1)), c);
    outs[t] = h;
  }
  close("out", seq.out, cat(outs.map((o) => o.unsqueeze(0))));
  close("h", seq.h, h);
  close("c", seq.c, c);
});

test("cells refuse mismatched shapes and dtypes", () => {
  const x = dtensor([2, 8]);
  assert.throws(() => lstmCell(x, x, dtensor([2, 3])), DescentError);
  assert.throws(() => lstmCell(x, dtensor([3, 8]), dtensor([2, 2])), DescentError);
  assert.throws(() => lstmCell(x, x.to("float32"), dtensor([2, 2])), DescentError);
  assert.throws(() => gruCell(dtensor([2, 6]), dtensor([2, 6]), dtensor([2, 2]), dtensor([3])), DescentError);
  assert.throws(() => gruCell(dtensor([2, 6]), dtensor([2, 6]), dtensor([2, 3])), DescentError);
  assert.throws(
    () => lstmSequence(dtensor([3, 2, 8]), dtensor([8, 3]), dtensor([2, 2]), dtensor([2, 2])),
    DescentError,
  );
  assert.throws(() => gruSequence(dtensor([3, 2, 6]), dtensor([6, 2]), dtensor([2, 2]), dtensor([3])), DescentError);
  assert.throws(
    () => gruSequence(dtensor([3, 2, 6]), dtensor([6, 2]).to("float32"), dtensor([2, 2]), null),
    DescentError,
  );
});
