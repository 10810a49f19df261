// A/B of the GPT workloads W7 (one training step) and W8 (256 generated tokens) between two
// checkouts in ONE process, alternating short slices so that load from other processes hits both
// alike (bench/ab_trees.ts does the same for W2-W5). Each tree needs its own built addon.
// `DESCENT_BACKEND=native node --import tsx bench/ab_gpt.ts --a /path/old [--b /path/new] [--only w7,w8] [--slices 9] [--threads 1]`

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { cpus, loadavg } from "node:os";

const argv = process.argv.slice(2);
const opt = (k: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : undefined);
const treeA = opt("--a");
if (!treeA) throw new Error("usage: bench/ab_gpt.ts --a <old checkout> [--b <new>] [--only w7,w8] [--slices N]");
const treeB = opt("--b") ?? resolve(import.meta.dirname, "..");
const only = (opt("--only") ?? "w7,w8").split(",");
const slices = Number(opt("--slices") ?? 9);
const threads = Number(opt("--threads") ?? 1);

type Suite = { gptTrainStep(): () => void; gptGenerate(): () => void };
async function load(tree: string): Promise<Suite> {
  const native = (await import(pathToFileURL(`${tree}/src/backends/native/index.ts`).href)) as {
    nativeAddon?(): { setThreads(n: number): void } | null;
  };
  native.nativeAddon?.()?.setThreads(threads);
  return (await import(pathToFileURL(`${tree}/bench/suite/gpt.ts`).href)) as Suite;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const [A, B] = [await load(treeA), await load(treeB)];
console.log(
  `${cpus()[0]?.model}, ${threads} thread(s), load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
for (const w of only) {
  const make = (s: Suite) => (w === "w7" ? s.gptTrainStep() : s.gptGenerate());
  const [fa, fb] = [make(A), make(B)];
  fa(); // warm-up
  fb();
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < slices; i++)
    for (const [f, t] of (i % 2
      ? [
          [fb, tb],
          [fa, ta],
        ]
      : [
          [fa, ta],
          [fb, tb],
        ]) as [() => void, number[]][]) {
      const t0 = performance.now();
      f();
      t.push(performance.now() - t0);
    }
  const ratios = ta.map((a, i) => tb[i]! / a);
  const unit = (ms: number) =>
    w === "w8" ? `${ms.toFixed(1)} ms (${((256 / ms) * 1000).toFixed(0)} tok/s)` : `${ms.toFixed(1)} ms`;
  console.log(`${w}: A ${unit(median(ta))}, B ${unit(median(tb))}, median B/A ${median(ratios).toFixed(3)}`);
}
