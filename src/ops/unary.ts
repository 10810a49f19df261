// Element-wise primitives of one input, each with its derivative beside it, and the dtype cast.

import { checkFloat, type DType } from "../core/dtype.js";
import type { UnaryOp } from "../backends/index.js";
import type { Tensor } from "../tensor/tensor.js";
import { alloc, kernels, type OpDef, type Saves } from "./op.js";

type Grad = (x: Tensor, y: Tensor, g: Tensor) => Tensor;

function unary(op: UnaryOp, saves: Saves, grad: Grad | null, floatOnly = true): OpDef {
  return {
    name: op,
    saves,
    forward([x]) {
      if (floatOnly) checkFloat(op, x!.dtype);
      const out = alloc(x!.dtype, x!.shape);
      kernels().unary(op, x!, out);
      return out;
    },
    backward: grad ? (g, [x], y) => [grad(x!, y, g)] : undefined,
  };
}

const zero: Grad = (x) => x.newZeros(x.shape);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

export const Neg = unary("neg", "none", (_x, _y, g) => g.neg(), false); // d(-x) = -1
export const Abs = unary("abs", "inputs", (x, _y, g) => g.mul(x.sign()), false); // d|x| = sign(x)
export const Sign = unary("sign", "inputs", zero, false);
export const Exp = unary("exp", "output", (_x, y, g) => g.mul(y)); // d e^x = e^x
export const Expm1 = unary("expm1", "output", (_x, y, g) => g.mul(y.add(1))); // d(e^x - 1) = e^x
export const Log = unary("log", "inputs", (x, _y, g) => g.div(x)); // d ln x = 1/x
export const Log1p = unary("log1p", "inputs", (x, _y, g) => g.div(x.add(1))); // d ln(1+x) = 1/(1+x)
export const Sqrt = unary("sqrt", "output", (_x, y, g) => g.div(y.mul(2))); // d √x = 1/(2√x)
export const Reciprocal = unary("reciprocal", "output", (_x, y, g) => g.mul(y.square()).neg()); // d 1/x = -1/x²
export const Sin = unary("sin", "inputs", (x, _y, g) => g.mul(x.cos())); // d sin = cos
export const Cos = unary("cos", "inputs", (x, _y, g) => g.mul(x.sin()).neg()); // d cos = -sin
export const Tanh = unary("tanh", "output", (_x, y, g) => g.mul(y.square().neg().add(1))); // d tanh = 1 - tanh²
export const Sigmoid = unary("sigmoid", "output", (_x, y, g) => g.mul(y.mul(y.neg().add(1)))); // dσ = σ(1-σ)
// 1 where x > 0, 0 where x ≤ 0; NaN passes the gradient, as PyTorch's
export const Relu = unary("relu", "output", (_x, y, g) => g.reluGrad(y), false);
export const Erf = unary("erf", "inputs", (x, _y, g) => g.mul(x.square().neg().exp()).mul(TWO_OVER_SQRT_PI)); // 2/√π e^(-x²)
export const Floor = unary("floor", "inputs", zero, false);
export const Ceil = unary("ceil", "inputs", zero, false);
export const Round = unary("round", "inputs", zero, false);
export const IsNan = unary("isnan", "none", null, false);
export const IsInf = unary("isinf", "none", null, false);

/** Converts to another dtype; the gradient converts back. */
export const Cast: OpDef<DType> = {
  name: "to",
  forward([x], dtype) {
    const out = alloc(dtype, x!.shape);
    kernels().copy(x!, out);
    return out;
  },
  backward: (g, [x]) => [g.to(x!.dtype)],
};
