// The ONNX operators onnx.load runs, each written with Descent tensor methods (so gradients flow
// through them and an imported model can be fine-tuned). Covers what onnx.export writes and what
// torch.onnx.export writes for MLPs and CNNs; an operator missing here is refused by name at load.
import type { Tensor } from "../tensor/tensor.js";
import { cat, where } from "../tensor/tensor.js";
import { tensor, zeros } from "../tensor/creation.js";
import * as F from "../nn/functional/index.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { DT } from "./proto.js";
import { gruOp, lstmOp, rnnOp } from "./interp_rnn.js";

/** A node's attributes, decoded: ints/floats as numbers, lists as arrays, a tensor as a Tensor. */
export type Attrs = Record<string, number | number[] | string | string[] | Tensor>;
type OpFn = (ins: (Tensor | null)[], a: Attrs) => Tensor[];

export const ints = (t: Tensor | null | undefined): number[] => (t ? Array.from(t.toFlatArray(), Number) : []);
const num = (a: Attrs, k: string, d: number): number => (typeof a[k] === "number" ? (a[k] as number) : d);
const list = (a: Attrs, k: string): number[] | null => (Array.isArray(a[k]) ? (a[k] as number[]) : null);
const axis = (ax: number, rank: number): number => (ax < 0 ? ax + rank : ax);
const one =
  (f: (x: Tensor, a: Attrs) => Tensor): OpFn =>
  (ins, a) => [f(ins[0]!, a)];
const two =
  (f: (x: Tensor, y: Tensor) => Tensor): OpFn =>
  (ins) => [f(ins[0]!, ins[1]!)];
const mask = (t: Tensor): Tensor => t.int(); // ONNX bool -> Descent's int32 0/1

function onnxPads(op: string, a: Attrs, nd: number): number[] {
  if (typeof a.auto_pad === "string" && a.auto_pad !== "NOTSET" && a.auto_pad !== "VALID")
    throw new DescentError(`onnx.load: ${op} with auto_pad ${a.auto_pad} is not supported`);
  return list(a, "pads") ?? new Array<number>(2 * nd).fill(0);
}

/** Symmetric pads only: Descent's pools pad each side alike. */
function symPads(op: string, a: Attrs, nd: number): number[] {
  const p = onnxPads(op, a, nd);
  for (let i = 0; i < nd; i++)
    if (p[i] !== p[i + nd])
      throw new DescentError(`onnx.load: ${op} with asymmetric pads [${p.join(", ")}] is not supported`);
  return p.slice(0, nd);
}

/** A conv's pads: symmetric ones go to the conv; uneven ones (PyTorch's "same" with an even kernel) pad x first. */
function convPads(x: Tensor, a: Attrs, nd: number): [Tensor, number[]] {
  const p = onnxPads("Conv", a, nd);
  if (p.every((v, i) => i >= nd || v === p[i + nd])) return [x, p.slice(0, nd)];
  const byDim: number[] = [];
  for (let d = nd - 1; d >= 0; d--) byDim.push(p[d]!, p[d + nd]!);
  return [F.pad(x, byDim), new Array<number>(nd).fill(0)];
}

function pool(op: string, x: Tensor, a: Attrs, max: boolean): Tensor {
  const k = list(a, "kernel_shape")!;
  if (k.length !== 2 && k.length !== 1)
    throw new DescentError(`onnx.load: ${op} over ${k.length} dims is not supported`);
  const one1 = k.length === 1;
  const x4 = one1 ? x.unsqueeze(2) : x;
  const kk = one1 ? [1, k[0]!] : k;
  const s = list(a, "strides") ?? k.map(() => 1);
  const p = symPads(op, a, k.length);
  const opts = {
    stride: (one1 ? [1, s[0]!] : s) as [number, number],
    padding: (one1 ? [0, p[0]!] : p) as [number, number],
    ceilMode: num(a, "ceil_mode", 0) === 1,
  };
  const y = max
    ? F.maxPool2d(x4, kk as [number, number], {
        ...opts,
        dilation: (list(a, "dilations") ?? [1, 1]) as [number, number],
      })
    : F.avgPool2d(x4, kk as [number, number], { ...opts, countIncludePad: num(a, "count_include_pad", 0) === 1 });
  return one1 ? y.squeeze(2) : y;
}

function reshape(x: Tensor, shape: number[], allowZero: boolean): Tensor {
  return x.reshape(shape.map((d, i) => (d === 0 && !allowZero ? x.shape[i]! : d)));
}

function reduce(
  x: Tensor,
  ins: (Tensor | null)[],
  a: Attrs,
  f: (x: Tensor, d: number[] | undefined, k: boolean) => Tensor,
): Tensor {
  const axes = ins[1] ? ints(ins[1]) : list(a, "axes");
  const keep = num(a, "keepdims", 1) === 1;
  if (!axes || axes.length === 0)
    return num(a, "noop_with_empty_axes", 0) === 1
      ? x
      : f(
          x,
          x.shape.map((_, i) => i),
          keep,
        );
  return f(
    x,
    axes.map((d) => axis(d, x.ndim)),
    keep,
  );
}

export const OPS: Record<string, OpFn> = {
  Identity: one((x) => x),
  Dropout: one((x) => x),
  Add: two((x, y) => x.add(y)),
  Sub: two((x, y) => x.sub(y)),
  Mul: two((x, y) => x.mul(y)),
  Div: two((x, y) => x.div(y)),
  Pow: two((x, y) => x.pow(y)),
  Max: (ins) => [ins.slice(1).reduce<Tensor>((m, t) => m.maximum(t!), ins[0]!)],
  Min: (ins) => [ins.slice(1).reduce<Tensor>((m, t) => m.minimum(t!), ins[0]!)],
  Equal: two((x, y) => mask(x.eq(y))),
  Less: two((x, y) => mask(x.lt(y))),
  LessOrEqual: two((x, y) => mask(x.le(y))),
  Greater: two((x, y) => mask(x.gt(y))),
  GreaterOrEqual: two((x, y) => mask(x.ge(y))),
  Not: one((x) => mask(x.eq(0))),
  Where: (ins) => [where(ins[0]!, ins[1]!, ins[2]!)],
  MatMul: two((x, y) => x.matmul(y)),
  Neg: one((x) => x.neg()),
  Abs: one((x) => x.abs()),
  Sign: one((x) => x.sign()),
  Exp: one((x) => x.exp()),
  Log: one((x) => x.log()),
  Sqrt: one((x) => x.sqrt()),
  Reciprocal: one((x) => x.reciprocal()),
  Sin: one((x) => x.sin()),
  Cos: one((x) => x.cos()),
  Erf: one((x) => x.erf()),
  Floor: one((x) => x.floor()),
  Ceil: one((x) => x.ceil()),
  Round: one((x) => x.round()),
  Tanh: one((x) => x.tanh()),
  Sigmoid: one((x) => x.sigmoid()),
  Relu: one((x) => x.relu()),
  LeakyRelu: one((x, a) => x.leakyRelu(num(a, "alpha", 0.01))),
  PRelu: two((x, s) => where(x.ge(0), x, x.mul(s))),
  Elu: one((x, a) => x.elu(num(a, "alpha", 1))),
  Softmax: one((x, a) => x.softmax(num(a, "axis", -1))),
  LogSoftmax: one((x, a) => x.logSoftmax(num(a, "axis", -1))),
  Cast: one((x, a) => {
    const to = num(a, "to", DT.float);
    if (to === DT.float || to === DT.double) return x.float();
    if (to === DT.int32 || to === DT.int64 || to === DT.bool) return to === DT.bool ? mask(x.ne(0)) : x.int();
    throw new DescentError(`onnx.load: Cast to ONNX data type ${to} is not supported`);
  }),
  Gemm: (ins, a) => {
    let A = ins[0]!;
    let B = ins[1]!;
    if (num(a, "transA", 0)) A = A.transpose(0, 1);
    if (num(a, "transB", 0)) B = B.transpose(0, 1);
    let y = A.matmul(B);
    const alpha = num(a, "alpha", 1);
    if (alpha !== 1) y = y.mul(alpha);
    const C = ins[2];
    if (C) y = y.add(num(a, "beta", 1) === 1 ? C : C.mul(num(a, "beta", 1)));
    return [y];
  },
  Conv: (ins, a) => {
    const [x0, w, b] = ins;
    const k = w!.shape.slice(2);
    const [x, padding] = convPads(x0!, a, k.length);
    const opts = {
      stride: list(a, "strides") ?? k.map(() => 1),
      padding,
      dilation: list(a, "dilations") ?? k.map(() => 1),
      groups: num(a, "group", 1),
    };
    if (k.length === 2) return [F.conv2d(x!, w!, b, opts as unknown as F.ConvOptions)];
    if (k.length === 1)
      return [
        F.conv1d(x!, w!, b, {
          stride: opts.stride[0],
          padding: opts.padding[0],
          dilation: opts.dilation[0],
          groups: opts.groups,
        }),
      ];
    throw new DescentError(`onnx.load: Conv with a ${shapeStr(w!.shape)} weight (${k.length}-D) is not supported`);
  },
  MaxPool: (ins, a) => [pool("MaxPool", ins[0]!, a, true)],
  AveragePool: (ins, a) => [pool("AveragePool", ins[0]!, a, false)],
  GlobalAveragePool: one((x) =>
    x.mean(
      x.shape.slice(2).map((_, i) => i + 2),
      true,
    ),
  ),
  GlobalMaxPool: one((x) =>
    x.amax(
      x.shape.slice(2).map((_, i) => i + 2),
      true,
    ),
  ),
  BatchNormalization: (ins, a) => {
    const [x, scale, bias, mean, v] = ins as Tensor[];
    const shape = x!.shape.map((d, i) => (i === 1 ? d : 1));
    const inv = v!
      .add(num(a, "epsilon", 1e-5))
      .sqrt()
      .reciprocal()
      .mul(scale!);
    return [x!.sub(mean!.reshape(shape)).mul(inv.reshape(shape)).add(bias!.reshape(shape))];
  },
  LayerNormalization: (ins, a) => {
    const [x, scale, bias] = ins;
    const ax = axis(num(a, "axis", -1), x!.ndim);
    return [F.layerNorm(x!, x!.shape.slice(ax), scale, bias ?? null, num(a, "epsilon", 1e-5))];
  },
  Flatten: one((x, a) => {
    const ax = axis(num(a, "axis", 1), x.ndim);
    const lead = x.shape.slice(0, ax).reduce((p, d) => p * d, 1);
    return x.reshape([lead, x.shape.slice(ax).reduce((p, d) => p * d, 1)]);
  }),
  Reshape: (ins, a) => [reshape(ins[0]!, ints(ins[1]), num(a, "allowzero", 0) === 1)],
  Transpose: one((x, a) => x.permute(list(a, "perm") ?? x.shape.map((_, i) => x.ndim - 1 - i))),
  Unsqueeze: (ins) => {
    const out = ins[0]!.ndim + ints(ins[1]).length;
    const axes = ints(ins[1])
      .map((d) => axis(d, out))
      .sort((p, q) => p - q);
    return [axes.reduce((t, d) => t.unsqueeze(d), ins[0]!)];
  },
  Squeeze: (ins) => [ins[1] ? ins[0]!.squeeze(ints(ins[1]).map((d) => axis(d, ins[0]!.ndim))) : ins[0]!.squeeze()],
  Concat: (ins, a) => [cat(ins as Tensor[], axis(num(a, "axis", 0), ins[0]!.ndim))],
  Gather: (ins, a) => {
    const [x, idx] = ins as Tensor[];
    const ax = axis(num(a, "axis", 0), x!.ndim);
    const i = idx!.int();
    const picked = x!.indexSelect(ax, i.reshape([-1]).add(i.reshape([-1]).lt(0).int().mul(x!.shape[ax]!)));
    return [picked.reshape([...x!.shape.slice(0, ax), ...idx!.shape, ...x!.shape.slice(ax + 1)])];
  },
  GatherElements: (ins, a) => [ins[0]!.gather(axis(num(a, "axis", 0), ins[0]!.ndim), ins[1]!.int())],
  Slice: (ins) => {
    let x = ins[0]!;
    const starts = ints(ins[1]);
    const ends = ints(ins[2]);
    const axes = ins[3] ? ints(ins[3]) : starts.map((_, i) => i);
    const steps = ins[4] ? ints(ins[4]) : starts.map(() => 1);
    axes.forEach((ax0, i) => {
      const ax = axis(ax0, x.ndim);
      const n = x.shape[ax]!;
      const step = steps[i]!;
      const clampIdx = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
      if (step > 0) x = x.slice(ax, clampIdx(starts[i]!, 0, n), clampIdx(ends[i]!, 0, n), step);
      else {
        const s = clampIdx(starts[i]!, 0, n - 1);
        const e = ends[i]! < -n ? -1 : clampIdx(ends[i]!, -1, n - 1);
        const len = Math.max(0, Math.ceil((e - s) / step));
        const idx = tensor(
          Array.from({ length: len }, (_, j) => s + j * step),
          { dtype: "int32" },
        );
        x = x.indexSelect(ax, idx);
      }
    });
    return [x];
  },
  Expand: (ins) => {
    const x = ins[0]!;
    const want = ints(ins[1]);
    const rank = Math.max(x.ndim, want.length);
    const xs = [...new Array<number>(rank - x.ndim).fill(1), ...x.shape];
    const ws = [...new Array<number>(rank - want.length).fill(1), ...want];
    return [x.reshape(xs).expand(xs.map((d, i) => (d === 1 ? ws[i]! : d)))];
  },
  Pad: (ins, a) => {
    const x = ins[0]!;
    const mode = typeof a.mode === "string" ? a.mode : "constant";
    if (mode !== "constant" && mode !== "reflect" && mode !== "edge")
      throw new DescentError(`onnx.load: Pad mode ${mode} is not supported`);
    const p = ints(ins[1]);
    const axes = ins[3] ? ints(ins[3]).map((d) => axis(d, x.ndim)) : x.shape.map((_, i) => i);
    // ONNX lists all begins then all ends, first axis first; F.pad wants (begin, end) pairs, last dim first.
    const byDim = new Array<number>(2 * x.ndim).fill(0);
    axes.forEach((d, i) => {
      byDim[2 * (x.ndim - 1 - d)] = p[i]!;
      byDim[2 * (x.ndim - 1 - d) + 1] = p[i + axes.length]!;
    });
    let last = byDim.length;
    while (last > 0 && byDim[last - 1] === 0 && byDim[last - 2] === 0) last -= 2;
    if (last === 0) return [x];
    const value = ins[2] ? ints(ins[2])[0]! : 0;
    const m = mode === "edge" ? "replicate" : mode;
    return [F.pad(x, byDim.slice(0, last), { mode: m, value })];
  },
  ConstantOfShape: (ins, a) => {
    const v = a.value as Tensor | undefined;
    const shape = ints(ins[0]);
    const fill = v ? v.reshape([]).item() : 0;
    return [zeros(shape, { dtype: v?.dtype ?? "float32" }).add(fill)];
  },
  LSTM: lstmOp,
  GRU: gruOp,
  RNN: rnnOp,
  Shape: one((x) => tensor([...x.shape], { dtype: "int32" })),
  ReduceSum: (ins, a) => [reduce(ins[0]!, ins, a, (x, d, k) => x.sum(d, k))],
  ReduceMean: (ins, a) => [reduce(ins[0]!, [ins[0]!, null], a, (x, d, k) => x.mean(d, k))],
  ReduceMax: (ins, a) => [reduce(ins[0]!, [ins[0]!, null], a, (x, d, k) => x.amax(d, k))],
  ReduceMin: (ins, a) => [reduce(ins[0]!, [ins[0]!, null], a, (x, d, k) => x.amin(d, k))],
};
