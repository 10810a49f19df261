// ONNX's LSTM, GRU and RNN operators for onnx.load, written with Descent tensor methods one time step at a time
// (so gradients reach W, R and B). ONNX orders the gates i, o, f, c (PyTorch: i, f, g, o) and keeps
// both biases in B = [Wb, Rb]; Y is [T, D, N, H], Y_h and Y_c are [D, N, H]. GRU's gates are z, r, h;
// RNN has one, h = f(X Wᵀ + H Rᵀ + Wb + Rb) with f from `activations` (Tanh, the default, or Relu).
import type { Tensor } from "../tensor/tensor.js";
import { stack } from "../tensor/tensor.js";
import { zeros } from "../tensor/creation.js";
import { DescentError } from "../core/errors.js";
import type { Attrs } from "./interp.js";

export const lstmOp = (ins: (Tensor | null)[], a: Attrs): Tensor[] => recurrentOp("LSTM", ins, a);
export const gruOp = (ins: (Tensor | null)[], a: Attrs): Tensor[] => recurrentOp("GRU", ins, a);
export const rnnOp = (ins: (Tensor | null)[], a: Attrs): Tensor[] => recurrentOp("RNN", ins, a);

function recurrentOp(kind: "LSTM" | "GRU" | "RNN", ins: (Tensor | null)[], a: Attrs): Tensor[] {
  const isLstm = kind === "LSTM";
  const [x0, W, R, B, seqLens, h0] = ins;
  const c0 = isLstm ? ins[6] : null;
  if (seqLens) throw new DescentError(`onnx.load: ${kind} with sequence_lens is not supported`);
  const acts = kind === "RNN" ? rnnActivations(a.activations) : null;
  for (const k of kind === "RNN" ? ["clip"] : ["activations", "clip", "input_forget"])
    if (a[k] !== undefined && !(k === "input_forget" && a[k] === 0))
      throw new DescentError(`onnx.load: ${kind} with attribute ${k} is not supported`);
  if (isLstm && ins[7]) throw new DescentError("onnx.load: LSTM with peepholes (input P) is not supported");
  const G = isLstm ? 4 : kind === "GRU" ? 3 : 1;
  const beforeReset = a.linear_before_reset === 1;
  const layout = typeof a.layout === "number" ? a.layout : 0;
  const x = layout === 1 ? x0!.transpose(0, 1) : x0!; // [T, N, I]
  const H = W!.shape[1]! / G;
  const D = W!.shape[0]!;
  const direction = typeof a.direction === "string" ? a.direction : "forward";
  const [T, N] = [x.shape[0]!, x.shape[1]!];
  const ys: Tensor[] = [];
  const hs: Tensor[] = [];
  const cs: Tensor[] = [];
  for (let d = 0; d < D; d++) {
    const reverse = direction === "reverse" || (direction === "bidirectional" && d === 1);
    const w = W!.select(0, d).transpose(0, 1); // [I, G·H]
    const r = R!.select(0, d).transpose(0, 1); // [H, G·H]
    const wb = B ? B.select(0, d).slice(0, 0, G * H) : null;
    const rb = B ? B.select(0, d).slice(0, G * H, 2 * G * H) : null;
    let h = h0 ? h0.select(0, d) : zeros([N, H], { dtype: x.dtype });
    let c = c0 ? c0.select(0, d) : zeros([N, H], { dtype: x.dtype });
    let xw = x.matmul(w); // every step's input projection at once: [T, N, G·H]
    if (wb) xw = xw.add(wb);
    const out = new Array<Tensor>(T);
    for (let s = 0; s < T; s++) {
      const t = reverse ? T - 1 - s : s;
      const xt = xw.select(0, t);
      if (kind === "RNN") {
        let pre = xt.add(h.matmul(r));
        if (rb) pre = pre.add(rb);
        h = acts![Math.min(d, acts!.length - 1)] === "Relu" ? pre.relu() : pre.tanh();
        out[t] = h;
        continue;
      }
      if (!isLstm) {
        // z, r, h: h~ = tanh(Xh + r ⊙ (H Rh + Rbh)) with linear_before_reset, else tanh(Xh + (r ⊙ H) Rh + Rbh).
        const gate = (k: number, v: Tensor) => v.slice(1, k * H, (k + 1) * H);
        let hr = h.matmul(r);
        if (rb) hr = hr.add(rb);
        const z = gate(0, xt).add(gate(0, hr)).sigmoid();
        const rr = gate(1, xt).add(gate(1, hr)).sigmoid();
        let n: Tensor;
        if (beforeReset)
          n = gate(2, xt)
            .add(rr.mul(gate(2, hr)))
            .tanh();
        else {
          let hh = rr.mul(h).matmul(r.slice(1, 2 * H, 3 * H));
          if (rb) hh = hh.add(rb.slice(0, 2 * H, 3 * H));
          n = gate(2, xt).add(hh).tanh();
        }
        h = z.neg().add(1).mul(n).add(z.mul(h));
        out[t] = h;
        continue;
      }
      let gates = xt.add(h.matmul(r));
      if (rb) gates = gates.add(rb);
      const i = gates.slice(1, 0, H).sigmoid();
      const o = gates.slice(1, H, 2 * H).sigmoid();
      const f = gates.slice(1, 2 * H, 3 * H).sigmoid();
      const g = gates.slice(1, 3 * H, 4 * H).tanh();
      c = f.mul(c).add(i.mul(g));
      h = o.mul(c.tanh());
      out[t] = h;
    }
    ys.push(stack(out, 0)); // [T, N, H]
    hs.push(h);
    cs.push(c);
  }
  const y = stack(ys, 1); // [T, D, N, H]
  const yOut = layout === 1 ? y.permute([2, 0, 1, 3]) : y;
  return isLstm ? [yOut, stack(hs, 0), stack(cs, 0)] : [yOut, stack(hs, 0)];
}

/** RNN's activations attribute: one name per direction, Tanh (the default) or Relu; others refused. */
function rnnActivations(v: Attrs[string] | undefined): string[] {
  if (v === undefined) return ["Tanh"];
  const names = Array.isArray(v) ? v : [v];
  for (const n of names)
    if (n !== "Tanh" && n !== "Relu")
      throw new DescentError(`onnx.load: RNN with activation ${String(n)} is not supported (Tanh or Relu)`);
  return names as string[];
}
