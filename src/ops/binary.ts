// Element-wise primitives of two inputs (and where). Inputs arrive with equal shapes and dtypes:
// the tensor layer broadcasts with stride-0 views and promotes dtypes first, so a broadcast's
// gradient is summed back by the expand op, not here.

import { checkFloat } from "../core/dtype.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { sameShape } from "../core/shape.js";
import type { BinaryOp } from "../backends/index.js";
import type { Tensor } from "../tensor/tensor.js";
import { alloc, kernels, need, type OpDef, type Saves } from "./op.js";

type Grad = (a: Tensor, b: Tensor, y: Tensor, g: Tensor) => [Tensor | null, Tensor | null];

function binary(op: BinaryOp, saves: Saves, grad: Grad | null, floatOnly = false): OpDef {
  return {
    name: op,
    saves,
    forward([a, b]) {
      if (!sameShape(a!.shape, b!.shape) || a!.dtype !== b!.dtype) {
        throw new DescentError(
          `${op}: internal: inputs ${shapeStr(a!.shape)} ${a!.dtype} and ${shapeStr(b!.shape)} ${b!.dtype} were not broadcast`,
        );
      }
      if (floatOnly) checkFloat(op, a!.dtype);
      const out = alloc(a!.dtype, a!.shape);
      kernels().binary(op, a!, b!, out);
      return out;
    },
    backward: grad ? (g, [a, b], y) => grad(a!, b!, y, g) : undefined,
  };
}

export const Add = binary("add", "none", (a, b, _y, g) => [need(a, () => g), need(b, () => g)]);
export const Sub = binary("sub", "none", (a, b, _y, g) => [need(a, () => g), need(b, () => g.neg())]);
export const Mul = binary("mul", "inputs", (a, b, _y, g) => [need(a, () => g.mul(b)), need(b, () => g.mul(a))]);
// d(a/b) = (1/b, -a/b²) = (1/b, -y/b)
export const Div = binary(
  "div",
  "both",
  (a, b, y, g) => [need(a, () => g.div(b)), need(b, () => g.mul(y).div(b).neg())],
  true,
);
// d aᵇ = (b·aᵇ⁻¹, aᵇ·ln a); PyTorch's masks: b = 0 gives 0 for a; a = 0 with b ≥ 0 gives 0 for b
export const Pow = binary("pow", "both", (a, b, y, g) => [
  need(a, () =>
    g
      .mul(b)
      .mul(a.pow(b.sub(1)))
      .maskedFill(b.eq(0), 0),
  ),
  need(b, () =>
    g
      .mul(y)
      .mul(a.log())
      .maskedFill(a.eq(0).mul(b.ge(0)), 0),
  ),
]);
// Ties split the gradient in half, as PyTorch's maximum/minimum do.
export const Maximum = binary("maximum", "inputs", (a, b, _y, g) => {
  const split = g.div(a.eq(b).add(1));
  return [need(a, () => split.maskedFill(a.lt(b), 0)), need(b, () => split.maskedFill(a.gt(b), 0))];
});
export const Minimum = binary("minimum", "inputs", (a, b, _y, g) => {
  const split = g.div(a.eq(b).add(1));
  return [need(a, () => split.maskedFill(a.gt(b), 0)), need(b, () => split.maskedFill(a.lt(b), 0))];
});
export const Eq = binary("eq", "none", null);
export const Ne = binary("ne", "none", null);
export const Lt = binary("lt", "none", null);
export const Le = binary("le", "none", null);
export const Gt = binary("gt", "none", null);
export const Ge = binary("ge", "none", null);

/** where(cond, a, b): cond of any dtype (non-zero is true), a and b broadcast and promoted alike. */
export const Where: OpDef = {
  name: "where",
  saves: "inputs",
  forward([c, a, b]) {
    const out = alloc(a!.dtype, a!.shape);
    kernels().where(c!, a!, b!, out);
    return out;
  },
  backward: (g, [c, a, b]) => [
    null,
    need(a!, () => g.maskedFill(c!.eq(0), 0)),
    need(b!, () => g.maskedFill(c!.ne(0), 0)),
  ],
};
