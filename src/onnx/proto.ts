// Reads and writes ONNX ModelProto bytes with protobufjs and the official schema (schema.ts, generated
// from the vendored onnx.proto): no hand-written wire format. Plain objects go in and come out, with
// int64 fields as JS numbers (shapes, axes and opset versions all fit in 2^53).
import type * as protobuf from "protobufjs";
import { DescentError } from "../core/errors.js";
import { nodeRequire } from "../core/platform.js";
import { onnxSchema } from "./schema.js";

let root: protobuf.Root | null = null;
function modelType(): protobuf.Type {
  // protobufjs is required on first use, not at import: it is ~45 CommonJS files that took 20-45 ms
  // to load here, a third of the package's start-up, and most programs never read or write ONNX.
  // (nodeRequire reaches node:module only then, too.)
  if (root === null) {
    const req = nodeRequire(import.meta.url);
    if (req === null) throw new DescentError("onnx: reading and writing ONNX models needs Node.js");
    root = (req("protobufjs") as typeof protobuf).Root.fromJSON(onnxSchema as unknown as protobuf.INamespace);
  }
  return root.lookupType("onnx.ModelProto");
}

/** ModelProto fields as protobufjs's plain objects (keys as in onnx.proto: snake_case). */
export type ProtoObject = Record<string, unknown>;

export function encodeModel(model: ProtoObject): Uint8Array {
  const T = modelType();
  const err = T.verify(model);
  if (err) throw new DescentError(`onnx.export: internal error, invalid ModelProto (${err})`);
  return T.encode(T.fromObject(model)).finish();
}

export function decodeModel(bytes: Uint8Array, where: string): ProtoObject {
  const T = modelType();
  try {
    return T.toObject(T.decode(bytes), {
      longs: Number,
      bytes: Uint8Array,
      defaults: false,
      arrays: true,
    }) as ProtoObject;
  } catch (e) {
    throw new DescentError(`onnx.load: ${where} is not an ONNX model (${(e as Error).message})`);
  }
}

/** TensorProto.DataType values used here. */
export const DT = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, double: 11 } as const;
/** AttributeProto.AttributeType values. */
export const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;
