// Batched matrix product of [...batch, M, K] and [...batch, K, N] (batch dims already broadcast,
// possibly as stride-0 views; the expand op sums their gradients back).

import { DescentError, shapeStr } from "../core/errors.js";
import { allocEmpty, kernels, need, type OpDef } from "./op.js";

export const MatMul: OpDef = {
  name: "matmul",
  saves: "inputs",
  forward([a, b]) {
    const [m, k] = a!.shape.slice(-2) as [number, number];
    const [k2, n] = b!.shape.slice(-2) as [number, number];
    if (k !== k2 || a!.dtype !== b!.dtype) {
      throw new DescentError(
        `matmul: shapes ${shapeStr(a!.shape)} and ${shapeStr(b!.shape)} are not aligned (${k} != ${k2})`,
      );
    }
    // The kernel overwrites every element (Kernels.matmul), so the output need not be zeroed first.
    const out = allocEmpty(a!.dtype, [...a!.shape.slice(0, -2), m, n]);
    kernels().matmul(a!, b!, out);
    return out;
  },
  // d(AB) = (G Bᵀ, Aᵀ G); for a B stored transposed (Linear's Wᵀ) Aᵀ G is computed as (Gᵀ A)ᵀ, so
  // the gradient comes out in W's own layout and W.grad needs no transposing copy.
  backward: (g, [a, b]) => [
    need(a!, () => g.matmul(b!.transpose(-1, -2))),
    need(b!, () =>
      b!.ndim === 2 && a!.ndim === 2 && b!.strides[0] === 1 && b!.strides[1] === b!.shape[0] && b!.shape[0]! > 1
        ? g.transpose(0, 1).matmul(a!).transpose(0, 1)
        : a!.transpose(-1, -2).matmul(g),
    ),
  ],
  // Both are products the backward allocated (or views of one): the walk may add into them.
  freshGrads: true,
};
