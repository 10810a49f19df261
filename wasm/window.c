// Descent's WebAssembly window kernels: im2col and its adjoint col2im in float32 (the js backend's
// window.ts, in C). The image is any strided view; cols is contiguous [N, C·kh·kw, oh·ow]. The
// inner loop walks one output row: a strided copy, or a plain one for stride-1 rows.
#include "descent_wasm.h"

/** p = [n, c, h, w, is0, is1, is2, is3, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow]. */
static void slide(const int* p, float* im, float* cd, int adjoint) {
  int n = p[0], c = p[1], h = p[2], w = p[3];
  int is0 = p[4], is1 = p[5], is2 = p[6], is3 = p[7];
  int kh = p[8], kw = p[9], sh = p[10], sw = p[11], ph = p[12], pw = p[13], dh = p[14], dw = p[15];
  int oh = p[16], ow = p[17];
  float* col = cd;
  for (int b = 0; b < n; b++)
    for (int ch = 0; ch < c; ch++)
      for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++)
          for (int y = 0; y < oh; y++, col += ow) {
            int iy = y * sh - ph + i * dh;
            if (iy < 0 || iy >= h) {
              if (!adjoint)
                for (int x = 0; x < ow; x++) col[x] = 0.0f;
              continue;
            }
            float* row = im + (long)b * is0 + (long)ch * is1 + (long)iy * is2;
            // The columns x whose ix = x·sw − pw + j·dw lies inside [0, w): zero (or skip) the rest.
            int off = j * dw - pw;
            int x0 = off >= 0 ? 0 : (-off + sw - 1) / sw;
            int x1 = w - off <= 0 ? 0 : (w - off + sw - 1) / sw;
            if (x1 > ow) x1 = ow;
            if (x0 > x1) x0 = x1;
            if (!adjoint) {
              for (int x = 0; x < x0; x++) col[x] = 0.0f;
              if (sw == 1 && is3 == 1) {
                const float* src = row + off;
                for (int x = x0; x < x1; x++) col[x] = src[x];
              } else {
                for (int x = x0; x < x1; x++) col[x] = row[(long)(x * sw + off) * is3];
              }
              for (int x = x1; x < ow; x++) col[x] = 0.0f;
            } else {
              for (int x = x0; x < x1; x++) row[(long)(x * sw + off) * is3] += col[x];
            }
          }
}

EXPORT void im2col_f32(const int* p, float* im, float* cols) { slide(p, im, cols, 0); }
EXPORT void col2im_f32(const int* p, float* cols, float* im) { slide(p, im, cols, 1); }
