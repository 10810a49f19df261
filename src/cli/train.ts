// `descent train <config.json>`: builds the model, optimizer and schedule from the config, trains
// with fit (progress bar or JSON lines), evaluates on the test split, and writes the output folder:
// model.safetensors (final weights, config and preprocessing in the metadata), checkpoints/
// (best.safetensors, last.safetensors), metrics.jsonl and config.json.

import { GradientMonitor } from "../train/health.js";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { manualSeed, type Tensor, type nn } from "../index.js";
import { DataLoader, DistributedSampler, TensorDataset } from "../data/index.js";
import { DistributedDataParallel, init as initDistributed, isAvailable as mpiAvailable } from "../distributed/index.js";
import { save } from "../io/index.js";
import { fit, evaluate, type Monitor } from "../train/fit.js";
import type { LogMode, LogStream, EpochLog } from "../train/progress.js";
import type { MetricName } from "../train/metrics.js";
import {
  CliError,
  buildLoss,
  buildModel,
  buildOptimizer,
  buildScheduler,
  checkConfig,
  isClassification,
  type LossName,
  type TrainConfig,
} from "./config.js";
import { loadData, type Preprocess } from "./datasets.js";
import { RunLog, prepareRunFolder, writeRunFile } from "./run_folder.js";

export interface TrainOverrides {
  epochs?: number;
  output?: string;
  limit?: number;
  seed?: number;
  log?: LogMode;
  /** Continue the run from <output>/checkpoints/last.safetensors (mid-epoch ones included). */
  resume?: boolean;
}

export interface TrainResult {
  modelPath: string;
  outputDir: string;
  testAccuracy: number | null;
  testLoss: number | null;
  history: ReturnType<typeof fit>;
  seconds: number;
  /** The trained model, and the held-out inputs when there is a test split (the demo predicts them). */
  model: nn.Module;
  testInputs: Tensor | null;
}

/** Where the human-readable lines go: stdout, or stderr when stdout carries JSON lines. */
export interface Console {
  say(line: string): void;
  stream: LogStream;
  mode: LogMode;
}

export function makeConsole(mode: LogMode, stdout: LogStream = process.stdout, humanAuto: LogMode = "json"): Console {
  let m = mode;
  if (m === "auto") m = stdout.isTTY && !process.env.CI ? "progress" : humanAuto;
  const toStderr = m === "json";
  return {
    say: (line) => (toStderr ? process.stderr.write(line + "\n") : stdout.write(line + "\n")),
    stream: stdout,
    mode: m,
  };
}

function countParams(tensors: Iterable<Tensor>): number {
  let n = 0;
  for (const t of tensors) n += t.size;
  return n;
}

/** Reads the whole config, trains and saves; every mistake in the config is a CliError naming the field. */
export function runTraining(config: unknown, ov: TrainOverrides, con: Console): TrainResult {
  const started = performance.now();
  // The whole config is checked (every problem at once) before any data file is opened.
  const c = checkConfig<TrainConfig>(config, ov);
  const seed = ov.seed ?? c.seed ?? 0;
  const epochs = ov.epochs ?? c.epochs!;
  const batchSize = c.batchSize ?? 64;
  const output = resolve(ov.output ?? c.output ?? "runs/descent");
  const inputShape = c.model.input;
  const layers = c.model.layers;
  const { loss, name: lossName } = buildLoss(c.loss);
  const metrics: MetricName[] = c.metrics
    ? ["loss", ...c.metrics.filter((m) => m !== "loss")]
    : isClassification(lossName)
      ? ["loss", "accuracy"]
      : ["loss"];
  const clip = c.clipGradNorm;
  const logEvery = c.logEvery ?? 0;
  const monitors = ["loss", "accuracy", "valLoss", "valAccuracy"] as const;
  const es = c.earlyStopping;
  const earlyStopping = es && {
    patience: es.patience,
    monitor: monitors.find((m) => m.toLowerCase() === es.monitor?.toLowerCase()) as Monitor | undefined,
    minDelta: es.minDelta,
  };
  const keepBest = c.keepBest ?? true;
  const restoreBest = c.restoreBest ?? false;
  // "report": true writes report.html (curves, per-layer gradient health and its diagnoses) to the output folder.
  const wantReport = c.report ?? false;
  // "checkpointEvery": {"steps": n} also saves checkpoints/last.safetensors every n steps, mid-epoch.
  const checkpointEvery = c.checkpointEvery;

  const { rank, worldSize } = joinMpiJob();
  const lead = rank === 0;
  if (!lead) {
    // Rank 0 alone speaks and writes (the run folder, metrics, checkpoints, the model).
    con.say = () => {};
    con.mode = "silent";
  }
  manualSeed(seed);
  // With "model.input" given, the model is built (its shapes checked) before the data is read;
  // otherwise its input shape comes from the data. Reading data draws nothing from the seeded
  // generator, so the weights are the same either way.
  let built = inputShape ? buildModel(layers, inputShape) : undefined;
  const data = loadData(c.data, inputShape, seed, ov.limit);
  built ??= buildModel(layers, data.preprocess.input);
  const { model, outputShape } = built;
  const classification = isClassification(lossName);
  const fixTargets = (y: Tensor | null, field: string): Tensor => {
    if (!y) throw new CliError(`${field}: no labels`);
    if (classification) {
      const classes = outputShape[0]!;
      if (y.ndim !== 1)
        throw new CliError(`${field}: class labels must be one per sample, got shape [${y.shape.join(", ")}]`);
      const flat = y.toFlatArray();
      let max = -Infinity;
      let min = Infinity;
      for (let i = 0; i < flat.length; i++) {
        max = Math.max(max, flat[i]!);
        min = Math.min(min, flat[i]!);
        if (!Number.isInteger(flat[i]!))
          throw new CliError(`${field}: label ${flat[i]} of sample ${i} is not a class index`);
      }
      if (outputShape.length !== 1 || max >= classes || min < 0)
        throw new CliError(
          `config.model.layers: the last layer gives per-sample shape [${outputShape.join(", ")}] but the labels of ${field} go from ${min} to ${max}; the last layer needs "out": ${max + 1} (one score per class)`,
        );
      return y.int();
    }
    const yf = y.float();
    return yf.ndim === 1 && outputShape.length === 1 && outputShape[0] === 1 ? yf.reshape(yf.shape[0]!, 1) : yf;
  };
  const trainY = fixTargets(data.train.y, "config.data.train");
  const trainSet = new TensorDataset(data.train.x, trainY);
  // Under mpirun each rank takes its share of every epoch (batchSize is per rank, as in PyTorch).
  const trainLoader =
    worldSize > 1
      ? new DataLoader(trainSet, { batchSize, sampler: new DistributedSampler(trainSet, { seed }) })
      : new DataLoader(trainSet, { batchSize, shuffle: true });
  const valLoader = data.val
    ? new DataLoader(new TensorDataset(data.val.x, fixTargets(data.val.y, "config.data (validation split)")), {
        batchSize: 512,
      })
    : undefined;
  const optimizer = buildOptimizer(c.optimizer, model.parameters());
  const scheduler = buildScheduler(c.schedule, optimizer, epochs, trainLoader.length) ?? undefined;

  const nParams = countParams(model.parameters());
  con.say(
    `model: ${layers.length} layers, ${nParams.toLocaleString("en-US")} parameters, input [${data.preprocess.input.join(", ")}] -> output [${outputShape.join(", ")}]`,
  );
  con.say(
    `data: ${data.description}; training on ${data.train.x.shape[0]}${data.val ? `, validating on ${data.val.x.shape[0]}` : ""}; ${epochs} epoch(s) of ${trainLoader.length} batches of ${batchSize}${worldSize > 1 ? ` on each of ${worldSize} ranks (MPI)` : ""}`,
  );

  // Nothing planted in the run folder redirects a write: see run_folder.ts.
  const checkpoints = lead ? prepareRunFolder(output).checkpoints : join(output, "checkpoints");
  if (lead) writeRunFile(join(output, "config.json"), JSON.stringify(config, null, 2) + "\n");
  const last = join(checkpoints, "last.safetensors");
  if (ov.resume && !existsSync(last))
    throw new CliError(`--resume: there is no ${last} to resume from (run without --resume to start afresh)`);
  const metricsLog = lead ? new RunLog(join(output, "metrics.jsonl"), ov.resume) : null;
  try {
    const monitor = wantReport ? new GradientMonitor(model) : undefined;
    // DDP broadcasts rank 0's initial weights; fit saves the wrapped model, so checkpoints resume under any world size.
    const history = fit(worldSize > 1 ? new DistributedDataParallel(model) : model, {
      train: trainLoader,
      val: valLoader,
      loss,
      optimizer,
      scheduler,
      epochs,
      metrics,
      clipGradNorm: clip,
      earlyStopping,
      checkpoint: { dir: checkpoints, keepBest, restoreBest },
      checkpointEvery,
      resumeFrom: ov.resume ? last : undefined,
      log: con.mode,
      logStream: con.stream,
      logEvery,
      onEpochEnd: (log: EpochLog) => metricsLog?.append({ event: "epoch", ...log }),
      gradientMonitor: monitor,
      report: monitor ? join(output, "report.html") : undefined,
    });
    if (monitor) {
      monitor.detach();
      for (const d of monitor.diagnose()) con.say(`gradient health: ${d.message}`);
      con.say(`report: ${join(output, "report.html")}`);
    }

    let testAccuracy: number | null = null;
    let testLoss: number | null = null;
    if (data.test) {
      const testY = fixTargets(data.test.y, "config.data.test");
      const r = evaluate(model, new DataLoader(new TensorDataset(data.test.x, testY), { batchSize: 512 }), {
        loss,
        metrics,
      });
      testLoss = r.loss ?? null;
      testAccuracy = r.accuracy ?? null;
      metricsLog?.append({ event: "test", ...r });
      con.say(
        `test: loss ${testLoss?.toFixed(4)}${testAccuracy !== null ? `, accuracy ${(testAccuracy * 100).toFixed(2)}%` : ""} on ${r.samples} samples`,
      );
    }
    const modelPath = join(output, "model.safetensors");
    if (lead)
      saveModel(modelPath, model.stateDict(), config, data.preprocess, lossName, {
        testAccuracy,
        testLoss,
        epochs: history.epochs.length,
      });
    const seconds = (performance.now() - started) / 1000;
    return {
      modelPath,
      outputDir: output,
      testAccuracy,
      testLoss,
      history,
      seconds,
      model,
      testInputs: data.test?.x ?? null,
    };
  } finally {
    metricsLog?.close();
  }
}

/** Joins the MPI job when mpirun (OpenMPI's OMPI_COMM_WORLD_SIZE, or PMI_SIZE) started several ranks. */
function joinMpiJob(): { rank: number; worldSize: number } {
  const size = Number(process.env.OMPI_COMM_WORLD_SIZE ?? process.env.PMI_SIZE ?? 1);
  if (!(size > 1)) return { rank: 0, worldSize: 1 };
  if (!mpiAvailable())
    throw new CliError(
      `train: started as one of ${size} MPI ranks, but the MPI binding is not built; install MPI (openmpi-bin libopenmpi-dev) and run node native/install.mjs`,
    );
  return initDistributed();
}

/** Saves weights with what predict needs in the metadata (all values strings, as safetensors wants). */
export function saveModel(
  path: string,
  state: Record<string, Tensor>,
  config: unknown,
  preprocess: Preprocess,
  loss: LossName,
  results: Record<string, unknown>,
): void {
  save(state, path, {
    format: "pt", // lets PyTorch tools (safetensors.torch.load_file) read it without complaint
    "descent.config": JSON.stringify(config),
    "descent.preprocess": JSON.stringify(preprocess),
    "descent.loss": loss,
    "descent.results": JSON.stringify(results),
  });
}
