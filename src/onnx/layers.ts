// onnx.export's layer table: layers written whole as their ONNX operator (Gemm, Conv, pooling,
// BatchNormalization, LayerNormalization, Gather, activations) instead of the primitive ops their
// Descent forward happens to run (a conv runs as unfold + matmul; GELU as an erf formula). A layer
// not listed here is traced through its ops (ops.ts).
import type { Tensor } from "../tensor/tensor.js";
import type { Module } from "../nn/module.js";
import * as nn from "../nn/index.js";
import { ones, zeros } from "../tensor/creation.js";
import { DescentError } from "../core/errors.js";
import type { GraphBuilder } from "./graph.js";
import { gru, lstm, rnn } from "./layers_rnn.js";

type LayerFn = (g: GraphBuilder, m: Module, x: Tensor, out: Tensor) => void;
/** A layer writer sees forward's arguments and its raw result (a tuple for the recurrent layers). */
export type LayerEmit = (g: GraphBuilder, m: Module, args: unknown[], out: unknown) => void;

const f = (v: number) => ({ float: v });
const pair = (v: number | readonly number[]) => (typeof v === "number" ? [v, v] : [...v]);

function optName(g: GraphBuilder, t: Tensor | null): string {
  return t === null ? "" : g.name(t);
}

/** Pads as ONNX wants them: all begins, then all ends. */
function pads(p: readonly number[]): number[] {
  return [...p, ...p];
}

const emitters: [abstract new (...a: never[]) => Module, LayerFn][] = [
  [
    nn.Linear,
    (g, m, x, out) => {
      const l = m as nn.Linear;
      // Gemm wants 2-D input; other ranks use MatMul against the transposed weight, then Add.
      if (x.shape.length === 2) {
        g.node("Gemm", [g.name(x), g.name(l.weight), optName(g, l.bias)], [g.out(out, "linear")], { transB: 1 });
        return;
      }
      const wt = g.node("Transpose", [g.name(l.weight)], [g.fresh("wT")], { perm: [1, 0] });
      const mm = g.node("MatMul", [g.name(x), wt[0]!], [l.bias ? g.fresh("mm") : g.out(out, "linear")]);
      if (l.bias) g.node("Add", [mm[0]!, g.name(l.bias)], [g.out(out, "linear")]);
    },
  ],
  [nn.Conv1d, (g, m, x, out) => conv(g, m as nn.Conv1d, x, out)],
  [nn.Conv2d, (g, m, x, out) => conv(g, m as nn.Conv2d, x, out)],
  [
    nn.MaxPool2d,
    (g, m, x, out) => {
      const p = m as nn.MaxPool2d;
      g.node("MaxPool", [g.name(x)], [g.out(out, "maxpool")], {
        kernel_shape: pair(p.kernelSize),
        strides: pair(p.stride),
        pads: pads(pair(p.padding)),
        dilations: pair(p.dilation),
        ceil_mode: p.ceilMode ? 1 : 0,
      });
    },
  ],
  [
    nn.AvgPool2d,
    (g, m, x, out) => {
      const p = m as nn.AvgPool2d;
      if (p.divisorOverride !== null)
        throw new DescentError("onnx.export: AvgPool2d with divisorOverride has no ONNX form");
      g.node("AveragePool", [g.name(x)], [g.out(out, "avgpool")], {
        kernel_shape: pair(p.kernelSize),
        strides: pair(p.stride),
        pads: pads(pair(p.padding)),
        ceil_mode: p.ceilMode ? 1 : 0,
        count_include_pad: p.countIncludePad ? 1 : 0,
      });
    },
  ],
  [
    nn.AdaptiveAvgPool2d,
    (g, m, x, out) => {
      const size = out.shape.slice(-2);
      if (size[0] !== 1 || size[1] !== 1)
        throw new DescentError(
          `onnx.export: AdaptiveAvgPool2d to ${size.join("x")} has no ONNX form (only the global 1x1 has: GlobalAveragePool)`,
        );
      g.node("GlobalAveragePool", [g.name(x)], [g.out(out, "gap")]);
    },
  ],
  [nn.BatchNorm1d, (g, m, x, out) => batchNorm(g, m as nn.BatchNorm1d, x, out)],
  [nn.BatchNorm2d, (g, m, x, out) => batchNorm(g, m as nn.BatchNorm2d, x, out)],
  [
    nn.LayerNorm,
    (g, m, x, out) => {
      const l = m as nn.LayerNorm;
      // LayerNormalization (opset 17) requires a scale; a layer without affine gets ones.
      const n = l.normalizedShape.length;
      const scale = l.weight ? g.name(l.weight) : g.name(onesLike(x, l.normalizedShape));
      const ins = [g.name(x), scale, ...(l.bias ? [g.name(l.bias)] : [])];
      g.node("LayerNormalization", ins, [g.out(out, "layernorm")], { axis: -n, epsilon: f(l.eps) });
    },
  ],
  [
    nn.Embedding,
    (g, m, x, out) => {
      const e = m as nn.Embedding;
      g.node("Gather", [g.name(e.weight), g.name(x)], [g.out(out, "embedding")], { axis: 0 });
    },
  ],
  // Eval-mode Dropout and Identity are no-ops: their output is their input's value, no node.
  [nn.Dropout, (g, _m, x, out) => void g.bind(out, g.name(x))],
  [nn.Identity, (g, _m, x, out) => void g.bind(out, g.name(x))],
  [
    nn.Flatten,
    (g, m, x, out) => {
      const fl = m as nn.Flatten;
      const end = fl.endDim < 0 ? fl.endDim + x.shape.length : fl.endDim;
      if (fl.startDim === 1 && end === x.shape.length - 1) g.node("Flatten", [g.name(x)], [g.out(out, "flatten")]);
      else
        g.node(
          "Reshape",
          [g.name(x), g.ints(out.shape.map((d, i) => (i === 0 && g.batch !== null ? 0 : d)))],
          [g.out(out, "flatten")],
        );
    },
  ],
  [nn.ReLU, (g, _m, x, out) => void g.node("Relu", [g.name(x)], [g.out(out, "relu")])],
  [nn.Sigmoid, (g, _m, x, out) => void g.node("Sigmoid", [g.name(x)], [g.out(out, "sigmoid")])],
  [nn.Tanh, (g, _m, x, out) => void g.node("Tanh", [g.name(x)], [g.out(out, "tanh")])],
  [
    nn.LeakyReLU,
    (g, m, x, out) =>
      void g.node("LeakyRelu", [g.name(x)], [g.out(out, "leakyrelu")], { alpha: f((m as nn.LeakyReLU).negativeSlope) }),
  ],
  [nn.ELU, (g, m, x, out) => void g.node("Elu", [g.name(x)], [g.out(out, "elu")], { alpha: f((m as nn.ELU).alpha) })],
  [
    nn.SiLU,
    (g, _m, x, out) => {
      const s = g.node("Sigmoid", [g.name(x)], [g.fresh("sigmoid")]);
      g.node("Mul", [g.name(x), s[0]!], [g.out(out, "silu")]);
    },
  ],
  [nn.GELU, (g, m, x, out) => geluNodes(g, x, out, (m as nn.GELU).approximate === "tanh")],
  [
    nn.PReLU,
    (g, m, x, out) => {
      // ONNX broadcasts the slope from the last dim; PyTorch's per-channel slope is along dim 1.
      const w = (m as nn.PReLU).weight;
      const slope =
        w.shape[0] === 1 || x.ndim < 2 ? g.name(w) : g.name(w.reshape([w.shape[0]!, ...x.shape.slice(2).map(() => 1)]));
      g.node("PRelu", [g.name(x), slope], [g.out(out, "prelu")]);
    },
  ],
  [
    nn.Softmax,
    (g, m, x, out) => void g.node("Softmax", [g.name(x)], [g.out(out, "softmax")], { axis: (m as nn.Softmax).dim }),
  ],
  [
    nn.LogSoftmax,
    (g, m, x, out) =>
      void g.node("LogSoftmax", [g.name(x)], [g.out(out, "logsoftmax")], { axis: (m as nn.LogSoftmax).dim }),
  ],
];

function conv(g: GraphBuilder, c: nn.Conv1d | nn.Conv2d, x: Tensor, out: Tensor): void {
  const nd = c.kernelSize.length;
  let p: number[];
  if (c.padding === "valid") p = new Array<number>(nd).fill(0);
  else if (c.padding === "same") {
    // Same padding as PyTorch: the extra element (odd total) goes at the end.
    const tot = c.kernelSize.map((k, i) => c.dilation[i]! * (k - 1));
    p = [...tot.map((t) => Math.floor(t / 2)), ...tot.map((t) => t - Math.floor(t / 2))];
  } else p = pads(c.padding);
  if (p.length === nd) p = pads(p);
  const ins = [g.name(x), g.name(c.weight), ...(c.bias ? [g.name(c.bias)] : [])];
  g.node("Conv", ins, [g.out(out, "conv")], {
    kernel_shape: c.kernelSize,
    strides: c.stride,
    pads: p,
    dilations: c.dilation,
    group: c.groups,
  });
}

function batchNorm(g: GraphBuilder, b: nn.BatchNorm1d | nn.BatchNorm2d, x: Tensor, out: Tensor): void {
  if (!b.running_mean || !b.running_var)
    throw new DescentError("onnx.export: BatchNorm without running statistics has no inference form");
  const c = b.numFeatures;
  const w = b.weight ? g.name(b.weight) : g.name(onesLike(x, [c]));
  const bias = b.bias ? g.name(b.bias) : g.name(zeros([c], { dtype: x.dtype }));
  g.node(
    "BatchNormalization",
    [g.name(x), w, bias, g.name(b.running_mean), g.name(b.running_var)],
    [g.out(out, "bn")],
    {
      epsilon: f(b.eps),
    },
  );
}

function onesLike(x: Tensor, shape: readonly number[]): Tensor {
  return ones(shape, { dtype: x.dtype });
}

/** The layer writer for m, or null when m is traced through its ops. */
export function layerEmitter(m: Module): LayerEmit | null {
  if (m.constructor === nn.LSTM) return lstm;
  if (m.constructor === nn.GRU) return gru;
  if (m.constructor === nn.RNN) return rnn;
  for (const [cls, emit] of emitters)
    if (m.constructor === cls) return (g, mod, args, out) => emit(g, mod, args[0] as Tensor, out as Tensor);
  return null;
}

/**
 * Opset 17 has no Gelu: 0.5 x (1 + erf(x / √2)), or with approximate "tanh"
 * 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))), as torch.onnx writes them.
 */
export function geluNodes(g: GraphBuilder, x: Tensor, out: Tensor, tanh: boolean): void {
  let inner: string;
  if (tanh) {
    const x3 = g.node("Pow", [g.name(x), g.scalar(3)], [g.fresh("gelu")]);
    const k = g.node("Mul", [x3[0]!, g.scalar(0.044715)], [g.fresh("gelu")]);
    const s = g.node("Add", [g.name(x), k[0]!], [g.fresh("gelu")]);
    const u = g.node("Mul", [s[0]!, g.scalar(Math.sqrt(2 / Math.PI))], [g.fresh("gelu")]);
    inner = g.node("Tanh", u, [g.fresh("gelu")])[0]!;
  } else {
    const d = g.node("Div", [g.name(x), g.scalar(Math.SQRT2)], [g.fresh("gelu")]);
    inner = g.node("Erf", d, [g.fresh("gelu")])[0]!;
  }
  const a = g.node("Add", [inner, g.scalar(1)], [g.fresh("gelu")]);
  const mx = g.node("Mul", [g.name(x), a[0]!], [g.fresh("gelu")]);
  g.node("Mul", [mx[0]!, g.scalar(0.5)], [g.out(out, "gelu")]);
}
