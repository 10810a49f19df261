// LayerNorm and Linear at the tensor level (nn reaches ops only through here): the ops of
// src/ops/norm.ts see their inputs as [rows, features]; an input whose layout cannot be viewed so
// is copied first. nn/functional checks the shapes and names the op in its errors.

import { LayerNorm, Linear, rowsView } from "../ops/norm.js";
import { apply } from "./apply.js";
import type { Tensor } from "./tensor.js";

/** x itself when its first `lead` dims and the rest view as a 2-D matrix with unit column stride, else a contiguous copy. */
const rowsOf = (x: Tensor, lead: number) => (rowsView(x, lead) ? x : x.contiguous());

/** Normalises x over its trailing `dims` dims; weight and bias of that shape, or null. */
export function fusedLayerNorm(
  x: Tensor,
  dims: number,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
): Tensor {
  const inputs = [rowsOf(x, x.ndim - dims)];
  if (weight) inputs.push(weight.contiguous());
  if (bias) inputs.push(bias.contiguous());
  return apply(LayerNorm, inputs, { eps, dims, hasWeight: weight !== null, hasBias: bias !== null, stats: null });
}

/** x [..., K] · weightᵀ (weight [N, K]) + bias [N] → [..., N]. */
export function fusedLinear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const inputs = [rowsOf(x, x.ndim - 1), weight];
  if (bias) inputs.push(bias);
  return apply(Linear, inputs);
}
