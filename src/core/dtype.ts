// Element types: the three dtypes of API.md, the typed arrays that store them, and promotion.

import { DescentError } from "./errors.js";

/** A tensor's element type (PyTorch's torch.float32, torch.float64, torch.int32). */
export type DType = "float32" | "float64" | "int32";
/** The typed array that holds each dtype's values (Float32Array, Float64Array, Int32Array). */
export type TypedArray = Float32Array | Float64Array | Int32Array;

export const DTYPES: readonly DType[] = ["float32", "float64", "int32"];

export function isDType(x: unknown): x is DType {
  return x === "float32" || x === "float64" || x === "int32";
}

export function allocArray(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int32":
      return new Int32Array(n);
  }
}

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = { float32: 4, float64: 8, int32: 4 };

/** A typed array of dtype viewing the first n elements of buffer (no copy). */
export function arrayOver(dtype: DType, buffer: ArrayBuffer, n: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(buffer, 0, n);
    case "float64":
      return new Float64Array(buffer, 0, n);
    case "int32":
      return new Int32Array(buffer, 0, n);
  }
}

export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return "float32";
  if (a instanceof Float64Array) return "float64";
  return "int32";
}

export function isFloat(dtype: DType): boolean {
  return dtype !== "int32";
}

const RANK: Record<DType, number> = { int32: 0, float32: 1, float64: 2 };

/** The dtype two tensors are computed in: float64 > float32 > int32 (PyTorch's category order). */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The dtype of `tensor op scalar`: a non-integer scalar lifts int32 to float32, as in PyTorch. */
export function scalarResultType(t: DType, scalar: number): DType {
  return t === "int32" && !Number.isInteger(scalar) ? "float32" : t;
}

export function checkFloat(op: string, dtype: DType): void {
  if (!isFloat(dtype)) {
    throw new DescentError(`${op}: expected a floating-point tensor (float32 or float64), got ${dtype}`);
  }
}
