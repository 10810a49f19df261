// onnx.export: runs the model's eval-mode forward once on example inputs (no autograd) and records
// what ran as an ONNX graph (opset 17) with the parameters and buffers as initializers.
//
// Two tracers, because neither alone gives a good graph. Layers with an ONNX operator of their own
// (layers.ts) are caught at the module level: their forward is wrapped for the trace, so a Conv2d is
// one Conv node, not the unfold + matmul Descent runs. Everything else (a custom forward's reshapes,
// additions, softmax) is caught at the op level through apply.ts's opt-in tracer seam, which costs
// one null test per op when no export is running. Ops inside a wrapped layer are not recorded.
import { writeFileSync } from "node:fs";
import { Tensor } from "../tensor/tensor.js";
import { setOpTracer } from "../tensor/apply.js";
import { noGrad } from "../autograd/graph.js";
import type { Module } from "../nn/module.js";
import { DescentError } from "../core/errors.js";
import { checkOptions, keysOf } from "../core/options.js";
import { encodeModel, type ProtoObject } from "./proto.js";
import { GraphBuilder, onnxDType } from "./graph.js";
import { emitOp } from "./ops.js";
import { layerEmitter } from "./layers.js";

/** Options of onnx.exportModel / exportBytes (as torch.onnx.export's input_names, output_names, dynamic_axes, opset_version). */
export interface ExportOptions {
  /** Graph input names, in forward's order (default input_0, input_1, …). */
  inputNames?: readonly string[];
  /** Graph output names (default output_0, …). */
  outputNames?: readonly string[];
  /** As PyTorch's: value name -> {dim: symbolic name}. Default: dim 0 of every input and output is "batch". */
  dynamicAxes?: Record<string, Record<number, string>>;
  /** Only 17 is written (LayerNormalization needs 17; opset 18 moved reduce axes to inputs). */
  opsetVersion?: number;
}

/** The keys of ExportOptions, for checkOptions. */
const EXPORT_KEYS = keysOf<ExportOptions>()({
  inputNames: true,
  outputNames: true,
  dynamicAxes: true,
  opsetVersion: true,
});

/** Traces model on exampleInputs and writes the ONNX file to path; returns the encoded bytes. */
export function exportModel(
  model: Module,
  exampleInputs: Tensor | readonly Tensor[],
  path: string,
  opts: ExportOptions = {},
): Uint8Array {
  const bytes = exportBytes(model, exampleInputs, opts);
  writeFileSync(path, bytes);
  return bytes;
}

/**
 * Traces model on exampleInputs (a Tensor or an array, in forward's order) and returns the ONNX
 * model (opset 17) encoded as bytes, the parameters and buffers as initializers; exportModel without
 * the file (torch.onnx.export to a BytesIO).
 */
export function exportBytes(
  model: Module,
  exampleInputs: Tensor | readonly Tensor[],
  opts: ExportOptions = {},
): Uint8Array {
  checkOptions("onnx.export", opts, EXPORT_KEYS);
  const inputs = exampleInputs instanceof Tensor ? [exampleInputs] : [...exampleInputs];
  const opset = opts.opsetVersion ?? 17;
  if (opset !== 17) throw new DescentError(`onnx.export: opsetVersion ${opset} is not supported (only 17)`);
  if (inputs.length === 0) throw new DescentError("onnx.export: exampleInputs is empty");
  const inputNames = opts.inputNames ?? inputs.map((_, i) => `input_${i}`);
  if (inputNames.length !== inputs.length)
    throw new DescentError(`onnx.export: ${inputNames.length} inputNames for ${inputs.length} example inputs`);
  const dyn = opts.dynamicAxes;
  const axesOf = (name: string, rank: number): Record<number, string> =>
    dyn ? (dyn[name] ?? {}) : rank > 0 ? { 0: "batch" } : {};
  const batch = axesOf(inputNames[0]!, inputs[0]!.shape.length)[0] !== undefined ? inputs[0]!.shape[0]! : null;

  const stateNames = new Map<Tensor, string>();
  for (const [k, t] of [...model.namedParameters(), ...model.namedBuffers()])
    if (!stateNames.has(t)) stateNames.set(t, k);
  const g = new GraphBuilder(stateNames, batch);
  inputs.forEach((t, i) => g.bind(t, inputNames[i]!));

  let depth = 0; // > 0 inside a layer written whole
  const restore: (() => void)[] = [];
  for (const m of model.modules()) {
    const emit = layerEmitter(m);
    if (!emit) continue;
    const own = Object.getOwnPropertyDescriptor(m, "forward");
    const inner = (m.forward as (...a: unknown[]) => unknown).bind(m);
    const traced = (...args: unknown[]): unknown => {
      if (depth > 0) return inner(...args);
      depth++;
      try {
        // The writer runs inside too: the tensors it computes (reordered weights) are not traced ops.
        const out = inner(...args);
        emit(g, m, args, out);
        return out;
      } finally {
        depth--;
      }
    };
    Object.defineProperty(m, "forward", { value: traced, writable: true, configurable: true, enumerable: false });
    restore.push(() => (own ? Object.defineProperty(m, "forward", own) : delete (m as { forward?: unknown }).forward));
  }
  const wasTraining = model.training;
  model.eval();
  const prevTracer = setOpTracer((name, ins, params, out) => {
    if (depth === 0) emitOp(g, name, ins, params, out);
  });
  let result: unknown;
  try {
    result = noGrad(() => (model.forward as (...a: Tensor[]) => unknown)(...inputs));
  } finally {
    setOpTracer(prevTracer);
    for (const r of restore) r();
    model.train(wasTraining);
  }

  const outputs = result instanceof Tensor ? [result] : Array.isArray(result) ? result : [];
  if (outputs.length === 0 || !outputs.every((o) => o instanceof Tensor))
    throw new DescentError("onnx.export: the model's forward must return a Tensor or an array of Tensors");
  const outputNames = opts.outputNames ?? outputs.map((_, i) => `output_${i}`);
  if (outputNames.length !== outputs.length)
    throw new DescentError(`onnx.export: ${outputNames.length} outputNames for ${outputs.length} outputs`);
  outputs.forEach((o: Tensor, i) => g.node("Identity", [g.name(o)], [outputNames[i]!]));

  const valueInfo = (name: string, t: Tensor): ProtoObject => {
    const axes = axesOf(name, t.shape.length);
    const dim = t.shape.map((d, i) => (axes[i] !== undefined ? { dim_param: axes[i] } : { dim_value: d }));
    return { name, type: { tensor_type: { elem_type: onnxDType(t.dtype, `value ${name}`), shape: { dim } } } };
  };
  return encodeModel({
    ir_version: 8,
    producer_name: "descent-nn",
    opset_import: [{ domain: "", version: opset }],
    graph: {
      name: "descent",
      node: g.nodes,
      initializer: g.initializers,
      input: inputs.map((t, i) => valueInfo(inputNames[i]!, t)),
      output: outputs.map((t: Tensor, i) => valueInfo(outputNames[i]!, t)),
    },
  });
}
