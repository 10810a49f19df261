// Creation functions of API.md: from JS values, filled, ranged and random tensors.

import { allocArray, type DType, type TypedArray } from "../core/dtype.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { defaultGenerator, type Generator } from "../core/random.js";
import { checkDType, checkOptions, keysOf, mergeKeys } from "../core/options.js";
import { checkShape, sizeOf } from "../core/shape.js";
import { OutputAllocError } from "../ops/op.js";
import { fromArray, fromHost, fromRaw, type Tensor } from "./tensor.js";

/** Options of the creation functions (PyTorch's dtype= and requires_grad=). */
export interface TensorOptions {
  /** Element type (float32, float64 or int32); default float32. */
  dtype?: DType;
  /** Make a leaf that records gradients (default false). */
  requiresGrad?: boolean;
}
/** Options of the random creation functions: TensorOptions plus the generator to draw from. */
export interface RandomOptions extends TensorOptions {
  /** Draw from this generator instead of the default one (seeded by manualSeed). */
  generator?: Generator;
}
const TENSOR_KEYS = keysOf<TensorOptions>()({ dtype: true, requiresGrad: true });
const RANDOM_KEYS = keysOf<RandomOptions>()({ dtype: true, requiresGrad: true, generator: true });
const SHAPED_KEYS = mergeKeys(TENSOR_KEYS, new Set(["shape"]));
const EYE_KEYS = mergeKeys(TENSOR_KEYS, new Set(["m"]));
/** Numbers nested in arrays, one level per dimension: 1, [1, 2], [[1, 2], [3, 4]]. */
export type NestedArray = number | readonly NestedArray[];
/** A shape: a size for 1-D, or the list of sizes ([N, C, H, W]). */
export type ShapeArg = number | readonly number[];

function finish(t: Tensor, opts: TensorOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** The dtype asked for (checked), after the options object itself is checked against `keys`. */
function dtypeOpt(op: string, opts: TensorOptions, fallback: DType, keys = TENSOR_KEYS): DType {
  checkOptions(op, opts, keys);
  return opts.dtype === undefined ? fallback : checkDType(op, opts.dtype);
}

/**
 * fromArray / fromRaw for a checked shape: a size the machine cannot allocate (memory, not the
 * element limit checkShape enforces) becomes a DescentError too.
 */
function make(
  op: string,
  dtype: DType,
  shape: readonly number[],
  f?: ((i: number) => number) | { fill: (host: TypedArray) => void },
): Tensor {
  try {
    if (f === undefined) return fromRaw(dtype, shape);
    if (typeof f === "function") return fromArray(dtype, shape, f);
    // A generator's bulk fill writes the whole array in one call (issue 15: cold-start cost).
    const host = allocArray(dtype, sizeOf(shape));
    f.fill(host);
    return fromHost(host, shape);
  } catch (e) {
    // fromRaw's storage comes from the ops layer's alloc, which reports a failure without the op.
    if (e instanceof OutputAllocError) throw new DescentError(`${op}: ${e.message}`);
    if (!(e instanceof RangeError)) throw e;
    throw new DescentError(`${op}: cannot allocate a ${dtype} tensor of shape ${shapeStr(shape)}: ${e.message}`);
  }
}

function shapeOf(op: string, shape: ShapeArg): number[] {
  const s = typeof shape === "number" ? [shape] : [...shape];
  checkShape(op, s);
  return s;
}

/**
 * A tensor from a number, nested arrays of numbers, or a typed array (copied; `shape` gives its
 * shape, default 1-D). dtype: given, else that of the typed array, else float32. torch.tensor.
 *
 * @example
 * ```ts
 * const a = tensor([[1, 2], [3, 4]]);                  // float32 [2, 2]
 * const b = tensor([1, 2, 3], { dtype: "int32" });      // int32 [3]
 * const w = tensor([0.5, -0.5], { requiresGrad: true }); // a leaf that records gradients
 * const c = tensor(new Float64Array(6), { shape: [2, 3] }); // float64 [2, 3]
 * ```
 */
export function tensor(
  values: NestedArray | TypedArray,
  opts: TensorOptions & { shape?: readonly number[] } = {},
): Tensor {
  if (ArrayBuffer.isView(values)) {
    const arr = values as TypedArray;
    const fallback: DType = arr instanceof Float64Array ? "float64" : arr instanceof Int32Array ? "int32" : "float32";
    const shape = opts.shape ? shapeOf("tensor", opts.shape) : [arr.length];
    if (sizeOf(shape) !== arr.length)
      throw new DescentError(`tensor: shape ${shapeStr(shape)} needs ${sizeOf(shape)} values, got ${arr.length}`);
    return finish(
      make("tensor", dtypeOpt("tensor", opts, fallback, SHAPED_KEYS), shape, (i) => arr[i]!),
      opts,
    );
  }
  const shape: number[] = [];
  for (let v: NestedArray = values as NestedArray; Array.isArray(v); v = (v as readonly NestedArray[])[0]!) {
    shape.push((v as readonly NestedArray[]).length);
    if ((v as readonly NestedArray[]).length === 0) break;
  }
  const flat: number[] = [];
  const walk = (v: NestedArray, dim: number, path: string) => {
    if (dim === shape.length) {
      if (typeof v !== "number")
        throw new DescentError(
          `tensor: expected a number at ${path || "the top"}, got ${Array.isArray(v) ? "an array" : typeof v}`,
        );
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new DescentError(
        `tensor: ragged nested array: ${path || "the top"} has ${Array.isArray(v) ? `length ${v.length}` : "a number"} where length ${shape[dim]} was expected`,
      );
    }
    v.forEach((x: NestedArray, i: number) => walk(x, dim + 1, `${path}[${i}]`));
  };
  walk(values as NestedArray, 0, "");
  if (opts.shape && sizeOf(opts.shape) === flat.length) shape.splice(0, shape.length, ...opts.shape);
  return finish(
    make("tensor", dtypeOpt("tensor", opts, "float32", SHAPED_KEYS), shape, (i) => flat[i]!),
    opts,
  );
}

/** A tensor of shape filled with value (torch.full). */
export function full(shape: ShapeArg, value: number, opts: TensorOptions = {}): Tensor {
  return finish(make("full", dtypeOpt("full", opts, "float32"), shapeOf("full", shape)).fill_(value), opts);
}

/**
 * A tensor of shape filled with 0 (torch.zeros).
 *
 * @example
 * ```ts
 * const z = zeros([2, 3]);                       // float32 [2, 3]
 * const i = zeros(4, { dtype: "int32" });        // int32 [4]
 * ```
 */
export function zeros(shape: ShapeArg, opts: TensorOptions = {}): Tensor {
  return finish(make("zeros", dtypeOpt("zeros", opts, "float32"), shapeOf("zeros", shape)), opts);
}

/** A tensor of shape filled with 1 (torch.ones). */
export function ones(shape: ShapeArg, opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** zeros of t's shape and dtype (torch.zeros_like); opts may override the dtype. */
export function zerosLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return zeros(t.shape, { dtype: t.dtype, ...opts });
}

/** ones of t's shape and dtype (torch.ones_like); opts may override the dtype. */
export function onesLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return ones(t.shape, { dtype: t.dtype, ...opts });
}

/** Uniform on [0, 1). */
export function rand(shape: ShapeArg, opts: RandomOptions = {}): Tensor {
  const g = opts.generator ?? defaultGenerator;
  return finish(
    make("rand", dtypeOpt("rand", opts, "float32", RANDOM_KEYS), shapeOf("rand", shape), {
      fill: (host) => g.fillUniform(host),
    }),
    opts,
  );
}

/** Standard normal. */
export function randn(shape: ShapeArg, opts: RandomOptions = {}): Tensor {
  const g = opts.generator ?? defaultGenerator;
  return finish(
    make("randn", dtypeOpt("randn", opts, "float32", RANDOM_KEYS), shapeOf("randn", shape), {
      fill: (host) => g.fillNormal(host),
    }),
    opts,
  );
}

/** Integers uniform on [low, high), int32 unless dtype says otherwise. */
export function randint(low: number, high: number, shape: ShapeArg, opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low)
    throw new DescentError(`randint: need integers low < high, got ${low} and ${high}`);
  const g = opts.generator ?? defaultGenerator;
  return finish(
    make("randint", dtypeOpt("randint", opts, "int32", RANDOM_KEYS), shapeOf("randint", shape), {
      fill: (host) => g.fillRandint(host, low, high - low),
    }),
    opts,
  );
}

/** start, start+step, … below end; int32 when every argument is an integer (PyTorch's int64), else float32. */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, start] : [start, end];
  if (step === 0 || !Number.isFinite(step) || !Number.isFinite(s) || !Number.isFinite(e)) {
    throw new DescentError(`arange: need finite bounds and a non-zero step, got start ${s}, end ${e}, step ${step}`);
  }
  if ((e - s) * step < 0) throw new DescentError(`arange: the step ${step} does not lead from ${s} to ${e}`);
  const n = Math.max(Math.ceil((e - s) / step), 0);
  const ints = [s, e, step].every(Number.isInteger);
  return finish(
    make("arange", dtypeOpt("arange", opts, ints ? "int32" : "float32"), shapeOf("arange", [n]), (i) => s + i * step),
    opts,
  );
}

/** steps evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0)
    throw new DescentError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const h = steps > 1 ? (end - start) / (steps - 1) : 0;
  // Fill from both ends, as PyTorch does, so the last value is exactly `end`.
  return finish(
    make("linspace", dtypeOpt("linspace", opts, "float32"), shapeOf("linspace", [steps]), (i) =>
      i < steps / 2 ? start + i * h : end - (steps - 1 - i) * h,
    ),
    opts,
  );
}

/** The n×n identity (n×m with `m`). */
export function eye(n: number, opts: TensorOptions & { m?: number } = {}): Tensor {
  const m = opts.m ?? n;
  return finish(
    make("eye", dtypeOpt("eye", opts, "float32", EYE_KEYS), shapeOf("eye", [n, m]), (i) =>
      i % m === Math.floor(i / m) ? 1 : 0,
    ),
    opts,
  );
}
