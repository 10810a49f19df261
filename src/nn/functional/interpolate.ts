// nn.functional.interpolate (torch.nn.functional.interpolate): nearest on [N, C, L] and
// [N, C, H, W], linear on [N, C, L], bilinear on [N, C, H, W]. Resizing is separable, so each
// spatial dim is resized in turn: nearest is one indexSelect, linear is two indexSelects blended by
// per-position weights. The source positions follow PyTorch 1.13's CPU kernels
// (UpSample.h), including their float32 arithmetic for float32 inputs, because a nearest index
// or a linear weight that rounds differently picks a different pixel. Autograd differentiates
// through indexSelect (its gradient is a scatter-add), so no new kernel is needed.

import { DescentError, shapeStr } from "../../core/errors.js";
import { checkOptions, keysOf } from "../../core/options.js";
import { tensor } from "../../tensor/creation.js";
import type { Tensor } from "../../tensor/tensor.js";

/** Interpolation mode of interpolate and Upsample. */
export type InterpolateMode = "nearest" | "linear" | "bilinear";

/** Options of interpolate and Upsample (F.interpolate's keyword arguments); give size or scaleFactor. */
export interface InterpolateOptions {
  /** Output spatial size: one number for every spatial dim, or one per dim. */
  size?: number | readonly number[] | null;
  /** Multiplier of each spatial dim (output = floor(input · scale)); one number or one per dim. */
  scaleFactor?: number | readonly number[] | null;
  /** Default "nearest". */
  mode?: InterpolateMode;
  /** linear/bilinear only: map corner pixel centres to corner pixel centres (default false). */
  alignCorners?: boolean | null;
}

/** The keys of InterpolateOptions, for checkOptions. */
export const INTERPOLATE_KEYS = keysOf<InterpolateOptions>()({
  size: true,
  scaleFactor: true,
  mode: true,
  alignCorners: true,
});

const OP = "interpolate";

/** The per-dim list of a size or a scale factor, checked. */
function perDim(name: string, v: number | readonly number[], nd: number, x: Tensor): number[] {
  const list = typeof v === "number" ? Array<number>(nd).fill(v) : [...v];
  if (list.length !== nd)
    throw new DescentError(
      `${OP}: ${name} must be one number or ${nd} (one per spatial dim of input ${shapeStr(x.shape)}), got [${list.join(", ")}]`,
    );
  return list;
}

/**
 * Resizes the spatial dims (all dims after the first two) of x. Exactly one of size and
 * scaleFactor must be given. With scaleFactor the kernels use 1/scaleFactor as the source step
 * (PyTorch's default recompute_scale_factor=None), not input/output.
 */
export function interpolate(x: Tensor, opts: InterpolateOptions = {}): Tensor {
  checkOptions("interpolate", opts, INTERPOLATE_KEYS);
  const mode = opts.mode ?? "nearest";
  if (mode !== "nearest" && mode !== "linear" && mode !== "bilinear")
    throw new DescentError(`${OP}: mode must be "nearest", "linear" or "bilinear", got ${JSON.stringify(mode)}`);
  if (x.dtype === "int32") throw new DescentError(`${OP}: expected a floating-point input, got ${x.dtype}`);
  const alignCorners = opts.alignCorners ?? null;
  if (mode === "nearest" && alignCorners !== null)
    throw new DescentError(`${OP}: alignCorners can only be set with the interpolating modes linear and bilinear`);
  const needRank = mode === "linear" ? [3] : mode === "bilinear" ? [4] : [3, 4];
  if (!needRank.includes(x.ndim)) {
    throw new DescentError(
      `${OP}: mode "${mode}" needs a ${needRank.join("-D or ")}-D input [N, C, ${mode === "linear" ? "L" : mode === "bilinear" ? "H, W" : "..."}], got ${x.ndim}-D input ${shapeStr(x.shape)}`,
    );
  }
  const nd = x.ndim - 2;
  const inSize = x.shape.slice(2);
  const hasSize = opts.size !== undefined && opts.size !== null;
  const hasScale = opts.scaleFactor !== undefined && opts.scaleFactor !== null;
  if (hasSize === hasScale)
    throw new DescentError(`${OP}: give exactly one of size and scaleFactor (got ${hasSize ? "both" : "neither"})`);
  let outSize: number[];
  let scales: (number | null)[];
  if (hasSize) {
    outSize = perDim("size", opts.size!, nd, x);
    if (!outSize.every((s) => Number.isInteger(s) && s >= 1))
      throw new DescentError(`${OP}: size must be positive integers, got [${outSize.join(", ")}]`);
    scales = outSize.map(() => null);
  } else {
    scales = perDim("scaleFactor", opts.scaleFactor!, nd, x);
    if (!scales.every((s) => Number.isFinite(s) && s! > 0))
      throw new DescentError(`${OP}: scaleFactor must be positive numbers, got [${scales.join(", ")}]`);
    outSize = inSize.map((s, i) => Math.floor(s * scales[i]!));
    if (outSize.some((s) => s < 1))
      throw new DescentError(
        `${OP}: input ${shapeStr(x.shape)} with scaleFactor [${scales.join(", ")}] gives an empty output [${outSize.join(", ")}]`,
      );
  }
  if (inSize.some((s) => s === 0)) throw new DescentError(`${OP}: input ${shapeStr(x.shape)} has an empty spatial dim`);
  // float32 inputs compute positions in float32 (opmath_t), float64 ones in float64, as PyTorch.
  const r = x.dtype === "float32" ? Math.fround : (v: number) => v;
  let y = x;
  for (let i = 0; i < nd; i++) {
    const dim = 2 + i;
    if (mode === "nearest") y = y.indexSelect(dim, nearestIndex(inSize[i]!, outSize[i]!, scales[i]!, r));
    else y = linearResize(y, dim, inSize[i]!, outSize[i]!, scales[i]!, alignCorners ?? false, r);
  }
  return y;
}

/** PyTorch's compute_scales_value: 1/scale when a scale factor was given, else input/output. */
function stepOf(scale: number | null, inSize: number, outSize: number, r: (v: number) => number): number {
  return scale !== null ? r(1 / scale) : r(inSize / outSize);
}

/** nearest_idx: src = min(floor(dst · step), in - 1) in float32, with PyTorch's exact fast paths. */
function nearestIndex(inSize: number, outSize: number, scale: number | null, r: (v: number) => number): Tensor {
  const idx = new Int32Array(outSize);
  const step = Math.fround(stepOf(scale, inSize, outSize, r)); // nearest always uses a float scale
  for (let d = 0; d < outSize; d++) {
    if (outSize === inSize) idx[d] = d;
    else if (outSize === 2 * inSize) idx[d] = d >> 1;
    else idx[d] = Math.min(Math.floor(Math.fround(d * step)), inSize - 1);
  }
  return tensor(idx, { dtype: "int32" });
}

/**
 * Linear resize of one dim: y[d] = λ0·x[i0] + λ1·x[i1] (compute_source_index_and_lambda). The
 * source position is step·(d + 0.5) - 0.5 clamped at 0 (half-pixel), or step·d with aligned
 * corners, where the step is (in - 1)/(out - 1).
 */
function linearResize(
  x: Tensor,
  dim: number,
  inSize: number,
  outSize: number,
  scale: number | null,
  alignCorners: boolean,
  r: (v: number) => number,
): Tensor {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l0 = new Float64Array(outSize);
  const l1 = new Float64Array(outSize);
  const step = alignCorners ? (outSize > 1 ? r((inSize - 1) / (outSize - 1)) : 0) : stepOf(scale, inSize, outSize, r);
  for (let d = 0; d < outSize; d++) {
    if (outSize === inSize) {
      i0[d] = i1[d] = d;
      l0[d] = 1;
      continue;
    }
    const src = alignCorners ? r(step * d) : Math.max(0, r(step * (d + 0.5) - 0.5));
    const a = Math.trunc(src);
    i0[d] = a;
    i1[d] = a < inSize - 1 ? a + 1 : a;
    l1[d] = Math.min(Math.max(r(src - a), 0), 1);
    l0[d] = r(1 - l1[d]!);
  }
  const wshape = x.shape.map((s, i) => (i === dim ? outSize : 1));
  const w0 = tensor(l0, { shape: wshape, dtype: x.dtype });
  const w1 = tensor(l1, { shape: wshape, dtype: x.dtype });
  const a = x.indexSelect(dim, tensor(i0, { dtype: "int32" }));
  const b = x.indexSelect(dim, tensor(i1, { dtype: "int32" }));
  return a.mul(w0).add(b.mul(w1));
}
