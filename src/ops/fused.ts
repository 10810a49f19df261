// Fused primitives: softmax and log-softmax along the last (contiguous) dim, each one acceleration
// in place of the five or six kernels that the composite forms of src/tensor/composite.ts run, and
// their backward as one too (SoftmaxBackward, reached through Tensor.softmaxGrad). The tensor layer
// picks these only for the last dim of a contiguous float tensor; other cases stay composite.
// ReluBackward replaces ReLU's g.maskedFill(y.le(0), 0) (two kernels and a mask) by one. A backend
// without these accelerations runs their op-by-op fallbacks (backends/fallback/softmax.ts).

import { accel, alloc, type OpDef } from "./op.js";

function softmaxOp(log: boolean): OpDef {
  return {
    name: log ? "logSoftmax" : "softmax",
    saves: "output",
    freshGrads: true,
    forward([x]) {
      const out = alloc(x!.dtype, x!.shape);
      accel().softmax(x!, log, out);
      return out;
    },
    // log: dx = g − exp(y)·Σg;  softmax: dx = y·(g − Σ g·y)  (sums along the last dim)
    backward: (g, _x, y) => [g.softmaxGrad(y, log)],
  };
}

export const LogSoftmaxLast = softmaxOp(true);
export const SoftmaxLast = softmaxOp(false);

/** The backward above as a kernel: inputs [g, y] (contiguous, one dtype); not differentiable itself. */
export const SoftmaxBackward: OpDef<boolean> = {
  name: "softmaxBackward",
  forward([g, y], log) {
    const out = alloc(y!.dtype, y!.shape);
    accel().softmaxBackward(g!, y!, log, out);
    return out;
  },
};

/** ReLU's backward as one kernel, inputs [g, y] (y the forward's output); not differentiable itself. */
export const ReluBackward: OpDef = {
  name: "reluBackward",
  forward([g, y]) {
    const out = alloc(y!.dtype, y!.shape);
    accel().reluBackward(g!, y!, out);
    return out;
  },
};
