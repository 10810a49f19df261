// The steps for ops the tracer recorded one by one (a custom forward's arithmetic, reshapes,
// softmax, matmul, pooling). Views (view, permute, expand, slice) cost no step: later reads see
// their layout. Float32 element-wise ops become one-instruction programs (fuse.ts merges chains);
// any other op becomes a JS step that replays its OpDef over the plan's slots (correct for every
// op, though it allocates its output each run, as the eager forward does).

import type { Tensor } from "../tensor/tensor.js";
import { backend } from "../backends/index.js";
import { PLAN_BINARY, PLAN_UNARY, type EwInput, type EwStep, type PlanOp } from "../backends/plan/index.js";
import type { Window2d } from "../backends/index.js";
import { windowOut } from "../core/shape.js";
import type { PlanBuilder } from "./builder.js";
import type { OpEvent } from "./trace.js";

const UNARY = new Set<string>(PLAN_UNARY);
const REDUCE: Record<string, "sum" | "max" | "min"> = { sum: "sum", amax: "max", amin: "min" };
const BINARY = new Set<string>(PLAN_BINARY);

/** Appends the steps of one traced op. */
export function opSteps(b: PlanBuilder, e: OpEvent): void {
  const { name, inputs, out } = e;
  if (inputs.some((t) => t.data === out.data)) return; // a view of an input: nothing runs
  const f32 = out.dtype === "float32" && inputs.every((t) => t.dtype === "float32");
  // The fused gelu op (ops/norm.ts) carries its approximation as its param: true is the tanh form.
  if (f32 && name === "gelu" && inputs.length === 1)
    return ewOp(b, e.params === true ? "geluTanh" : "gelu", inputs, out);
  if (f32 && UNARY.has(name) && inputs.length === 1) return ewOp(b, name as PlanOp, inputs, out);
  if (f32 && BINARY.has(name) && inputs.length === 2) return ewOp(b, name as PlanOp, inputs, out);
  if (f32 && (name === "softmax" || name === "logSoftmax") && inputs[0]!.ndim > 0) {
    const x = inputs[0]!;
    const cols = x.shape[x.ndim - 1]!;
    b.steps.push({
      kind: "softmax",
      x: b.contig(x),
      out: b.outRef(out),
      rows: x.size / cols,
      cols,
      log: name === "logSoftmax",
    });
    return;
  }
  if (f32 && name === "matmul" && matmul(b, inputs[0]!, inputs[1]!, out)) return;
  if (f32 && name === "maxPool2d" && inputs[0]!.ndim === 4) {
    const p = e.params as Window2d & { out: readonly [number, number] };
    const x = inputs[0]!;
    b.steps.push({
      kind: "maxPool",
      x: b.contig(x),
      out: b.outRef(out),
      dims: [...x.shape, ...p.kernel, ...p.stride, ...p.padding, ...p.dilation, ...p.out],
    });
    return;
  }
  if (f32 && name === "unfold" && inputs[0]!.ndim === 4) {
    const p = e.params as Window2d;
    const x = inputs[0]!;
    const [, , h, w] = x.shape as [number, number, number, number];
    const oh = windowOut(h, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0]);
    const ow = windowOut(w, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]);
    b.steps.push({
      kind: "im2col",
      x: b.contig(x),
      out: b.outRef(out),
      dims: [...x.shape, ...p.kernel, ...p.stride, ...p.padding, ...p.dilation, oh, ow],
    });
    return;
  }
  if (f32 && REDUCE[name] && reduce(b, REDUCE[name], inputs[0]!, e.params as { dims: readonly number[] }, out)) return;
  if (name === "clone" && out.dtype === inputs[0]!.dtype) {
    const x = inputs[0]!;
    b.steps.push({
      kind: "copy",
      x: { slot: b.slotFor(x), off: x.offset },
      out: b.outRef(out),
      shape: x.shape,
      strides: x.strides,
    });
    return;
  }
  jsOp(b, e);
}

/** An element-wise op as a one-instruction program; a constant scalar second operand becomes an immediate. */
function ewOp(b: PlanBuilder, op: PlanOp, inputs: readonly Tensor[], out: Tensor): void {
  const n = out.size;
  const ins: EwInput[] = [];
  let imm = 0;
  let second = -1;
  inputs.forEach((t, i) => {
    const c = i === 1 ? constScalar(b, t) : null;
    if (c !== null) imm = c;
    else {
      ins.push(ewInput(b, t, n));
      if (i === 1) second = ins.length - 1;
    }
  });
  const step: EwStep = {
    kind: "ew",
    n,
    out: b.outRef(out),
    inputs: ins,
    prog: [{ op, dst: ins.length, a: 0, b: second, imm }],
    result: ins.length,
  };
  b.steps.push(step);
}

/** The value of t when it is a constant the forward made (one value broadcast), else null. */
function constScalar(b: PlanBuilder, t: Tensor): number | null {
  if (!t.strides.every((s, d) => s === 0 || t.shape[d] === 1)) return null;
  if (b.slotOf.has(t.data) || b.isState(t)) return null;
  return backend().read(t.data, t.offset, 1)[0]!;
}

/**
 * How an element-wise program reads t (shaped as the output, n elements): in place when
 * contiguous; by index (i / inner) % len when its non-broadcast dims form one contiguous block (a
 * bias along the last dim, a per-channel scale); else through a copy.
 */
export function ewInput(b: PlanBuilder, t: Tensor, n: number): EwInput {
  if (t.isContiguous()) return { ref: { slot: b.slotFor(t), off: t.offset }, inner: 1, len: n };
  const live = t.shape.map((s, d) => s > 1 && t.strides[d] !== 0);
  const first = live.indexOf(true);
  if (first < 0) return { ref: { slot: b.slotFor(t), off: t.offset }, inner: n, len: 1 };
  const last = live.lastIndexOf(true);
  let ok = true;
  let expect = 1;
  for (let d = last; d >= first; d--) {
    if (!live[d] && t.shape[d] !== 1) ok = false;
    if (t.shape[d] === 1) continue;
    if (t.strides[d] !== expect) ok = false;
    expect *= t.shape[d]!;
  }
  if (ok) {
    const inner = t.shape.slice(last + 1).reduce((a, s) => a * s, 1);
    return { ref: { slot: b.slotFor(t), off: t.offset }, inner, len: expect };
  }
  return { ref: b.contig(t), inner: 1, len: n };
}

/** A reduction over adjacent dims of a contiguous x (x seen as [outer, R, inner]) as one step. */
function reduce(
  b: PlanBuilder,
  op: "sum" | "max" | "min",
  x: Tensor,
  p: { dims: readonly number[] },
  out: Tensor,
): boolean {
  const dims = [...p.dims].sort((u, v) => u - v);
  if (dims.length === 0 || !x.isContiguous() || dims.some((d, i) => i > 0 && d !== dims[i - 1]! + 1)) return false;
  const prod = (s: readonly number[]): number => s.reduce((a, v) => a * v, 1);
  const R = prod(dims.map((d) => x.shape[d]!));
  if (R === 0) return false;
  b.steps.push({
    kind: "reduce",
    x: b.contig(x),
    out: b.outRef(out),
    outer: prod(x.shape.slice(0, dims[0]!)),
    R,
    inner: prod(x.shape.slice(dims[dims.length - 1]! + 1)),
    op,
  });
  return true;
}

/** A (batched) matmul as a GEMM when each operand's batch dims collapse to one non-negative stride. */
function matmul(b: PlanBuilder, x: Tensor, y: Tensor, out: Tensor): boolean {
  if (x.ndim < 2 || y.ndim < 2 || x.ndim !== y.ndim) return false;
  const nd = x.ndim;
  // The batch dims (size > 1) must collapse into one: each stride the next one's times its size.
  const batchStride = (t: Tensor): number | null => {
    let s: number | null = null;
    let next = 0;
    for (let d = nd - 3; d >= 0; d--) {
      if (out.shape[d] === 1) continue;
      const st = t.shape[d] === 1 ? 0 : t.strides[d]!;
      if (s === null) s = st;
      else if (st !== next) return null;
      next = st * out.shape[d]!;
    }
    return s ?? 0;
  };
  const aB = batchStride(x),
    bB = batchStride(y);
  const all = [...x.strides.slice(-2), ...y.strides.slice(-2)];
  if (aB === null || bB === null || aB < 0 || bB < 0 || all.some((s) => s < 0)) return false;
  const [M, K] = x.shape.slice(-2) as [number, number];
  const N = y.shape[nd - 1]!;
  b.steps.push({
    kind: "gemm",
    a: { slot: b.slotFor(x), off: x.offset },
    b: { slot: b.slotFor(y), off: y.offset },
    out: b.outRef(out),
    M,
    N,
    K,
    sAm: x.strides[nd - 2]!,
    sAk: x.strides[nd - 1]!,
    sBk: y.strides[nd - 2]!,
    sBn: y.strides[nd - 1]!,
    count: out.size / (M * N) || 1,
    aBatch: aB,
    bBatch: bB,
    scale: null,
    shift: null,
    perRow: false,
    act: "identity",
    alpha: 0,
  });
  return true;
}

/** Replays the op's forward in JS over the slots (the fallback for what the executors lack). */
function jsOp(b: PlanBuilder, e: OpEvent): void {
  const reads = e.inputs.map((t) => b.slotFor(t));
  const { op, params, inputs } = e;
  b.steps.push({
    kind: "js",
    name: e.name,
    out: b.outRef(e.out),
    reads,
    run: (slots) =>
      op.forward(
        inputs.map((t, i) =>
          t.wrapRaw({ data: slots[reads[i]!]!, dtype: t.dtype, shape: t.shape, strides: t.strides, offset: t.offset }),
        ),
        params,
      ),
  });
}

/** Replays any tensor function of one input over the slots (a layer the planner does not write whole). */
export function jsLayer(b: PlanBuilder, name: string, x: Tensor, out: Tensor, f: (x: Tensor) => Tensor): void {
  const slot = b.slotFor(x);
  b.steps.push({
    kind: "js",
    name,
    out: b.outRef(out),
    reads: [slot],
    run: (slots) =>
      f(x.wrapRaw({ data: slots[slot]!, dtype: x.dtype, shape: x.shape, strides: x.strides, offset: x.offset })),
  });
}
