// The native backend's sliding-window kernels: im2col / col2im (convolution's data movement) and
// max pooling, calling native/window.cc. Layout numbers travel in one reused Float64Array per
// kernel. int32 and mixed dtypes, offset outputs and calls too small to repay the crossing stay
// on the js kernels, which these agree with bit for bit (same loops, same accumulation order).

import { windowOut } from "../../core/shape.js";
import type { Kernels, View, Window2d } from "../backend.js";

type Floats = Float32Array | Float64Array;

/** What native/window.cc adds to the addon's exports. */
export interface WindowAddon {
  /** meta = [N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, imOff, is0..is3, colOff, cs0..cs2]. */
  im2col(x: Floats, cols: Floats, meta: Float64Array): void;
  /** Same meta as im2col; adds cols into img. */
  col2im(cols: Floats, img: Floats, meta: Float64Array): void;
  /** meta = [N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, xOff, s0..s3]; out, indices contiguous from 0. */
  maxPool2d(x: Floats, out: Floats, indices: Int32Array, meta: Float64Array): void;
  /** meta = [N, C, oh, ow, H·W, gOff, s0..s3]; indices, out contiguous from 0. */
  maxPool2dBackward(g: Floats, indices: Int32Array, out: Floats, meta: Float64Array): void;
}

/**
 * Below this many elements moved (window elements read or written) a call stays in JS. Measured
 * with bench/native_window.ts here (float32 im2col, 3×3 window on 1×1×h×w, a loaded machine):
 * 81 elements js 1.0 µs / native 1.3, 144 js 1.5 / native 1.4, 324 js 3.6 / native 1.6-2.2,
 * 900 js 7.9 / native 2.0-2.3. The call costs ~1.2 µs however small.
 */
export const NATIVE_MIN_WINDOW = 256;

const floats = (...vs: View[]): boolean => {
  const t = vs[0]!.data;
  return (
    (t instanceof Float32Array || t instanceof Float64Array) && vs.every((v) => v.data.constructor === t.constructor)
  );
};

/** Native versions of im2col, col2im, maxPool2d and maxPool2dBackward, each falling back to `js`. */
export function windowKernels(
  addon: WindowAddon,
  js: Kernels,
  minWork = NATIVE_MIN_WINDOW,
): Pick<Kernels, "im2col" | "col2im" | "maxPool2d" | "maxPool2dBackward"> {
  const slideMeta = new Float64Array(23);
  const poolMeta = new Float64Array(19);
  const unpoolMeta = new Float64Array(10);

  /** Fills slideMeta; returns the number of column elements. */
  function slide(img: View, cols: View, p: Window2d): number {
    const [n, c, h, w] = img.shape as [number, number, number, number];
    const m = slideMeta;
    m[0] = n;
    m[1] = c;
    m[2] = h;
    m[3] = w;
    m.set(p.kernel, 4);
    m.set(p.stride, 6);
    m.set(p.padding, 8);
    m.set(p.dilation, 10);
    const oh = windowOut(h, p.kernel[0], p.stride[0], p.padding[0], p.dilation[0]);
    const ow = windowOut(w, p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]);
    m[12] = oh;
    m[13] = ow;
    m[14] = img.offset;
    m.set(img.strides, 15);
    m[19] = cols.offset;
    m.set(cols.strides, 20);
    return n * c * p.kernel[0] * p.kernel[1] * Math.max(oh, 0) * Math.max(ow, 0);
  }

  function poolShape(x: View, p: Window2d, out: View): number {
    const m = poolMeta;
    m.set(x.shape, 0);
    m.set(p.kernel, 4);
    m.set(p.stride, 6);
    m.set(p.padding, 8);
    m.set(p.dilation, 10);
    m[12] = out.shape[2]!;
    m[13] = out.shape[3]!;
    m[14] = x.offset;
    m.set(x.strides, 15);
    return out.data.length * p.kernel[0] * p.kernel[1];
  }

  return {
    im2col(x, p, out) {
      if (!floats(x, out) || slide(x, out, p) < minWork) return js.im2col(x, p, out);
      addon.im2col(x.data as Floats, out.data as Floats, slideMeta);
    },
    col2im(cols, p, out) {
      if (!floats(cols, out) || slide(out, cols, p) < minWork) return js.col2im(cols, p, out);
      addon.col2im(cols.data as Floats, out.data as Floats, slideMeta);
    },
    maxPool2d(x, p, out, indices) {
      const plain = out.offset === 0 && indices.offset === 0 && indices.data instanceof Int32Array;
      if (!plain || !floats(x, out) || poolShape(x, p, out) < minWork) return js.maxPool2d(x, p, out, indices);
      addon.maxPool2d(x.data as Floats, out.data as Floats, indices.data as Int32Array, poolMeta);
    },
    maxPool2dBackward(g, indices, out) {
      const plain = out.offset === 0 && indices.offset === 0 && indices.data instanceof Int32Array;
      if (!plain || !floats(g, out) || out.data.length + indices.data.length < minWork)
        return js.maxPool2dBackward(g, indices, out);
      const m = unpoolMeta;
      m.set(g.shape, 0);
      m[4] = out.shape[2]! * out.shape[3]!;
      m[5] = g.offset;
      m.set(g.strides, 6);
      addon.maxPool2dBackward(g.data as Floats, indices.data as Int32Array, out.data as Floats, m);
    },
  };
}
