// onnx.export's op-level table: the ONNX nodes (opset 17) for each Descent primitive op a traced
// forward ran outside the layers that layers.ts writes whole. An op missing here has no ONNX form
// and stops the export with its name.
import type { Tensor } from "../tensor/tensor.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { DT } from "./proto.js";
import { onnxDType, type GraphBuilder } from "./graph.js";
import { geluNodes } from "./layers.js";

type Emit = (g: GraphBuilder, inputs: readonly Tensor[], params: unknown, out: Tensor) => void;

const UNARY: Record<string, string> = {
  neg: "Neg",
  abs: "Abs",
  sign: "Sign",
  exp: "Exp",
  log: "Log",
  sqrt: "Sqrt",
  reciprocal: "Reciprocal",
  sin: "Sin",
  cos: "Cos",
  tanh: "Tanh",
  sigmoid: "Sigmoid",
  relu: "Relu",
  erf: "Erf",
  floor: "Floor",
  ceil: "Ceil",
  round: "Round",
  clone: "Identity",
};
const BINARY: Record<string, string> = {
  add: "Add",
  sub: "Sub",
  mul: "Mul",
  div: "Div",
  pow: "Pow",
  maximum: "Max",
  minimum: "Min",
};
// Comparisons give ONNX bool; Descent's masks are int32 0/1.
const COMPARE: Record<string, string> = {
  eq: "Equal",
  lt: "Less",
  le: "LessOrEqual",
  gt: "Greater",
  ge: "GreaterOrEqual",
};
const REDUCE: Record<string, string> = { sum: "ReduceSum", mean: "ReduceMean", amax: "ReduceMax", amin: "ReduceMin" };

const table: Record<string, Emit> = {
  expm1: (g, [x], _p, out) => {
    const e = g.node("Exp", [g.name(x!)], [g.fresh("exp")]);
    g.node("Sub", [e[0]!, g.scalar(1)], [g.out(out, "expm1")]);
  },
  log1p: (g, [x], _p, out) => {
    const a = g.node("Add", [g.name(x!), g.scalar(1)], [g.fresh("add")]);
    g.node("Log", a, [g.out(out, "log1p")]);
  },
  ne: (g, [a, b], _p, out) => {
    const e = g.node("Equal", [g.broadcastName(a!), g.broadcastName(b!)], [g.fresh("eq")]);
    const n = g.node("Not", e, [g.fresh("ne")]);
    g.node("Cast", n, [g.out(out, "ne")], { to: onnxDType(out.dtype, "ne") });
  },
  where: (g, [c, a, b], _p, out) => {
    const cond = g.node("Cast", [g.broadcastName(c!)], [g.fresh("cond")], { to: DT.bool });
    g.node("Where", [cond[0]!, g.broadcastName(a!), g.broadcastName(b!)], [g.out(out, "where")]);
  },
  to: (g, [x], _p, out) => {
    g.node("Cast", [g.name(x!)], [g.out(out, "cast")], { to: onnxDType(out.dtype, "cast") });
  },
  matmul: (g, [a, b], _p, out) => {
    g.node("MatMul", [g.name(a!), g.name(b!)], [g.out(out, "matmul")]);
  },
  // The fused ops of src/ops/norm.ts (F.linear / F.layerNorm called outside the layers written whole).
  linear: (g, [x, w, b], _p, out) => {
    if (x!.ndim === 2) {
      g.node("Gemm", [g.name(x!), g.name(w!), b ? g.name(b) : ""], [g.out(out, "linear")], { transB: 1 });
      return;
    }
    const wt = g.node("Transpose", [g.name(w!)], [g.fresh("wT")], { perm: [1, 0] });
    const mm = g.node("MatMul", [g.name(x!), wt[0]!], [b ? g.fresh("mm") : g.out(out, "linear")]);
    if (b) g.node("Add", [mm[0]!, g.name(b)], [g.out(out, "linear")]);
  },
  gelu: (g, [x], tanh, out) => geluNodes(g, x!, out, tanh === true),
  layerNorm: (g, inputs, p, out) => {
    const { eps, dims, hasWeight, hasBias } = p as { eps: number; dims: number; hasWeight: boolean; hasBias: boolean };
    const x = inputs[0]!;
    // LayerNormalization (opset 17) requires a scale: ones where the call had no weight.
    const scale = hasWeight ? g.name(inputs[1]!) : g.name(x.newOnes(x.shape.slice(x.ndim - dims)));
    const bias = hasBias ? [g.name(inputs[hasWeight ? 2 : 1]!)] : [];
    g.node("LayerNormalization", [g.name(x), scale, ...bias], [g.out(out, "layernorm")], {
      axis: -dims,
      epsilon: { float: eps },
    });
  },
  view: (g, [x], _p, out) => {
    // 0 copies the input's dim: keeps a reshape that leaves the batch dim alone batch-dynamic.
    const shape = out.shape.map((d, i) => (g.isBatchDim(x!.shape, i) && d === x!.shape[0] ? 0 : d));
    g.node("Reshape", [g.name(x!), g.ints(shape)], [g.out(out, "reshape")]);
  },
  permute: (g, [x], p, out) => {
    g.node("Transpose", [g.name(x!)], [g.out(out, "transpose")], { perm: p as readonly number[] });
  },
  slice: (g, [x], p, out) => {
    const { dim, start, length, step } = p as { dim: number; start: number; length: number; step: number };
    const full = x!.shape[dim]!;
    let end = start + length * step;
    // A slice to the end of a dynamic dim stays open-ended.
    if (g.isBatchDim(x!.shape, dim) && end >= full) end = Number.MAX_SAFE_INTEGER;
    if (step < 0 && end < 0) end = -Number.MAX_SAFE_INTEGER;
    const ins = [g.name(x!), g.ints([start]), g.ints([end]), g.ints([dim]), g.ints([step])];
    g.node("Slice", ins, [g.out(out, "slice")]);
  },
  cat: (g, inputs, p, out) => {
    g.node(
      "Concat",
      inputs.map((t) => g.name(t)),
      [g.out(out, "concat")],
      { axis: p as number },
    );
  },
  softmax: (g, [x], _p, out) => void g.node("Softmax", [g.name(x!)], [g.out(out, "softmax")], { axis: -1 }),
  logSoftmax: (g, [x], _p, out) => void g.node("LogSoftmax", [g.name(x!)], [g.out(out, "logsoftmax")], { axis: -1 }),
  gather: (g, [x, idx], p, out) => {
    g.node("GatherElements", [g.name(x!), g.name(idx!)], [g.out(out, "gather")], { axis: p as number });
  },
};
table.expand = (g, [x], p, out) => g.deferExpand(out, x!, p as readonly number[]);
for (const [k, v] of Object.entries(UNARY))
  table[k] = (g, [x], _p, out) => void g.node(v, [g.name(x!)], [g.out(out, k)]);
for (const [k, v] of Object.entries(BINARY))
  table[k] = (g, [a, b], _p, out) => void g.node(v, [g.broadcastName(a!), g.broadcastName(b!)], [g.out(out, k)]);
for (const [k, v] of Object.entries(COMPARE))
  table[k] = (g, [a, b], _p, out) => {
    const c = g.node(v, [g.broadcastName(a!), g.broadcastName(b!)], [g.fresh(k)]);
    g.node("Cast", c, [g.out(out, k)], { to: onnxDType(out.dtype, k) });
  };
for (const [k, v] of Object.entries(REDUCE))
  table[k] = (g, [x], p, out) => {
    const { dims, keepDim } = p as { dims: readonly number[]; keepDim: boolean };
    const keepdims = keepDim ? 1 : 0;
    // Opset 13 moved ReduceSum's axes to an input; the others keep the attribute until opset 18.
    if (v === "ReduceSum") g.node(v, [g.name(x!), g.ints(dims)], [g.out(out, k)], { keepdims });
    else g.node(v, [g.name(x!)], [g.out(out, k)], { axes: dims, keepdims });
  };

/** Writes the nodes for one traced op, or refuses an op with no ONNX form here. */
export function emitOp(g: GraphBuilder, name: string, inputs: readonly Tensor[], params: unknown, out: Tensor): void {
  const emit = table[name];
  if (!emit)
    throw new DescentError(
      `onnx.export: op ${name} (inputs ${inputs.map((t) => shapeStr(t.shape)).join(", ")}) has no ONNX form in this exporter`,
    );
  emit(g, inputs, params, out);
}
