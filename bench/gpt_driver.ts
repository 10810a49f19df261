// A small driver for profiling the GPT workloads W7/W8 of bench/suite/gpt.ts (node --cpu-prof) and
// counting the ops one generated token costs. Usage: node --import tsx bench/gpt_driver.ts [w7|w8|ops] [reps]
import { gptGenerate, gptTrainStep } from "./suite/gpt.js";
import { nn } from "../src/index.js";
import { setOpTracer } from "../src/tensor/apply.js";

const [what = "w8", repsArg = "5"] = process.argv.slice(2);
const reps = Number(repsArg);
if (what === "ops") {
  const model = new nn.GPT({ vocabSize: 96, dModel: 128, nHeads: 4, nLayers: 4, contextLength: 256 });
  const counts = new Map<string, number>();
  let total = 0;
  setOpTracer((name) => (counts.set(name, (counts.get(name) ?? 0) + 1), total++));
  model.generate([1], { maxNewTokens: 65, temperature: 1 });
  const c1 = new Map(counts);
  const t1 = total;
  counts.clear();
  total = 0;
  model.generate([1], { maxNewTokens: 129, temperature: 1 });
  setOpTracer(null);
  // The difference of two runs is 64 tokens' worth of steady-state ops.
  const rows = [...counts].map(([n, c]) => [n, (c - (c1.get(n) ?? 0)) / 64] as const).filter(([, c]) => c > 0);
  rows.sort((a, b) => b[1] - a[1]);
  for (const [n, c] of rows) console.log(n.padEnd(28), c);
  console.log("ops per token", (total - t1) / 64);
} else {
  const f = what === "w7" ? gptTrainStep() : gptGenerate();
  f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  const med = ts[ts.length >> 1]!;
  console.log(
    what,
    "median ms",
    med.toFixed(1),
    what === "w8" ? `${((256 / med) * 1000).toFixed(0)} tok/s` : "",
    ts.map((t) => t.toFixed(0)).join(" "),
  );
}
