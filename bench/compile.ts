// compile() against the eager forward on W5's model (bench/suite/descent.ts: the 784-256-128-10
// ReLU MLP), batch 1 and 1024, with onnxruntime-node on the same weights (onnx.export writes the
// model) as a reference column. Configurations are measured interleaved, in short slices over
// several rounds, so a shared machine's load hits them alike; the table gives each one's median.
//
//   DESCENT_BACKEND=native node --import tsx bench/compile.ts [--threads 1] [--rounds 15] [--slice-ms 60]
//
// Threads: the addon's pool (Descent) and ORT's intra-op threads get the same count.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { compile, nn, noGrad, onnx, tensor, type Tensor } from "../src/index.js";
import { nativeAddon } from "../src/backends/native/index.js";
import { filledArray, median } from "./suite/measure.js";

const argv = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const threads = arg("--threads", 1);
const rounds = arg("--rounds", 15);
const sliceMs = arg("--slice-ms", 60);
const backendName = process.env["DESCENT_BACKEND"] ?? "native";
if (backendName === "native") nativeAddon()?.setThreads(threads);

const model = new nn.Sequential(
  new nn.Linear(784, 256),
  new nn.ReLU(),
  new nn.Linear(256, 128),
  new nn.ReLU(),
  new nn.Linear(128, 10),
);
model.eval();
const input = (batch: number): Tensor => tensor(filledArray(batch * 784, 1), { shape: [batch, 784] });

const dir = mkdtempSync(join(tmpdir(), "descent-compile-"));
const path = join(dir, "w5.onnx");
onnx.export(model, input(1), path);
const session = await ort.InferenceSession.create(path, {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: "sequential",
});
rmSync(dir, { recursive: true });

type Fn = () => unknown;
const cells: { name: string; batch: number; fn: Fn; async: boolean }[] = [];
for (const batch of [1, 1024]) {
  const x = input(batch);
  const c = compile(model, x);
  const eager = noGrad(() => model.forward(x)) as Tensor;
  const diff = Math.max(...(c.forward(x) as Tensor).sub(eager).abs().toFlatArray());
  const feeds = { input_0: new ort.Tensor("float32", x.toFlatArray() as Float32Array, [batch, 784]) };
  const ortOut = (await session.run(feeds))["output_0"]!.data as Float32Array;
  const ortDiff = Math.max(...eager.toFlatArray().map((v, i) => Math.abs(v - ortOut[i]!)));
  console.log(
    `b${batch}: compiled plan [${c.steps.join(", ")}] on ${c.executor}; max |compiled - eager| ${diff.toExponential(2)}, |ORT - eager| ${ortDiff.toExponential(2)}`,
  );
  cells.push({ name: "eager", batch, fn: () => noGrad(() => model.forward(x)), async: false });
  cells.push({ name: "compiled", batch, fn: () => c.forward(x), async: false });
  cells.push({ name: "onnxruntime", batch, fn: () => session.run(feeds), async: true });
}

/** Seconds per call over one slice of back-to-back calls: wall time, and CPU time (all threads of the process). */
async function slice(cell: (typeof cells)[number]): Promise<[number, number]> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let n = 0;
  for (; performance.now() - t0 < sliceMs; n++) {
    if (cell.async) await cell.fn();
    else cell.fn();
  }
  const c = process.cpuUsage(c0);
  return [(performance.now() - t0) / 1000 / n, (c.user + c.system) / 1e6 / n];
}

const samples = cells.map(() => [] as number[]);
const cpu = cells.map(() => [] as number[]);
for (const cell of cells) await slice(cell); // warm-up
for (let r = 0; r < rounds; r++)
  for (let i = 0; i < cells.length; i++) {
    const [w, c] = await slice(cells[i]!);
    samples[i]!.push(w);
    cpu[i]!.push(c);
  }

const { loadavg, cpus } = await import("node:os");
console.log(
  `\nW5 MLP, backend ${backendName}, ${threads} thread(s), ${rounds} interleaved rounds of ${sliceMs} ms; CPU ${cpus()[0]?.model}; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
console.log("Wall time per call (medians), then CPU time per call (all threads; less sensitive to a loaded machine).");
console.log(
  "| batch | time | eager | compiled | onnxruntime | eager / compiled | compiled / ORT | compiled samples/s |",
);
console.log(
  "| ----- | ---- | ----- | -------- | ----------- | ---------------- | -------------- | ------------------ |",
);
const us = (s: number): string => (s * 1e6 < 1000 ? `${(s * 1e6).toFixed(1)} µs` : `${(s * 1e3).toFixed(2)} ms`);
for (const [kind, table] of [
  ["wall", samples],
  ["cpu", cpu],
] as const)
  for (const batch of [1, 1024]) {
    const med = (name: string): number => median(table[cells.findIndex((c) => c.name === name && c.batch === batch)]!);
    const [e, c, o] = [med("eager"), med("compiled"), med("onnxruntime")];
    console.log(
      `| ${batch} | ${kind} | ${us(e)} | ${us(c)} | ${us(o)} | ${(e / c).toFixed(2)}x | ${(c / o).toFixed(2)}x | ${Math.round(batch / c)} |`,
    );
  }
