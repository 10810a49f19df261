// onnx.load: an ONNX model as a Descent Module. The graph is interpreted node by node (interp.ts)
// on every forward; float initializers become Parameters (so the model can be fine-tuned and saved
// with the usual state dict), integer ones (shapes, axes, indices) stay constants.
import { readFileSync } from "node:fs";
import type { Tensor } from "../tensor/tensor.js";
import { fromHost } from "../tensor/tensor.js";
import { Module, Parameter } from "../nn/module.js";
import { DescentError } from "../core/errors.js";
import { AT, DT, decodeModel, type ProtoObject } from "./proto.js";
import { OPS, type Attrs } from "./interp.js";

interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Attrs;
}

const arr = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

/** A Tensor from a TensorProto: float types as float32, integer and bool types as int32. */
export function fromTensorProto(p: ProtoObject, where: string): Tensor {
  const dims = arr<number>(p.dims).map(Number);
  const dt = Number(p.data_type ?? 0);
  const raw = p.raw_data instanceof Uint8Array && p.raw_data.length > 0 ? p.raw_data : null;
  let values: Float32Array | Int32Array;
  if (dt === DT.float || dt === DT.double) {
    if (raw) {
      const copy = new Uint8Array(raw); // an aligned copy (a decoded Buffer may share a pool)
      values = dt === DT.float ? new Float32Array(copy.buffer) : Float32Array.from(new Float64Array(copy.buffer));
    } else values = Float32Array.from(arr<number>(dt === DT.float ? p.float_data : p.double_data));
    return fromHost(values, dims);
  }
  if (dt === DT.int64 || dt === DT.int32 || dt === DT.bool || dt === DT.uint8 || dt === DT.int8) {
    if (raw) {
      const copy = new Uint8Array(raw);
      if (dt === DT.int64) values = Int32Array.from(new BigInt64Array(copy.buffer), (v) => Number(v));
      else if (dt === DT.int32) values = new Int32Array(copy.buffer);
      else values = Int32Array.from(dt === DT.int8 ? new Int8Array(copy.buffer) : copy);
    } else values = Int32Array.from(arr<number>(dt === DT.int64 ? p.int64_data : p.int32_data), Number);
    return fromHost(values, dims);
  }
  throw new DescentError(`onnx.load: ${where} has ONNX data type ${dt}, which Descent does not hold`);
}

function decodeAttrs(node: ProtoObject): Attrs {
  const out: Attrs = {};
  for (const a of arr<ProtoObject>(node.attribute)) {
    const name = String(a.name);
    switch (Number(a.type)) {
      case AT.FLOAT:
        out[name] = Number(a.f ?? 0);
        break;
      case AT.INT:
        out[name] = Number(a.i ?? 0);
        break;
      case AT.STRING:
        out[name] = new TextDecoder().decode(a.s as Uint8Array);
        break;
      case AT.TENSOR:
        out[name] = fromTensorProto(a.t as ProtoObject, `attribute ${name}`);
        break;
      case AT.FLOATS:
        out[name] = arr<number>(a.floats).map(Number);
        break;
      case AT.INTS:
        out[name] = arr<number>(a.ints).map(Number);
        break;
      case AT.STRINGS:
        out[name] = arr<Uint8Array>(a.strings).map((b) => new TextDecoder().decode(b));
        break;
      default:
        throw new DescentError(
          `onnx.load: attribute ${name} of ${String(node.op_type)} has an unsupported type ${String(a.type)}`,
        );
    }
  }
  return out;
}

/** An ONNX graph as a Module: forward(...inputs) in the graph's input order; one output or an array. */
export class OnnxModule extends Module {
  /** The graph's input names (initializers excluded), in forward's argument order. */
  readonly inputNames: readonly string[];
  /** The graph's output names, in the order forward returns them. */
  readonly outputNames: readonly string[];
  private readonly nodes: readonly NodeSpec[];
  private readonly consts = new Map<string, Tensor>();
  // Value name -> its Parameter (registered below under a name without dots, which state dicts reserve).
  private readonly params = new Map<string, Parameter>();

  /** @internal OnnxModules are made by onnx.load() and onnx.loadBytes() from a decoded ModelProto. */
  constructor(model: ProtoObject, where = "model") {
    super();
    const graph = (model.graph ?? {}) as ProtoObject;
    for (const o of arr<ProtoObject>(model.opset_import)) {
      const domain = String(o.domain ?? "");
      if (domain !== "" && domain !== "ai.onnx")
        throw new DescentError(`onnx.load: ${where} uses operator domain "${domain}", which is not supported`);
    }
    const inits = new Set<string>();
    for (const p of arr<ProtoObject>(graph.initializer)) {
      const name = String(p.name);
      inits.add(name);
      const t = fromTensorProto(p, `initializer ${name}`);
      if (t.dtype === "float32") {
        const param = new Parameter(t);
        this.params.set(name, param);
        this.registerParameter(name.replace(/[^A-Za-z0-9_]/g, "_"), param);
      } else this.consts.set(name, t);
    }
    this.inputNames = arr<ProtoObject>(graph.input)
      .map((v) => String(v.name))
      .filter((n) => !inits.has(n));
    this.outputNames = arr<ProtoObject>(graph.output).map((v) => String(v.name));
    this.nodes = arr<ProtoObject>(graph.node).map((n) => {
      const op = String(n.op_type);
      const domain = String(n.domain ?? "");
      if ((domain !== "" && domain !== "ai.onnx") || (op !== "Constant" && !OPS[op]))
        throw new DescentError(
          `onnx.load: ${where} uses operator ${domain ? `${domain}.` : ""}${op}, which Descent cannot run`,
        );
      const spec = { op, inputs: arr<string>(n.input), outputs: arr<string>(n.output), attrs: decodeAttrs(n) };
      // Constant nodes are folded now: their value never changes.
      if (op === "Constant") this.consts.set(spec.outputs[0]!, spec.attrs.value as Tensor);
      return spec;
    });
    this.nodes = this.nodes.filter((n) => n.op !== "Constant");
  }

  forward(...inputs: Tensor[]): Tensor | Tensor[] {
    if (inputs.length !== this.inputNames.length)
      throw new DescentError(
        `OnnxModule.forward: the graph takes ${this.inputNames.length} inputs (${this.inputNames.join(", ")}), got ${inputs.length}`,
      );
    const env = new Map<string, Tensor>(this.consts);
    for (const [k, p] of this.params) env.set(k, p);
    this.inputNames.forEach((n, i) => env.set(n, inputs[i]!));
    for (const node of this.nodes) {
      const ins = node.inputs.map((n) => {
        if (n === "") return null;
        const v = env.get(n);
        if (!v) throw new DescentError(`OnnxModule.forward: ${node.op} reads ${n}, which no earlier node produced`);
        return v;
      });
      const outs = OPS[node.op]!(ins, node.attrs);
      node.outputs.forEach((n, i) => {
        if (n !== "" && outs[i]) env.set(n, outs[i]!);
      });
    }
    const outs = this.outputNames.map((n) => env.get(n)!);
    return outs.length === 1 ? outs[0]! : outs;
  }
}

/** Decodes an ONNX model from bytes as an OnnxModule; `where` names the source in error messages (default "bytes"). */
export function loadBytes(bytes: Uint8Array, where = "bytes"): OnnxModule {
  return new OnnxModule(decodeModel(bytes, where), where);
}

/** Reads an .onnx file as an OnnxModule. */
export function load(path: string): OnnxModule {
  return loadBytes(readFileSync(path), path);
}
