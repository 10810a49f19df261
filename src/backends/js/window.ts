// Sliding-window kernels (im2col and its adjoint col2im) that turn convolution and pooling into
// matrix products and reductions. One loop nest serves both directions; the innermost loop walks
// one output row of the window, so it is a strided copy (or add) with bounds checks for padding.

import { windowOut } from "../../core/shape.js";
import type { View, Window2d } from "../backend.js";

/** cols[n, (c·kh + i)·kw + j, y·ow + x] ↔ img[n, c, y·sh - ph + i·dh, x·sw - pw + j·dw]. */
function slide(img: View, cols: View, p: Window2d, adjoint: boolean): void {
  const [n, c, h, w] = img.shape as [number, number, number, number];
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.stride;
  const [ph, pw] = p.padding;
  const [dh, dw] = p.dilation;
  const oh = windowOut(h, kh, sh, ph, dh);
  const ow = windowOut(w, kw, sw, pw, dw);
  const [is0, is1, is2, is3] = img.strides as [number, number, number, number];
  const [cs0, cs1, cs2] = cols.strides as [number, number, number];
  const im = img.data;
  const cd = cols.data;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const rowAt = cols.offset + b * cs0 + ((ch * kh + i) * kw + j) * cs1;
          for (let y = 0; y < oh; y++) {
            const iy = y * sh - ph + i * dh;
            const inRows = iy >= 0 && iy < h;
            const imAt = img.offset + b * is0 + ch * is1 + iy * is2;
            let colAt = rowAt + y * ow * cs2;
            for (let x = 0; x < ow; x++, colAt += cs2) {
              const ix = x * sw - pw + j * dw;
              const inside = inRows && ix >= 0 && ix < w;
              if (!adjoint) cd[colAt] = inside ? im[imAt + ix * is3]! : 0;
              else if (inside) im[imAt + ix * is3]! += cd[colAt]!;
            }
          }
        }
      }
    }
  }
}

export function im2col(x: View, p: Window2d, out: View): void {
  slide(x, out, p, false);
}

export function col2im(cols: View, p: Window2d, out: View): void {
  slide(out, cols, p, true);
}
