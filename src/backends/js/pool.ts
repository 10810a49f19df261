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
        const y0 = oy * sh - ph;
        const rowsIn = y0 >= 0 && y0 + (kh - 1) * dh < h;
        for (let ox = 0; ox < ow; ox++, o++) {
          const x0 = ox * sw - pw;
          let best: number;
          let at: number;
          if (rowsIn && x0 >= 0 && x0 + (kw - 1) * dw < w) {
            // Wholly inside the image (most windows): no bounds checks.
            best = xd[base + y0 * s2 + x0 * s3]!;
            at = y0 * w + x0;
            scan: for (let i = 0; i < kh && best === best; i++) {
              const iy = y0 + i * dh;
              const row = base + iy * s2;
              for (let j = i === 0 ? 1 : 0; j < kw; j++) {
                const v = xd[row + (x0 + j * dw) * s3]!;
                if (v > best || v !== v) {
                  best = v;
                  at = iy * w + x0 + j * dw;
                  if (v !== v) break scan;
                }
              }
            }
          } else {
            best = -Infinity;
            at = none;
            let first = true;
            scan: for (let i = 0; i < kh; i++) {
              const iy = y0 + i * dh;
              const rowIn = iy >= 0 && iy < h;
              for (let j = 0; j < kw; j++) {
                const ix = x0 + j * dw;
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
