// LayerNorm, Linear and GELU as primitive ops over the fused accelerations (backends/accelerations.ts;
// fallback/norm.ts and fallback/gelu.ts are their op-by-op definitions): one kernel instead of the
// composite's ten for LayerNorm (it was the largest share of a GPT's per-token time), one call for a
// Linear's product and bias, one pass for GELU and one for its backward. Inputs keep their rank (so a traced graph, e.g. ONNX export, sees the layer's shapes);
// the kernels see them as [rows, features] views, which the tensor layer (src/tensor/norm.ts)
// guarantees exist (rowsView is not null) by copying an input whose layout does not collapse.

import type { View } from "../backends/index.js";
import type { RawTensor } from "./op.js";
import type { Tensor } from "../tensor/tensor.js";
import { accel, alloc, need, type OpDef } from "./op.js";

/**
 * x as a 2-D view [rows, cols] over its first `lead` dims and the rest, or null when its layout
 * does not allow one: the trailing dims must be contiguous, the leading ones must collapse.
 */
export function rowsView(x: View, lead: number): View | null {
  const { shape, strides } = x;
  let cols = 1;
  for (let i = shape.length - 1; i >= lead; i--) {
    if (shape[i] !== 1 && strides[i] !== cols) return null;
    cols *= shape[i]!;
  }
  let rows = 1;
  let rowStride: number | undefined;
  let next = 0;
  for (let i = lead - 1; i >= 0; i--) {
    rows *= shape[i]!;
    if (shape[i] === 1) continue;
    if (rowStride === undefined) rowStride = strides[i]!;
    else if (strides[i] !== next) return null;
    next = strides[i]! * shape[i]!;
  }
  return { data: x.data, shape: [rows, cols], strides: [rowStride ?? cols, 1], offset: x.offset };
}

/**
 * Ops have one output, so the statistics the backward reads ride in the params object, which the
 * graph node keeps: the tensor layer passes a fresh one per call.
 */
export interface LayerNormParams {
  readonly eps: number;
  /** How many trailing dims are normalised over (weight and bias have their shape). */
  readonly dims: number;
  readonly hasWeight: boolean;
  readonly hasBias: boolean;
  /** [rows, 2] = (mean, rstd) per row, set by the forward. */
  stats: RawTensor | null;
}

const affine = (inputs: readonly Tensor[], p: LayerNormParams): [Tensor | null, Tensor | null] => [
  p.hasWeight ? inputs[1]! : null,
  p.hasBias ? inputs[p.hasWeight ? 2 : 1]! : null,
];
/** A contiguous tensor (weight, bias, their gradients) as the [n] vector the kernels take. */
const flat = (t: Tensor | null): View | null => t && { data: t.data, shape: [t.size], strides: [1], offset: t.offset };

/** [x [..., *normalized], weight?, bias? (contiguous, of the normalized shape)] → x's shape. */
export const LayerNorm: OpDef<LayerNormParams> = {
  name: "layerNorm",
  saves: "inputs",
  forward(inputs, p) {
    const x = inputs[0]!;
    const [w, b] = affine(inputs, p);
    const x2 = rowsView(x, x.ndim - p.dims)!;
    const out = alloc(x.dtype, x.shape);
    p.stats = alloc(x.dtype, [x2.shape[0]!, 2]);
    accel().layerNorm(x2, flat(w), flat(b), p.eps, rowsView(out, x.ndim - p.dims)!, p.stats);
    return out;
  },
  // dx = (ĝ − mean ĝ − x̂·mean(ĝ·x̂))·rstd with ĝ = g·w;  dw = Σ g·x̂;  db = Σ g
  backward(g, inputs, _out, p) {
    const x = inputs[0]!;
    const [w, b] = affine(inputs, p);
    const lead = x.ndim - p.dims;
    const gc = rowsView(g, lead) ? g : g.contiguous();
    const dx = x.newZeros(x.shape);
    const dw = w?.requiresGrad ? w.newZeros(w.shape) : null;
    const db = b?.requiresGrad ? b.newZeros(b.shape) : null;
    const x2 = rowsView(x, lead)!;
    accel().layerNormBackward(rowsView(gc, lead)!, x2, flat(w), p.stats!, rowsView(dx, lead)!, flat(dw), flat(db));
    const grads = [need(x, () => dx)];
    if (w) grads.push(dw);
    if (b) grads.push(db);
    return grads;
  },
  freshGrads: true,
};

/** [x [..., K] (leading dims collapsible), weight [N, K], bias [N]?] → x·weightᵀ + bias [..., N]. */
export const Linear: OpDef = {
  name: "linear",
  saves: "inputs",
  forward([x, w, b]) {
    const out = alloc(x!.dtype, [...x!.shape.slice(0, -1), w!.shape[0]!]);
    accel().linear(rowsView(x!, x!.ndim - 1)!, w!, b ?? null, rowsView(out, x!.ndim - 1)!);
    return out;
  },
  // dx = g·W;  dW = gᵀ·x;  db = Σ_rows g  (over every leading dim)
  backward(g, [x, w, b]) {
    const k = x!.shape[x!.ndim - 1]!;
    const n = w!.shape[0]!;
    const g2 = g.reshape([-1, n]);
    return [
      need(x!, () => g.matmul(w!)),
      need(w!, () => g2.transpose(0, 1).matmul(x!.reshape([-1, k]))),
      ...(b ? [need(b, () => g2.sum(0))] : []),
    ];
  },
  // Every gradient above is a new tensor (a product or a sum), never g or a view of it: backward
  // may keep dW as the weight's .grad instead of copying it (issue 15: ~1 MB a step for W2's MLP).
  freshGrads: true,
};

/** [x] (contiguous) → GELU(x); the param says whether it is the tanh approximation. */
export const Gelu: OpDef<boolean> = {
  name: "gelu",
  saves: "inputs",
  forward([x], tanh) {
    const out = alloc(x!.dtype, x!.shape);
    accel().gelu(x!, tanh, out);
    return out;
  },
  // g·GELU′(x) (fallback/gelu.ts writes the derivative out)
  backward(g, [x], _out, tanh) {
    const gx = x!.newZeros(x!.shape);
    accel().geluBackward(g.contiguous(), x!, tanh, gx);
    return [gx];
  },
  freshGrads: true,
};
