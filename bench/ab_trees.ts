// A/B of two checkouts of Descent in ONE process (issue 12): both source trees are imported side
// by side and each workload runs alternately on A and B in short slices, so machine load that comes
// and goes hits both alike; prints medians, the median of paired B/A ratios and the minimums.
// Each tree needs its own built addon (node native/install.mjs in it) and node_modules.
// `DESCENT_BACKEND=native node --import tsx bench/ab_trees.ts --a /path/old --b /path/new [--only w5,w2,w3,w4] [--slices 40]`

import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

type Lib = typeof import("../src/index.js");
const argv = process.argv.slice(2);
const opt = (k: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : undefined);
const treeA = opt("--a");
const treeB = opt("--b") ?? resolve(import.meta.dirname, "..");
if (!treeA)
  throw new Error("usage: bench/ab_trees.ts --a <old checkout> [--b <new checkout>] [--only w5,w2] [--slices N]");
const only = (opt("--only") ?? "w5,w2,w3,w4").split(",");
const slices = Number(opt("--slices") ?? 40);

async function load(tree: string): Promise<Lib> {
  const lib = (await import(pathToFileURL(`${tree}/src/index.ts`).href)) as Lib;
  const native = (await import(pathToFileURL(`${tree}/src/backends/native/index.ts`).href)) as {
    nativeAddon(): { setThreads(n: number): void } | null;
  };
  native.nativeAddon()?.setThreads(1);
  return lib;
}

const filled = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.5);

/** The suite's W2-W5 (bench/suite/descent.ts), built from one tree's API. */
function workload(L: Lib, w: string): () => void {
  const { nn } = L;
  const F = nn.functional;
  const input = (shape: number[], seed = 1) =>
    L.tensor(
      filled(
        shape.reduce((a, b) => a * b, 1),
        seed,
      ),
      { shape },
    );
  const labels = (n: number) => L.tensor(Int32Array.from({ length: n }, (_, i) => (i * 7) % 10));
  const mlp = () =>
    new nn.Sequential(
      new nn.Linear(784, 256),
      new nn.ReLU(),
      new nn.Linear(256, 128),
      new nn.ReLU(),
      new nn.Linear(128, 10),
    );
  const step = (params: InstanceType<typeof nn.Parameter>[], loss: () => InstanceType<typeof L.Tensor>) => {
    const opt = new L.optim.Adam(params, { lr: 1e-3 });
    return () => {
      opt.zeroGrad();
      const l = loss();
      l.backward();
      opt.step();
      l.item();
    };
  };
  if (w === "w5") {
    const m = mlp();
    const x = input([1, 784]);
    return () => L.noGrad(() => void m.forward(x));
  }
  if (w === "w2") {
    const m = mlp();
    const [x, y] = [input([128, 784]), labels(128)];
    return step(m.parameters(), () => F.crossEntropy(m.forward(x), y));
  }
  if (w === "w3") {
    const m = new nn.Sequential(
      new nn.Conv2d(1, 32, 3),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Conv2d(32, 64, 3),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Flatten(),
      new nn.Linear(1600, 128),
      new nn.ReLU(),
      new nn.Linear(128, 10),
    );
    const [x, y] = [input([64, 1, 28, 28]), labels(64)];
    return step(m.parameters(), () => F.crossEntropy(m.forward(x), y));
  }
  if (w === "w4") {
    const l = new nn.LSTM(64, 128);
    const [x, t] = [input([32, 32, 64]), input([1, 32, 128], 3)];
    return step(l.parameters(), () => F.mseLoss(l.forward(x)[1][0], t));
  }
  throw new Error(`unknown workload ${w}`);
}

const reps: Record<string, number> = { w5: 400, w2: 10, w3: 2, w4: 4 };
const med = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1]!;
const [A, B] = [await load(treeA), await load(treeB)];
console.log(
  `CPU: ${cpus()[0]?.model}; backend ${process.env["DESCENT_BACKEND"] ?? "default"}, 1 thread; A = ${treeA}, B = ${treeB}`,
);
console.log("| workload | A median µs | B median µs | B/A medians | median of paired B/A | A min | B min |");
console.log("|---|---|---|---|---|---|---|");
for (const w of only) {
  const fa = workload(A, w);
  const fb = workload(B, w);
  const time = (f: () => void) => {
    const t = performance.now();
    for (let i = 0; i < reps[w]!; i++) f();
    return ((performance.now() - t) / reps[w]!) * 1000;
  };
  for (let i = 0; i < 3; i++) {
    time(fa);
    time(fb);
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < slices; i++) {
    if (i % 2) {
      ta.push(time(fa));
      tb.push(time(fb));
    } else {
      tb.push(time(fb));
      ta.push(time(fa));
    }
  }
  const paired = med(ta.map((a, i) => tb[i]! / a));
  console.log(
    `| ${w} | ${med(ta).toFixed(1)} | ${med(tb).toFixed(1)} | ${(med(tb) / med(ta)).toFixed(3)} | ${paired.toFixed(3)} | ${Math.min(...ta).toFixed(1)} | ${Math.min(...tb).toFixed(1)} |`,
  );
}
