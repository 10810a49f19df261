// ONNX's LSTM operator for onnx.load, written with Descent tensor methods one time step at a time
// (so gradients reach W, R and B). ONNX orders the gates i, o, f, c (PyTorch: i, f, g, o) and keeps
// both biases in B = [Wb, Rb]; Y is [T, D, N, H], Y_h and Y_c are [D, N, H].
import type { Tensor } from "../tensor/tensor.js";
import { stack } from "../tensor/tensor.js";
import { zeros } from "../tensor/creation.js";
import { DescentError } from "../core/errors.js";
import type { Attrs } from "./interp.js";

export function lstmOp(ins: (Tensor | null)[], a: Attrs): Tensor[] {
  const [x0, W, R, B, seqLens, h0, c0] = ins;
  if (seqLens) throw new DescentError("onnx.load: LSTM with sequence_lens is not supported");
  for (const k of ["activations", "clip", "input_forget"])
    if (a[k] !== undefined && !(k === "input_forget" && a[k] === 0))
      throw new DescentError(`onnx.load: LSTM with attribute ${k} is not supported`);
  if (ins[7]) throw new DescentError("onnx.load: LSTM with peepholes (input P) is not supported");
  const layout = typeof a.layout === "number" ? a.layout : 0;
  const x = layout === 1 ? x0!.transpose(0, 1) : x0!; // [T, N, I]
  const H = W!.shape[1]! / 4;
  const D = W!.shape[0]!;
  const direction = typeof a.direction === "string" ? a.direction : "forward";
  const [T, N] = [x.shape[0]!, x.shape[1]!];
  const ys: Tensor[] = [];
  const hs: Tensor[] = [];
  const cs: Tensor[] = [];
  for (let d = 0; d < D; d++) {
    const reverse = direction === "reverse" || (direction === "bidirectional" && d === 1);
    const w = W!.select(0, d).transpose(0, 1); // [I, 4H]
    const r = R!.select(0, d).transpose(0, 1); // [H, 4H]
    const b = B
      ? B.select(0, d)
          .slice(0, 0, 4 * H)
          .add(B.select(0, d).slice(0, 4 * H, 8 * H))
      : null;
    let h = h0 ? h0.select(0, d) : zeros([N, H], { dtype: x.dtype });
    let c = c0 ? c0.select(0, d) : zeros([N, H], { dtype: x.dtype });
    const xw = x.matmul(w); // every step's input projection at once: [T, N, 4H]
    const out = new Array<Tensor>(T);
    for (let s = 0; s < T; s++) {
      const t = reverse ? T - 1 - s : s;
      let gates = xw.select(0, t).add(h.matmul(r));
      if (b) gates = gates.add(b);
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
  return [layout === 1 ? y.permute([2, 0, 1, 3]) : y, stack(hs, 0), stack(cs, 0)];
}
