// Profiling driver for per-op overhead: W5 (MLP forward, batch 1, noGrad) and W2 (MLP training
// step, batch 128, cross-entropy + Adam). `node --import tsx bench/ovh_driver.ts [w5|w2|both] [iters]`
// prints median µs per call; run with --cpu-prof to see where the JS time goes.
import { nn, noGrad, optim, tensor } from "../src/index.js";

const which = process.argv[2] ?? "both";
const iters = Number(process.argv[3] ?? 2000);
const F = nn.functional;
const mlp = (): nn.Sequential =>
  new nn.Sequential(
    new nn.Linear(784, 256),
    new nn.ReLU(),
    new nn.Linear(256, 128),
    new nn.ReLU(),
    new nn.Linear(128, 10),
  );
const fill = (n: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5);

function median(fn: () => void, n: number): number {
  for (let i = 0; i < Math.min(50, n); i++) fn();
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - s) / 1000);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1] ?? 0;
}

if (which === "w5" || which === "both") {
  const m = mlp();
  const x = tensor(fill(784)).reshape([1, 784]);
  console.log(`w5.b1 median ${median(() => noGrad(() => void m.forward(x)), iters).toFixed(1)} µs`);
}
if (which === "w2" || which === "both") {
  const m = mlp();
  const x = tensor(fill(128 * 784)).reshape([128, 784]);
  const y = tensor(
    Array.from({ length: 128 }, (_, i) => i % 10),
    { dtype: "int32" },
  );
  const opt = new optim.Adam(m.parameters(), { lr: 1e-3 });
  const step = (): void => {
    opt.zeroGrad();
    const l = F.crossEntropy(m.forward(x), y);
    l.backward();
    opt.step();
    l.item();
  };
  console.log(`w2 median ${(median(step, Math.max(20, iters / 20)) / 1000).toFixed(2)} ms`);
}
