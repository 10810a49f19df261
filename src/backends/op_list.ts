// The one list of element-wise op names. UnaryOp, BinaryOp and ReduceOp derive from it, the js
// kernel tables are typed by it (a name without a js body does not compile), and the native
// backend matches the names its addon reports (native/elementwise_ops.h's EW_*_OPS lists) against
// it when it loads: an op the addon lacks runs in js, so a new op works everywhere before any
// native kernel exists, and no number is kept equal by hand across languages.

export const UNARY_OPS = [
  "neg",
  "abs",
  "sign",
  "exp",
  "expm1",
  "log",
  "log1p",
  "sqrt",
  "reciprocal",
  "sin",
  "cos",
  "tanh",
  "sigmoid",
  "relu",
  "erf",
  "floor",
  "ceil",
  "round",
  "isnan",
  "isinf",
] as const;

export const BINARY_OPS = [
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "maximum",
  "minimum",
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
] as const;

export const REDUCE_OPS = ["sum", "max", "min"] as const;

export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = (typeof BINARY_OPS)[number];
export type ReduceOp = (typeof REDUCE_OPS)[number];
