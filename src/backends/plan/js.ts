// Runs a plan in JavaScript over its preallocated slots: the js backend's executor, and the native
// backend's for the steps its addon lacks (JsStep). Each step becomes one closure made once, so a
// run allocates nothing but what a JsStep's own op allocates. GEMM and im2col call the current
// backend's kernels (views over the slots); the element-wise programs, epilogues, softmax and
// LayerNorm loop here, with the formulas of the js kernels.

import { backend, type Storage, type View } from "../index.js";
import { erf } from "../js/special.js";
import type { EwStep, GemmStep, PlanOp, PlanRunner, PlanSpec, Ref, Step } from "./steps.js";

type F32 = Float32Array;

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** Each op of steps.ts on one element (y: the second operand or the immediate). */
export const PLAN_FNS: Record<PlanOp, (x: number, y: number) => number> = {
  identity: (x) => x,
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  sqrt: Math.sqrt,
  reciprocal: (x) => 1 / x,
  relu: (x) => (x > 0 || x !== x ? x : 0),
  floor: Math.floor,
  ceil: Math.ceil,
  exp: Math.exp,
  expm1: Math.expm1,
  log: Math.log,
  log1p: Math.log1p,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  erf,
  sigmoid,
  gelu: (x) => 0.5 * x * (1 + erf(x * Math.SQRT1_2)),
  geluTanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
  silu: (x) => x * sigmoid(x),
  leakyRelu: (x, a) => (x > 0 ? x : x * a),
  elu: (x, a) => (x > 0 ? x : a * Math.expm1(x)),
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  maximum: (x, y) => (x !== x || y !== y ? x + y : x > y ? x : y),
  minimum: (x, y) => (x !== x || y !== y ? x + y : x < y ? x : y),
  pow: Math.pow,
};

/** A JS runner for spec. */
export function jsRunner(spec: PlanSpec): PlanRunner {
  const slots: Storage[] = spec.slots.map((s) => s ?? new Float32Array(0));
  const runs = spec.steps.map((st) => stepFn(st, slots));
  return {
    kind: "js",
    run(bind) {
      for (let k = 0; k < bind.length; k++) slots[spec.perCall[k]!] = bind[k]!;
      for (const r of runs) r();
    },
  };
}

const f32 = (slots: Storage[], r: Ref): F32 => slots[r.slot] as F32;

/** The closure of one step; `slots` is read at run time (per-call slots change between runs). */
export function stepFn(st: Step, slots: Storage[]): () => void {
  const k = () => backend().kernels;
  switch (st.kind) {
    case "gemm":
      return gemmFn(st, slots);
    case "ew":
      return ewFn(st, slots);
    case "im2col":
    case "maxPool": {
      const [N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow] = st.dims as number[];
      const win = { kernel: [kh!, kw!], stride: [sh!, sw!], padding: [ph!, pw!], dilation: [dh!, dw!] } as const;
      const xShape = [N!, C!, H!, W!];
      const outShape = st.kind === "im2col" ? [N!, C! * kh! * kw!, oh! * ow!] : [N!, C!, oh!, ow!];
      const indices = st.kind === "maxPool" ? new Int32Array(N! * C! * oh! * ow!) : null;
      return () => {
        const x = view(slots[st.x.slot]!, st.x.off, xShape);
        const out = view(slots[st.out.slot]!, st.out.off, outShape);
        if (indices) k().maxPool2d(x, win, out, view(indices, 0, outShape));
        else k().im2col(x, win, out);
      };
    }
    case "softmax":
      return () => {
        const x = f32(slots, st.x),
          o = f32(slots, st.out);
        for (let r = 0; r < st.rows; r++) {
          const b = r * st.cols;
          let m = -Infinity;
          for (let j = 0; j < st.cols; j++) {
            const v = x[st.x.off + b + j]!;
            if (v > m || v !== v) m = v;
          }
          let s = 0;
          for (let j = 0; j < st.cols; j++) s += Math.exp(x[st.x.off + b + j]! - m);
          const ls = Math.log(s);
          for (let j = 0; j < st.cols; j++) {
            const d = x[st.x.off + b + j]! - m;
            o[st.out.off + b + j] = st.log ? d - ls : Math.exp(d) / s;
          }
        }
      };
    case "layerNorm":
      return () => {
        const x = f32(slots, st.x),
          o = f32(slots, st.out);
        const w = st.weight ? f32(slots, st.weight) : null,
          bias = st.bias ? f32(slots, st.bias) : null;
        const n = st.cols;
        for (let r = 0; r < st.rows; r++) {
          const b = st.x.off + r * n,
            ob = st.out.off + r * n;
          let mean = 0;
          for (let j = 0; j < n; j++) mean += x[b + j]!;
          mean /= n;
          let v = 0;
          for (let j = 0; j < n; j++) v += (x[b + j]! - mean) ** 2;
          const inv = 1 / Math.sqrt(v / n + st.eps);
          for (let j = 0; j < n; j++) {
            let y = (x[b + j]! - mean) * inv;
            if (w) y *= w[st.weight!.off + j]!;
            if (bias) y += bias[st.bias!.off + j]!;
            o[ob + j] = y;
          }
        }
      };
    case "reduce":
      return () => {
        const x = f32(slots, st.x),
          o = f32(slots, st.out);
        const { outer, R, inner } = st;
        for (let a = 0; a < outer; a++)
          for (let i = 0; i < inner; i++) {
            const base = st.x.off + a * R * inner + i;
            let m = st.op === "sum" ? 0 : x[base]!;
            if (st.op === "sum") for (let r = 0; r < R; r++) m += x[base + r * inner]!;
            else
              for (let r = 1; r < R && m === m; r++) {
                const e = x[base + r * inner]!;
                if (e !== e || (st.op === "max" ? e > m : e < m)) m = e;
              }
            o[st.out.off + a * inner + i] = m;
          }
      };
    case "copy":
      return () =>
        k().copy(
          { data: slots[st.x.slot]!, shape: st.shape, strides: st.strides, offset: st.x.off },
          view(slots[st.out.slot]!, st.out.off, st.shape),
        );
    case "js":
      return () => {
        const r = st.run(slots);
        k().copy(r, view(slots[st.out.slot]!, st.out.off, r.shape));
      };
  }
}

function view(data: Storage, offset: number, shape: readonly number[]): View {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return { data, shape, strides, offset };
}

function gemmFn(st: GemmStep, slots: Storage[]): () => void {
  const { M, N, K, count } = st;
  const act = PLAN_FNS[st.act];
  return () => {
    const a: View = {
      data: slots[st.a.slot]!,
      shape: [count, M, K],
      strides: [st.aBatch, st.sAm, st.sAk],
      offset: st.a.off,
    };
    const b: View = {
      data: slots[st.b.slot]!,
      shape: [count, K, N],
      strides: [st.bBatch, st.sBk, st.sBn],
      offset: st.b.off,
    };
    backend().kernels.matmul(a, b, view(slots[st.out.slot]!, st.out.off, [count, M, N]));
    const c = f32(slots, st.out);
    const sc = st.scale ? f32(slots, st.scale) : null,
      sh = st.shift ? f32(slots, st.shift) : null;
    const so = st.scale?.off ?? 0,
      ho = st.shift?.off ?? 0;
    if (!sc && !sh && st.act === "identity") return;
    for (let t = 0; t < count; t++)
      for (let i = 0; i < M; i++) {
        const row = st.out.off + (t * M + i) * N;
        for (let j = 0; j < N; j++) {
          const ch = st.perRow ? i : j;
          let v = c[row + j]!;
          if (sc) v = Math.fround(v * sc[so + ch]!);
          if (sh) v = Math.fround(v + sh[ho + ch]!);
          c[row + j] = act(v, st.alpha);
        }
      }
  };
}

function ewFn(st: EwStep, slots: Storage[]): () => void {
  const regs = new Float64Array(16);
  const fns = st.prog.map((p) => PLAN_FNS[p.op]);
  const { inputs, prog, n } = st;
  return () => {
    const srcs = inputs.map((i) => f32(slots, i.ref));
    const o = f32(slots, st.out);
    for (let e = 0; e < n; e++) {
      for (let k = 0; k < inputs.length; k++) {
        const inp = inputs[k]!;
        regs[k] = srcs[k]![inp.ref.off + (inp.inner === 1 && inp.len >= n ? e : Math.floor(e / inp.inner) % inp.len)]!;
      }
      for (let p = 0; p < prog.length; p++) {
        const ins = prog[p]!;
        // Each op rounds to float32, as the eager kernels store every intermediate.
        regs[ins.dst] = Math.fround(fns[p]!(regs[ins.a]!, ins.b < 0 ? ins.imm : regs[ins.b]!));
      }
      o[st.out.off + e] = regs[st.result]!;
    }
  };
}
