// Hand-built strided views for kernel tests: the layouts a kernel must read through (transposed,
// offset, stepped, stride-0 broadcast), over buffers whose padding holds NaN (-999 for int32) so a
// read or write outside the view shows up in the result.

import { allocArray, type DType } from "../../src/core/dtype.js";
import type { Generator } from "../../src/core/random.js";
import type { View } from "../../src/backends/backend.js";

export interface Layout {
  /** Store the last two dims swapped and view them back through swapped strides. */
  transpose?: boolean;
  offset?: number;
  /** Dims stored once and read with stride 0 (batch dims, or an expanded row/column). */
  broadcast?: readonly number[];
  /** Every step-th element along each dim of a bigger buffer, as the slice x[::step, ::step] gives. */
  step?: number;
}

export type MakeView = (dtype: DType, shape: readonly number[], layout?: Layout, draw?: () => number) => View;

/** makeView(dtype, shape, layout, draw): a view of `shape` over a buffer laid out as `layout` says; values from `draw` (default U(-1, 1) from gen). */
export function viewMaker(gen: Generator): MakeView {
  return (dtype, shape, layout = {}, draw = () => gen.uniform() * 2 - 1) => {
    const nd = shape.length;
    const stored = shape.map((d, i) => (layout.broadcast?.includes(i) ? 1 : d));
    if (layout.transpose) [stored[nd - 2], stored[nd - 1]] = [stored[nd - 1]!, stored[nd - 2]!];
    const step = layout.step ?? 1;
    const strides = new Array<number>(nd);
    let size = 1;
    for (let i = nd - 1; i >= 0; i--) {
      strides[i] = size * step;
      size *= stored[i]! * step;
    }
    if (layout.transpose) [strides[nd - 2], strides[nd - 1]] = [strides[nd - 1]!, strides[nd - 2]!];
    layout.broadcast?.forEach((d) => (strides[d] = 0));
    const offset = layout.offset ?? 0;
    const data = allocArray(dtype, offset + size + 3);
    data.fill(dtype === "int32" ? -999 : NaN);
    for (let i = 0; i < size; i++) data[offset + i] = draw();
    return { data, shape, strides, offset };
  };
}

/** A contiguous output view starting at `offset`, its buffer NaN-filled (two spare elements past the end). */
export function outView(dtype: DType, shape: readonly number[], offset = 0): View {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((x, y) => x * y, 1));
  const n = shape.reduce((x, y) => x * y, 1);
  return { data: allocArray(dtype, offset + n + 2).fill(NaN), shape, strides, offset };
}
