// Error bounds for matrix products: a float32 product's rounding error grows with Σ_p |a_ip·b_pj|,
// so parity tests of matmul kernels scale their tolerance by it.

import type { View } from "../../src/backends/backend.js";

/** Σ_p |a_ip·b_pj| for every output element (contiguous, batch-major), read through the strides. */
export function magnitudes(a: View, b: View): Float64Array {
  const nd = a.shape.length;
  const [M, K, N] = [a.shape[nd - 2]!, a.shape[nd - 1]!, b.shape[nd - 1]!];
  const batch = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const out = new Float64Array(batch * M * N);
  for (let t = 0; t < batch; t++) {
    let ao = a.offset;
    let bo = b.offset;
    for (let d = nd - 3, r = t; d >= 0; d--) {
      const i = r % a.shape[d]!;
      r = Math.floor(r / a.shape[d]!);
      ao += i * a.strides[d]!;
      bo += i * b.strides[d]!;
    }
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let p = 0; p < K; p++)
          s += Math.abs(
            a.data[ao + i * a.strides[nd - 2]! + p * a.strides[nd - 1]!]! *
              b.data[bo + p * b.strides[nd - 2]! + j * b.strides[nd - 1]!]!,
          );
        out[(t * M + i) * N + j] = s;
      }
  }
  return out;
}
