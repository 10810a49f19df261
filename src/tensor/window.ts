// Sliding windows, on which convolution and pooling are built: im2col/col2im (unfold/fold) and
// max pooling with its gradient. The window parameters are checked here, once, for every caller.

import { isFloat } from "../core/dtype.js";
import { DescentError, shapeStr } from "../core/errors.js";
import { sameShape, windowOut } from "../core/shape.js";
import type { Window2d } from "../backends/index.js";
import { checkIndexRange } from "../ops/indexing.js";
import { MaxPool2d, MaxUnpool2d } from "../ops/pool.js";
import { Fold, Unfold } from "../ops/window.js";
import { apply } from "./apply.js";
import type { Tensor } from "./tensor.js";

/** im2col: [N, C, H, W] → [N, C·kh·kw, outH·outW] (nn.functional.unfold). */
export function im2col(x: Tensor, p: Window2d): Tensor {
  if (x.ndim !== 4) throw new DescentError(`unfold: expected a 4-D input [N, C, H, W], got ${shapeStr(x.shape)}`);
  return apply(Unfold, [x], checkWindow("unfold", p));
}

/** col2im: [N, C·kh·kw, L] → [N, C, H, W], summing overlaps (nn.functional.fold). */
export function col2im(x: Tensor, size: readonly [number, number], p: Window2d): Tensor {
  const w = checkWindow("fold", p);
  const k = w.kernel[0] * w.kernel[1];
  const l =
    windowOut(size[0], w.kernel[0], w.stride[0], w.padding[0], w.dilation[0]) *
    windowOut(size[1], w.kernel[1], w.stride[1], w.padding[1], w.dilation[1]);
  if (x.ndim !== 3 || x.shape[1]! % k !== 0 || x.shape[2] !== l) {
    throw new DescentError(
      `fold: input ${shapeStr(x.shape)} does not match output size ${shapeStr(size)} with kernel ${shapeStr(w.kernel)} (expected [N, C·${k}, ${l}])`,
    );
  }
  return apply(Fold, [x], { ...w, size });
}

/**
 * Max over each window of p into [N, C, ...out] (the primitive under nn.functional.maxPool2d):
 * anything outside the image, padding or a ceil-mode window's overhang, counts as -Inf; the
 * gradient goes to each window's first maximum in row-major order (a NaN wins).
 */
export function maxPool2d(x: Tensor, p: Window2d, out: readonly [number, number]): Tensor {
  if (x.ndim !== 4) throw new DescentError(`maxPool2d: expected a 4-D input [N, C, H, W], got ${shapeStr(x.shape)}`);
  if (!isFloat(x.dtype)) throw new DescentError(`maxPool2d: expected a floating-point input, got ${x.dtype}`);
  if (out.length !== 2 || !out.every((v) => Number.isInteger(v) && v >= 0))
    throw new DescentError(`maxPool2d: invalid output size ${shapeStr(out)}`);
  return apply(MaxPool2d, [x], { ...checkWindow("maxPool2d", p), out: [out[0], out[1]], saved: {} });
}

/**
 * maxPool2d's gradient: x [N, C, oh, ow] added at `indices` (int32, the same shape, each y·W + x
 * in [0, H·W]; H·W adds nowhere) into zeros [N, C, ...size]. `trusted`: the indices come from a
 * forward (the class passes raw ones so), not from a caller, and skip the range check.
 */
export function maxUnpool2d(x: Tensor, indices: Tensor, size: readonly [number, number], trusted: boolean): Tensor {
  const op = "maxUnpool2d";
  if (x.ndim !== 4 || !isFloat(x.dtype))
    throw new DescentError(`${op}: expected a floating-point 4-D input, got ${shapeStr(x.shape)} ${x.dtype}`);
  if (indices.dtype !== "int32" || !sameShape(indices.shape, x.shape))
    throw new DescentError(
      `${op}: indices must be int32 of the input's shape ${shapeStr(x.shape)}, got ${shapeStr(indices.shape)} ${indices.dtype}`,
    );
  if (size.length !== 2 || !size.every((v) => Number.isInteger(v) && v >= 0))
    throw new DescentError(`${op}: invalid output size ${shapeStr(size)}`);
  // H·W itself is a valid index (it adds nowhere).
  if (!trusted) checkIndexRange(op, indices, size[0] * size[1] + 1, 2, [...size]);
  return apply(MaxUnpool2d, [x, indices.contiguous()], { size: [size[0], size[1]] });
}

function checkWindow(op: string, p: Window2d): Window2d {
  const ok = (v: readonly number[], min: number) => v.length === 2 && v.every((x) => Number.isInteger(x) && x >= min);
  if (!ok(p.kernel, 1) || !ok(p.stride, 1) || !ok(p.padding, 0) || !ok(p.dilation, 1)) {
    throw new DescentError(
      `${op}: invalid window: kernel ${shapeStr(p.kernel)}, stride ${shapeStr(p.stride)}, padding ${shapeStr(p.padding)}, dilation ${shapeStr(p.dilation)} (pairs of integers; kernel, stride, dilation ≥ 1, padding ≥ 0)`,
    );
  }
  return p;
}
