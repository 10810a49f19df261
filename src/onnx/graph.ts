// The graph under construction during onnx.export: ONNX value names for the tensors a traced forward
// produced, initializers (the model's parameters and buffers under their state-dict names, and any
// other constant a forward used), and nodes. The tracers (export.ts) feed it; layers.ts and ops.ts
// say what ONNX each layer or op becomes.
import type { Tensor } from "../tensor/tensor.js";
import { DescentError } from "../core/errors.js";
import { AT, DT, type ProtoObject } from "./proto.js";

export type AttrValue = number | string | readonly number[] | { float: number } | { strings: readonly string[] };

/** An expand left unwritten: ONNX's element-wise ops broadcast themselves, so only other consumers need it. */
interface PendingExpand {
  readonly src: Tensor;
  readonly shape: readonly number[];
}

export class GraphBuilder {
  readonly nodes: ProtoObject[] = [];
  readonly initializers: ProtoObject[] = [];
  private readonly names = new Map<Tensor, string>();
  private readonly pending = new Map<Tensor, PendingExpand>();
  private readonly used = new Set<string>();
  private count = 0;

  /** stateNames: the model's parameters and buffers by tensor; batch: the traced batch size when dim 0 is dynamic. */
  constructor(
    private readonly stateNames: Map<Tensor, string>,
    readonly batch: number | null,
  ) {}

  fresh(prefix: string): string {
    let n = `${prefix}_${this.count++}`;
    while (this.used.has(n)) n = `${prefix}_${this.count++}`;
    this.used.add(n);
    return n;
  }

  /** Names a graph input or a node's output. */
  bind(t: Tensor, name: string): string {
    this.used.add(name);
    this.names.set(t, name);
    return name;
  }

  /** Output name for t, fresh unless t already has one (a graph output bound later keeps this one). */
  out(t: Tensor, prefix: string): string {
    return this.bind(t, this.fresh(prefix));
  }

  has(t: Tensor): boolean {
    return this.names.has(t) || this.pending.has(t);
  }

  /** The value name of t: a traced value, a parameter or buffer (initializer), or a constant. */
  name(t: Tensor): string {
    const known = this.names.get(t);
    if (known !== undefined) return known;
    const p = this.pending.get(t);
    if (p) {
      const shape = this.ints(p.shape.map((d, i) => (this.isBatchDim(p.shape, i) ? 1 : d)));
      return this.node("Expand", [this.name(p.src), shape], [this.out(t, "expand")])[0]!;
    }
    const state = this.stateNames.get(t);
    const n = state ?? this.fresh("const");
    this.initializers.push(tensorProto(n, t));
    return this.bind(t, n);
  }

  /** Name for an element-wise input: a pending expand's source, since the ONNX op broadcasts. */
  broadcastName(t: Tensor): string {
    const p = this.pending.get(t);
    return p && !this.names.has(t) ? this.broadcastName(p.src) : this.name(t);
  }

  deferExpand(out: Tensor, src: Tensor, shape: readonly number[]): void {
    this.pending.set(out, { src, shape });
  }

  /** Dim i of a traced shape stands for the dynamic batch (leading dim equal to the traced batch). */
  isBatchDim(shape: readonly number[], i: number): boolean {
    return this.batch !== null && i === 0 && shape[0] === this.batch;
  }

  node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}): string[] {
    this.nodes.push({
      op_type: opType,
      name: `${opType}_${this.nodes.length}`,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  /** An int64 constant (shapes, axes, pads given as inputs). */
  ints(values: readonly number[]): string {
    const n = this.fresh("ints");
    this.initializers.push({ name: n, dims: [values.length], data_type: DT.int64, int64_data: [...values] });
    this.used.add(n);
    return n;
  }

  /** A float32 scalar constant. */
  scalar(v: number): string {
    const n = this.fresh("c");
    this.initializers.push({ name: n, dims: [], data_type: DT.float, float_data: [v] });
    return n;
  }
}

function attribute(name: string, v: AttrValue): ProtoObject {
  if (typeof v === "number") return { name, type: AT.INT, i: v };
  if (typeof v === "string") return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if ("float" in v) return { name, type: AT.FLOAT, f: v.float };
  if ("strings" in v) return { name, type: AT.STRINGS, strings: v.strings.map((x) => new TextEncoder().encode(x)) };
  return { name, type: AT.INTS, ints: [...v] };
}

const ONNX_DTYPE: Record<string, number> = { float32: DT.float, float64: DT.double, int32: DT.int32 };

export function onnxDType(dtype: string, what: string): number {
  const d = ONNX_DTYPE[dtype];
  if (d === undefined) throw new DescentError(`onnx.export: ${what} has dtype ${dtype}, which has no ONNX form here`);
  return d;
}

/** A TensorProto holding t's values (raw little-endian bytes, as exporters usually write them). */
export function tensorProto(name: string, t: Tensor): ProtoObject {
  const flat = t.contiguous().toFlatArray();
  const bytes = new Uint8Array(flat.buffer.slice(flat.byteOffset, flat.byteOffset + flat.byteLength));
  return { name, dims: [...t.shape], data_type: onnxDType(t.dtype, `constant ${name}`), raw_data: bytes };
}
