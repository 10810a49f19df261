// The js backend's order kernels: sort (the int32 permutation that sorts each row along a dim)
// and scan (running sums and products along a dim). Neither is an element-wise body, so each walks
// its rows itself: for every position of the other dims, one pass along `dim` through the strides.

import type { TypedArray } from "../../core/dtype.js";
import type { Kernels, ScanOp, View } from "../backend.js";

/** Calls f(xStart, outStart) for every row along `dim` (all other dims fixed), in row-major order. */
function forEachRow(x: View, out: View, dim: number, f: (xAt: number, outAt: number) => void): void {
  const nd = x.shape.length;
  const outer = x.shape.map((d, i) => (i === dim ? 1 : d));
  if (outer.some((d) => d === 0)) return;
  const idx = new Array<number>(nd).fill(0);
  let xAt = x.offset;
  let outAt = out.offset;
  for (;;) {
    f(xAt, outAt);
    let k = nd - 1;
    for (; k >= 0; k--) {
      if (++idx[k]! < outer[k]!) {
        xAt += x.strides[k]!;
        outAt += out.strides[k]!;
        break;
      }
      xAt -= (outer[k]! - 1) * x.strides[k]!;
      outAt -= (outer[k]! - 1) * out.strides[k]!;
      idx[k] = 0;
    }
    if (k < 0) return;
  }
}

/** Ascending order with NaN after everything (PyTorch's NaN is the largest value); 0 for ties. */
function ascending(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  return a !== a ? (b !== b ? 0 : 1) : -1; // one or both NaN
}

export const orderKernels: Pick<Kernels, "sort" | "scan"> = {
  sort(x, dim, descending, out) {
    const n = x.shape[dim]!;
    const xs = x.strides[dim]!;
    const os = out.strides[dim]!;
    const src = x.data as TypedArray;
    const dst = out.data as Int32Array;
    const vals = new Float64Array(n);
    const order = new Array<number>(n);
    const sign = descending ? -1 : 1;
    // Ties keep their input order (the index breaks them), so the sort is stable whatever the engine's is.
    const cmp = (i: number, j: number) => sign * ascending(vals[i]!, vals[j]!) || i - j;
    forEachRow(x, out, dim, (xAt, outAt) => {
      for (let i = 0; i < n; i++) {
        vals[i] = src[xAt + i * xs]!;
        order[i] = i;
      }
      order.sort(cmp);
      for (let i = 0; i < n; i++) dst[outAt + i * os] = order[i]!;
    });
  },
  scan(op, x, dim, out) {
    const n = x.shape[dim]!;
    const xs = x.strides[dim]!;
    const os = out.strides[dim]!;
    const src = x.data as TypedArray;
    const dst = out.data as TypedArray;
    const int = dst instanceof Int32Array;
    // Floats accumulate in a float64 number (PyTorch's CPU scan accumulates float32 in double too);
    // int32 wraps as C's int32 arithmetic does.
    const step: (acc: number, v: number) => number = scanStep(op, int);
    forEachRow(x, out, dim, (xAt, outAt) => {
      let acc = op === "sum" ? 0 : 1;
      for (let i = 0; i < n; i++) {
        acc = step(acc, src[xAt + i * xs]!);
        dst[outAt + i * os] = acc;
      }
    });
  },
};

function scanStep(op: ScanOp, int: boolean): (acc: number, v: number) => number {
  if (op === "sum") return int ? (a, v) => (a + v) | 0 : (a, v) => a + v;
  return int ? (a, v) => Math.imul(a, v) : (a, v) => a * v;
}
