// Fuzz target `config`: the CLI's JSON training configs (like examples/fashion_mnist.json), built
// here over tiny CSV / IDX files, mutated field by field (hostile numbers, wrong types, unknown or
// missing fields, odd layers, data paths such as /dev/zero) and run through the same code as
// `descent train` (runTraining), capped at one epoch on at most 16 samples. A CliError or a
// DescentError is the expected refusal; the output folder is always forced into the worker's
// temporary folder, so a mutated "output" cannot write elsewhere.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LAYER_TYPES } from "../../../src/cli/config.js";
import { configProblems } from "../../../src/cli/config_validate.js";
import { runTraining, type Console } from "../../../src/cli/train.js";
import { mutateJson, weirdJson } from "../mutate.js";
import type { Rng } from "../rng.js";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

let files: { csv: string; images: string; labels: string } | undefined;

function be32(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

/** The tiny data sets the configs point at (20 samples; 4 features or 4x4 images; 3 classes). */
function dataFiles(dir: string): { csv: string; images: string; labels: string } {
  if (files) return files;
  const csv = join(dir, "data.csv");
  const rows = ["a,b,c,d,label"];
  for (let i = 0; i < 20; i++) rows.push(`${i % 7},${(i * 3) % 5},${i / 10},${-i},${i % 3}`);
  writeFileSync(csv, rows.join("\n") + "\n");
  const images = join(dir, "images-idx3-ubyte");
  writeFileSync(
    images,
    Uint8Array.from([
      0,
      0,
      8,
      3,
      ...be32(20),
      ...be32(4),
      ...be32(4),
      ...Array.from({ length: 320 }, (_, i) => (i * 37) % 256),
    ]),
  );
  const labels = join(dir, "labels-idx1-ubyte");
  writeFileSync(labels, Uint8Array.from([0, 0, 8, 1, ...be32(20), ...Array.from({ length: 20 }, (_, i) => i % 3)]));
  return (files = { csv, images, labels });
}

function baseConfigs(f: { csv: string; images: string; labels: string }): Json[] {
  return [
    {
      seed: 0,
      model: { input: [4], layers: [{ type: "linear", out: 8 }, { type: "relu" }, { type: "linear", out: 3 }] },
      data: { format: "csv", train: f.csv, labelColumn: "label", validationSplit: 0.2 },
      loss: "crossentropy",
      optimizer: { type: "adam", lr: 0.01 },
      schedule: { type: "step", stepSize: 1, gamma: 0.5 },
      epochs: 1,
      batchSize: 8,
    },
    {
      seed: 1,
      model: {
        input: [1, 4, 4],
        layers: [
          { type: "conv2d", out: 2, kernel: 3, padding: "same" },
          { type: "batchnorm2d" },
          { type: "relu" },
          { type: "maxpool2d", kernel: 2 },
          { type: "flatten" },
          { type: "dropout", p: 0.1 },
          { type: "linear", out: 3 },
        ],
      },
      data: { format: "idx", train: { images: f.images, labels: f.labels }, normalize: { mean: 0.5, std: 0.25 } },
      loss: "crossentropy",
      metrics: ["loss", "accuracy"],
      optimizer: { type: "sgd", lr: 0.1, momentum: 0.9 },
      schedule: { type: "onecycle", maxLr: 0.2 },
      clipGradNorm: 1,
      earlyStopping: { patience: 1, monitor: "loss" },
      epochs: 2,
      batchSize: 4,
    },
    {
      model: { input: [4], layers: [{ type: "layernorm" }, { type: "linear", out: 1 }, { type: "tanh" }] },
      data: { format: "csv", train: f.csv, labelColumn: -1, scale: 2 },
      loss: "mse",
      optimizer: { type: "rmsprop", lr: 0.001 },
      schedule: { type: "cosine" },
      epochs: 1,
    },
  ];
}

/** A random layer object: a known type with fields drawn from hostile values. */
function randomLayer(rng: Rng): Json {
  const layer: Record<string, Json> = { type: rng.pick(Object.keys(LAYER_TYPES)) };
  for (const k of ["out", "kernel", "stride", "padding", "dilation", "output", "dim", "p", "slope", "eps", "momentum"])
    if (rng.chance(0.3)) layer[k] = rng.chance(0.6) ? rng.int(0, 5) : weirdJson(rng);
  return layer;
}

const PATHS = ["/dev/zero", "/dev/null", "/proc/self/status", "/", ".", "", "nope.csv", "/etc/passwd"];

const quiet: Console = { say: () => {}, stream: { write: () => true }, mode: "silent" };

export function fuzzConfig(rng: Rng, dir: string): () => void {
  const f = dataFiles(dir);
  configProblems({}); // loads the validators once per worker, untimed (a CLI run pays it once too)
  const cfg = JSON.parse(JSON.stringify(rng.pick(baseConfigs(f)))) as Record<string, Json>;
  let out: Json = cfg;
  const k = rng.int(0, 9);
  if (k < 5) out = mutateJson(rng, cfg);
  else if (k < 7) {
    const layers = (cfg.model as Record<string, Json[]>).layers!;
    layers.splice(rng.int(0, layers.length), rng.int(0, 1), randomLayer(rng));
  } else if (k < 8) {
    const d = cfg.data as Record<string, Json>;
    if (typeof d.train === "string") d.train = rng.pick(PATHS);
    else (d.train as Record<string, Json>)[rng.pick(["images", "labels"])] = rng.pick(PATHS);
  } else if (k < 9) {
    (cfg.model as Record<string, Json>).input = Array.from({ length: rng.int(0, 4) }, () => rng.weirdInt());
  } else out = mutateJson(rng, cfg, 6);
  writeFileSync(join(dir, "input.json"), JSON.stringify(out, null, 1)); // for --replay to show
  const output = join(dir, "run");
  mkdirSync(output, { recursive: true });
  return () => runTraining(out, { epochs: 1, limit: 16, output, seed: 0 }, quiet);
}
