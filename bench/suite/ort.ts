// ONNX Runtime's side of the benchmark suite (bench/suite.ts spawns it; issue 15): the inference
// workloads W5 (the MLP at batch 1 and 1024) and W3f (the CNN's forward), run with THE SAME WEIGHTS
// as Descent's: the worker builds Descent's own model (models.ts, default seed), writes it with
// onnx.export to a temporary file and loads that into onnxruntime-node with intraOpNumThreads =
// `--threads N` and interOpNumThreads = 1 (ORT's other settings are its defaults). Before timing, the
// output on the benchmark input is compared with Descent's; a mismatch fails the row (`@@skip` with
// the difference, exit code 1) rather than timing a different computation.
//
// What is timed: the binding's synchronous run(), which the public `await session.run()` calls
// inside a setImmediate; the event-loop turn that adds is reported once as `@@info` (asyncRunB1Us),
// so the cells compare the runtimes, not the promise. Usage:
// `node --import tsx bench/suite/ort.ts <w5|w3f> --threads 1|2`.

import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { noGrad, onnx, tensor, type nn, type Tensor } from "../../src/index.js";
import { budgetFromArgv, cell, emitInfo, filledArray, measureAsync } from "./measure.js";
import { cnn, mlp } from "./models.js";

const argv = process.argv.slice(2);
const workload = argv[0] ?? "";
const budget = budgetFromArgv(argv);
const ti = argv.indexOf("--threads");
const threads = ti >= 0 ? Number(argv[ti + 1]) : 1;
/** onnx.export is checked against onnxruntime with these tolerances in test/onnx/export.test.ts. */
const TOL = { rtol: 1e-4, atol: 1e-5 };

interface RawOutput {
  data: Float32Array;
  dims: readonly number[];
}
interface BindingSession {
  loadModel(path: string, options: ort.InferenceSession.SessionOptions): Promise<void>;
  run(feeds: Record<string, ort.Tensor>, fetches: Record<string, null>, options: object): Record<string, RawOutput>;
}
const require = createRequire(import.meta.url);
const { binding, initOrt } = require("onnxruntime-node/dist/binding.js") as {
  binding: { InferenceSession: new () => BindingSession };
  initOrt: () => void;
};

const options: ort.InferenceSession.SessionOptions = {
  executionProviders: ["cpu"],
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
};
emitInfo({ system: `onnxruntime-node-${threads}T`, version: ort.env.versions.common ?? "?", threads });

const dir = mkdtempSync(join(tmpdir(), "descent-bench-ort-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const input = (shape: number[]): Tensor =>
  tensor(
    filledArray(
      shape.reduce((a, b) => a * b, 1),
      1,
    ),
    { shape },
  );

/** The largest |ort - descent| beyond atol + rtol·|descent|, or 0 when every element is within it. */
function excess(got: Float32Array, want: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!) - (TOL.atol + TOL.rtol * Math.abs(want[i]!));
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

/** Exports `model` (eval mode) to a file, opens it in ORT and checks ORT's output on x against Descent's. */
async function session(name: string, model: nn.Sequential, x: Tensor): Promise<(() => void) | string> {
  model.eval();
  const path = join(dir, `${name}.onnx`);
  onnx.export(model, x, path);
  initOrt();
  const s = new binding.InferenceSession();
  await s.loadModel(path, options);
  const feeds = { input_0: new ort.Tensor("float32", x.contiguous().toFlatArray() as Float32Array, [...x.shape]) };
  const fetches = { output_0: null };
  const want = noGrad(() => model.forward(x));
  const got = s.run(feeds, fetches, {})["output_0"]!;
  const shapeOk = got.dims.join(",") === want.shape.join(",");
  const worst = shapeOk ? excess(got.data, want.toFlatArray() as Float32Array) : Infinity;
  if (worst > 0) {
    const why =
      `MISMATCH: ONNX Runtime's output differs from Descent's on the benchmark input ` +
      (shapeOk ? `(by ${worst.toExponential(2)} beyond rtol ${TOL.rtol}, atol ${TOL.atol})` : `(dims ${got.dims})`);
    process.stderr.write(`ort.ts ${name}: ${why}\n`);
    process.exitCode = 1;
    return why;
  }
  return () => void s.run(feeds, fetches, {});
}

function timed(key: string, run: (() => void) | string): void {
  if (typeof run === "string") console.log(`@@skip ${JSON.stringify({ key, why: run })}`);
  else cell(key, run, budget);
}

switch (workload) {
  case "w5": {
    const model = mlp();
    for (const batch of [1, 1024]) {
      const x = input([batch, 784]);
      const run = await session(`mlp_b${batch}`, model, x);
      timed(`w5.b${batch}`, run);
      if (batch === 1 && typeof run !== "string") {
        // The public API's cost on top: `await session.run()` waits for a setImmediate first.
        const pub = await ort.InferenceSession.create(join(dir, "mlp_b1.onnx"), options);
        const feeds = { input_0: new ort.Tensor("float32", x.toFlatArray() as Float32Array, [1, 784]) };
        const m = await measureAsync(() => pub.run(feeds), { ...budget, targetMs: Math.min(budget.targetMs, 600) });
        emitInfo({ asyncRunB1Us: Number((m.sec * 1e6).toPrecision(3)) });
      }
    }
    break;
  }
  case "w3f":
    timed("w3f", await session("cnn", cnn(), input([64, 1, 28, 28])));
    break;
  default:
    throw new Error(`ort.ts: unknown workload "${workload}" (w5, w3f: ONNX Runtime runs inference only)`);
}
