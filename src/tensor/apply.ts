// The one door from Tensor to ops: `apply` runs an OpDef's forward and, when autograd needs it,
// records the graph node. The method files of this folder call it directly; tensor.ts (the class)
// sits above them all, so nothing here names the class as a value: an op's output is made by one
// of its inputs (`wrapRaw`), which keeps the imports acyclic without registering anything.

import { allocArray, type DType, type TypedArray } from "../core/dtype.js";
import { sizeOf } from "../core/shape.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { isAnomalyEnabled, isGradEnabled, versionOf } from "../autograd/graph.js";
import { adopt, OutputAllocError, type OpDef } from "../ops/op.js";
import type { Tensor } from "./tensor.js";

/**
 * Sees every op that runs (name, inputs, params, output, and the OpDef itself): the seam ONNX
 * export and compile record through.
 */
export type OpTracer = (name: string, inputs: readonly Tensor[], params: unknown, out: Tensor, op: OpDef) => void;
// Off (null) except while onnx.export or compile traces a forward: one null test per op when off.
let opTracer: OpTracer | null = null;

/** Installs (or, with null, removes) the op tracer; returns the one it replaced. */
export function setOpTracer(t: OpTracer | null): OpTracer | null {
  const prev = opTracer;
  opTracer = t;
  return prev;
}

/** Runs an op's forward and, when grad mode is on and an input requires grad, records the node. */
export function apply<P>(op: OpDef<P>, inputs: Tensor[], params: P): Tensor;
export function apply(op: OpDef, inputs: Tensor[]): Tensor;
export function apply<P>(op: OpDef<P>, inputs: Tensor[], params?: P): Tensor {
  let raw;
  try {
    raw = op.forward(inputs, params as P);
  } catch (e) {
    if (e instanceof OutputAllocError) throw new DescentError(`${op.name}: ${e.message}`);
    throw e;
  }
  const out = inputs[0]!.wrapRaw(raw);
  if (opTracer !== null) opTracer(op.name, inputs, params, out, op as OpDef);
  if (op.backward && isGradEnabled() && anyRequiresGrad(inputs)) {
    const saved =
      op.saves === "inputs" ? inputs : op.saves === "output" ? [out] : op.saves === "both" ? [...inputs, out] : [];
    out.gradFn = {
      name: op.name,
      op,
      inputs,
      params,
      freed: false,
      saved: saved.map((t) => ({ tensor: t, version: versionOf(t) })),
    };
    out.requiresGrad = true;
  }
  if (isAnomalyEnabled() && out.hasNonFinite()) {
    throw new DescentError(
      `detectAnomaly: ${op.name} produced NaN or Inf in its forward (inputs ${inputs.map((t) => `${shapeStr(t.shape)} ${t.dtype}`).join(", ")})`,
    );
  }
  return out;
}

function anyRequiresGrad(inputs: readonly Tensor[]): boolean {
  for (const t of inputs) if (t.requiresGrad) return true;
  return false;
}

/** A fresh 0-d tensor holding v (as fill_ stores it; a new storage has no version to bump); `like` makes it. */
export function scalarTensor(like: Tensor, dtype: DType, v: number): Tensor {
  const host = allocArray(dtype, 1);
  host[0] = v;
  return like.wrapRaw(adopt(host, []));
}

/** A new contiguous tensor whose i-th element (row-major) is f(i); `like` makes it. */
export function filledLike(like: Tensor, dtype: DType, shape: readonly number[], f: (i: number) => number): Tensor {
  return like.wrapRaw(adopt(hostFilled(dtype, sizeOf(shape), f), shape));
}

/** A new contiguous tensor whose host array `fill` writes in one call (a generator's bulk draw); `like` makes it. */
export function writtenLike(
  like: Tensor,
  dtype: DType,
  shape: readonly number[],
  fill: (host: TypedArray) => void,
): Tensor {
  const host = allocArray(dtype, sizeOf(shape));
  fill(host);
  return like.wrapRaw(adopt(host, shape));
}

/** A host array of n elements of dtype, the i-th f(i): what creation builds before handing it to the backend. */
export function hostFilled(dtype: DType, n: number, f: (i: number) => number): TypedArray {
  const host = allocArray(dtype, n);
  for (let i = 0; i < n; i++) host[i] = f(i);
  return host;
}
