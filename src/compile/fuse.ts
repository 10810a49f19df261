// The planner's fusion passes, over the steps in trace order. A step's output is fused away only
// when exactly one later step reads it and it is not a forward output:
// - BatchNorm after a Conv2d or Linear GEMM whose channels it scales: its per-channel scale goes
//   into the GEMM's epilogue and its shift is merged with the GEMM's bias (folding BatchNorm as
//   PyTorch's fuse_conv_bn_eval does, but into the epilogue: the weights stay the live parameter);
// - an activation right after a GEMM: into the epilogue;
// - an element-wise program reading another's output in full: one program (one pass over memory).

import type { Tensor } from "../tensor/tensor.js";
import type { EwStep, GemmStep, Ref, Step } from "../backends/plan/index.js";
import type { PlanBuilder } from "./builder.js";
import type { BatchNormFold } from "./layers.js";

const MAX_REGS = 16; // native/plan.cc's kMaxRegs

/** The slots each step reads. */
function reads(st: Step): number[] {
  const r = (x: Ref | null): number[] => (x ? [x.slot] : []);
  switch (st.kind) {
    case "gemm":
      return [...r(st.a), ...r(st.b), ...r(st.scale), ...r(st.shift)];
    case "ew":
      return st.inputs.map((i) => i.ref.slot);
    case "layerNorm":
      return [...r(st.x), ...r(st.weight), ...r(st.bias)];
    case "js":
      return [...st.reads];
    default:
      return [st.x.slot];
  }
}

/** Runs the passes in place on b.steps. */
export function fuse(b: PlanBuilder, folds: Map<object, BatchNormFold>): void {
  const keep = new Set([...b.outputSlots, ...b.inputSlots]);
  const uses = new Map<number, number>();
  for (const st of b.steps) for (const s of reads(st)) uses.set(s, (uses.get(s) ?? 0) + 1);
  const producer = new Map<number, Step>();
  /** src reads all of p's output, and nothing else reads it. */
  const fullSingle = (src: EwStep["inputs"][number], n: number, p: Step | undefined): p is Step =>
    !!p &&
    src.inner === 1 &&
    src.len === n &&
    p.out.off === src.ref.off &&
    !keep.has(src.ref.slot) &&
    uses.get(src.ref.slot) === 1;
  const out: Step[] = [];
  for (let st of b.steps) {
    if (st.kind === "ew") {
      const src = st.inputs[0]!;
      const g = producer.get(src.ref.slot);
      if (fullSingle(src, st.n, g) && g.kind === "gemm" && foldIntoGemm(b, g, st, folds.get(st))) {
        producer.delete(src.ref.slot);
        g.out = st.out;
        producer.set(st.out.slot, g);
        continue;
      }
      // Merge producers of full inputs into this program, at this step's place (every input of
      // theirs was ready before them, so it is ready here).
      for (let j = 0; j < st.inputs.length; j++) {
        const inp = st.inputs[j]!;
        const p = producer.get(inp.ref.slot);
        if (!fullSingle(inp, st.n, p) || p.kind !== "ew" || p.n !== st.n) continue;
        const merged = combine(p, st, j);
        if (!merged) continue;
        out.splice(out.indexOf(p), 1);
        producer.delete(inp.ref.slot);
        st = merged;
        j = -1; // look again: the merged program has new inputs
      }
    }
    out.push(st);
    producer.set(st.out.slot, st);
  }
  b.steps.splice(0, b.steps.length, ...out);
}

/** Moves an activation (or a foldable BatchNorm) into g's epilogue; false when it does not fit. */
function foldIntoGemm(b: PlanBuilder, g: GemmStep, e: EwStep, bn: BatchNormFold | undefined): boolean {
  if (g.act !== "identity" || g.count * g.M * g.N !== e.n) return false;
  if (!bn) {
    if (e.inputs.length !== 1 || e.prog.length !== 1 || e.prog[0]!.a !== 0) return false;
    g.act = e.prog[0]!.op as GemmStep["act"];
    g.alpha = e.prog[0]!.imm;
    return true;
  }
  // BatchNorm's channel must be the epilogue's: a conv's rows (C = M) or a 2-D Linear's columns (C = N, one row per sample).
  if (g.scale) return false;
  const C = e.inputs[1]!.len,
    inner = e.inputs[1]!.inner;
  const perRowOk = g.perRow && C === g.M && inner === g.N;
  const perColOk = !g.perRow && C === g.N && inner === 1;
  if (!perRowOk && !perColOk) return false;
  const bias = g.shift ? biasTensor(b, g.shift) : null;
  if (g.shift && !bias) return false;
  g.scale = e.inputs[1]!.ref;
  g.shift = b.derive([...bn.scale, ...(bias ? [bias] : [])], () => {
    const s = bn.s(),
      t = bn.t();
    const bv = bias ? (bias.toFlatArray() as Float32Array) : null;
    return t.map((ti, c) => (bv ? bv[c]! * s[c]! : 0) + ti);
  });
  return true;
}

function biasTensor(b: PlanBuilder, r: Ref): Tensor | null {
  const s = b.slots[r.slot];
  return r.off === 0 ? (b.live.find((l) => l.storage === s)?.tensor ?? null) : null;
}

/**
 * One program computing p then e, e's input j being p's output. Registers: p's inputs, e's other
 * inputs, p's instructions, e's instructions (each instruction writes a fresh register). null when
 * past the register budget or not in that form.
 */
function combine(p: EwStep, e: EwStep, j: number): EwStep | null {
  const pIn = p.inputs.length,
    eIn = e.inputs.length,
    extra = eIn - 1;
  if (pIn + extra + p.prog.length + e.prog.length > MAX_REGS) return null;
  if (p.prog.some((ins, i) => ins.dst !== pIn + i) || e.prog.some((ins, i) => ins.dst !== eIn + i)) return null;
  const pReg = (r: number): number => (r < pIn ? r : r + extra);
  const eReg = (r: number): number =>
    r === j ? pReg(p.result) : r < eIn ? pIn + (r < j ? r : r - 1) : pIn + extra + p.prog.length + (r - eIn);
  const remap = (ins: EwStep["prog"][number], f: (r: number) => number): EwStep["prog"][number] => ({
    ...ins,
    dst: f(ins.dst),
    a: f(ins.a),
    b: ins.b < 0 ? ins.b : f(ins.b),
  });
  return {
    kind: "ew",
    n: e.n,
    out: e.out,
    inputs: [...p.inputs, ...e.inputs.filter((_, i) => i !== j)],
    prog: [...p.prog.map((ins) => remap(ins, pReg)), ...e.prog.map((ins) => remap(ins, eReg))],
    result: eReg(e.result),
  };
}
