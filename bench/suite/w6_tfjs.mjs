// W6 of the benchmark suite for TensorFlow.js: a fresh process that imports @tensorflow/tfjs,
// selects the backend given as argv[2] (cpu | wasm; wasm loads its binary from node_modules),
// builds the W2 MLP and takes one Adam training step. bench/suite.ts times the whole process.

import path from "node:path";
import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs";

const backend = process.argv[2] ?? "cpu";
if (backend === "wasm") {
  const { setWasmPaths } = await import("@tensorflow/tfjs-backend-wasm");
  setWasmPaths(path.dirname(createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm")) + path.sep);
}
if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} did not initialise`);
await tf.ready();

const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [784], units: 256, activation: "relu" }),
    tf.layers.dense({ units: 128, activation: "relu" }),
    tf.layers.dense({ units: 10 }),
  ],
});
const opt = tf.train.adam(1e-3);
const x = tf.randomNormal([128, 784]);
const y = tf.oneHot(tf.randomUniform([128], 0, 10, "int32"), 10).toFloat();
const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })), true);
loss.dataSync();
