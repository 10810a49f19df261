// Matrix products with PyTorch's rules in front of the one MatMul op (src/ops/matmul.ts), which
// sees only 2-D or equal-batch operands.

import { DescentError, shapeStr } from "../core/errors.js";
import { broadcastShapes, inferShape, viewStrides } from "../core/shape.js";
import { MatMul } from "../ops/matmul.js";
import { apply } from "./apply.js";
import type { Tensor } from "./tensor.js";

/**
 * matmul: 1-D operands gain a dim that is removed after, batch dims broadcast, and an N-D @ 2-D
 * product is folded into one 2-D product (one GEMM instead of many).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0)
    throw new DescentError(
      `matmul: both operands need at least 1 dim, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`,
    );
  if (a.dtype !== b.dtype)
    throw new DescentError(`matmul: dtypes differ (${a.dtype} and ${b.dtype}); convert one with to()`);
  const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
  const b2 = b.ndim === 1 ? b.unsqueeze(1) : b;
  const k = a2.shape[a2.ndim - 1]!;
  if (k !== b2.shape[b2.ndim - 2]) {
    throw new DescentError(
      `matmul: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} are not aligned (${k} != ${b2.shape[b2.ndim - 2]})`,
    );
  }
  // Plain 2-D operands (every Linear): no batch dims to broadcast, so no expand views to build.
  if (a.ndim === 2 && b.ndim === 2) return apply(MatMul, [a, b]);
  let out: Tensor;
  if (a2.ndim > 2 && b2.ndim === 2 && canView(a2, [-1, k])) {
    out = apply(MatMul, [a2.reshape([-1, k]), b2]).reshape([...a2.shape.slice(0, -1), b2.shape[1]!]);
  } else {
    const batch = broadcastBatch(a, b, a2.shape.slice(0, -2), b2.shape.slice(0, -2));
    out = apply(MatMul, [a2.expand([...batch, ...a2.shape.slice(-2)]), b2.expand([...batch, ...b2.shape.slice(-2)])]);
  }
  if (a.ndim === 1) out = out.squeeze(-2);
  if (b.ndim === 1) out = out.squeeze(-1);
  return out;
}

function broadcastBatch(a: Tensor, b: Tensor, ba: readonly number[], bb: readonly number[]): number[] {
  try {
    return broadcastShapes("matmul", ba, bb);
  } catch {
    throw new DescentError(
      `matmul: the batch dims of ${shapeStr(a.shape)} and ${shapeStr(b.shape)} cannot be broadcast together`,
    );
  }
}

function canView(x: Tensor, shape: readonly number[]): boolean {
  const s = inferShape("reshape", shape, x.size, x.shape);
  return viewStrides(x.shape, x.strides, s) !== null;
}
