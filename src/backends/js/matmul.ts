// The js backend's matrix product: a blocked GEMM in the GotoBLAS/BLIS layout, in plain
// TypeScript. Blocks of A and B are copied ("packed") into contiguous panels of one pooled
// Float64Array, reading the inputs through their strides while doing so; a register-blocked
// micro-kernel then multiplies a MR-row panel of A by a NR-column panel of B, keeping the MR×NR
// partial sums in locals. Packing is what makes transposed and broadcast inputs free: the kernel
// only ever sees contiguous doubles. Accumulation is in doubles for every float dtype.

import type { TypedArray } from "../../core/dtype.js";
import type { View } from "../backend.js";

/**
 * Register tile. V8 compiles each typed-array read to ~6 instructions (index add with overflow
 * check, bounds check, base-pointer add, load), so the kernel is bound by reads; the tile trades
 * flops per read against accumulators spilled out of the 16 xmm registers. Measured on 256³
 * float32 here: 4x4 (16 sums, 8 reads per 32 flops) ≈ 4.9 GFLOP/s; 3x4, 4x3, 3x3, 2x4, 4x2, 5x3,
 * 2x6 ≈ 4.2–4.6; 8x8 ≈ 3.9; 4x6, 6x6, 4x12 erratic, 1.5–4.4 (V8's register allocation gives out).
 * Unrolling the depth loop lost ~15%.
 */
const MR = 4;
const NR = 4;
/**
 * Cache blocks: a KC×NR panel of B (8 KiB of doubles) stays in L1 while the MC×KC block of A
 * (256 KiB) sits in L2. At JS speeds memory is not the limit; other sizes measured within noise.
 */
const KC = 256;
const MC = 128;
const NC = 2048;
/** Below this many multiply-adds (or for a vector operand) packing costs more than it saves. */
const SMALL = 512;

// Grow-only scratch shared by all calls (matmul is synchronous, so never used twice at once).
let pool = new Float64Array(0);
const tile = new Float64Array(MR * NR);

function packBuffer(n: number): Float64Array {
  if (pool.length < n) pool = new Float64Array(Math.max(n, 2 * pool.length));
  return pool;
}

/**
 * a: [...batch, M, K], b: [...batch, K, N] with the same batch shape and any strides (a stride of 0
 * is a broadcast dim); out: contiguous [...batch, M, N] of the same dtype, overwritten.
 */
/** The sizes of a batched product a [...batch, M, K] · b [...batch, K, N] (batch dims already broadcast); nd is a's rank. */
export function matmulSizes(a: View, b: View): { nd: number; batch: number; M: number; K: number; N: number } {
  const nd = a.shape.length;
  let batch = 1;
  for (let d = 0; d < nd - 2; d++) batch *= a.shape[d]!;
  return { nd, batch, M: a.shape[nd - 2]!, K: a.shape[nd - 1]!, N: b.shape[nd - 1]! };
}

export function matmul(a: View, b: View, out: View): void {
  const { nd, batch, M, K, N } = matmulSizes(a, b);
  const mn = M * N;
  if (batch === 0 || mn === 0) return;
  const c = out.data;
  if (K === 0) {
    c.fill(0, out.offset, out.offset + batch * mn);
    return;
  }
  const sAm = a.strides[nd - 2]!;
  const sAk = a.strides[nd - 1]!;
  const sBk = b.strides[nd - 2]!;
  const sBn = b.strides[nd - 1]!;
  // Odometer over the batch dims; each matrix's start follows its own strides (0 when broadcast).
  const idx = new Array<number>(Math.max(nd - 2, 0)).fill(0);
  let aOff = a.offset;
  let bOff = b.offset;
  for (let t = 0; t < batch; t++) {
    const cOff = out.offset + t * mn;
    if (c instanceof Int32Array) {
      intProduct(M, N, K, a.data, aOff, sAm, sAk, b.data, bOff, sBk, sBn, c, cOff);
    } else if (M === 1 || N === 1 || M * N * K <= SMALL) {
      smallProduct(M, N, K, a.data, aOff, sAm, sAk, b.data, bOff, sBk, sBn, c, cOff);
    } else {
      gemm(M, N, K, a.data, aOff, sAm, sAk, b.data, bOff, sBk, sBn, c, cOff);
    }
    for (let d = nd - 3; d >= 0; d--) {
      aOff += a.strides[d]!;
      bOff += b.strides[d]!;
      if (++idx[d]! < a.shape[d]!) break;
      idx[d] = 0;
      aOff -= a.strides[d]! * a.shape[d]!;
      bOff -= b.strides[d]! * b.shape[d]!;
    }
  }
}

/**
 * Products too small or too thin to repay packing, in the loop order that reads memory in order:
 * when b's rows are contiguous, rows of c are built as sums of rows of b (in a float64 row); when
 * a's columns are, the same on the transposed problem (cᵀ = bᵀ·aᵀ); otherwise one dot product each.
 */
function smallProduct(
  M: number,
  N: number,
  K: number,
  a: TypedArray,
  aOff: number,
  sAm: number,
  sAk: number,
  b: TypedArray,
  bOff: number,
  sBk: number,
  sBn: number,
  c: TypedArray,
  cOff: number,
): void {
  if (N > 1 && Math.abs(sBn) <= Math.abs(sBk)) {
    rowsOfB(M, N, K, a, aOff, sAm, sAk, b, bOff, sBk, sBn, c, cOff, N, 1);
  } else if (M > 1 && Math.abs(sAm) <= Math.abs(sAk)) {
    rowsOfB(N, M, K, b, bOff, sBn, sBk, a, aOff, sAk, sAm, c, cOff, 1, N);
  } else {
    let co = cOff;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let pa = aOff + i * sAm;
        let pb = bOff + j * sBn;
        let s = 0;
        for (let p = 0; p < K; p++) {
          s += a[pa]! * b[pb]!;
          pa += sAk;
          pb += sBk;
        }
        c[co++] = s;
      }
    }
  }
}

/** c (row stride sCm, column stride sCn) = a·b, row i of c accumulated as Σ_p a[i,p]·b[p,:]. */
function rowsOfB(
  M: number,
  N: number,
  K: number,
  a: TypedArray,
  aOff: number,
  sAm: number,
  sAk: number,
  b: TypedArray,
  bOff: number,
  sBk: number,
  sBn: number,
  c: TypedArray,
  cOff: number,
  sCm: number,
  sCn: number,
): void {
  const acc = packBuffer(N);
  for (let i = 0; i < M; i++) {
    acc.fill(0, 0, N);
    for (let p = 0; p < K; p++) {
      const x = a[aOff + i * sAm + p * sAk]!;
      let pb = bOff + p * sBk;
      for (let j = 0; j < N; j++) {
        acc[j] = acc[j]! + x * b[pb]!;
        pb += sBn;
      }
    }
    for (let j = 0; j < N; j++) c[cOff + i * sCm + j * sCn] = acc[j]!;
  }
}

/** int32 wraps like C: Math.imul keeps every product and sum exact modulo 2^32 (a double would round). */
function intProduct(
  M: number,
  N: number,
  K: number,
  a: TypedArray,
  aOff: number,
  sAm: number,
  sAk: number,
  b: TypedArray,
  bOff: number,
  sBk: number,
  sBn: number,
  c: Int32Array,
  cOff: number,
): void {
  c.fill(0, cOff, cOff + M * N);
  // i-p-j order walks rows of b and c, which is the cache-friendly order for the usual layout.
  for (let i = 0; i < M; i++) {
    const cRow = cOff + i * N;
    for (let p = 0; p < K; p++) {
      const x = a[aOff + i * sAm + p * sAk]!;
      if (x === 0) continue;
      let pb = bOff + p * sBk;
      for (let j = 0; j < N; j++) {
        c[cRow + j] = (c[cRow + j]! + Math.imul(x, b[pb]!)) | 0;
        pb += sBn;
      }
    }
  }
}

/** Splits n into equal blocks of at most `max` (257 = 129 + 128, not 256 + 1). */
function blockSize(n: number, max: number, multiple: number): number {
  const blocks = Math.ceil(n / max);
  return Math.ceil(Math.ceil(n / blocks) / multiple) * multiple;
}

function gemm(
  M: number,
  N: number,
  K: number,
  a: TypedArray,
  aOff: number,
  sAm: number,
  sAk: number,
  b: TypedArray,
  bOff: number,
  sBk: number,
  sBn: number,
  c: TypedArray,
  cOff: number,
): void {
  const kcMax = blockSize(K, KC, 1);
  const mcMax = blockSize(M, MC, MR);
  const ncMax = blockSize(N, NC, NR);
  const buf = packBuffer(kcMax * (mcMax + ncMax));
  const bPack = kcMax * mcMax;
  // The kernel adds into c, so every K block (and the float32 rounding between them) starts from 0.
  c.fill(0, cOff, cOff + M * N);
  for (let jc = 0; jc < N; jc += ncMax) {
    const nc = Math.min(ncMax, N - jc);
    for (let pc = 0; pc < K; pc += kcMax) {
      const kc = Math.min(kcMax, K - pc);
      pack(buf, bPack, b, bOff + pc * sBk + jc * sBn, sBn, sBk, nc, kc, NR);
      for (let ic = 0; ic < M; ic += mcMax) {
        const mc = Math.min(mcMax, M - ic);
        pack(buf, 0, a, aOff + ic * sAm + pc * sAk, sAm, sAk, mc, kc, MR);
        macroKernel(buf, bPack, mc, nc, kc, c, cOff + ic * N + jc, N);
      }
    }
  }
}

/**
 * Copies an n×kc block into panels of R lines: line r (a row of A, a column of B) at stride sR,
 * depth at stride sK; panel q holds, for each depth p, its R values side by side at
 * dst + q·R·kc + p·R. Lines past n are zero-filled: the kernel always computes whole tiles and
 * macroKernel drops the padded lanes, and zeros keep stale pool contents (NaN, say) out of them.
 */
function pack(
  buf: Float64Array,
  dst: number,
  x: TypedArray,
  off: number,
  sR: number,
  sK: number,
  n: number,
  kc: number,
  R: number,
): void {
  for (let r0 = 0; r0 < n; r0 += R) {
    const r = Math.min(R, n - r0);
    for (let i = 0; i < R; i++) {
      let d = dst + r0 * kc + i;
      if (i < r) {
        let s = off + (r0 + i) * sR;
        for (let p = 0; p < kc; p++) {
          buf[d] = x[s]!;
          s += sK;
          d += R;
        }
      } else {
        for (let p = 0; p < kc; p++) {
          buf[d] = 0;
          d += R;
        }
      }
    }
  }
}

/** c[mc×nc] (row stride ldc) += packed A block × packed B block, one MR×NR tile at a time. */
function macroKernel(
  buf: Float64Array,
  bPack: number,
  mc: number,
  nc: number,
  kc: number,
  c: TypedArray,
  cOff: number,
  ldc: number,
): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = Math.min(NR, nc - jr);
    const bi = bPack + jr * kc;
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = Math.min(MR, mc - ir);
      microKernel(buf, ir * kc, bi, kc, tile);
      // Ragged edges computed zero-padded lanes; only the part of the tile that exists is added.
      const co = cOff + ir * ldc + jr;
      for (let i = 0; i < mr; i++) {
        for (let j = 0; j < nr; j++) c[co + i * ldc + j] = c[co + i * ldc + j]! + tile[i * NR + j]!;
      }
    }
  }
}

/**
 * tile = A panel (4 rows) × B panel (4 columns) over kc: 16 sums in locals, 8 reads per step.
 * It writes a Float64Array scratch rather than c, so that the hot loop's function sees one array
 * type whatever the output dtype, and edge tiles need no second kernel; the 16 extra stores are
 * noise next to kc steps. One tile row per line (prettier-ignore) so it reads as the 4×4 picture.
 */
// prettier-ignore
function microKernel(buf: Float64Array, ai: number, bi: number, kc: number, t: Float64Array): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < kc; p++) {
    const a0 = buf[ai]!, a1 = buf[ai + 1]!, a2 = buf[ai + 2]!, a3 = buf[ai + 3]!;
    const b0 = buf[bi]!, b1 = buf[bi + 1]!, b2 = buf[bi + 2]!, b3 = buf[bi + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    ai += MR;
    bi += NR;
  }
  t[0] = c00; t[1] = c01; t[2] = c02; t[3] = c03;
  t[4] = c10; t[5] = c11; t[6] = c12; t[7] = c13;
  t[8] = c20; t[9] = c21; t[10] = c22; t[11] = c23;
  t[12] = c30; t[13] = c31; t[14] = c32; t[15] = c33;
}
