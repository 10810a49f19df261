// A few helpers that write the fallbacks of fallback/ as short chains of required kernels:
// results in fresh contiguous buffers of the backend, scalars as stride-0 views of one element of
// the operand's dtype (as the tensor layer turns a number operand into a tensor of that dtype, so a
// fallback rounds exactly where the op-by-op Tensor code does), and column blocks of 2-D views.

import { dtypeOfArray } from "../../core/dtype.js";
import { contiguousStrides, sizeOf } from "../../core/shape.js";
import type { Backend, BinaryOp, ReduceOp, UnaryOp, View } from "../backend.js";

export type Calc = ReturnType<typeof calc>;

export function calc(b: Pick<Backend, "kernels" | "alloc">) {
  const k = b.kernels;
  /** A fresh contiguous buffer of x's dtype (and shape unless given). */
  const like = (x: View, shape: readonly number[] = x.shape): View => ({
    data: b.alloc(dtypeOfArray(x.data), sizeOf(shape)),
    shape,
    strides: contiguousStrides(shape),
    offset: 0,
  });
  /** v as a view of x's dtype and shape (stride 0 everywhere). */
  const scalar = (x: View, v: number): View => {
    const data = b.alloc(dtypeOfArray(x.data), 1);
    data[0] = v;
    return { data, shape: x.shape, strides: x.shape.map(() => 0), offset: 0 };
  };
  const un = (op: UnaryOp, x: View, out = like(x)): View => (k.unary(op, x, out), out);
  const bin = (op: BinaryOp, a: View, b: View, out = like(a)): View => (k.binary(op, a, b, out), out);
  return {
    k,
    like,
    scalar,
    un,
    bin,
    /** a op v, v a number rounded to a's dtype. */
    binS: (op: BinaryOp, a: View, v: number, out = like(a)): View => bin(op, a, scalar(a, v), out),
    /** 1 − x */
    oneMinus: (x: View, out = like(x)): View => bin("sub", scalar(x, 1), x, out),
    /** Reduces the last dim, keeping it as 1, and returns the result broadcast back to x's shape. */
    reduceLast(op: ReduceOp, x: View): View {
      const nd = x.shape.length;
      const r = like(x, [...x.shape.slice(0, nd - 1), 1]);
      k.reduce(op, x, [nd - 1], r);
      return { ...r, shape: x.shape, strides: [...r.strides.slice(0, nd - 1), 0] };
    },
    /** Columns [from, from + n) of a 2-D view. */
    cols: (x: View, from: number, n: number): View => ({
      data: x.data,
      shape: [x.shape[0]!, n],
      strides: x.strides,
      offset: x.offset + from * x.strides[1]!,
    }),
  };
}
