// Descent's side of the benchmark suite (bench/suite.ts spawns it; not meant to be run by hand,
// though `node --import tsx bench/suite/descent.ts w2` works). One process per workload and
// configuration: DESCENT_BACKEND (js | native | wasm) picks the backend, `--threads N` the addon's thread
// count. Uses the public API (src/index.ts), plus nativeAddon() to set threads and read the ISA.
// Prints `@@cell` lines (bench/suite/measure.ts).

import { compile, getNumThreads, nn, optim, setNumThreads, tensor, type Tensor } from "../../src/index.js";
import { nativeAddon } from "../../src/backends/native/index.js";
import { budgetFromArgv, cell, emitInfo, filledArray, labels } from "./measure.js";
import { gptGenerate, gptTrainStep } from "./gpt.js";
import { cnn, mlp } from "./models.js";

const argv = process.argv.slice(2);
const workload = argv[0] ?? "";
const budget = budgetFromArgv(argv);
const ti = argv.indexOf("--threads");
const threads = ti >= 0 ? Number(argv[ti + 1]) : 0;

const addon = nativeAddon();
const backendName = process.env["DESCENT_BACKEND"] ?? "";
if (backendName === "native") {
  if (!addon) throw new Error("DESCENT_BACKEND=native but the addon did not load");
  if (threads > 0) addon.setThreads(threads);
}
if (backendName === "wasm" && threads > 0) setNumThreads(threads);
emitInfo({
  system: `descent-${backendName}`,
  isa: backendName === "native" && addon ? addon.isa() : backendName === "wasm" ? "wasm simd128" : "none (TypeScript)",
  threads: backendName === "native" && addon ? addon.threads() : getNumThreads(),
});

const input = (shape: number[], seed = 1): Tensor =>
  tensor(
    filledArray(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    { shape },
  );

/** forward, loss, backward, Adam step; reads the loss as every system does. */
function trainStep(params: nn.Parameter[], loss: () => Tensor): () => void {
  const opt = new optim.Adam(params, { lr: 1e-3 });
  return () => {
    opt.zeroGrad();
    const l = loss();
    l.backward();
    opt.step();
    l.item();
  };
}

const F = nn.functional;

switch (workload) {
  case "w1":
    for (const n of [64, 256, 1024]) {
      const a = input([n, n], 1);
      const b = input([n, n], 2);
      cell(`w1.${n}`, () => void a.matmul(b), budget);
    }
    break;
  case "w2": {
    const model = mlp();
    const x = input([128, 784]);
    const y = tensor(labels(128));
    cell(
      "w2",
      trainStep(model.parameters(), () => F.crossEntropy(model.forward(x), y)),
      budget,
    );
    break;
  }
  case "w3": {
    const model = cnn();
    const x = input([64, 1, 28, 28]);
    const y = tensor(labels(64));
    cell(
      "w3",
      trainStep(model.parameters(), () => F.crossEntropy(model.forward(x), y)),
      budget,
    );
    break;
  }
  case "w4": {
    const lstm = new nn.LSTM(64, 128);
    const x = input([32, 32, 64]); // [seq, batch, input]
    const target = input([1, 32, 128], 3);
    cell(
      "w4",
      trainStep(lstm.parameters(), () => F.mseLoss(lstm.forward(x)[1][0], target)),
      budget,
    );
    break;
  }
  case "w3f": {
    // W3's CNN, inference forward only (eval mode, no autograd), as ONNX Runtime runs it.
    // Served as a deployment would: through compile() (issue 15), the plan run by one native call.
    const model = cnn().eval();
    const x = input([64, 1, 28, 28]);
    const plan = compile(model, x);
    cell("w3f", () => void plan.forward(x), budget);
    break;
  }
  case "w5": {
    // Inference through compile() (issue 15), as predict() serves; bench/compile.ts has eager beside it.
    const model = mlp().eval();
    for (const batch of [1, 1024]) {
      const x = input([batch, 784]);
      const plan = compile(model, x);
      cell(`w5.b${batch}`, () => void plan.forward(x), budget);
    }
    break;
  }
  case "w7":
    cell("w7", gptTrainStep(), budget);
    break;
  case "w8":
    cell("w8", gptGenerate(), budget);
    break;
  default:
    throw new Error(`descent.ts: unknown workload "${workload}" (w1..w5, w3f, w7, w8)`);
}
