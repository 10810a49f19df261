// Reductions: sum, amax, amin (differentiable) and argmax/argmin (indices, not differentiable).
// `dims` arrive normalised and sorted; the output is contiguous, shaped with or without them.

import { DescentError, shapeStr } from "../core/errors.js";
import type { ReduceOp } from "../backends/index.js";
import type { Tensor } from "../tensor/tensor.js";
import { contiguousStrides } from "../core/shape.js";
import { alloc, kernels, type OpDef, type RawTensor, type Saves } from "./op.js";

export interface ReduceParams {
  readonly dims: readonly number[];
  readonly keepDim: boolean;
}

export function keptShape(shape: readonly number[], dims: readonly number[]): number[] {
  return shape.map((d, i) => (dims.includes(i) ? 1 : d));
}

export function droppedShape(shape: readonly number[], dims: readonly number[]): number[] {
  return shape.filter((_, i) => !dims.includes(i));
}

type Grad = (x: Tensor, y: Tensor, g: Tensor, dims: readonly number[]) => Tensor;

function reduce(op: ReduceOp, name: string, saves: Saves, grad: Grad): OpDef<ReduceParams> {
  return {
    name,
    saves,
    forward([x], { dims, keepDim }) {
      if (op !== "sum" && dims.some((d) => x!.shape[d] === 0)) {
        throw new DescentError(
          `${name}: cannot reduce over a dimension of size 0 (shape ${shapeStr(x!.shape)}, dims [${dims.join(",")}])`,
        );
      }
      const out = alloc(x!.dtype, keptShape(x!.shape, dims));
      kernels().reduce(op, x!, dims, out);
      return keepDim ? out : reshaped(out, droppedShape(x!.shape, dims));
    },
    backward: (g, [x], y, { dims }) => {
      const keep = keptShape(x!.shape, dims);
      return [grad(x!, y.reshape(keep), g.reshape(keep), dims)];
    },
  };
}

/** A contiguous result given another shape of the same size. */
function reshaped(out: RawTensor, shape: number[]): RawTensor {
  return { ...out, shape, strides: contiguousStrides(shape) };
}

/** d Σx = 1 everywhere: the gradient is broadcast back over the reduced dims. */
export const Sum = reduce("sum", "sum", "none", (x, _y, g) => g.expand(x.shape));
/** The gradient goes to the elements equal to the extreme, split evenly among ties (PyTorch's amax). */
const extremeGrad: Grad = (x, y, g, dims) => {
  const hit = x.eq(y);
  return hit.mul(g).div(hit.sum(dims, true));
};
export const Amax = reduce("max", "amax", "both", extremeGrad);
export const Amin = reduce("min", "amin", "both", extremeGrad);

export const ArgReduce: OpDef<{ op: "argmax" | "argmin"; dim: number; keepDim: boolean }> = {
  name: "argmax",
  forward([x], { op, dim, keepDim }) {
    if (x!.shape[dim] === 0) {
      throw new DescentError(
        `${op}: cannot reduce over a dimension of size 0 (shape ${shapeStr(x!.shape)}, dim ${dim})`,
      );
    }
    const out = alloc("int32", droppedShape(x!.shape, [dim]));
    kernels().argReduce(op, x!, dim, out);
    return keepDim ? reshaped(out, keptShape(x!.shape, [dim])) : out;
  },
};
