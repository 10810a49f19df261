// onnx.export's writer for nn.LSTM: one ONNX LSTM node per layer (both directions in one node).
// ONNX wants the gates as i, o, f, c where PyTorch and Descent keep i, f, g, o, stacks the
// directions ([D, 4H, ·]) and keeps both biases in one B = [Wb, Rb]; the weights are reordered
// here and written as constants.
import type { Tensor } from "../tensor/tensor.js";
import { cat, stack } from "../tensor/tensor.js";
import type { Module } from "../nn/module.js";
import type * as nn from "../nn/index.js";
import { DescentError, shapeStr } from "../core/errors.js";
import type { GraphBuilder } from "./graph.js";

/** Rows in PyTorch's gate blocks [i, f, g, o] -> ONNX's [i, o, f, c]. */
function reorder(w: Tensor, H: number): Tensor {
  return cat([w.slice(0, 0, H), w.slice(0, 3 * H, 4 * H), w.slice(0, H, 2 * H), w.slice(0, 2 * H, 3 * H)], 0);
}

export function lstm(g: GraphBuilder, m: Module, args: unknown[], out: unknown): void {
  const l = m as nn.LSTM;
  const x = args[0] as Tensor;
  const state = (args[1] ?? null) as readonly [Tensor, Tensor] | null;
  if (x.ndim !== 3)
    throw new DescentError(`onnx.export: LSTM on an unbatched input ${shapeStr(x.shape)} is not exported`);
  const [y, [hN, cN]] = out as [Tensor, [Tensor, Tensor]];
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
    const ins = [cur, g.name(W), g.name(R), B ? g.name(B) : "", "", init(state?.[0]), init(state?.[1])];
    while (ins[ins.length - 1] === "") ins.pop();
    const [Y, Yh, Yc] = g.node("LSTM", ins, [g.fresh("lstm_y"), g.fresh("lstm_h"), g.fresh("lstm_c")], {
      hidden_size: H,
      direction: D === 2 ? "bidirectional" : "forward",
    });
    // Y [T, D, N, H] -> [T, N, D·H], the next layer's input.
    const t = g.node("Transpose", [Y!], [g.fresh("lstm_t")], { perm: [0, 2, 1, 3] });
    cur = g.node("Reshape", [t[0]!, g.ints([0, 0, -1])], [g.fresh("lstm_out")])[0]!;
    hs.push(Yh!);
    cs.push(Yc!);
  }
  if (l.batchFirst) g.node("Transpose", [cur], [g.out(y, "lstm")], { perm: [1, 0, 2] });
  else g.bind(y, cur);
  if (hs.length === 1) {
    g.bind(hN, hs[0]!);
    g.bind(cN, cs[0]!);
  } else {
    g.node("Concat", hs, [g.out(hN, "lstm_hn")], { axis: 0 });
    g.node("Concat", cs, [g.out(cN, "lstm_cn")], { axis: 0 });
  }
}
