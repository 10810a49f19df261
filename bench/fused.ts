// Timings behind the thresholds of the fused kernels: the Adam update (float32) and log-softmax
// over rows of 10 at growing sizes, js kernel against the native one on one and two threads
// (src/backends/native/fused.ts FUSED_MIN_ELEMENTS, native/fused.cc kParallelMin). Prints median µs
// per call. Not a test; run `node --import tsx bench/fused.ts`.

import type { View } from "../src/backends/backend.js";
import { fusedKernels as js } from "../src/backends/js/fused.js";
import { initNative, nativeAddon } from "../src/backends/native/index.js";
import { nativeFused } from "../src/backends/native/fused.js";

if (!initNative(false)) throw new Error("bench/fused.ts: the native addon is not built");
const addon = nativeAddon()!;
const native = nativeFused(addon, 1);

const view = (n: number, shape = [n]): View => ({
  data: Float32Array.from({ length: n }, (_, i) => 0.1 + ((i * 7919) % 1000) / 1000),
  shape,
  strides: shape.length === 2 ? [shape[1]!, 1] : [1],
  offset: 0,
});

function time(f: () => void): number {
  const reps = [];
  for (let r = 0; r < 15; r++) {
    const t0 = performance.now();
    let k = 0;
    let t = 0;
    do {
      f();
      k++;
      t = performance.now() - t0;
    } while (t < 2);
    reps.push((t * 1000) / k);
  }
  return reps.sort((a, b) => a - b)[7]!;
}

const c = {
  decay: 1,
  weightDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  negStepSize: -1e-3,
  bc2Sqrt: 0.1,
  maximize: false,
};
console.log("Adam float32, median µs per update:");
console.log("n".padStart(8), "js".padStart(9), "native1".padStart(9), "native2".padStart(9));
for (const n of [16, 64, 128, 256, 1024, 8192, 16384, 32768, 65536, 200704]) {
  const [p, g, m, v] = [view(n), view(n), view(n), view(n)];
  const tj = time(() => js.adamStep(p, g, m, v, null, c));
  addon.setThreads(1);
  const t1 = time(() => native.adamStep(p, g, m, v, null, c));
  addon.setThreads(2);
  const t2 = time(() => native.adamStep(p, g, m, v, null, c));
  console.log(String(n).padStart(8), tj.toFixed(2).padStart(9), t1.toFixed(2).padStart(9), t2.toFixed(2).padStart(9));
}
console.log("log-softmax float32 over rows of 10, median µs (forward + backward):");
for (const rows of [1, 4, 16, 64, 128, 1024, 8192]) {
  const n = rows * 10;
  const [x, y, g, o] = [view(n, [rows, 10]), view(n, [rows, 10]), view(n, [rows, 10]), view(n, [rows, 10])];
  const run = (k: typeof js) => () => {
    k.softmax(x, true, y);
    k.softmaxBackward(g, y, true, o);
  };
  const tj = time(run(js));
  addon.setThreads(1);
  const t1 = time(run(native));
  addon.setThreads(2);
  const t2 = time(run(native));
  console.log(String(n).padStart(8), tj.toFixed(2).padStart(9), t1.toFixed(2).padStart(9), t2.toFixed(2).padStart(9));
}
