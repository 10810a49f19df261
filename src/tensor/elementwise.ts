// Element-wise ops with more than one input: dtype promotion and broadcasting in front of the
// binary and ternary OpDefs (src/ops/binary.ts). The one-input ops need neither and are one-line
// methods of the class.

import { promoteTypes, scalarResultType } from "../core/dtype.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { broadcastShapes, sameShape } from "../core/shape.js";
import type { OpDef } from "../ops/op.js";
import { Where } from "../ops/binary.js";
import { apply, scalarTensor } from "./apply.js";
import type { Scalar, Tensor } from "./tensor.js";

/** Promotes dtypes and broadcasts shapes, then applies a two-input op. */
export function binary(op: OpDef, a: Tensor, b: Tensor | Scalar, floatResult = false): Tensor {
  // Same dtype and shape (most calls in a model): nothing to promote or broadcast.
  if (
    typeof b !== "number" &&
    a.dtype === b.dtype &&
    (!floatResult || a.dtype !== "int32") &&
    sameShape(a.shape, b.shape)
  )
    return apply(op, [a, b]);
  const bt = typeof b === "number" ? scalarTensor(a, scalarResultType(a.dtype, b), b) : b;
  let dtype = promoteTypes(a.dtype, bt.dtype);
  if (floatResult && dtype === "int32") dtype = "float32";
  const shape = broadcastShapes(op.name, a.shape, bt.shape);
  return apply(op, [a.to(dtype).expand(shape), bt.to(dtype).expand(shape)]);
}

/** where(cond, a, b): a where cond is non-zero, else b; all three broadcast together. */
export function where(cond: Tensor, a: Tensor | Scalar, b: Tensor | Scalar): Tensor {
  const ref = typeof a !== "number" ? a : typeof b !== "number" ? b : cond;
  const at = typeof a !== "number" ? a : scalarTensor(cond, scalarResultType(ref.dtype, a), a);
  const bt = typeof b !== "number" ? b : scalarTensor(cond, scalarResultType(ref.dtype, b), b);
  const dtype = promoteTypes(at.dtype, bt.dtype);
  const shape = broadcastShapes("where", broadcastShapes("where", cond.shape, at.shape), bt.shape);
  return apply(Where, [cond.expand(shape), at.to(dtype).expand(shape), bt.to(dtype).expand(shape)]);
}

export function maskedFill(x: Tensor, mask: Tensor, value: Scalar): Tensor {
  if (!sameShape(broadcastShapes("maskedFill", mask.shape, x.shape), x.shape)) {
    throw new DescentError(
      `maskedFill: mask ${shapeStr(mask.shape)} does not broadcast to the tensor's shape ${shapeStr(x.shape)}`,
    );
  }
  return where(mask, value, x);
}
