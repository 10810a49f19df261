// Max pooling kernels: the forward keeps, per window, the value and the position of its winner;
// the backward adds each window's gradient back at that position. Reference for the native ones
// (native/window.cc), which follow the same loops so that results agree bit for bit.

import type { View, Window2d } from "../backend.js";

/**
 * Per window, in row-major window order: the first element is the running best, a later one
 * replaces it when greater or NaN, and a NaN ends the window (argReduce's rule, PyTorch's CPU
 * choice). Anything outside the image reads -Inf and, if it wins, is recorded as index H·W.
 */
export function maxPool2d(x: View, p: Window2d, out: View, indices: View): void {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const [oh, ow] = out.shape.slice(2) as [number, number];
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const [s0, s1, s2, s3] = x.strides as [number, number, number, number];
  const xd = x.data;
  const od = out.data;
  const id = indices.data;
  const none = h * w;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const base = x.offset + b * s0 + ch * s1;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++, o++) {
          let best = -Infinity;
          let at = none;
          let first = true;
          scan: for (let i = 0; i < kh; i++) {
            const iy = oy * sh - ph + i * dh;
            const rowIn = iy >= 0 && iy < h;
            for (let j = 0; j < kw; j++) {
              const ix = ox * sw - pw + j * dw;
              const inside = rowIn && ix >= 0 && ix < w;
              const v = inside ? xd[base + iy * s2 + ix * s3]! : -Infinity;
              if (first || v > best || v !== v) {
                best = v;
                at = inside ? iy * w + ix : none;
                first = false;
                if (v !== v) break scan;
              }
            }
          }
          od[out.offset + o] = best;
          id[indices.offset + o] = at;
        }
      }
    }
  }
}

/** out[n, c, indices[n, c, o]] += g[n, c, o] for o in window order; index H·W (padding won) is skipped. */
export function maxPool2dBackward(g: View, indices: View, out: View): void {
  const [n, c, oh, ow] = g.shape as [number, number, number, number];
  const plane = out.shape[2]! * out.shape[3]!;
  const [s0, s1, s2, s3] = g.strides as [number, number, number, number];
  const gd = g.data;
  const id = indices.data;
  const od = out.data;
  for (let b = 0, k = indices.offset; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const oAt = out.offset + (b * c + ch) * plane;
      for (let oy = 0; oy < oh; oy++) {
        const gAt = g.offset + b * s0 + ch * s1 + oy * s2;
        for (let ox = 0; ox < ow; ox++, k++) {
          const at = id[k]!;
          if (at < plane) od[oAt + at]! += gd[gAt + ox * s3]!;
        }
      }
    }
  }
}
