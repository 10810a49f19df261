// The native backend's element-wise kernels: copy, fill, unary, binary, where, reduce and
// argReduce run in the addon (native/elementwise.cc) for float32 and float64 views of any strides;
// int32, mixed dtypes, ops too small to repay the call and ranks above 16 stay in the js kernels.
// Each call packs the layouts into one reused Float64Array:
//   meta = [op, nd, extra, parts, shape × nd, (offset, strides × nd) per operand (out first)].

import { isContiguous } from "../../core/shape.js";
import type { BinaryOp, Kernels, ReduceOp, UnaryOp, View } from "../backend.js";
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS } from "../op_list.js";

type Float = Float32Array | Float64Array;

/** What native/elementwise.cc adds to the addon's exports. */
export interface ElementwiseAddon {
  copy(out: Float, x: Float, meta: Float64Array): void;
  fill(out: Float, meta: Float64Array): void;
  unary(out: Float, x: Float, meta: Float64Array): void;
  binary(out: Float, a: Float, b: Float, meta: Float64Array): void;
  where(out: Float, cond: Float | Int32Array, a: Float, b: Float, meta: Float64Array): void;
  /** out's strides are 0 along the reduced dims. */
  reduce(out: Float, x: Float, meta: Float64Array): void;
  /** extra = length of the reduced dim; x's stride along it follows the operands. */
  argReduce(out: Int32Array, x: Float, meta: Float64Array): void;
  /** The names of the unary and binary ops the addon implements, in the order of their codes. */
  opNames(): { unary: string[]; binary: string[]; reduce?: string[] };
}

/**
 * name → the addon's op code, from the names it reports (opNames, native/elementwise_ops.h's
 * EW_*_OPS). An op of src/backends/op_list.ts missing there has no code and runs in js; a name
 * there that the list lacks is ignored (test/backends/op_list.test.ts refuses it).
 */
export function opCodes(addon: Pick<ElementwiseAddon, "opNames">): {
  unary: Map<UnaryOp, number>;
  binary: Map<BinaryOp, number>;
  reduce: Map<ReduceOp, number>;
} {
  const names = addon.opNames();
  const codes = <N extends string>(list: readonly N[], native: readonly string[] = []) =>
    new Map(list.filter((n) => native.includes(n)).map((n) => [n, native.indexOf(n)] as [N, number]));
  return {
    unary: codes(UNARY_OPS, names.unary),
    binary: codes(BINARY_OPS, names.binary),
    reduce: codes(REDUCE_OPS, names.reduce),
  };
}

/**
 * Ops whose elements cost a libm call (tens of ns) rather than a vector lane. float32 exp, log,
 * sigmoid and tanh are vectorised polynomials (~1-3 ns an element here) but keep this class's thresholds.
 */
const COSTLY_UNARY = new Set<UnaryOp>(["exp", "expm1", "log", "log1p", "sin", "cos", "tanh", "sigmoid", "erf"]);

export interface ElementwiseThresholds {
  /** Elements below which a cheap op (arithmetic, comparison, where, reduce) stays in JS. */
  readonly minElements: number;
  /** Elements below which a libm op (exp, tanh, ...) or pow stays in JS. */
  readonly minCostlyElements: number;
  /** Elements below which copy and argReduce stay in JS. */
  readonly minCopyElements: number;
  /** Elements from which a cheap op is split across the pool. */
  readonly parallelElements: number;
  /** Elements from which a libm op is split across the pool. */
  readonly parallelCostlyElements: number;
}

/**
 * From `node --import tsx bench/native_elementwise.ts --small` and the default run, float32, on
 * this 2-vCPU EPYC while other jobs kept its load average at 4-8 (so single numbers are noisy;
 * these are where the ratio stayed on one side across sizes). The native call costs ~0.5-1 µs
 * (meta packing, N-API, checks); the js kernels ~0.5-1 µs too (dim collapsing, loop setup), so
 * native wins early: add/relu/maximum/sum from 4-16 elements (1.3-2.5x at 16-64), where from 32
 * (1.3x), exp/tanh/sigmoid from 16 (1.6x), a transposing copy from 128 (1.3x; 0.9x at 64), argmax
 * over rows of 64 from 256 (1.4x; 0.9x at 128). Splitting across the second core never paid for
 * cheap ops up to 1M elements here (add 1M: 542 µs on one thread, 788 on two): they are
 * memory-bound and the second core was busy; libm ops (then including float32 log) gained a
 * little from 262144 (log 262144: 1.2x → 1.7x over js). Re-measure on an idle machine before lowering them.
 */
export const ELEMENTWISE_THRESHOLDS: ElementwiseThresholds = {
  minElements: 32,
  minCostlyElements: 16,
  minCopyElements: 128,
  parallelElements: 1 << 21,
  parallelCostlyElements: 1 << 18,
};

const MAX_DIMS = 16;
/** Pieces a parallel op is cut into; threads claim them one by one, so a busy core delays little. */
const PARTS = 8;

function isFloat(a: unknown): a is Float {
  return a instanceof Float32Array || a instanceof Float64Array;
}

function size(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

type ElementwiseKernels = Pick<Kernels, "copy" | "fill" | "unary" | "binary" | "where" | "reduce" | "argReduce">;

/** The element-wise kernels over a loaded addon; `js` serves whatever the addon should not. */
export function elementwiseKernels(
  addon: ElementwiseAddon,
  js: ElementwiseKernels,
  t: ElementwiseThresholds = ELEMENTWISE_THRESHOLDS,
): ElementwiseKernels {
  const meta = new Float64Array(9 + 5 * MAX_DIMS); // where at rank 16: 4 + 16 + 4·17, plus one
  const { unary: UNARY, binary: BINARY, reduce: REDUCE } = opCodes(addon);

  /** Packs meta; strides of operand 0 come from `outStrides` when given (reduce zeroes some). */
  function pack(
    op: number,
    shape: readonly number[],
    extra: number,
    n: number,
    costly: boolean,
    views: readonly View[],
    outStrides?: readonly number[],
  ): Float64Array {
    const nd = shape.length;
    meta[0] = op;
    meta[1] = nd;
    meta[2] = extra;
    meta[3] = n >= (costly ? t.parallelCostlyElements : t.parallelElements) ? PARTS : 1;
    for (let d = 0; d < nd; d++) meta[4 + d] = shape[d]!;
    let at = 4 + nd;
    for (let k = 0; k < views.length; k++) {
      const v = views[k]!;
      const st = k === 0 && outStrides ? outStrides : v.strides;
      meta[at++] = v.offset;
      for (let d = 0; d < nd; d++) meta[at++] = st[d]!;
    }
    return meta;
  }

  /** True when the op should run natively: float views of one dtype, big enough, rank ≤ 16. */
  function native(n: number, min: number, shape: readonly number[], out: View, ...inputs: View[]): boolean {
    if (n < min || shape.length > MAX_DIMS) return false;
    const c = out.data.constructor;
    if (!isFloat(out.data)) return false;
    for (const v of inputs) if (v.data.constructor !== c) return false;
    return true;
  }

  return {
    copy(x, out) {
      if (!native(size(x.shape), t.minCopyElements, x.shape, out, x)) return js.copy(x, out);
      addon.copy(out.data as Float, x.data as Float, pack(0, x.shape, 0, size(x.shape), false, [out, x]));
    },
    fill(out, value) {
      if (!native(size(out.shape), t.minElements, out.shape, out)) return js.fill(out, value);
      addon.fill(out.data as Float, pack(0, out.shape, value, size(out.shape), false, [out]));
    },
    unary(op, x, out) {
      const n = size(x.shape);
      const costly = COSTLY_UNARY.has(op);
      const code = UNARY.get(op);
      if (code === undefined || !native(n, costly ? t.minCostlyElements : t.minElements, x.shape, out, x))
        return js.unary(op, x, out);
      addon.unary(out.data as Float, x.data as Float, pack(code, x.shape, 0, n, costly, [out, x]));
    },
    binary(op, a, b, out) {
      const n = size(a.shape);
      const costly = op === "pow";
      const code = BINARY.get(op);
      if (code === undefined || !native(n, costly ? t.minCostlyElements : t.minElements, a.shape, out, a, b))
        return js.binary(op, a, b, out);
      const m = pack(code, a.shape, 0, n, costly, [out, a, b]);
      addon.binary(out.data as Float, a.data as Float, b.data as Float, m);
    },
    where(cond, a, b, out) {
      const n = size(a.shape);
      if (!native(n, t.minElements, a.shape, out, a, b)) return js.where(cond, a, b, out);
      const m = pack(0, a.shape, 0, n, false, [out, cond, a, b]);
      addon.where(out.data as Float, cond.data, a.data as Float, b.data as Float, m);
    },
    reduce(op, x, dims, out) {
      const n = size(x.shape);
      // An empty x (sum = 0 everywhere) stays in js: the addon sees no element to reduce.
      const code = REDUCE.get(op);
      if (
        code === undefined ||
        n === 0 ||
        !native(n, t.minElements, x.shape, out, x) ||
        !isContiguous(out.shape, out.strides)
      ) {
        return js.reduce(op, x, dims, out);
      }
      const outStrides = out.strides.map((s, d) => (dims.includes(d) ? 0 : s));
      addon.reduce(out.data as Float, x.data as Float, pack(code, x.shape, 0, n, false, [out, x], outStrides));
    },
    argReduce(op, x, dim, out) {
      const n = size(x.shape);
      if (n < t.minCopyElements || x.shape.length > MAX_DIMS || !isFloat(x.data) || !(out.data instanceof Int32Array)) {
        return js.argReduce(op, x, dim, out);
      }
      const rows = x.shape.filter((_, d) => d !== dim);
      const xRows = { ...x, strides: x.strides.filter((_, d) => d !== dim) };
      const m = pack(op === "argmax" ? 0 : 1, rows, x.shape[dim]!, n, false, [out, xRows]);
      m[4 + rows.length + 2 * (1 + rows.length)] = x.strides[dim]!;
      addon.argReduce(out.data, x.data, m);
    },
  };
}
