// The training loop for the common case: fit (epochs of train batches, optional validation,
// metrics, a schedule, gradient clipping, early stopping, keep-best checkpoints, progress output),
// evaluate (loss and accuracy over a loader, in eval mode under noGrad) and predict (batched outputs).

import { performance } from "node:perf_hooks";
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { DescentError } from "../core/errors.js";
import { noGrad } from "../autograd/graph.js";
import { Tensor, cat } from "../tensor/tensor.js";
import { Module } from "../nn/module.js";
import { clipGradNorm_ } from "../nn/utils.js";
import type { GradientMonitor } from "./health.js";
import { writeReport } from "./report.js";
import type { Optimizer } from "../optim/optimizer.js";
import { LRScheduler, OneCycleLR, ReduceLROnPlateau } from "../optim/lr_scheduler.js";
import { saveCheckpoint } from "../io/index.js";
import { MetricAccumulator, correctCount, type MetricName } from "./metrics.js";
import { createLogger, type EpochLog, type LogMode, type LogStream, type TrainingLogger } from "./progress.js";

/**
 * What fit and evaluate iterate: a DataLoader, or any iterable of batches [input..., target]
 * (the last tensor is the target, the others go to model.forward). `length` (the number of
 * batches), when present, gives the progress bar its total and ETA.
 */
export type Batches = Iterable<readonly Tensor[]> & { readonly length?: number };

/** A loss module (nn.CrossEntropyLoss, …) or a function (output, target) → scalar tensor. */
export type LossFn = { forward(output: Tensor, target: Tensor): Tensor } | ((output: Tensor, target: Tensor) => Tensor);

/** The quantities early stopping, keep-best and ReduceLROnPlateau can watch. */
export type Monitor = "loss" | "accuracy" | "valLoss" | "valAccuracy";

export interface EarlyStoppingOptions {
  /** Epochs without improvement to wait before stopping. */
  patience: number;
  /** Default: valLoss with a validation loader, else loss. */
  monitor?: Monitor;
  /** Default: "max" for accuracies, "min" for losses. */
  mode?: "min" | "max";
  /** The least change that counts as an improvement (default 0). */
  minDelta?: number;
}

export interface CheckpointOptions {
  /** Folder for the checkpoints (created if missing). */
  dir: string;
  /** Save best.safetensors whenever the monitored quantity improves (default true). */
  keepBest?: boolean;
  /** Save last.safetensors after every epoch (default true), so a run can be resumed. */
  saveLast?: boolean;
  /** Default: valLoss with a validation loader, else loss. */
  monitor?: Monitor;
  mode?: "min" | "max";
  /** Load the best checkpoint's weights into the model when fit ends (default false). */
  restoreBest?: boolean;
}

export interface FitOptions {
  train: Batches;
  val?: Batches;
  loss: LossFn;
  optimizer: Optimizer;
  scheduler?: LRScheduler | ReduceLROnPlateau;
  /**
   * When the scheduler steps: "epoch" (after each epoch; ReduceLROnPlateau gets the monitored value)
   * or "batch" (after each optimizer step). Default: "batch" for OneCycleLR, "epoch" otherwise.
   */
  schedulerStep?: "epoch" | "batch";
  epochs: number;
  /** Metrics computed on train (and val) batches; "loss" is always computed. Default ["loss"]. */
  metrics?: MetricName[];
  /** Clip the total gradient norm to this before every step (nn.utils.clipGradNorm_). */
  clipGradNorm?: number | { maxNorm: number; normType?: number };
  earlyStopping?: EarlyStoppingOptions;
  checkpoint?: CheckpointOptions;
  /** Default "auto": a progress bar on a terminal (not in CI), JSON lines otherwise. */
  log?: LogMode;
  /** Where logs go (default process.stdout). */
  logStream?: LogStream;
  /** With JSON lines: also one {"event":"batch"} line every logEvery batches (default 0: none). */
  logEvery?: number;
  /** Epoch numbering starts after this (for resuming from a checkpoint of epoch initialEpoch). */
  initialEpoch?: number;
  /** Called after each epoch; returning false stops training. */
  onEpochEnd?: (log: EpochLog, history: History) => void | boolean;
  /** Gradient health: its recordGradients (before clipping) and recordUpdate run around every step. */
  gradientMonitor?: GradientMonitor;
  /** Write a self-contained HTML report (curves, and the monitor's gradient charts and diagnoses) here at the end. */
  report?: string;
}

export interface History {
  epochs: EpochLog[];
  loss: number[];
  accuracy: number[];
  valLoss: number[];
  valAccuracy: number[];
  lr: number[];
  /** The epoch with the best monitored value (checkpoint or early-stopping monitor), if any. */
  bestEpoch: number | null;
  bestValue: number | null;
  /** True when early stopping (or onEpochEnd) ended training before `epochs`. */
  stopped: boolean;
  /** Path of best.safetensors, when keep-best checkpointing saved one. */
  bestCheckpoint: string | null;
  /** Optimizer steps taken. */
  steps: number;
}

export interface EvaluateOptions {
  loss?: LossFn;
  /** Default: ["loss"] when a loss is given; add "accuracy" for classifiers. */
  metrics?: MetricName[];
}

export interface EvaluateResult {
  loss?: number;
  accuracy?: number;
  samples: number;
}

/** Runs the model on inputs, insisting on one tensor out. */
function forward(model: Module, inputs: readonly Tensor[], where: string): Tensor {
  const out = (model.forward as (...a: readonly Tensor[]) => unknown)(...inputs);
  if (!(out instanceof Tensor)) throw new DescentError(`${where}: the model returned ${typeof out}, expected a Tensor`);
  return out;
}

function computeLoss(loss: LossFn, output: Tensor, target: Tensor): Tensor {
  const l = typeof loss === "function" ? loss(output, target) : loss.forward(output, target);
  if (!(l instanceof Tensor) || l.size !== 1)
    throw new DescentError(
      `fit: the loss must return a one-element tensor (use reduction "mean"), got ${l instanceof Tensor ? `shape [${l.shape.join(", ")}]` : typeof l}`,
    );
  return l;
}

function splitBatch(batch: readonly Tensor[], where: string): { inputs: readonly Tensor[]; target: Tensor } {
  if (!Array.isArray(batch) || batch.length < 2 || !batch.every((t) => t instanceof Tensor)) {
    throw new DescentError(
      `${where}: each batch must be an array of tensors [input..., target], got ${Array.isArray(batch) ? `${batch.length} item(s)` : typeof batch}`,
    );
  }
  return { inputs: batch.slice(0, -1), target: batch[batch.length - 1]! };
}

function batchLength(loader: Batches): number | null {
  const n = (loader as { length?: unknown }).length;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

/** A monitor's mode: accuracies grow, losses shrink. */
function modeOf(monitor: Monitor, mode?: "min" | "max"): "min" | "max" {
  return mode ?? (monitor === "accuracy" || monitor === "valAccuracy" ? "max" : "min");
}

function checkMonitor(where: string, monitor: Monitor, hasVal: boolean, metrics: readonly MetricName[]): void {
  const ok: Monitor[] = ["loss", ...(metrics.includes("accuracy") ? (["accuracy"] as const) : [])];
  if (hasVal) ok.push("valLoss", ...(metrics.includes("accuracy") ? (["valAccuracy"] as const) : []));
  if (!ok.includes(monitor))
    throw new DescentError(
      `${where}: cannot monitor "${String(monitor)}"; available: ${ok.join(", ")}${hasVal ? "" : " (no validation loader)"}`,
    );
}

/** Tracks the best value of one monitored quantity. */
class Best {
  value: number | null = null;
  epoch: number | null = null;
  constructor(
    readonly monitor: Monitor,
    readonly mode: "min" | "max",
    readonly minDelta = 0,
  ) {}
  /** True (and records it) when v improves on the best so far by more than minDelta. */
  offer(v: number, epoch: number): boolean {
    if (Number.isNaN(v)) return false;
    const better =
      this.value === null || (this.mode === "min" ? v < this.value - this.minDelta : v > this.value + this.minDelta);
    if (better) {
      this.value = v;
      this.epoch = epoch;
    }
    return better;
  }
}

function monitored(log: EpochLog, m: Monitor): number {
  return log[m] ?? NaN;
}

/**
 * Trains model for opts.epochs epochs and returns the history. Each epoch: model.train(), then for
 * every batch zero the gradients, forward, loss, backward, optional gradient clipping, optimizer
 * step (and a per-batch scheduler step); then evaluate on opts.val (eval mode, noGrad), step a
 * per-epoch scheduler, log, save checkpoints and check early stopping. The model is left in
 * training mode.
 */
export function fit(model: Module, opts: FitOptions): History {
  if (!(model instanceof Module)) throw new DescentError(`fit: expected an nn.Module, got ${String(model)}`);
  const { train, val, optimizer, scheduler } = opts;
  if (!train || typeof (train as Iterable<unknown>)[Symbol.iterator] !== "function")
    throw new DescentError("fit: opts.train must be a DataLoader (or an iterable of batches)");
  if (val !== undefined && typeof (val as Iterable<unknown>)[Symbol.iterator] !== "function")
    throw new DescentError("fit: opts.val must be a DataLoader (or an iterable of batches)");
  if (!optimizer || typeof optimizer.step !== "function")
    throw new DescentError("fit: opts.optimizer must be an optimizer (optim.SGD, optim.Adam, …)");
  if (!opts.loss) throw new DescentError("fit: opts.loss is required (a loss module or a function)");
  if (!Number.isInteger(opts.epochs) || opts.epochs < 0)
    throw new DescentError(`fit: opts.epochs must be a non-negative integer, got ${String(opts.epochs)}`);
  const metrics = opts.metrics ?? ["loss"];
  for (const m of metrics)
    if (m !== "loss" && m !== "accuracy")
      throw new DescentError(`fit: unknown metric "${String(m)}" (expected "loss" or "accuracy")`);
  const wantAcc = metrics.includes("accuracy");
  const hasVal = val !== undefined;
  const defaultMonitor: Monitor = hasVal ? "valLoss" : "loss";
  const schedulerStep = opts.schedulerStep ?? (scheduler instanceof OneCycleLR ? "batch" : "epoch");
  if (schedulerStep !== "epoch" && schedulerStep !== "batch")
    throw new DescentError(`fit: schedulerStep must be "epoch" or "batch", got ${String(schedulerStep)}`);
  if (scheduler instanceof ReduceLROnPlateau && schedulerStep === "batch")
    throw new DescentError('fit: ReduceLROnPlateau steps once per epoch on a metric; schedulerStep must be "epoch"');
  const clip =
    opts.clipGradNorm === undefined
      ? null
      : typeof opts.clipGradNorm === "number"
        ? { maxNorm: opts.clipGradNorm, normType: 2 }
        : { maxNorm: opts.clipGradNorm.maxNorm, normType: opts.clipGradNorm.normType ?? 2 };
  if (clip && !(clip.maxNorm > 0))
    throw new DescentError(`fit: clipGradNorm must be a positive number, got ${String(clip.maxNorm)}`);

  const es = opts.earlyStopping;
  let stopper: Best | null = null;
  if (es) {
    if (!Number.isInteger(es.patience) || es.patience < 0)
      throw new DescentError(`fit: earlyStopping.patience must be a non-negative integer, got ${String(es.patience)}`);
    const mon = es.monitor ?? defaultMonitor;
    checkMonitor("fit: earlyStopping.monitor", mon, hasVal, metrics);
    stopper = new Best(mon, modeOf(mon, es.mode), es.minDelta ?? 0);
  }
  const ck = opts.checkpoint;
  let keeper: Best | null = null;
  if (ck) {
    if (typeof ck.dir !== "string" || ck.dir === "")
      throw new DescentError("fit: checkpoint.dir must be a folder path");
    mkdirSync(ck.dir, { recursive: true });
    if (ck.keepBest ?? true) {
      const mon = ck.monitor ?? defaultMonitor;
      checkMonitor("fit: checkpoint.monitor", mon, hasVal, metrics);
      keeper = new Best(mon, modeOf(mon, ck.mode));
    }
  }
  const plateau =
    scheduler instanceof ReduceLROnPlateau ? (stopper?.monitor ?? keeper?.monitor ?? defaultMonitor) : null;

  const logger: TrainingLogger = createLogger(opts.log ?? "auto", opts.logStream ?? process.stdout, {
    logEvery: opts.logEvery,
  });
  const params = clip ? model.parameters() : [];
  const history: History = {
    epochs: [],
    loss: [],
    accuracy: [],
    valLoss: [],
    valAccuracy: [],
    lr: [],
    bestEpoch: null,
    bestValue: null,
    stopped: false,
    bestCheckpoint: null,
    steps: 0,
  };
  const first = (opts.initialEpoch ?? 0) + 1;
  const last = (opts.initialEpoch ?? 0) + opts.epochs;
  let sinceBest = 0;
  let bestState: Record<string, Tensor> | null = null;
  const lrNow = () => optimizer.paramGroups[0]?.lr ?? NaN;

  for (let epoch = first; epoch <= last; epoch++) {
    const started = performance.now();
    const lr = lrNow();
    model.train();
    logger.epochStart(epoch, last, batchLength(train));
    const acc = new MetricAccumulator();
    let index = 0;
    for (const batch of train) {
      const { inputs, target } = splitBatch(batch, "fit");
      optimizer.zeroGrad();
      const output = forward(model, inputs, "fit");
      const l = computeLoss(opts.loss, output, target);
      l.backward();
      opts.gradientMonitor?.recordGradients(history.steps);
      if (clip) clipGradNorm_(params, clip.maxNorm, clip.normType);
      optimizer.step();
      opts.gradientMonitor?.recordUpdate(history.steps);
      history.steps++;
      if (scheduler && schedulerStep === "batch") (scheduler as LRScheduler).step();
      const lossValue = l.item();
      if (!Number.isFinite(lossValue))
        throw new DescentError(
          `fit: the loss became ${lossValue} at epoch ${epoch}, batch ${index + 1}; lower the learning rate or clip gradients (clipGradNorm)`,
        );
      const n = target.shape[0] ?? 1;
      acc.add(n, lossValue, wantAcc ? correctCount(output, target) : null);
      index++;
      logger.batch(index, acc.samples, acc.loss, wantAcc ? acc.accuracy : null, lrNow());
    }
    if (index === 0) throw new DescentError(`fit: the training loader gave no batches in epoch ${epoch}`);
    // Field order in logs: epoch, loss, accuracy, valLoss, valAccuracy, lr, samples, seconds.
    const log = { epoch, loss: acc.loss } as EpochLog;
    if (wantAcc) log.accuracy = acc.accuracy;
    if (val) {
      logger.validating();
      const r = evaluate(model, val, { loss: opts.loss, metrics: [...metrics, "loss"] });
      log.valLoss = r.loss!;
      if (wantAcc) log.valAccuracy = r.accuracy!;
    }
    log.lr = lr;
    log.samples = acc.samples;
    log.seconds = (performance.now() - started) / 1000;
    history.epochs.push(log);
    history.loss.push(log.loss);
    if (log.accuracy !== undefined) history.accuracy.push(log.accuracy);
    if (log.valLoss !== undefined) history.valLoss.push(log.valLoss);
    if (log.valAccuracy !== undefined) history.valAccuracy.push(log.valAccuracy);
    history.lr.push(lr);
    logger.epochEnd(log);

    if (scheduler && schedulerStep === "epoch") {
      if (scheduler instanceof ReduceLROnPlateau) scheduler.step(monitored(log, plateau!));
      else scheduler.step();
    }
    if (ck) {
      if (keeper?.offer(monitored(log, keeper.monitor), epoch)) {
        const path = join(ck.dir, "best.safetensors");
        saveCheckpoint(path, {
          model,
          optimizer,
          scheduler,
          epoch,
          step: history.steps,
          extra: { monitor: keeper.monitor, value: keeper.value },
        });
        history.bestCheckpoint = path;
        if (ck.restoreBest) bestState = snapshot(model);
        logger.note(
          "checkpoint",
          { epoch, path, monitor: keeper.monitor, value: keeper.value },
          `  saved best ${keeper.monitor} ${keeper.value!.toPrecision(5)} to ${path}`,
        );
      }
      if (ck.saveLast ?? true) {
        saveCheckpoint(join(ck.dir, "last.safetensors"), { model, optimizer, scheduler, epoch, step: history.steps });
      }
    }
    if (keeper) {
      history.bestEpoch = keeper.epoch;
      history.bestValue = keeper.value;
    }
    let stop = false;
    if (stopper) {
      if (stopper.offer(monitored(log, stopper.monitor), epoch)) sinceBest = 0;
      else sinceBest++;
      if (!keeper) {
        history.bestEpoch = stopper.epoch;
        history.bestValue = stopper.value;
      }
      if (sinceBest > es!.patience) {
        stop = true;
        logger.note(
          "early_stop",
          { epoch, monitor: stopper.monitor, bestEpoch: stopper.epoch, best: stopper.value },
          `early stopping: ${stopper.monitor} has not improved for ${sinceBest} epochs (best ${stopper.value?.toPrecision(5)} at epoch ${stopper.epoch})`,
        );
      }
    }
    if (opts.onEpochEnd?.(log, history) === false) stop = true;
    if (stop) {
      history.stopped = epoch < last;
      break;
    }
  }
  // Only the weights go back: the optimizer, schedule and generator stay where training ended.
  if (bestState) model.loadStateDict(bestState);
  model.train();
  if (opts.report) writeReport(opts.report, { history, monitor: opts.gradientMonitor });
  return history;
}

/** A copy of the model's state dict (the live one shares storage with the model). */
function snapshot(model: Module): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(model.stateDict())) out[k] = t.detach().clone();
  return out;
}

/** Runs fn with model in eval mode (and grad recording off), restoring the mode afterwards. */
function inEval<T>(model: Module, fn: () => T): T {
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.eval();
  try {
    return noGrad(fn);
  } finally {
    for (const [m, t] of modes) m.training = t;
  }
}

/**
 * The mean loss (weighted by batch size) and accuracy of model over loader, in eval mode under
 * noGrad; the model's training/eval modes are restored afterwards.
 */
export function evaluate(model: Module, loader: Batches, opts: EvaluateOptions = {}): EvaluateResult {
  const metrics = opts.metrics ?? (opts.loss ? ["loss"] : []);
  if (metrics.includes("loss") && !opts.loss) throw new DescentError('evaluate: metric "loss" needs opts.loss');
  const wantAcc = metrics.includes("accuracy");
  const wantLoss = metrics.includes("loss");
  const acc = new MetricAccumulator();
  inEval(model, () => {
    for (const batch of loader) {
      const { inputs, target } = splitBatch(batch, "evaluate");
      const output = forward(model, inputs, "evaluate");
      const l = wantLoss ? computeLoss(opts.loss!, output, target).item() : null;
      acc.add(target.shape[0] ?? 1, l, wantAcc ? correctCount(output, target) : null);
    }
  });
  const r: EvaluateResult = { samples: acc.samples };
  if (wantLoss) r.loss = acc.loss;
  if (wantAcc) r.accuracy = acc.accuracy;
  return r;
}

/**
 * The model's outputs for input, in eval mode under noGrad, batchSize samples at a time (default
 * 256), concatenated along dim 0. input is a tensor of samples (dim 0) or a loader/iterable of
 * batches (a tensor, or an array whose first tensor is the input; targets are ignored). The model's
 * modes are restored afterwards.
 */
export function predict(
  model: Module,
  input: Tensor | Iterable<Tensor | readonly Tensor[]>,
  opts: { batchSize?: number } = {},
): Tensor {
  const batchSize = opts.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new DescentError(`predict: batchSize must be a positive integer, got ${String(batchSize)}`);
  return inEval(model, () => {
    const outs: Tensor[] = [];
    if (input instanceof Tensor) {
      if (input.ndim === 0) throw new DescentError("predict: the input must have a batch dimension (dim 0)");
      const n = input.shape[0]!;
      for (let s = 0; s < n; s += batchSize) {
        outs.push(forward(model, [input.narrow(0, s, Math.min(batchSize, n - s))], "predict"));
      }
      if (n === 0) outs.push(forward(model, [input], "predict"));
    } else {
      for (const b of input) {
        const x = b instanceof Tensor ? b : b[0];
        if (!(x instanceof Tensor))
          throw new DescentError("predict: each batch must be a tensor or an array of tensors");
        outs.push(forward(model, [x], "predict"));
      }
      if (outs.length === 0) throw new DescentError("predict: the loader gave no batches");
    }
    return outs.length === 1 ? outs[0]! : cat(outs, 0);
  });
}
