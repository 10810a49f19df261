// PLACEHOLDER (naive) until the blocked kernel lands.
import type { View } from "../backend.js";
export function matmul(a: View, b: View, out: View): void {
  const nd = a.shape.length;
  const M = a.shape[nd - 2]!,
    K = a.shape[nd - 1]!,
    N = b.shape[nd - 1]!;
  const batch = a.shape.slice(0, -2);
  const nb = batch.reduce((x, y) => x * y, 1);
  for (let bi = 0; bi < nb; bi++) {
    let ao = a.offset,
      bo = b.offset,
      rem = bi;
    for (let d = batch.length - 1; d >= 0; d--) {
      const i = rem % batch[d]!;
      rem = Math.floor(rem / batch[d]!);
      ao += i * a.strides[d]!;
      bo += i * b.strides[d]!;
    }
    const oo = out.offset + bi * M * N;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++)
          s +=
            a.data[ao + i * a.strides[nd - 2]! + k * a.strides[nd - 1]!]! *
            b.data[bo + k * b.strides[nd - 2]! + j * b.strides[nd - 1]!]!;
        out.data[oo + i * N + j] = s;
      }
  }
}
