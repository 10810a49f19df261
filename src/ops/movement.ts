// Layout ops. Reshape, permute, expand and slice return views of the input's buffer (no copy);
// their gradients undo the movement. Copy makes a contiguous clone; cat joins along a dim.

import { DescentError, shapeStr } from "../core/errors.js";
import { sizeOf, viewStrides } from "../core/shape.js";
import type { Tensor } from "../tensor/tensor.js";
import { alloc, kernels, view, type OpDef } from "./op.js";

/** A view with another shape; refused when the strides cannot express it (reshape copies first). */
export const Reshape: OpDef<readonly number[]> = {
  name: "view",
  forward([x], shape) {
    const strides = viewStrides(x!.shape, x!.strides, shape);
    if (!strides) {
      throw new DescentError(
        `view: shape ${shapeStr(shape)} is not compatible with the input's size and strides (shape ${shapeStr(x!.shape)}, strides ${shapeStr(x!.strides)}); use reshape()`,
      );
    }
    return view(x!, [...shape], strides);
  },
  backward: (g, [x]) => [g.reshape(x!.shape)],
};

export const Permute: OpDef<readonly number[]> = {
  name: "permute",
  forward: ([x], dims) =>
    view(
      x!,
      dims.map((d) => x!.shape[d]!),
      dims.map((d) => x!.strides[d]!),
    ),
  backward: (g, _x, _y, dims) => [g.permute(...dims.map((_, i) => dims.indexOf(i)))],
};

/** Broadcasts size-1 dims (and new leading dims) with stride 0; the gradient sums them back. */
export const Expand: OpDef<readonly number[]> = {
  name: "expand",
  forward([x], shape) {
    const lead = shape.length - x!.shape.length;
    const strides = shape.map((d, i) => {
      const from = i - lead;
      if (from < 0) return 0;
      if (x!.shape[from] === d) return x!.strides[from]!;
      if (x!.shape[from] === 1) return 0;
      throw new DescentError(
        `expand: cannot expand shape ${shapeStr(x!.shape)} to ${shapeStr(shape)} (dim ${i}: ${x!.shape[from]} vs ${d})`,
      );
    });
    // A count past 2^53 is not exact in a JS number (and wrapped to 0 in the native loops): refuse it.
    const n = sizeOf(shape);
    if (!Number.isSafeInteger(n))
      throw new DescentError(
        `expand: target ${shapeStr(shape)} of ${shapeStr(x!.shape)} has ${n} elements, more than Number.MAX_SAFE_INTEGER (2^53 - 1), the most a tensor may have`,
      );
    return view(x!, [...shape], strides);
  },
  backward(g, [x], _y, shape) {
    const lead = shape.length - x!.shape.length;
    const dims = shape.flatMap((d, i) => (i < lead || (x!.shape[i - lead] === 1 && d !== 1) ? [i] : []));
    return [g.sum(dims, true).reshape(x!.shape)];
  },
};

export interface SliceParams {
  readonly dim: number;
  readonly start: number;
  readonly length: number;
  readonly step: number;
}

/** Elements start, start+step, … (length of them) along dim, as a view. The gradient pads with zeros. */
export const Slice: OpDef<SliceParams> = {
  name: "slice",
  forward([x], { dim, start, length, step }) {
    const shape = [...x!.shape];
    shape[dim] = length;
    const strides = x!.strides.map((s, i) => (i === dim ? s * step : s));
    return view(x!, shape, strides, x!.offset + (length > 0 ? start * x!.strides[dim]! : 0));
  },
  backward(g, [x], _y, { dim, start, length, step }) {
    const full = g.newZeros(x!.shape);
    full.slice(dim, start, start + (length - 1) * step + 1, step).copy_(g);
    return [full];
  },
  freshGrads: true,
  accumulate(acc, g, _x, _y, { dim, start, length, step }) {
    acc.slice(dim, start, start + (length - 1) * step + 1, step).add_(g);
  },
};

/** A contiguous copy (clone, contiguous, and reshape of a non-viewable layout). */
export const Copy: OpDef = {
  name: "clone",
  forward([x]) {
    const out = alloc(x!.dtype, x!.shape);
    kernels().copy(x!, out);
    return out;
  },
  backward: (g) => [g],
};

/** Joins inputs of equal dtype along dim; other dims must agree (checked by the tensor layer). */
export const Cat: OpDef<number> = {
  name: "cat",
  forward(xs, dim) {
    const shape = [...xs[0]!.shape];
    shape[dim] = xs.reduce((n, x) => n + x.shape[dim]!, 0);
    const out = alloc(xs[0]!.dtype, shape);
    let at = 0;
    for (const x of xs) {
      if (sizeOf(x.shape) > 0) kernels().copy(x, { ...out, shape: x.shape, offset: at * out.strides[dim]! });
      at += x.shape[dim]!;
    }
    return out;
  },
  backward(g, xs, _y, dim) {
    let at = 0;
    return xs.map((x: Tensor) => {
      const part = g.narrow(dim, at, x.shape[dim]!);
      at += x.shape[dim]!;
      return x.requiresGrad ? part : null;
    });
  },
};
