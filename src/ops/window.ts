// Sliding windows as ops: unfold (im2col) and its adjoint fold (col2im). Convolution is unfold
// followed by a matrix product, pooling is unfold followed by a reduction; each op's gradient is
// the other op.

import { DescentError, shapeStr } from "../core/errors.js";
import { windowOut } from "../core/shape.js";
import type { Window2d } from "../backends/index.js";
import { alloc, allocEmpty, kernels, type OpDef } from "./op.js";

/** [N, C, H, W] → [N, C·kh·kw, outH·outW]. */
export const Unfold: OpDef<Window2d> = {
  name: "unfold",
  forward([x], p) {
    const [n, c, h, w] = x!.shape as [number, number, number, number];
    const oh = windowOut(h, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0]);
    const ow = windowOut(w, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]);
    if (oh <= 0 || ow <= 0) {
      throw new DescentError(
        `unfold: input ${shapeStr(x!.shape)} is too small for kernel ${shapeStr(p.kernel)} with padding ${shapeStr(p.padding)} and dilation ${shapeStr(p.dilation)}`,
      );
    }
    // im2col writes every element, padding zeros included, so the output need not be zeroed first.
    const out = allocEmpty(x!.dtype, [n, c * p.kernel[0] * p.kernel[1], oh * ow]);
    kernels().im2col(x!, p, out);
    return out;
  },
  backward: (g, [x], _y, p) => [g.col2im(x!.shape.slice(2) as [number, number], p)],
};

/** [N, C·kh·kw, L] → [N, C, H, W], summing overlapping windows (params carry the image size). */
export const Fold: OpDef<Window2d & { readonly size: readonly [number, number] }> = {
  name: "fold",
  forward([cols], p) {
    const [n, rows] = cols!.shape as [number, number, number];
    const c = rows / (p.kernel[0] * p.kernel[1]);
    const out = alloc(cols!.dtype, [n, c, p.size[0], p.size[1]]);
    kernels().col2im(cols!, p, out);
    return out;
  },
  backward: (g, _x, _y, p) => [g.im2col(p)],
};
