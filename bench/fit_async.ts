// fitAsync against fit (issue 17): the demo's MLP (784-256-128-10, dropout 0.3, Adam, batch 64)
// on 8,000 random samples for 2 epochs, the two run alternately `--rounds` times (default 5) in
// one process; prints the median wall time of each, their ratio, and the event-loop delay seen by
// perf_hooks.monitorEventLoopDelay during the fitAsync runs (p50, p99, max).
// `node --import tsx bench/fit_async.ts [--rounds N]`

import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { cpus } from "node:os";
import { fit, fitAsync, manualSeed, nn, optim, randint, randn } from "../src/index.js";
import { DataLoader, TensorDataset } from "../src/data/index.js";

const argv = process.argv.slice(2);
const ri = argv.indexOf("--rounds");
const rounds = ri >= 0 ? Number(argv[ri + 1]) : 5;

function setup() {
  manualSeed(0);
  const x = randn([8000, 784]);
  const y = randint(0, 10, [8000]);
  const model = new nn.Sequential(
    new nn.Linear(784, 256),
    new nn.ReLU(),
    new nn.Dropout(0.3),
    new nn.Linear(256, 128),
    new nn.ReLU(),
    new nn.Dropout(0.3),
    new nn.Linear(128, 10),
  );
  const train = new DataLoader(new TensorDataset(x, y), { batchSize: 64, shuffle: true });
  const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
  return { model, train, optimizer, loss: new nn.CrossEntropyLoss(), epochs: 2, log: "silent" as const };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const syncMs: number[] = [];
const asyncMs: number[] = [];
const p50: number[] = [];
const p99: number[] = [];
const max: number[] = [];
for (let r = 0; r < rounds; r++) {
  const a = setup();
  let t = performance.now();
  fit(a.model, a);
  syncMs.push(performance.now() - t);
  const b = setup();
  // A fresh histogram per run, cleared after one turn of the loop so that the setup's blocking
  // (before the monitor's first sample) is not counted.
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  await new Promise((res) => setTimeout(res, 5));
  delay.reset();
  t = performance.now();
  await fitAsync(b.model, b);
  asyncMs.push(performance.now() - t);
  delay.disable();
  p50.push(delay.percentile(50));
  p99.push(delay.percentile(99));
  max.push(delay.max);
}
const ms = (ns: number) => (ns / 1e6).toFixed(1);
console.log(
  `CPU: ${cpus()[0]?.model ?? "?"}; backend: ${process.env["DESCENT_BACKEND"] ?? "default"}; ${rounds} rounds`,
);
console.log("| run | median ms | ratio to fit |");
console.log("|---|---|---|");
console.log(`| fit | ${median(syncMs).toFixed(0)} | 1.000 |`);
console.log(`| fitAsync | ${median(asyncMs).toFixed(0)} | ${(median(asyncMs) / median(syncMs)).toFixed(3)} |`);
console.log(
  `event-loop delay during fitAsync (median over runs): p50 ${ms(median(p50))} ms, p99 ${ms(median(p99))} ms, max ${ms(median(max))} ms`,
);
