// The loops of the native fused attention (attention.cc includes this file once, inside its
// anonymous namespace): a vectorisable exp, the row operations of the online softmax, and packing
// of tiles for the GEMM's micro-kernels (gemm.h). Plain loops the compiler vectorises, compiled per
// instruction set through the callers' target attributes (everything here is always inlined).
#pragma once

/** e^v for v ≤ ~0: −∞ → 0, NaN → NaN; Cody–Waite reduction and Cephes' expf polynomial (~1 ulp). */
ATT_INLINE float exp_att(float v) {
  float x = v < -87.0f ? -87.0f : v;
  x = x > 88.0f ? 88.0f : x;
  const float magic = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer in the low bits
  const float t = x * 1.44269504088896341f + magic;
  const float n = t - magic;
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t tb, mb;
  std::memcpy(&tb, &t, 4);
  std::memcpy(&mb, &magic, 4);
  const int32_t sb = (tb - mb + 127) << 23;
  float s;
  std::memcpy(&s, &sb, 4);
  return v < -87.0f ? 0.0f : p * s;
}

/** The same in double (degree-13 Taylor after reduction, rel. error ~1e-16). */
ATT_INLINE double exp_att(double v) {
  double x = v < -708.0 ? -708.0 : v;
  x = x > 709.0 ? 709.0 : x;
  const double magic = 6755399441055744.0;  // 1.5·2^52
  const double t = x * 1.4426950408889634 + magic;
  const double n = t - magic;
  const double r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  int64_t tb, mb;
  std::memcpy(&tb, &t, 8);
  std::memcpy(&mb, &magic, 8);
  const int64_t sb = (tb - mb + 1023) << 52;
  double s;
  std::memcpy(&s, &sb, 8);
  return v < -708.0 ? 0.0 : p * s;
}

inline idx round_up(idx x, idx m) { return (x + m - 1) / m * m; }

/** A-panels of the micro-kernel: rows × depth of src (strides rs, cs), MR rows per panel, zero-padded. */
template <typename T>
ATT_INLINE void pack_a(const T* src, idx rs, idx cs, idx rows, idx depth, int MR, T* dst) {
  for (idx p = 0; p * MR < rows; p++)
    for (idx d = 0; d < depth; d++)
      for (int r = 0; r < MR; r++) {
        const idx row = p * MR + r;
        dst[(p * depth + d) * MR + r] = row < rows ? src[row * rs + d * cs] : T(0);
      }
}

/** B-panels: depth × cols of src (strides rs over depth, cs over columns), NR columns per panel. */
template <typename T>
ATT_INLINE void pack_b(const T* src, idx rs, idx cs, idx depth, idx cols, int NR, T* dst) {
  for (idx p = 0; p * NR < cols; p++)
    for (idx d = 0; d < depth; d++)
      for (int c = 0; c < NR; c++) {
        const idx col = p * NR + c;
        dst[(p * depth + d) * NR + c] = col < cols ? src[d * rs + col * cs] : T(0);
      }
}

/** C (+)= A·B over packed panels; C holds rows and cols rounded up to the tile, row stride ldc. */
template <typename T>
ATT_INLINE void tiles(const Kernel<T>& kn, idx rows, idx cols, idx depth, const T* ap, const T* bp, T* c, idx ldc, bool acc) {
  for (idx pr = 0; pr * kn.mr < rows; pr++)
    for (idx pc = 0; pc * kn.nr < cols; pc++)
      kn.fn(depth, ap + pr * depth * kn.mr, bp + pc * depth * kn.nr, c + pr * kn.mr * ldc + pc * kn.nr, ldc, acc);
}

/**
 * Row i's scores x = s·scale + mask for keys j0 + [0, n), in place (split into plain loops that the
 * compiler vectorises; the composed form's order: scale, then add).
 */
template <typename T>
ATT_INLINE void scale_mask(T* x, idx n, T scale, const T* mk, const idx* ms, idx i, idx j0) {
  for (idx j = 0; j < n; j++) x[j] *= scale;
  if (!mk) return;
  const T* row = mk + i * ms[2] + j0 * ms[3];
  const idx st = ms[3];
  if (st == 1)
    for (idx j = 0; j < n; j++) x[j] += row[j];
  else
    for (idx j = 0; j < n; j++) x[j] += row[j * st];
}

/** max of x[0, n) (−∞ when empty), in 8 lanes so that it vectorises. */
template <typename T>
ATT_INLINE T row_max(const T* x, idx n) {
  const T ninf = -std::numeric_limits<T>::infinity();
  T m[8] = {ninf, ninf, ninf, ninf, ninf, ninf, ninf, ninf};
  idx j = 0;
  for (; j + 8 <= n; j += 8)
    for (int u = 0; u < 8; u++) m[u] = x[j + u] > m[u] ? x[j + u] : m[u];
  for (; j < n; j++) m[0] = x[j] > m[0] ? x[j] : m[0];
  T r = m[0];
  for (int u = 1; u < 8; u++) r = m[u] > r ? m[u] : r;
  return r;
}

/** x ← e^(x − shift) over [0, n); returns Σ (8 lanes). */
template <typename T>
ATT_INLINE T exp_sum(T* x, idx n, T shift) {
  T s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  idx j = 0;
  for (; j + 8 <= n; j += 8)
    for (int u = 0; u < 8; u++) {
      const T p = exp_att(x[j + u] - shift);
      x[j + u] = p;
      s[u] += p;
    }
  for (; j < n; j++) {
    x[j] = exp_att(x[j] - shift);
    s[0] += x[j];
  }
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}
