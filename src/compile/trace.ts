// compile's tracer: runs a model's eval-mode forward once (no autograd) and records what ran, as
// onnx.export does. Layers the planner writes whole (Linear, Conv2d, BatchNorm, LayerNorm, the
// activation modules) are caught at the module level, their forward wrapped for the trace, so a
// Linear is one GEMM with its bias and a GELU one activation instead of the ops Descent composes
// them from; everything else (a custom forward's additions, reshapes, softmax) is caught at the op
// level through apply.ts's opt-in tracer seam. Ops inside a layer caught whole are not recorded.

import { Tensor } from "../tensor/tensor.js";
import { setOpTracer } from "../tensor/apply.js";
import { noGrad, versionOf } from "../autograd/graph.js";
import type { OpDef } from "../ops/op.js";
import * as nn from "../nn/index.js";
import type { Module } from "../nn/module.js";
import { DescentError } from "../core/errors.js";

/** One recorded op (inputs, params and output as the forward saw them). */
export interface OpEvent {
  readonly kind: "op";
  readonly name: string;
  readonly op: OpDef<unknown>;
  readonly inputs: readonly Tensor[];
  readonly params: unknown;
  readonly out: Tensor;
  /** out's version when recorded: a later in-place write into it changes it (refused). */
  readonly version: number;
}
/** One layer caught whole: its module, input and output. */
export interface LayerEvent {
  readonly kind: "layer";
  readonly m: Module;
  readonly x: Tensor;
  readonly out: Tensor;
  readonly version: number;
}
export type TraceEvent = OpEvent | LayerEvent;

/** What a trace gives: the events in order and the forward's outputs. */
export interface Trace {
  readonly events: TraceEvent[];
  readonly outputs: Tensor[];
  /** True when the forward returned one Tensor (not an array). */
  readonly single: boolean;
}

/** Layers written whole by the planner (plan.ts: layerSteps), when their forward takes one Tensor. */
const WHOLE: (abstract new (...a: never[]) => Module)[] = [
  nn.Linear,
  nn.Conv2d,
  nn.BatchNorm1d,
  nn.BatchNorm2d,
  nn.LayerNorm,
  nn.ReLU,
  nn.Sigmoid,
  nn.Tanh,
  nn.GELU,
  nn.SiLU,
  nn.LeakyReLU,
  nn.ELU,
];

/** Runs model.forward(...inputs) under noGrad with both tracers on; the model must already be in eval mode. */
export function traceForward(model: Module, inputs: readonly Tensor[]): Trace {
  const events: TraceEvent[] = [];
  let depth = 0; // > 0 inside a layer caught whole
  const restore: (() => void)[] = [];
  for (const m of model.modules()) {
    if (!WHOLE.some((C) => m instanceof C)) continue;
    const own = Object.getOwnPropertyDescriptor(m, "forward");
    const inner = (m.forward as (...a: unknown[]) => unknown).bind(m);
    const traced = (...args: unknown[]): unknown => {
      if (depth > 0 || args.length !== 1 || !(args[0] instanceof Tensor)) return inner(...args);
      depth++;
      try {
        const out = inner(...args);
        if (out instanceof Tensor) events.push({ kind: "layer", m, x: args[0], out, version: versionOf(out) });
        return out;
      } finally {
        depth--;
      }
    };
    Object.defineProperty(m, "forward", { value: traced, writable: true, configurable: true, enumerable: false });
    restore.push(() => (own ? Object.defineProperty(m, "forward", own) : delete (m as { forward?: unknown }).forward));
  }
  const prev = setOpTracer((name, ins, params, out, op) => {
    if (depth === 0)
      events.push({
        kind: "op",
        name,
        op: op as OpDef<unknown>,
        inputs: [...ins],
        params,
        out,
        version: versionOf(out),
      });
  });
  let result: unknown;
  try {
    result = noGrad(() => (model.forward as (...a: Tensor[]) => unknown)(...inputs));
  } finally {
    setOpTracer(prev);
    for (const r of restore) r();
  }
  const single = result instanceof Tensor;
  const outputs = single ? [result] : Array.isArray(result) ? (result as unknown[]) : [];
  if (outputs.length === 0 || !outputs.every((o) => o instanceof Tensor))
    throw new DescentError("compile: the model's forward must return a Tensor or an array of Tensors");
  return { events, outputs: outputs as Tensor[], single };
}
