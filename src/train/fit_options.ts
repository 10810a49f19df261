// fit's options, and their checks: everything fit is given is validated here, before any
// training (or any loading of a checkpoint) starts.

import { mkdirSync } from "node:fs";
import { DescentError } from "../core/errors.js";
import { checkOptions, keysOf } from "../core/options.js";
import { Module } from "../nn/module.js";
import type { Optimizer } from "../optim/optimizer.js";
import { LRScheduler, OneCycleLR, ReduceLROnPlateau } from "../optim/lr_scheduler.js";
import type { GradientMonitor } from "./health.js";
import type { MetricName } from "./metrics.js";
import type { EpochLog, LogMode, LogStream } from "./progress.js";
import type { Batches, LossFn } from "./evaluate.js";
import { Best, checkMonitor, modeOf, type Monitor } from "./fit_state.js";

/**
 * FitOptions.earlyStopping: stop when the monitored value has not improved for patience epochs (Keras' EarlyStopping).
 */
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

/** The keys of EarlyStoppingOptions, for checkOptions. */
const EARLY_STOPPING_KEYS = keysOf<EarlyStoppingOptions>()({
  patience: true,
  monitor: true,
  mode: true,
  minDelta: true,
});

/** FitOptions.checkpoint: where and when fit saves safetensors checkpoints (best.safetensors, last.safetensors). */
export interface CheckpointOptions {
  /** Folder for the checkpoints (created if missing). */
  dir: string;
  /** Save best.safetensors whenever the monitored quantity improves (default true). */
  keepBest?: boolean;
  /** Save last.safetensors after every epoch (default true), so a run can be resumed. */
  saveLast?: boolean;
  /** Default: valLoss with a validation loader, else loss. */
  monitor?: Monitor;
  /** Whether lower ("min") or higher is better; default "max" for accuracies, "min" for losses. */
  mode?: "min" | "max";
  /** Load the best checkpoint's weights into the model when fit ends (default false). */
  restoreBest?: boolean;
}

/** The keys of CheckpointOptions, for checkOptions. */
const CHECKPOINT_KEYS = keysOf<CheckpointOptions>()({
  dir: true,
  keepBest: true,
  saveLast: true,
  monitor: true,
  mode: true,
  restoreBest: true,
});

/**
 * Options of fit: the data, the loss, the optimizer and the epochs, and optionally validation, metrics,
 * a scheduler, gradient clipping, early stopping, checkpoints, logging and a report.
 */
export interface FitOptions {
  /**
   * The training batches: a DataLoader, or any iterable of [input, target] tensor lists, iterated once per epoch.
   */
  train: Batches;
  /** Validation batches, evaluated after every epoch in eval mode under noGrad (gives valLoss, valAccuracy). */
  val?: Batches;
  /** The loss: a module such as nn.CrossEntropyLoss, or a function (output, target) → 0-d tensor. */
  loss: LossFn;
  /** The optimizer, built on the model's parameters. */
  optimizer: Optimizer;
  /** An lr schedule stepped by fit (see schedulerStep). */
  scheduler?: LRScheduler | ReduceLROnPlateau;
  /**
   * When the scheduler steps: "epoch" (after each epoch; ReduceLROnPlateau gets the monitored value)
   * or "batch" (after each optimizer step). Default: "batch" for OneCycleLR, "epoch" otherwise.
   */
  schedulerStep?: "epoch" | "batch";
  /** How many epochs to train (the whole run's count, also when resuming). */
  epochs: number;
  /** Metrics computed on train (and val) batches; "loss" is always computed. Default ["loss"]. */
  metrics?: MetricName[];
  /** Clip the total gradient norm to this before every step (nn.utils.clipGradNorm_). */
  clipGradNorm?: number | { maxNorm: number; normType?: number };
  /** Stop when the monitored value stops improving. */
  earlyStopping?: EarlyStoppingOptions;
  /** Save best.safetensors / last.safetensors checkpoints in a folder. */
  checkpoint?: CheckpointOptions;
  /** Default "auto": a progress bar on a terminal (not in CI), JSON lines otherwise. */
  log?: LogMode;
  /** Where logs go (default process.stdout). */
  logStream?: LogStream;
  /** With JSON lines: also one {"event":"batch"} line every logEvery batches (default 0: none). */
  logEvery?: number;
  /** Epoch numbering starts after this (for resuming from a checkpoint of epoch initialEpoch). */
  initialEpoch?: number;
  /** Called after each epoch; returning false stops training. fitAsync also awaits a returned Promise. */
  onEpochEnd?: (log: EpochLog, history: History) => void | boolean | Promise<void | boolean>;
  /** Gradient health: its recordGradients (before clipping) and recordUpdate run around every step. */
  gradientMonitor?: GradientMonitor;
  /** Write a self-contained HTML report (curves, and the monitor's gradient charts and diagnoses) here at the end. */
  report?: string;
  /**
   * Also save last.safetensors every `steps` optimizer steps, mid-epoch, with the train loader's
   * order and position, so that resumeFrom continues bit-exactly from there. Needs checkpoint and
   * a DataLoader as train.
   */
  checkpointEvery?: { steps: number };
  /**
   * A checkpoint written by fit (last.safetensors) to continue from: the model, optimizer,
   * scheduler, generator, best-value trackers and, mid-epoch, the loader's position and the metric
   * sums are restored. `epochs` still counts the whole run: training ends after epoch `epochs`, as
   * the uninterrupted run would have. Not together with initialEpoch.
   */
  resumeFrom?: string;
}

/** The keys of FitOptions, for checkOptions. */
export const CLIP_KEYS: ReadonlySet<string> = new Set(["maxNorm", "normType"]);
const EVERY_KEYS: ReadonlySet<string> = new Set(["steps"]);
export const FIT_KEYS = keysOf<FitOptions>()({
  train: true,
  val: true,
  loss: true,
  optimizer: true,
  scheduler: true,
  schedulerStep: true,
  epochs: true,
  metrics: true,
  clipGradNorm: true,
  earlyStopping: true,
  checkpoint: true,
  log: true,
  logStream: true,
  logEvery: true,
  initialEpoch: true,
  onEpochEnd: true,
  gradientMonitor: true,
  report: true,
  checkpointEvery: true,
  resumeFrom: true,
});

/** What fit returns: per-epoch logs and curves (Keras' History.history), and how the run ended. */
export interface History {
  /** One log per epoch trained. */
  epochs: EpochLog[];
  /** Training loss per epoch. */
  loss: number[];
  /** Training accuracy per epoch (empty unless the "accuracy" metric was asked). */
  accuracy: number[];
  /** Validation loss per epoch (empty without val). */
  valLoss: number[];
  /** Validation accuracy per epoch (empty unless val and the "accuracy" metric). */
  valAccuracy: number[];
  /** The first group's lr at the start of each epoch. */
  lr: number[];
  /** The epoch with the best monitored value (checkpoint or early-stopping monitor), if any. */
  bestEpoch: number | null;
  /** The best monitored value, if any. */
  bestValue: number | null;
  /** True when early stopping (or onEpochEnd) ended training before `epochs`. */
  stopped: boolean;
  /** Path of best.safetensors, when keep-best checkpointing saved one. */
  bestCheckpoint: string | null;
  /** Optimizer steps taken. */
  steps: number;
}

/** What fit works with once the options are checked. */
export interface ResolvedFit {
  metrics: MetricName[];
  wantAcc: boolean;
  schedulerStep: "epoch" | "batch";
  clip: { maxNorm: number; normType: number } | null;
  stopper: Best | null;
  keeper: Best | null;
  plateau: Monitor | null;
  /** Steps between mid-epoch checkpoints, or null. */
  every: number | null;
}

/** A train loader whose position can be checkpointed (a DataLoader). */
export interface Resumable {
  stateDict(): unknown;
  loadStateDict(st: unknown): void;
  checkStateDict(st: unknown): void;
}

export function isResumable(train: unknown): train is Resumable {
  const t = train as Partial<Resumable>;
  return (
    typeof t.stateDict === "function" && typeof t.loadStateDict === "function" && typeof t.checkStateDict === "function"
  );
}

/** Checks every option (creating the checkpoint folder); throws a DescentError naming the first bad one. */
export function resolveFitOptions(model: Module, opts: FitOptions): ResolvedFit {
  const { train, val, optimizer, scheduler } = opts;
  if (!(model instanceof Module)) throw new DescentError(`fit: expected an nn.Module, got ${String(model)}`);
  if (typeof opts.clipGradNorm === "object") checkOptions("fit: clipGradNorm", opts.clipGradNorm, CLIP_KEYS);
  checkOptions("fit: earlyStopping", opts.earlyStopping, EARLY_STOPPING_KEYS);
  checkOptions("fit: checkpoint", opts.checkpoint, CHECKPOINT_KEYS);
  checkOptions("fit: checkpointEvery", opts.checkpointEvery, EVERY_KEYS);
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

  let every: number | null = null;
  if (opts.checkpointEvery !== undefined) {
    const n = (opts.checkpointEvery as { steps?: unknown } | null)?.steps;
    if (!Number.isSafeInteger(n) || (n as number) < 1)
      throw new DescentError(`fit: checkpointEvery.steps must be a positive integer, got ${String(n)}`);
    if (!ck)
      throw new DescentError("fit: checkpointEvery needs opts.checkpoint (the folder to save last.safetensors in)");
    if (!isResumable(train))
      throw new DescentError(
        "fit: checkpointEvery needs opts.train to be a DataLoader (its order and position go into the checkpoint)",
      );
    every = n as number;
  }
  if (opts.resumeFrom !== undefined) {
    if (typeof opts.resumeFrom !== "string" || opts.resumeFrom === "")
      throw new DescentError("fit: resumeFrom must be the path of a checkpoint");
    if (opts.initialEpoch !== undefined)
      throw new DescentError(
        "fit: give resumeFrom or initialEpoch, not both (the checkpoint says where the run stopped)",
      );
  }
  return { metrics, wantAcc, schedulerStep, clip, stopper, keeper, plateau, every };
}
