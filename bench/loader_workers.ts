// DataLoader numWorkers (issue 17 item 6): samples/s of one epoch over a dataset whose get(i)
// costs real CPU, an augmentation in plain JS (a random 56x56 crop and flip of a 3x64x64 image,
// then a 5x5 box blur), for numWorkers 0, 1, 2 (batch 32, persistent workers). Each setting runs
// a warm-up epoch (worker start-up, JIT) and then `--epochs` timed epochs (default 3); the table
// gives the median epoch and the start-up epoch. The main thread only sums each batch, so the
// table measures how much of get() the workers take off it; with 2 cores expect at most ~2x. The
// CPU column (process.cpuUsage, all threads) is the work per epoch: what workers add in overhead
// shows there even on a machine too busy for the wall-clock columns to mean much.
// `node --import tsx bench/loader_workers.ts [--epochs N] [--n N]`
// The workers import this file for the dataset class: the benchmark runs only in the main thread.

import { isMainThread } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { manualSeed, randint, tensor, type Tensor } from "../src/index.js";
import { DataLoader } from "../src/data/index.js";

const C = 3;
const S = 64;
const CROP = 56;
const R = 2; // blur radius: a 5x5 box

export class AugmentedImages {
  constructor(readonly length: number) {}

  get(i: number): Tensor[] {
    // A deterministic "image" per index, then the random augmentation (drawn from the default generator).
    const img = new Float32Array(C * S * S);
    for (let k = 0; k < img.length; k++) img[k] = Math.sin(i * 0.37 + k * 0.011);
    const [oy, ox, flip] = randint(0, S - CROP + 1, [3]).toArray() as number[];
    const out = new Float32Array(C * CROP * CROP);
    for (let c = 0; c < C; c++)
      for (let y = 0; y < CROP; y++)
        for (let x = 0; x < CROP; x++) {
          let s = 0;
          for (let dy = -R; dy <= R; dy++)
            for (let dx = -R; dx <= R; dx++) {
              const yy = Math.min(S - 1, Math.max(0, oy! + y + dy));
              const xx = Math.min(S - 1, Math.max(0, ox! + x + dx));
              s += img[(c * S + yy) * S + xx]!;
            }
          const xo = flip! % 2 ? CROP - 1 - x : x;
          out[(c * CROP + y) * CROP + xo] = s / 25;
        }
    return [tensor(out, { shape: [C, CROP, CROP] }), tensor([i % 10], { dtype: "int32" })];
  }
}

if (isMainThread) {
  const argv = process.argv.slice(2);
  const opt = (name: string, dflt: number) => {
    const k = argv.indexOf(`--${name}`);
    return k >= 0 ? Number(argv[k + 1]) : dflt;
  };
  const epochs = opt("epochs", 3);
  const n = opt("n", 1024);
  const spec = { module: fileURLToPath(import.meta.url), export: "AugmentedImages", args: [n] };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const epoch = (loader: DataLoader) => {
    const t = performance.now();
    let sum = 0;
    for (const [x] of loader) sum += x!.shape[0]!;
    if (sum !== n) throw new Error(`an epoch gave ${sum} samples, expected ${n}`);
    return (performance.now() - t) / 1000;
  };
  console.log(`DataLoader workers: ${n} samples of 3x64x64 -> crop 56 + flip + 5x5 blur, batch 32, shuffle`);
  console.log(
    `CPU: ${cpus()[0]?.model ?? "?"} x${cpus().length}, backend ${process.env["DESCENT_BACKEND"] ?? "default"}`,
  );
  console.log("| numWorkers | first epoch (s) | median epoch (s) | samples/s | speed-up | CPU s/epoch |");
  console.log("|---:|---:|---:|---:|---:|---:|");
  let base = 0;
  for (const numWorkers of [0, 1, 2]) {
    manualSeed(0);
    const loader = new DataLoader(new AugmentedImages(n), {
      batchSize: 32,
      shuffle: true,
      ...(numWorkers > 0 ? { numWorkers, persistentWorkers: true, workerDataset: spec } : {}),
    });
    const first = epoch(loader);
    const cpu0 = process.cpuUsage();
    const times = Array.from({ length: epochs }, () => epoch(loader));
    const cpu = process.cpuUsage(cpu0);
    await loader.close();
    const rate = n / median(times);
    if (numWorkers === 0) base = rate;
    console.log(
      `| ${numWorkers} | ${first.toFixed(2)} | ${median(times).toFixed(2)} | ${rate.toFixed(0)} | ${(rate / base).toFixed(2)}x | ${((cpu.user + cpu.system) / 1e6 / epochs).toFixed(2)} |`,
    );
  }
}
