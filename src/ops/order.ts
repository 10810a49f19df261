// Order ops: the sorting permutation along a dim (indices only, not differentiable: sort's values
// are a gather at these indices, whose backward is scatterAdd) and the running sum and product.
// Inputs arrive with at least one dim and `dim` normalised (src/tensor/order.ts).

import type { ScanOp } from "../backends/index.js";
import type { Tensor } from "../tensor/tensor.js";
import { alloc, kernels, need, type OpDef, type Saves } from "./op.js";

/** int32 positions that sort each row along dim; stable, NaN the largest. */
export const Argsort: OpDef<{ dim: number; descending: boolean }> = {
  name: "argsort",
  forward([x], { dim, descending }) {
    const out = alloc("int32", x!.shape);
    kernels().sort(x!, dim, descending, out);
    return out;
  },
};

function scan(
  op: ScanOp,
  name: string,
  saves: Saves,
  grad: (x: Tensor, y: Tensor, g: Tensor, dim: number) => Tensor,
): OpDef<number> {
  return {
    name,
    saves,
    forward([x], dim) {
      const out = alloc(x!.dtype, x!.shape);
      kernels().scan(op, x!, dim, out);
      return out;
    },
    backward: (g, [x], y, dim) => [need(x!, () => grad(x!, y, g, dim))],
  };
}

/** dx_i = Σ_{k≥i} g_k: a reversed cumsum of the gradient. */
export const Cumsum = scan("sum", "cumsum", "none", (_x, _y, g, dim) => reverseCumsum(g, dim));
export const Cumprod = scan("prod", "cumprod", "both", (x, y, g, dim) => cumprodGrad(x, y, g, dim));

function reverseCumsum(g: Tensor, dim: number): Tensor {
  return g.flip(dim).cumsum(dim).flip(dim);
}

/**
 * dx_i = Σ_{k≥i} g_k · Π_{j≤k, j≠i} x_j, exact with zeros in x (as PyTorch's). Let z be a row's
 * first zero. Before z no factor is 0, so the term is g_k·y_k / x_i, summed over i ≤ k < z (terms
 * with k ≥ z hold x_z = 0). At z it is Σ_{k≥z} g_k·y'_k, y' the cumprod with x_z read as 1. After z
 * every term holds x_z: the gradient is 0.
 */
function cumprodGrad(x: Tensor, y: Tensor, g: Tensor, dim: number): Tensor {
  const zeros = x.eq(0);
  const seen = zeros.cumsum(dim); // zeros at or before each position
  const before = seen.eq(0);
  const first = zeros.mul(seen.eq(1)); // the first zero of each row
  const safeX = x.maskedFill(before.eq(0), 1);
  const gy = g.mul(y).maskedFill(before.eq(0), 0);
  const early = reverseCumsum(gy, dim).div(safeX).maskedFill(before.eq(0), 0);
  const yAfter = x.maskedFill(first, 1).cumprod(dim);
  const atZero = reverseCumsum(g.mul(yAfter), dim).maskedFill(first.eq(0), 0);
  return early.add(atZero);
}
