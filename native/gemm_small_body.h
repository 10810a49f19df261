// The body of the small-M GEMM path (gemm_small.cc), included once per instruction set. The
// includer defines DESCENT_TGT (the target attribute, or nothing) and the traits V<T> (vector type
// vec, lanes W, rows per pass ROWS, load/loadn/store/storen/set1/fma/zero/hsum) inside a namespace
// of its own, so each copy compiles for its own ISA. No include guard on purpose.

/**
 * Dot layout (B's columns contiguous along k, e.g. the transposed weight of x·Wᵀ): rows R of the
 * packed small operand `a` (row i at a + i·K) times NJ columns of b (column j at b + j·sBn), each
 * output a vectorised dot product. One a-vector load serves NJ columns. The sum is W partial sums
 * added at the end (hsum): another order than the js reference's sequential sum, within its
 * rounding bound.
 */
template <typename T, int R, int NJ>
DESCENT_TGT void dot_tile(idx K, const T* a, const T* b, idx sBn, T* c, idx sCm, idx sCn) {
  using Vt = V<T>;
  using vec = typename Vt::vec;
  constexpr int W = Vt::W;
  vec acc[R][NJ];
  for (int i = 0; i < R; i++)
    for (int j = 0; j < NJ; j++) acc[i][j] = Vt::zero();
  idx k = 0;
  for (; k + W <= K; k += W) {
    vec bv[NJ];
    for (int j = 0; j < NJ; j++) bv[j] = Vt::load(b + j * sBn + k);
    for (int i = 0; i < R; i++) {
      vec av = Vt::load(a + i * K + k);
      for (int j = 0; j < NJ; j++) acc[i][j] = Vt::fma(av, bv[j], acc[i][j]);
    }
  }
  if (k < K) {
    const int n = int(K - k);
    vec bv[NJ];
    for (int j = 0; j < NJ; j++) bv[j] = Vt::loadn(b + j * sBn + k, n);
    for (int i = 0; i < R; i++) {
      vec av = Vt::loadn(a + i * K + k, n);
      for (int j = 0; j < NJ; j++) acc[i][j] = Vt::fma(av, bv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < R; i++)
    for (int j = 0; j < NJ; j++) c[i * sCm + j * sCn] = Vt::hsum(acc[i][j]);
}

/** R packed rows times all N columns of b, NJ columns at a time (4 keeps 4 loads in flight). */
template <typename T, int R>
DESCENT_TGT void dot_rows(idx K, idx N, const T* a, const T* b, idx sBn, T* c, idx sCm, idx sCn) {
  idx j = 0;
  for (; j + 4 <= N; j += 4) dot_tile<T, R, 4>(K, a, b + j * sBn, sBn, c + j * sCn, sCm, sCn);
  for (; j < N; j++) dot_tile<T, R, 1>(K, a, b + j * sBn, sBn, c + j * sCn, sCm, sCn);
}

/**
 * Axpy layout (B's rows contiguous along n): an R×(NV·W) tile of C in registers, summed over all
 * of k straight from B's rows (no packing: each k reads NV vectors of one row). The sum over k is
 * sequential, as in the js reference.
 */
template <typename T, int R, int NV>
DESCENT_TGT void axpy_tile(idx K, const T* a, idx sAm, idx sAk, const T* b, idx sBk, T* c, idx sCm, int last) {
  using Vt = V<T>;
  using vec = typename Vt::vec;
  constexpr int W = Vt::W;
  vec acc[R][NV];
  for (int i = 0; i < R; i++)
    for (int v = 0; v < NV; v++) acc[i][v] = Vt::zero();
  for (idx k = 0; k < K; k++, a += sAk, b += sBk) {
    vec bv[NV];
    for (int v = 0; v < NV; v++) bv[v] = (v == NV - 1 && last < W) ? Vt::loadn(b + v * W, last) : Vt::load(b + v * W);
    for (int i = 0; i < R; i++) {
      vec ai = Vt::set1(a[i * sAm]);
      for (int v = 0; v < NV; v++) acc[i][v] = Vt::fma(ai, bv[v], acc[i][v]);
    }
  }
  for (int i = 0; i < R; i++)
    for (int v = 0; v < NV; v++) {
      if (v == NV - 1 && last < W)
        Vt::storen(c + i * sCm + v * W, acc[i][v], last);
      else
        Vt::store(c + i * sCm + v * W, acc[i][v]);
    }
}

template <typename T, int R>
DESCENT_TGT void axpy_rows(idx K, idx N, const T* a, idx sAm, idx sAk, const T* b, idx sBk, T* c, idx sCm) {
  constexpr int W = V<T>::W;
  idx j = 0;
  for (; j + 4 * W <= N; j += 4 * W) axpy_tile<T, R, 4>(K, a, sAm, sAk, b + j, sBk, c + j, sCm, W);
  for (; j + W <= N; j += W) axpy_tile<T, R, 1>(K, a, sAm, sAk, b + j, sBk, c + j, sCm, W);
  if (j < N) axpy_tile<T, R, 1>(K, a, sAm, sAk, b + j, sBk, c + j, sCm, int(N - j));
}

/** Dispatch on the rows left (1..ROWS) so each tile's row count is a compile-time constant. */
/**
 * Columns of b go in blocks of ~128 KiB, each visited by every chunk of rows while it is in L2:
 * more rows than ROWS re-read b once per chunk, and for a tall A run transposed (the small-N
 * case) b is all of A.
 */
template <typename T>
DESCENT_TGT void dot_all(idx M, idx K, idx N, const T* a, const T* b, idx sBn, T* c, idx sCm, idx sCn) {
  constexpr int RM = V<T>::ROWS;
  const idx cols = std::max<idx>(4, idx(128 * 1024 / sizeof(T)) / K / 4 * 4);
  for (idx j = 0; j < N; j += cols) {
    const idx n = std::min(cols, N - j);
    const T* bj = b + j * sBn;
    for (idx i = 0; i < M; i += RM) {
      const T* ai = a + i * K;
      T* ci = c + i * sCm + j * sCn;
      switch (std::min<idx>(RM, M - i)) {
        case 1: dot_rows<T, 1>(K, n, ai, bj, sBn, ci, sCm, sCn); break;
        case 2: dot_rows<T, 2>(K, n, ai, bj, sBn, ci, sCm, sCn); break;
        case 3: if constexpr (RM >= 3) dot_rows<T, 3>(K, n, ai, bj, sBn, ci, sCm, sCn); break;
        default: if constexpr (RM >= 4) dot_rows<T, 4>(K, n, ai, bj, sBn, ci, sCm, sCn); break;
      }
    }
  }
}

template <typename T>
DESCENT_TGT void axpy_all(idx M, idx K, idx N, const T* a, idx sAm, idx sAk, const T* b, idx sBk, T* c, idx sCm) {
  constexpr int RM = V<T>::ROWS;
  for (idx i = 0; i < M; i += RM) {
    const T* ai = a + i * sAm;
    T* ci = c + i * sCm;
    switch (std::min<idx>(RM, M - i)) {
      case 1: axpy_rows<T, 1>(K, N, ai, sAm, sAk, b, sBk, ci, sCm); break;
      case 2: axpy_rows<T, 2>(K, N, ai, sAm, sAk, b, sBk, ci, sCm); break;
      case 3: if constexpr (RM >= 3) axpy_rows<T, 3>(K, N, ai, sAm, sAk, b, sBk, ci, sCm); break;
      default: if constexpr (RM >= 4) axpy_rows<T, 4>(K, N, ai, sAm, sAk, b, sBk, ci, sCm); break;
    }
  }
}
