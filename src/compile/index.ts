// compile(model, exampleInputs): traces a module's eval-mode forward into a plan of steps over
// preallocated buffers (builder.ts, layers.ts, ops.ts), fuses what it can (fuse.ts: bias,
// BatchNorm and activations into the GEMM epilogue, element-wise chains into one loop), and runs it
// with the backend's plan executor (src/backends/plan: one Node-API call per forward on native).
// One plan per input shape: a new shape (another batch size) traces again, and plans are cached.

import { Tensor } from "../tensor/tensor.js";
import { noGrad, versionOf } from "../autograd/graph.js";
import type { Module } from "../nn/module.js";
import { backend, type Storage } from "../backends/index.js";
import { planRunner, type PlanRunner } from "../backends/plan/index.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { contiguousStrides } from "../core/shape.js";
import { traceForward } from "./trace.js";
import { PlanBuilder } from "./builder.js";
import { opSteps } from "./ops.js";
import { layerSteps, type BatchNormFold } from "./layers.js";
import { fuse } from "./fuse.js";

/** What compile returns: the model's inference forward, run from a traced plan. */
export interface CompiledModel {
  /**
   * The model's eval-mode forward on inputs (as many Tensors, in the order model.forward takes
   * them), without autograd: returns what the model's forward returns (a Tensor or an array),
   * new tensors each call. Inputs of a shape not seen before are traced first (then cached).
   */
  forward(...inputs: Tensor[]): Tensor | Tensor[];
  /** The executor of the plan for the last shape run: "native" (one addon call per run) or "js". */
  readonly executor: "native" | "js" | "none";
  /** How many plans (input shapes) are cached. */
  readonly plans: number;
  /** Step kinds of the last plan run, in order (for tests and curiosity: "gemm", "ew", "js:op", ...). */
  readonly steps: readonly string[];
}

interface Plan {
  readonly shapes: readonly (readonly number[])[];
  readonly dtypes: readonly string[];
  readonly runner: PlanRunner;
  readonly builder: PlanBuilder;
  /** Per output: its per-call slot's dtype and shape, or a view of another slot to clone. */
  readonly outputs: readonly { perCall: boolean; slot: number; t: Tensor }[];
  /** The per-call outputs in the order of their slots (builder.outputSlots: how the runner binds them). */
  readonly callOuts: readonly { perCall: boolean; slot: number; t: Tensor }[];
  readonly single: boolean;
  readonly bind: Storage[];
  readonly steps: string[];
}

/**
 * Compiles a module for inference: traces `model.forward(...exampleInputs)` once (eval mode, no
 * autograd) into a plan over preallocated buffers and returns an object whose `forward` runs the
 * plan: Linear and Conv2d as GEMMs with bias, folded BatchNorm and the activation applied in the
 * GEMM's write-out, element-wise chains as one loop, and on the native backend the whole forward
 * as one addon call. Results equal the eager forward to float32 rounding.
 *
 * The model must be in eval mode (`model.eval()`); compile refuses one in training mode, and the
 * compiled forward refuses once the model is switched back to training. Parameters and buffers are
 * read from their live storage each call, so optimizer steps and `loadStateDict` are seen
 * (BatchNorm's folded scale is recomputed when its statistics change). A new input shape (another
 * batch size) is traced again and cached. As with `torch.jit.trace`, what the forward decided from
 * values during the trace (an `item()` in an `if`, a random draw from a creation function) is baked
 * into the plan. A forward that writes in place into its tensors is refused.
 *
 * @example
 * ```ts
 * model.eval();
 * const fast = compile(model, randn([1, 784]));
 * const y = fast.forward(x) as Tensor;
 * ```
 */
export function compile(model: Module, exampleInputs: Tensor | readonly Tensor[]): CompiledModel {
  const modules = [...model.modules()];
  const trainingCheck = (when: string): void => {
    for (const m of modules)
      if (m.training)
        throw new DescentError(
          `compile: ${when} ${m === model ? "the model" : `its submodule ${m.constructor.name}`} is in training mode; ` +
            "a compiled plan runs the eval-mode forward (Dropout off, BatchNorm with running statistics): call model.eval() first",
        );
  };
  trainingCheck("cannot compile:");
  const example = exampleInputs instanceof Tensor ? [exampleInputs] : [...exampleInputs];
  if (example.length === 0 || !example.every((t) => t instanceof Tensor))
    throw new DescentError("compile: exampleInputs must be a Tensor or a non-empty array of Tensors");
  const plans: Plan[] = [];
  let last: Plan | null = null;
  const find = (inputs: readonly Tensor[]): Plan | null => {
    if (last && matches(last, inputs)) return last;
    for (const p of plans) if (matches(p, inputs)) return p;
    return null;
  };
  last = buildPlan(model, example);
  plans.push(last);
  return {
    forward(...inputs: Tensor[]): Tensor | Tensor[] {
      trainingCheck("the forward of a compiled model cannot run:");
      if (!inputs.every((t) => t instanceof Tensor))
        throw new DescentError("compile: forward takes Tensors (as the model's forward)");
      let p = find(inputs);
      if (p && p.builder.live.some((l) => l.tensor.data !== l.storage)) {
        // A parameter's storage was replaced (not just written): trace again against the new one.
        plans.splice(plans.indexOf(p), 1);
        p = null;
      }
      if (!p) plans.push((p = buildPlan(model, inputs)));
      last = p;
      return run(p, inputs);
    },
    get executor() {
      return last ? last.runner.kind : "none";
    },
    get plans() {
      return plans.length;
    },
    get steps() {
      return last ? last.steps : [];
    },
  };
}

function matches(p: Plan, inputs: readonly Tensor[]): boolean {
  if (inputs.length !== p.shapes.length) return false;
  for (let i = 0; i < inputs.length; i++) {
    const s = inputs[i]!.shape,
      q = p.shapes[i]!;
    if (s.length !== q.length || inputs[i]!.dtype !== p.dtypes[i]) return false;
    for (let d = 0; d < s.length; d++) if (s[d] !== q[d]) return false;
  }
  return true;
}

function run(p: Plan, inputs: readonly Tensor[]): Tensor | Tensor[] {
  p.builder.refresh();
  const b = backend();
  p.bind.length = 0;
  for (const x of inputs) p.bind.push((x.isContiguous() && x.offset === 0 ? x : noGrad(() => x.clone())).data);
  // Per-call outputs bind in the order of their slots (the runner's), not the forward's: a forward
  // returning [conv2(pool(h)), h] made h's slot first, and its array went to the other output.
  const first = inputs.length;
  for (const o of p.callOuts) p.bind.push(b.alloc(o.t.dtype, o.t.size));
  noGrad(() => p.runner.run(p.bind));
  const outs = p.outputs.map(({ perCall, slot, t }) => {
    if (perCall)
      return t.wrapRaw({
        data: p.bind[first + p.builder.outputSlots.indexOf(slot)]!,
        dtype: t.dtype,
        shape: t.shape,
        strides: contiguousStrides(t.shape),
        offset: 0,
      });
    // A view of another slot (an input's when the forward returns it as is): copied out.
    const data = p.builder.slots[slot] ?? p.bind[p.builder.inputSlots.indexOf(slot)]!;
    const view = t.wrapRaw({ data, dtype: t.dtype, shape: t.shape, strides: t.strides, offset: t.offset });
    return noGrad(() => view.clone());
  });
  p.bind.length = 0; // let the caller's arrays go
  return p.single ? outs[0]! : outs;
}

/** Traces model on inputs (copies of them, so each has its own storage) and builds the plan. */
function buildPlan(model: Module, given: readonly Tensor[]): Plan {
  const inputs = noGrad(() => given.map((t) => t.detach().clone()));
  const state = [...model.parameters(), ...model.buffers()];
  const before = state.map(versionOf);
  const trace = traceForward(model, inputs);
  state.forEach((t, i) => {
    if (versionOf(t) !== before[i])
      throw new DescentError(
        `compile: the forward writes in place into a parameter or buffer (shape ${shapeStr(t.shape)}); a plan cannot replay that`,
      );
  });
  for (const e of trace.events)
    if (versionOf(e.out) !== e.version)
      throw new DescentError(
        `compile: the forward writes in place into the output of ${e.kind === "op" ? `op ${e.name}` : e.m.constructor.name} ` +
          `(shape ${shapeStr(e.out.shape)}); a plan cannot replay that: write it out of place (add instead of add_)`,
      );
  if (inputs.some((x) => versionOf(x) !== 0))
    throw new DescentError("compile: the forward writes in place into an input; a plan cannot replay that");
  // Outputs that own their storage whole are written straight into a fresh array per call; the
  // others (views, repeats, an input returned as is) are copied out after the run.
  const own = trace.outputs.filter(
    (o, i) =>
      o.isContiguous() &&
      o.offset === 0 &&
      trace.outputs.findIndex((q) => q.data === o.data) === i &&
      !inputs.some((x) => x.data === o.data) &&
      !state.some((s) => s.data === o.data) &&
      trace.events.some((e) => e.out.data === o.data && e.out.size === o.size),
  );
  const b = new PlanBuilder(inputs, state, own);
  const folds = new Map<object, BatchNormFold>();
  for (const e of trace.events) {
    if (e.kind === "layer") layerSteps(b, e, folds);
    else opSteps(b, e);
  }
  fuse(b, folds);
  const outputs = trace.outputs.map((t) => {
    const slot = b.slotFor(t);
    return { perCall: own.includes(t) && b.outputSlots.includes(slot), slot, t };
  });
  const perCall = [...b.inputSlots, ...b.outputSlots];
  const callOuts = b.outputSlots.map((slot) => {
    const o = outputs.find((q) => q.perCall && q.slot === slot);
    if (!o) throw new DescentError(`compile: internal: per-call slot ${slot} is no output of the forward`);
    return o;
  });
  const runner = planRunner({ steps: b.steps, slots: b.slots, perCall, kept: outputs.map((o) => o.slot) });
  return {
    shapes: given.map((t) => [...t.shape]),
    dtypes: given.map((t) => t.dtype),
    runner,
    builder: b,
    outputs,
    callOuts,
    single: trace.single,
    bind: [],
    steps: b.steps.map((s) =>
      s.kind === "js" ? `js:${s.name}` : s.kind === "gemm" && s.act !== "identity" ? `gemm+${s.act}` : s.kind,
    ),
  };
}
