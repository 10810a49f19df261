// nn.utils: gradient clipping (clipGradNorm_, clipGradValue_) with PyTorch's semantics, and the
// flattening of parameters into one vector and back.

import { DescentError } from "../core/errors.js";
import { checkOptions } from "../core/options.js";
import { noGrad } from "../autograd/graph.js";
import { cat, type Tensor } from "../tensor/tensor.js";

const CLIP_KEYS: ReadonlySet<string> = new Set(["errorIfNonfinite"]);

/** One tensor or an iterable of tensors (model.parameters()). */
export type Params = Tensor | Iterable<Tensor>;

function asList(params: Params): Tensor[] {
  return Symbol.iterator in params ? [...(params as Iterable<Tensor>)] : [params as Tensor];
}

/** The p-norm of a list of numbers (p = ±Infinity: max / min of |x|; p = 0: count of non-zeros), as torch.norm. */
function pNorm(values: ArrayLike<number>, p: number): number {
  let acc = p === -Infinity ? Infinity : 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]!);
    if (p === Infinity) acc = Number.isNaN(a) || Number.isNaN(acc) ? NaN : Math.max(acc, a);
    else if (p === -Infinity) acc = Number.isNaN(a) || Number.isNaN(acc) ? NaN : Math.min(acc, a);
    else if (p === 0) acc += a !== 0 ? 1 : 0;
    else if (p === 1) acc += a;
    else if (p === 2) acc += a * a;
    else acc += a ** p;
  }
  if (p === Infinity || p === -Infinity || p === 0 || p === 1) return acc;
  return p === 2 ? Math.sqrt(acc) : acc ** (1 / p);
}

/**
 * Scales the gradients of params in place so that their total normType-norm (the norm of the
 * per-parameter norms, as PyTorch) is at most maxNorm: every gradient is multiplied by
 * min(1, maxNorm / (total + 1e-6)). Parameters without a gradient are skipped. Returns the total
 * norm before clipping. With errorIfNonfinite, a NaN or infinite total throws instead of spreading.
 */
export function clipGradNorm_(
  params: Params,
  maxNorm: number,
  normType = 2,
  opts: { errorIfNonfinite?: boolean } = {},
): number {
  checkOptions("clipGradNorm_", opts, CLIP_KEYS);
  if (typeof maxNorm !== "number" || Number.isNaN(maxNorm))
    throw new DescentError(`clipGradNorm_: maxNorm must be a number, got ${String(maxNorm)}`);
  if (typeof normType !== "number" || Number.isNaN(normType))
    throw new DescentError(`clipGradNorm_: normType must be a number or Infinity, got ${String(normType)}`);
  const grads = asList(params).flatMap((p) => (p.grad ? [p.grad] : []));
  if (grads.length === 0) return 0;
  const norms = grads.map((g) => pNorm(g.toFlatArray(), normType));
  const total = pNorm(norms, normType);
  if (opts.errorIfNonfinite && !Number.isFinite(total)) {
    throw new DescentError(
      `clipGradNorm_: the total norm of order ${normType} for gradients from ${grads.length} parameters is non-finite (${total}), so it cannot be clipped; set errorIfNonfinite to false to clip anyway`,
    );
  }
  const coef = Math.min(maxNorm / (total + 1e-6), 1);
  noGrad(() => {
    for (const g of grads) g.mul_(coef);
  });
  return total;
}

/** Clamps every gradient of params into [-clipValue, clipValue] in place. */
export function clipGradValue_(params: Params, clipValue: number): void {
  if (typeof clipValue !== "number" || Number.isNaN(clipValue))
    throw new DescentError(`clipGradValue_: clipValue must be a number, got ${String(clipValue)}`);
  const c = Math.abs(clipValue);
  noGrad(() => {
    for (const p of asList(params)) p.grad?.clamp_(-c, c);
  });
}

/** All parameters flattened and concatenated into one 1-D tensor (differentiable, as PyTorch's). */
export function parametersToVector(params: Params): Tensor {
  const list = asList(params);
  if (list.length === 0) throw new DescentError("parametersToVector: expected at least one parameter");
  const dtype = list[0]!.dtype;
  if (list.some((p) => p.dtype !== dtype))
    throw new DescentError(
      `parametersToVector: parameters have different dtypes (${[...new Set(list.map((p) => p.dtype))].join(", ")})`,
    );
  return cat(list.map((p) => p.reshape([-1])));
}

/**
 * Copies consecutive slices of vec into the parameters (PyTorch rebinds param.data to views of vec;
 * Descent tensors keep their storage, so the values are copied instead).
 */
export function vectorToParameters(vec: Tensor, params: Params): void {
  const list = asList(params);
  const total = list.reduce((n, p) => n + p.size, 0);
  if (vec.ndim !== 1 || vec.size !== total)
    throw new DescentError(
      `vectorToParameters: expected a 1-D vector of ${total} elements for the parameters, got shape [${vec.shape.join(",")}]`,
    );
  let at = 0;
  noGrad(() => {
    for (const p of list) {
      p.copy_(vec.narrow(0, at, p.size).reshape(p.shape));
      at += p.size;
    }
  });
}
