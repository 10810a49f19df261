// TensorFlow.js's side of the benchmark suite (bench/suite.ts spawns it): the same workloads as
// bench/suite/descent.ts, written with tf.layers and tf.train.adam, on the pure-JS "cpu" backend or
// the "wasm" backend (its binary loaded from node_modules; no download). Usage:
// `node --import tsx bench/suite/tfjs.ts <w1..w5> --backend cpu|wasm`. Prints `@@cell` lines
// (bench/suite/measure.ts). Layouts are TF.js's own (NHWC images, [batch, seq, features] for the
// LSTM); the arithmetic per step is the same as the other systems'.

import path from "node:path";
import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { budgetFromArgv, cell, emitInfo, filledArray, labels } from "./measure.js";

const argv = process.argv.slice(2);
const workload = argv[0] ?? "";
const budget = budgetFromArgv(argv);
const bi = argv.indexOf("--backend");
const backendName = bi >= 0 ? argv[bi + 1]! : "cpu";

/** Selects the backend; for wasm, points TF.js at the .wasm files inside its npm package. */
export async function useBackend(name: string): Promise<void> {
  if (name === "wasm") {
    const main = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm");
    setWasmPaths(path.dirname(main) + path.sep);
  }
  if (!(await tf.setBackend(name))) throw new Error(`TF.js backend ${name} did not initialise`);
  await tf.ready();
}

await useBackend(backendName);
const simd = backendName === "wasm" ? Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) : false;
const mt = backendName === "wasm" ? Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")) : false;
emitInfo({
  system: `tfjs-${backendName}`,
  version: tf.version.tfjs,
  isa: backendName === "wasm" ? `wasm${simd ? " SIMD" : ""}${mt ? " threaded" : ", 1 thread"}` : "none (JavaScript)",
});

const input = (shape: number[], seed = 1): tf.Tensor =>
  tf.tensor(
    filledArray(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
const oneHot = (n: number): tf.Tensor => tf.oneHot(tf.tensor1d(labels(n), "int32"), 10).toFloat();

function mlp(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 256, activation: "relu" }),
      tf.layers.dense({ units: 128, activation: "relu" }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

/** forward, loss, backward and Adam step (optimizer.minimize), then reads the loss. */
function trainStep(loss: () => tf.Scalar): () => void {
  const opt = tf.train.adam(1e-3);
  return () => {
    const l = opt.minimize(loss, true)!;
    l.dataSync();
    l.dispose();
  };
}

const apply = (m: tf.LayersModel, x: tf.Tensor): tf.Tensor => m.apply(x, { training: true }) as tf.Tensor;

switch (workload) {
  case "w1":
    for (const n of [64, 256, 1024]) {
      const a = input([n, n], 1);
      const b = input([n, n], 2);
      // Both backends compute eagerly and synchronously; the product is discarded.
      cell(`w1.${n}`, () => tf.matMul(a, b).dispose(), budget);
    }
    break;
  case "w2": {
    const model = mlp();
    const x = input([128, 784]);
    const y = oneHot(128);
    cell(
      "w2",
      trainStep(() => tf.losses.softmaxCrossEntropy(y, apply(model, x)) as tf.Scalar),
      budget,
    );
    break;
  }
  case "w3":
  case "w3f": {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: "relu" }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: "relu" }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 128, activation: "relu" }),
        tf.layers.dense({ units: 10 }),
      ],
    });
    const x = input([64, 28, 28, 1]);
    if (workload === "w3f") {
      const forward = (): void => {
        const out = tf.tidy(() => model.apply(x, { training: false }) as tf.Tensor);
        out.dataSync();
        out.dispose();
      };
      cell("w3f", forward, budget);
      break;
    }
    const y = oneHot(64);
    cell(
      "w3",
      trainStep(() => tf.losses.softmaxCrossEntropy(y, apply(model, x)) as tf.Scalar),
      budget,
    );
    break;
  }
  case "w4": {
    // Sigmoid gates as PyTorch's and Descent's LSTM (TF.js defaults to hard sigmoid).
    const model = tf.sequential({
      layers: [tf.layers.lstm({ inputShape: [32, 64], units: 128, recurrentActivation: "sigmoid" })],
    });
    const x = input([32, 32, 64]); // [batch, seq, input]
    const target = input([32, 128], 3);
    cell(
      "w4",
      trainStep(() => tf.losses.meanSquaredError(target, apply(model, x)) as tf.Scalar),
      budget,
    );
    break;
  }
  case "w5": {
    const model = mlp();
    for (const batch of [1, 1024]) {
      const x = input([batch, 784]);
      // apply() rather than predict(), which would split the batch into chunks of 32.
      const forward = (): void => {
        const out = tf.tidy(() => model.apply(x, { training: false }) as tf.Tensor);
        out.dataSync();
        out.dispose();
      };
      cell(`w5.b${batch}`, forward, budget);
    }
    break;
  }
  case "w7":
  case "w8":
    console.log(`@@skip ${JSON.stringify({ key: workload, why: "no GPT written for TF.js" })}`);
    break;
  default:
    throw new Error(`tfjs.ts: unknown workload "${workload}" (w1..w5, w3f, w7, w8)`);
}
