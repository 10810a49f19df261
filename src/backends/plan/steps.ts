// The instruction set of a compiled inference plan (src/compile builds it; js.ts and native.ts run
// it). A plan is a list of steps over numbered float32 slots: fixed slots (live parameter storage,
// preallocated scratch, constants) and per-call slots (inputs and outputs, bound at each run). Every
// step reads and writes contiguous runs of its slots, except GEMM (strided A and B) and copy (any
// strides in), so a step's view is a slot plus an element offset.

import type { Storage, View } from "../index.js";

/** Where a step reads or writes: slot `slot` from element `off`. */
export interface Ref {
  readonly slot: number;
  readonly off: number;
}

/** Element-wise ops a plan runs (native/plan_ops.h lists the same names; unary first, then binary). */
export const PLAN_UNARY = [
  "identity",
  "neg",
  "abs",
  "sign",
  "sqrt",
  "reciprocal",
  "relu",
  "floor",
  "ceil",
  "exp",
  "expm1",
  "log",
  "log1p",
  "sin",
  "cos",
  "tanh",
  "erf",
  "sigmoid",
  "gelu",
  "geluTanh",
  "silu",
  "leakyRelu",
  "elu",
] as const;
export const PLAN_BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "pow"] as const;
export type PlanUnary = (typeof PLAN_UNARY)[number];
export type PlanBinary = (typeof PLAN_BINARY)[number];
export type PlanOp = PlanUnary | PlanBinary;

/** C[t] = epilogue(A[t] · B[t]) for t < count; C contiguous [count, M, N]. */
export interface GemmStep {
  readonly kind: "gemm";
  a: Ref;
  b: Ref;
  out: Ref;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly sAm: number;
  readonly sAk: number;
  readonly sBk: number;
  readonly sBn: number;
  readonly count: number;
  readonly aBatch: number;
  readonly bBatch: number;
  /** Epilogue c = act(c·scale[ch] + shift[ch]); ch the row (perRow) or the column. */
  scale: Ref | null;
  shift: Ref | null;
  perRow: boolean;
  act: PlanUnary;
  alpha: number;
}

/** One input of an element-wise program: element i reads ref[floor(i / inner) % len]. */
export interface EwInput {
  readonly ref: Ref;
  readonly inner: number;
  readonly len: number;
}
/** reg[dst] = op(reg[a], b === -1 ? imm : reg[b]) (unary ops read reg[a] and the immediate). */
export interface EwInstr {
  readonly op: PlanOp;
  readonly dst: number;
  readonly a: number;
  readonly b: number;
  readonly imm: number;
}
/** A fused element-wise program over n elements: registers 0..inputs-1 hold the inputs. */
export interface EwStep {
  readonly kind: "ew";
  readonly n: number;
  out: Ref;
  readonly inputs: EwInput[];
  readonly prog: EwInstr[];
  readonly result: number;
}

/** Image geometry of im2col and max pooling (x [N, C, H, W] contiguous). */
export interface WindowStep {
  readonly kind: "im2col" | "maxPool";
  readonly x: Ref;
  out: Ref;
  /** N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow. */
  readonly dims: readonly number[];
}

/** Softmax (or log-softmax) of each contiguous row. */
export interface SoftmaxStep {
  readonly kind: "softmax";
  readonly x: Ref;
  out: Ref;
  readonly rows: number;
  readonly cols: number;
  readonly log: boolean;
}

/** LayerNorm of each contiguous row (biased variance), then weight and bias when present. */
export interface LayerNormStep {
  readonly kind: "layerNorm";
  readonly x: Ref;
  out: Ref;
  readonly rows: number;
  readonly cols: number;
  readonly eps: number;
  readonly weight: Ref | null;
  readonly bias: Ref | null;
}

/** out[o, i] = op over r of x[o, r, i] (x contiguous [outer, R, inner]): a sum, max or min over adjacent dims. */
export interface ReduceStep {
  readonly kind: "reduce";
  readonly x: Ref;
  out: Ref;
  readonly outer: number;
  readonly R: number;
  readonly inner: number;
  readonly op: "sum" | "max" | "min";
}

/** A strided read into a contiguous write (a permute or broadcast made real). */
export interface CopyStep {
  readonly kind: "copy";
  readonly x: Ref;
  out: Ref;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
}

/** What the executors lack: JS computes a view (from the slots' current storage), copied into out. */
export interface JsStep {
  readonly kind: "js";
  readonly name: string;
  out: Ref;
  /** The slots run reads (for the planner's use counts). */
  readonly reads: readonly number[];
  readonly run: (slots: readonly Storage[]) => View;
}

export type Step = GemmStep | EwStep | WindowStep | SoftmaxStep | LayerNormStep | ReduceStep | CopyStep | JsStep;

/** A plan: its steps and slots (null for a per-call slot, bound by each run in `perCall`'s order). */
export interface PlanSpec {
  readonly steps: readonly Step[];
  readonly slots: readonly (Storage | null)[];
  readonly perCall: readonly number[];
  /**
   * The slots the caller reads after a run (the forward's outputs); every other slot is read only
   * by the plan's own steps, so an executor may keep scratch between steps elsewhere. Absent: all.
   */
  readonly kept?: readonly number[];
}

/** Runs a plan; `bind` holds the per-call slots' storages in PlanSpec.perCall's order. */
export interface PlanRunner {
  readonly kind: "js" | "native";
  run(bind: readonly Storage[]): void;
}
