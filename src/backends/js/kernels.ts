// The js backend's element-wise, reduction and indexing kernels: each is a one-line body handed
// to the strided loop compiler in loops.ts. This is the reference every other backend is tested
// against, so clarity and exact IEEE behaviour (NaN propagation, signed infinities) come first.

import { sizeOf, contiguousStrides } from "../../core/shape.js";
import type { BinaryOp, Kernels, ReduceOp, UnaryOp, View } from "../backend.js";
import { compileLoop, lazyLoop, run, withStrides, type Loop } from "./loops.js";
import { erf, roundHalfEven } from "./special.js";

const helpers = { erf, roundHalfEven };

/** Per-element expressions of x. Stable forms where the naive one overflows (sigmoid). */
const UNARY: Record<UnaryOp, string> = {
  neg: "-x",
  abs: "Math.abs(x)",
  sign: "x > 0 ? 1 : x < 0 ? -1 : x",
  exp: "Math.exp(x)",
  expm1: "Math.expm1(x)",
  log: "Math.log(x)",
  log1p: "Math.log1p(x)",
  sqrt: "Math.sqrt(x)",
  reciprocal: "1 / x",
  sin: "Math.sin(x)",
  cos: "Math.cos(x)",
  tanh: "Math.tanh(x)",
  sigmoid: "x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))",
  relu: "x > 0 || x !== x ? x : 0",
  erf: "H.erf(x)",
  floor: "Math.floor(x)",
  ceil: "Math.ceil(x)",
  round: "H.roundHalfEven(x)",
  isnan: "x !== x ? 1 : 0",
  isinf: "x === Infinity || x === -Infinity ? 1 : 0",
};

/** Per-element expressions of a, b. maximum/minimum propagate NaN from either side, as PyTorch. */
const BINARY: Record<BinaryOp, string> = {
  add: "a + b",
  sub: "a - b",
  mul: "a * b",
  div: "a / b",
  pow: "a === 1 ? 1 : Math.pow(a, b)",
  maximum: "a !== a || a > b ? a : b",
  minimum: "a !== a || a < b ? a : b",
  eq: "a === b ? 1 : 0",
  ne: "a !== b ? 1 : 0",
  lt: "a < b ? 1 : 0",
  le: "a <= b ? 1 : 0",
  gt: "a > b ? 1 : 0",
  ge: "a >= b ? 1 : 0",
};

/** int32 products must wrap like C's, not round through a 53-bit double. */
const INT_BINARY: Partial<Record<BinaryOp, string>> = { mul: "Math.imul(a, b)" };

const REDUCE: Record<ReduceOp, { init: number; body: string; fold: string }> = {
  sum: { init: 0, body: "b0[p0] += b1[p1]", fold: "acc += b1[p1]" },
  max: {
    init: -Infinity,
    body: "{ const v = b1[p1], c = b0[p0]; if (v > c || v !== v) b0[p0] = v; }",
    fold: "{ const v = b1[p1]; if (v > acc || v !== v) acc = v; }",
  },
  min: {
    init: Infinity,
    body: "{ const v = b1[p1], c = b0[p0]; if (v < c || v !== v) b0[p0] = v; }",
    fold: "{ const v = b1[p1]; if (v < acc || v !== v) acc = v; }",
  },
};

const loop = (arity: number, body: string, fold?: string): Loop => compileLoop({ arity, body, fold }, helpers);
// The loops made at import are compiled on first use.
const lazy = (arity: number, body: string): Loop => lazyLoop({ arity, body }, helpers);

const copyLoop = lazy(2, "b0[p0] = b1[p1]");
const fillLoop = lazy(1, "b0[p0] = e0");
const whereLoop = lazy(4, "b0[p0] = b1[p1] !== 0 ? b2[p2] : b3[p3]");
// gather/scatterAdd: operand for `x` has its `dim` stride zeroed; e0 is that stride.
const gatherLoop = lazy(3, "b0[p0] = b2[p2 + b1[p1] * e0]");
const scatterAddLoop = lazy(3, "b0[p0 + b1[p1] * e0] += b2[p2]");

function argLoop(op: "argmax" | "argmin"): Loop {
  const cmp = op === "argmax" ? ">" : "<";
  return lazy(
    2,
    `{ let best = b1[p1], at = 0;
       if (best === best) for (let j = 1; j < e0; j++) {
         const v = b1[p1 + j * e1];
         if (v ${cmp} best || v !== v) { best = v; at = j; if (v !== v) break; }
       }
       b0[p0] = at; }`,
  );
}
const ARG = { argmax: argLoop("argmax"), argmin: argLoop("argmin") };

// Per-op loops, looked up by op name: building the body string and hashing it into compileLoop's
// cache on every call cost ~0.3 µs, as much as a small op's whole loop (compiled lazily, once).
const unaryLoops = new Map<UnaryOp, Loop>();
const binaryLoops = new Map<string, Loop>();
const reduceLoops = new Map<ReduceOp, Loop>();
function unaryLoop(op: UnaryOp): Loop {
  let l = unaryLoops.get(op);
  if (!l) unaryLoops.set(op, (l = loop(2, `{ const x = b1[p1]; b0[p0] = ${UNARY[op]}; }`)));
  return l;
}
function binaryLoop(op: BinaryOp, int: boolean): Loop {
  const key = int ? `i${op}` : op;
  let l = binaryLoops.get(key);
  if (!l) {
    const expr = (int && INT_BINARY[op]) || BINARY[op];
    binaryLoops.set(key, (l = loop(3, `{ const a = b1[p1], b = b2[p2]; b0[p0] = ${expr}; }`)));
  }
  return l;
}
function reduceLoop(op: ReduceOp): Loop {
  let l = reduceLoops.get(op);
  if (!l) reduceLoops.set(op, (l = loop(2, REDUCE[op].body, REDUCE[op].fold)));
  return l;
}

export const kernels: Omit<
  Kernels,
  "matmul" | "im2col" | "col2im" | "maxPool2d" | "maxPool2dBackward" | "sort" | "scan"
> = {
  copy(x, out) {
    run(copyLoop, x.shape, [out, x]);
  },
  fill(out, value) {
    run(fillLoop, out.shape, [out], [value]);
  },
  unary(op, x, out) {
    run(unaryLoop(op), x.shape, [out, x]);
  },
  binary(op, a, b, out) {
    run(binaryLoop(op, out.data instanceof Int32Array), a.shape, [out, a, b]);
  },
  where(cond, a, b, out) {
    run(whereLoop, a.shape, [out, cond, a, b]);
  },
  reduce(op, x, dims, out) {
    // Accumulate in float64 whatever the dtype: exact int32 max/min inits and accurate float32 sums.
    const spec = REDUCE[op];
    const accShape = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
    const acc = new Float64Array(sizeOf(accShape)).fill(spec.init);
    const accStrides = contiguousStrides(accShape).map((s, i) => (dims.includes(i) ? 0 : s));
    const accOp = { data: acc, strides: accStrides, offset: 0 };
    run(reduceLoop(op), x.shape, [accOp, x], undefined, 1);
    run(copyLoop, out.shape, [out, { data: acc, strides: contiguousStrides(out.shape), offset: 0 }]);
  },
  argReduce(op, x, dim, out) {
    const rows = x.shape.filter((_, i) => i !== dim);
    const xRows = withStrides(
      x,
      x.strides.filter((_, i) => i !== dim),
    );
    run(ARG[op], rows, [out, xRows], [x.shape[dim]!, x.strides[dim]!]);
  },
  gather(x, dim, index, out) {
    const xs = withStrides(
      x,
      x.strides.map((s, i) => (i === dim ? 0 : s)),
    );
    run(gatherLoop, index.shape, [out, index, xs], [x.strides[dim]!]);
  },
  scatterAdd(out, dim, index, src) {
    const os = withStrides(
      out,
      out.strides.map((s, i) => (i === dim ? 0 : s)),
    );
    run(scatterAddLoop, index.shape, [os, index, src], [out.strides[dim]!]);
  },
};

export type { View };
