// onnx.export's writers for nn.LSTM, nn.GRU and nn.RNN: one ONNX LSTM / GRU / RNN node per layer (both directions
// in one node). ONNX wants LSTM's gates as i, o, f, c where PyTorch and Descent keep i, f, g, o, and
// GRU's as z, r, h where they keep r, z, n (with linear_before_reset = 1, PyTorch's GRU form); it
// stacks the directions ([D, G·H, ·]) and keeps both biases in one B = [Wb, Rb]. The weights are
// reordered here and written as constants. RNN has one gate and names its nonlinearity in `activations`.
import type { Tensor } from "../tensor/tensor.js";
import { cat, stack } from "../tensor/tensor.js";
import type { Module } from "../nn/module.js";
import type * as nn from "../nn/index.js";
import { DescentError, shapeStr } from "../core/errors.js";
import type { GraphBuilder } from "./graph.js";

/** LSTM: PyTorch's gate blocks [i, f, g, o] -> ONNX's [i, o, f, c]; GRU: [r, z, n] -> [z, r, h]. */
const ORDER = { LSTM: [0, 3, 1, 2], GRU: [1, 0, 2], RNN: [0] } as const;

export const lstm = (g: GraphBuilder, m: Module, args: unknown[], out: unknown): void =>
  recurrent("LSTM", g, m, args, out);
export const gru = (g: GraphBuilder, m: Module, args: unknown[], out: unknown): void =>
  recurrent("GRU", g, m, args, out);
export const rnn = (g: GraphBuilder, m: Module, args: unknown[], out: unknown): void =>
  recurrent("RNN", g, m, args, out);

function recurrent(kind: "LSTM" | "GRU" | "RNN", g: GraphBuilder, m: Module, args: unknown[], out: unknown): void {
  const l = m as nn.LSTM | nn.GRU | nn.RNN;
  const isLstm = kind === "LSTM";
  const x = args[0] as Tensor;
  const state = (args[1] ?? null) as readonly [Tensor, Tensor] | Tensor | null;
  const [h0, c0] = state === null ? [] : isLstm ? (state as readonly [Tensor, Tensor]) : [state as Tensor];
  if (x.ndim !== 3)
    throw new DescentError(`onnx.export: ${kind} on an unbatched input ${shapeStr(x.shape)} is not exported`);
  const [y, hN, cN] = isLstm
    ? [(out as [Tensor, [Tensor, Tensor]])[0], ...(out as [Tensor, [Tensor, Tensor]])[1]]
    : [(out as [Tensor, Tensor])[0], (out as [Tensor, Tensor])[1], null];
  const reorder = (w: Tensor, H: number) =>
    cat(
      ORDER[kind].map((b) => w.slice(0, b * H, (b + 1) * H)),
      0,
    );
  const H = l.hiddenSize;
  const D = l.numDirections;
  const p = (name: string) => (l as unknown as Record<string, Tensor | null>)[name] ?? null;
  let cur = g.name(x);
  if (l.batchFirst) cur = g.node("Transpose", [cur], [g.fresh("lstm_in")], { perm: [1, 0, 2] })[0]!;
  const hs: string[] = [];
  const cs: string[] = [];
  for (let layer = 0; layer < l.numLayers; layer++) {
    const sfx = (d: number) => `_l${layer}${d === 1 ? "_reverse" : ""}`;
    const dirs = Array.from({ length: D }, (_, d) => d);
    const W = stack(
      dirs.map((d) => reorder(p(`weight_ih${sfx(d)}`)!, H)),
      0,
    );
    const R = stack(
      dirs.map((d) => reorder(p(`weight_hh${sfx(d)}`)!, H)),
      0,
    );
    const B = l.bias
      ? stack(
          dirs.map((d) => cat([reorder(p(`bias_ih${sfx(d)}`)!, H), reorder(p(`bias_hh${sfx(d)}`)!, H)], 0)),
          0,
        )
      : null;
    // Initial states: this layer's D rows of h0 and c0.
    const init = (t: Tensor | undefined) =>
      t
        ? g.node(
            "Slice",
            [g.name(t), g.ints([layer * D]), g.ints([(layer + 1) * D]), g.ints([0])],
            [g.fresh("lstm_state")],
          )[0]!
        : "";
    const ins = [cur, g.name(W), g.name(R), B ? g.name(B) : "", "", init(h0), ...(isLstm ? [init(c0)] : [])];
    while (ins[ins.length - 1] === "") ins.pop();
    const outs = [g.fresh("rnn_y"), g.fresh("rnn_h"), ...(isLstm ? [g.fresh("rnn_c")] : [])];
    const [Y, Yh, Yc] = g.node(kind, ins, outs, {
      hidden_size: H,
      direction: D === 2 ? "bidirectional" : "forward",
      ...(kind === "GRU" ? { linear_before_reset: 1 } : {}),
      ...(kind === "RNN"
        ? { activations: { strings: dirs.map(() => ((l as nn.RNN).nonlinearity === "relu" ? "Relu" : "Tanh")) } }
        : {}),
    });
    // Y [T, D, N, H] -> [T, N, D·H], the next layer's input.
    const t = g.node("Transpose", [Y!], [g.fresh("lstm_t")], { perm: [0, 2, 1, 3] });
    cur = g.node("Reshape", [t[0]!, g.ints([0, 0, -1])], [g.fresh("lstm_out")])[0]!;
    hs.push(Yh!);
    if (Yc) cs.push(Yc);
  }
  if (l.batchFirst) g.node("Transpose", [cur], [g.out(y, "lstm")], { perm: [1, 0, 2] });
  else g.bind(y, cur);
  const states: [Tensor, string[]][] = cN
    ? [
        [hN, hs],
        [cN, cs],
      ]
    : [[hN, hs]];
  for (const [t, names] of states)
    if (names.length === 1) g.bind(t, names[0]!);
    else g.node("Concat", names, [g.out(t, "rnn_state")], { axis: 0 });
}
