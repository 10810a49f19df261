// gather and its adjoint scatterAdd. Index tensors are int32 and range-checked here, so kernels
// can trust them: an out-of-range index is an error, never a silent read of another element.

import { DescentError, shapeStr } from "../core/errors.js";
import { sameShape, sizeOf } from "../core/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { alloc, kernels, need, view, type OpDef } from "./op.js";

function checkIndex(op: string, x: Tensor, dim: number, index: Tensor): void {
  if (index.dtype !== "int32") throw new DescentError(`${op}: index must be int32, got ${index.dtype}`);
  if (index.ndim !== x.ndim) {
    throw new DescentError(
      `${op}: index ${shapeStr(index.shape)} must have as many dims as the input ${shapeStr(x.shape)}`,
    );
  }
  index.shape.forEach((d, i) => {
    if (i !== dim && d > x.shape[i]!) {
      throw new DescentError(
        `${op}: index ${shapeStr(index.shape)} is larger than the input ${shapeStr(x.shape)} in dim ${i}`,
      );
    }
  });
  checkIndexRange(op, index, x.shape[dim]!, dim, x.shape);
}

/** Refuses any index outside 0..size-1 (negative indices are not wrapped, as in PyTorch's gather). */
export function checkIndexRange(op: string, index: Tensor, size: number, dim: number, shape: readonly number[]): void {
  const n = sizeOf(index.shape);
  if (n === 0) return;
  let lo: number;
  let hi: number;
  if (n <= 4096) {
    // A small index (a generated token's embedding lookup) is read once: cheaper than two reductions.
    const v = index.toFlatArray();
    lo = hi = v[0]!;
    for (let i = 1; i < n; i++) {
      lo = Math.min(lo, v[i]!);
      hi = Math.max(hi, v[i]!);
    }
  } else {
    lo = index.amin().item();
    hi = index.amax().item();
  }
  if (lo < 0 || hi >= size) {
    throw new DescentError(
      `${op}: index ${lo < 0 ? lo : hi} is out of bounds for dim ${dim} with size ${size} (input ${shapeStr(shape)})`,
    );
  }
}

/** out[…i…] = x[…index[…i…]…] along dim. */
export const Gather: OpDef<number> = {
  name: "gather",
  saves: "inputs",
  forward([x, index], dim) {
    checkIndex("gather", x!, dim, index!);
    const out = alloc(x!.dtype, index!.shape);
    kernels().gather(x!, dim, index!, out);
    return out;
  },
  backward: (g, [x, index], _y, dim) => [need(x!, () => g.newZeros(x!.shape).scatterAdd(dim, index!, g)), null],
};

/** base + (src added at index along dim). The adjoint of gather. */
export const ScatterAdd: OpDef<number> = {
  name: "scatterAdd",
  saves: "inputs",
  forward([base, index, src], dim) {
    checkIndex("scatterAdd", base!, dim, index!);
    index!.shape.forEach((d, i) => {
      if (d > src!.shape[i]!)
        throw new DescentError(
          `scatterAdd: index ${shapeStr(index!.shape)} is larger than src ${shapeStr(src!.shape)} in dim ${i}`,
        );
    });
    const out = alloc(base!.dtype, base!.shape);
    kernels().copy(base!, out);
    const srcPart = view(src!, [...index!.shape], [...src!.strides]);
    kernels().scatterAdd(out, dim, index!, srcPart);
    return out;
  },
  backward: (g, [base, index, src], _y, dim) => [
    need(base!, () => g),
    null,
    need(src!, () => padTo(g.gather(dim, index!), src!.shape)),
  ],
};

/** x placed at the start of zeros of `shape` (src elements that no index reached get no gradient). */
function padTo(x: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const full = x.newZeros(shape);
  x.shape.reduce((v, d, i) => v.narrow(i, 0, d), full).copy_(x);
  return full;
}
