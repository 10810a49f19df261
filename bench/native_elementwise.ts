// Element-wise kernels, js backend vs native (one part on the calling thread, and split across the
// pool), float32, from 64 to 1M elements (--small: 1 to 512): the source of ELEMENTWISE_THRESHOLDS in
// src/backends/native/elementwise.ts. Run `node --import tsx bench/native_elementwise.ts
// [--quick | --small] [op...]` on an otherwise idle machine; it is not a test. Each figure is the median of
// timed repeats after a warm-up; repeats of all rows are interleaved, so ratios compare rows of one
// run (the only comparison a shared, noisy machine supports).

import os from "node:os";
import type { View } from "../src/backends/backend.js";
import { jsBackend } from "../src/backends/js/index.js";
import { initNative, nativeAddon } from "../src/backends/native/index.js";
import { elementwiseKernels } from "../src/backends/native/elementwise.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.filter((a) => !a.startsWith("--"));
const REPEATS = quick ? 3 : 5;
const REPEAT_MS = quick ? 15 : 40;

const addon = initNative(false) ? nativeAddon() : undefined;
if (!addon) {
  console.log("The native addon is not built (npm install builds it); nothing to compare.");
  process.exit(0);
}
const js = jsBackend.kernels;
const never = Number.POSITIVE_INFINITY;
const serial = elementwiseKernels(addon, js, {
  minElements: 0,
  minCostlyElements: 0,
  minCopyElements: 0,
  parallelElements: never,
  parallelCostlyElements: never,
});
const parallel = elementwiseKernels(addon, js, {
  minElements: 0,
  minCostlyElements: 0,
  minCopyElements: 0,
  parallelElements: 0,
  parallelCostlyElements: 0,
});

function view(shape: number[], strides?: number[]): View {
  const n = shape.reduce((x, y) => x * y, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = ((i * 7919) % 2003) / 1001.5 - 1;
  strides ??= shape.map((_, i) => shape.slice(i + 1).reduce((x, y) => x * y, 1));
  return { data, shape, strides, offset: 0 };
}

type K = ReturnType<typeof elementwiseKernels>;
/** One workload: given n elements, a call of the kernel set. */
const OPS: Record<string, (n: number) => (k: K) => void> = {
  add: (n) => {
    const [a, b, o] = [view([n]), view([n]), view([n])];
    return (k) => k.binary("add", a, b, o);
  },
  "add_ (in place)": (n) => {
    const [a, b] = [view([n]), view([n])];
    return (k) => k.binary("add", a, b, a);
  },
  "mul scalar": (n) => {
    const [a, o] = [view([n]), view([n])];
    const s = { ...view([1]), shape: [n], strides: [0] };
    return (k) => k.binary("mul", a, s, o);
  },
  "add bias [n/64,64]": (n) => {
    const a = view([n / 64, 64]);
    const o = view([n / 64, 64]);
    const b = { ...view([64]), shape: [n / 64, 64], strides: [0, 1] };
    return (k) => k.binary("add", a, b, o);
  },
  maximum: (n) => {
    const [a, b, o] = [view([n]), view([n]), view([n])];
    return (k) => k.binary("maximum", a, b, o);
  },
  gt: (n) => {
    const [a, b, o] = [view([n]), view([n]), view([n])];
    return (k) => k.binary("gt", a, b, o);
  },
  ...Object.fromEntries(
    (["relu", "neg", "sqrt", "exp", "log", "tanh", "sigmoid"] as const).map((op) => [
      op,
      (n: number) => {
        const [x, o] = [view([n]), view([n])];
        return (k: K) => k.unary(op, x, o);
      },
    ]),
  ),
  "sum all": (n) => {
    const [x, o] = [view([n]), view([1])];
    return (k) => k.reduce("sum", x, [0], o);
  },
  "sum dim 0 [n/64,64]": (n) => {
    const [x, o] = [view([n / 64, 64]), view([1, 64])];
    return (k) => k.reduce("sum", x, [0], o);
  },
  "sum last [n/64,64]": (n) => {
    const [x, o] = [view([n / 64, 64]), view([n / 64, 1])];
    return (k) => k.reduce("sum", x, [1], o);
  },
  "max last [n/64,64]": (n) => {
    const [x, o] = [view([n / 64, 64]), view([n / 64, 1])];
    return (k) => k.reduce("max", x, [1], o);
  },
  where: (n) => {
    const [c, a, b, o] = [view([n]), view([n]), view([n]), view([n])];
    return (k) => k.where(c, a, b, o);
  },
  "copy transposed [64,n/64]ᵀ": (n) => {
    const x = view([64, n / 64]);
    const xt = { ...x, shape: [n / 64, 64], strides: [1, n / 64] };
    const o = view([n / 64, 64]);
    return (k) => k.copy(xt, o);
  },
  "argmax last [n/64,64]": (n) => {
    const x = view([n / 64, 64]);
    const o = { data: new Int32Array(n / 64), shape: [n / 64], strides: [1], offset: 0 };
    return (k) => k.argReduce("argmax", x, 1, o);
  },
};

// --small: where the native call starts to pay (the thresholds); default: up to 1M elements.
const SIZES = args.includes("--small")
  ? [1, 4, 16, 32, 64, 128, 256, 512]
  : quick
    ? [256, 4096, 65536, 1 << 20]
    : [64, 256, 1024, 4096, 16384, 65536, 262144, 1 << 20];
interface Row {
  op: string;
  n: number;
  system: string;
  run: () => void;
  batch: number;
  samples: number[];
}
const rows: Row[] = [];
for (const [op, make] of Object.entries(OPS)) {
  if (only.length && !only.some((o) => op.startsWith(o))) continue;
  for (const n of SIZES) {
    if (n < 64 && op.includes("n/64")) continue;
    const call = make(n);
    rows.push({ op, n, system: "js", run: () => call(js), batch: 1, samples: [] });
    rows.push({ op, n, system: "native", run: () => call(serial), batch: 1, samples: [] });
    if (n >= 4096) rows.push({ op, n, system: "native ∥", run: () => call(parallel), batch: 1, samples: [] });
  }
}

for (const r of rows) {
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < REPEAT_MS || calls < 2) {
    r.run();
    calls++;
  }
  r.batch = Math.max(1, Math.round((calls * REPEAT_MS) / Math.max(0.01, performance.now() - t0)));
}
for (let k = 0; k < REPEATS; k++)
  for (const r of rows) {
    const t0 = performance.now();
    for (let i = 0; i < r.batch; i++) r.run();
    r.samples.push(((performance.now() - t0) * 1000) / r.batch);
  }

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
console.log(
  `float32, µs per call, median of ${REPEATS}; isa ${addon.isa()}, threads ${addon.threads()}, ${os.cpus()[0]?.model ?? "?"}`,
);
console.log("op                           n         js µs   native µs   js/native   native∥ µs   js/native∥");
for (const op of new Set(rows.map((r) => r.op)))
  for (const n of SIZES) {
    const get = (s: string) => rows.find((r) => r.op === op && r.n === n && r.system === s);
    const [j, s, p] = [get("js"), get("native"), get("native ∥")];
    if (!j || !s) continue;
    const [jm, sm] = [median(j.samples), median(s.samples)];
    const pm = p ? median(p.samples) : NaN;
    const f = (x: number) => (Number.isNaN(x) ? "" : x.toFixed(x < 10 ? 2 : 1));
    console.log(
      `${op.padEnd(26)} ${String(n).padStart(8)} ${f(jm).padStart(10)} ${f(sm).padStart(11)} ${(jm / sm).toFixed(2).padStart(10)}x` +
        ` ${f(pm).padStart(12)} ${p ? (jm / pm).toFixed(2).padStart(11) + "x" : ""}`,
    );
  }
