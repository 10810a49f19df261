// Where activations reach the fused ops of src/ops/fused.ts: softmax and logSoftmax along the
// last dim of a contiguous float tensor run as one op, other cases as the composites of
// composite.ts; and the backwards those fused ops (and ReLU's) use. Only these call sites name a
// fused op, so what picks them stays in this one file.

import { isFloat } from "../core/dtype.js";
import { LogSoftmaxLast, ReluBackward, SoftmaxBackward, SoftmaxLast } from "../ops/fused.js";
import { apply } from "./apply.js";
import * as C from "./composite.js";
import type { Tensor } from "./tensor.js";

export function softmax(x: Tensor, dim: number): Tensor {
  return fusedLastDim(x, dim) ? apply(SoftmaxLast, [x]) : C.softmax(x, dim);
}

export function logSoftmax(x: Tensor, dim: number): Tensor {
  return fusedLastDim(x, dim) ? apply(LogSoftmaxLast, [x]) : C.logSoftmax(x, dim);
}

/** ReLU's backward: g (the gradient of y = relu(x)) where y > 0 or NaN, else 0. */
export function reluGrad(g: Tensor, y: Tensor): Tensor {
  return apply(ReluBackward, [g.to(y.dtype), y]);
}

/** The backward of the fused softmax ops: g is the output's gradient. */
export function softmaxGrad(g: Tensor, y: Tensor, log: boolean): Tensor {
  return apply(SoftmaxBackward, [g.to(y.dtype).contiguous(), y], log);
}

/** softmax / logSoftmax run fused along the last dim of a non-empty contiguous float tensor. */
function fusedLastDim(x: Tensor, dim: number): boolean {
  return isFloat(x.dtype) && x.ndim > 0 && (dim === -1 || dim === x.ndim - 1) && x.size > 0 && x.isContiguous();
}
