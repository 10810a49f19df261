// The training loop for the common case: fit runs epochs of train batches with optional
// validation, metrics, a schedule, gradient clipping, early stopping, keep-best and mid-epoch
// checkpoints and progress output, and resumes bit-exactly from its own checkpoints (resumeFrom).
// Options and their checks are in fit_options.ts, what a checkpoint keeps besides the model and
// optimizer in fit_state.ts, evaluate and predict in evaluate.ts.

// `performance` is the global one: importing node:perf_hooks loaded eleven of Node's internal
// modules when the package was imported, used or not (issue 15).
import { join } from "node:path";
import { DescentError } from "../core/errors.js";
import { checkOptions, mergeKeys } from "../core/options.js";
import { Module } from "../nn/module.js";
import { clipGradNorm_ } from "../nn/utils.js";
import type { Tensor } from "../tensor/tensor.js";
import { writeReport } from "./report.js";
import { LRScheduler, ReduceLROnPlateau } from "../optim/lr_scheduler.js";
import { loadCheckpoint, saveCheckpoint } from "../io/checkpoint.js";
import { loadFile } from "../io/safetensors.js";
import { MetricAccumulator, correctCount } from "./metrics.js";
import { createLogger, type EpochLog, type TrainingLogger } from "./progress.js";
import { batchLength, computeLoss, evaluate, forward, splitBatch } from "./evaluate.js";
import { FIT_KEYS, isResumable, resolveFitOptions, type FitOptions, type History } from "./fit_options.js";
import { monitored, readFitProgress, snapshot, type FitProgress, type InEpoch } from "./fit_state.js";
import { fitRole, reduceMetrics, setSamplerEpoch } from "./fit_distributed.js";

export { evaluate, predict } from "./evaluate.js";
export type { Batches, LossFn, EvaluateOptions, EvaluateResult } from "./evaluate.js";
export type { FitOptions, History, EarlyStoppingOptions, CheckpointOptions } from "./fit_options.js";
export type { Monitor } from "./fit_state.js";

/**
 * Trains model for opts.epochs epochs and returns the history. Each epoch: model.train(), then for
 * every batch zero the gradients, forward, loss, backward, optional gradient clipping, optimizer
 * step (and a per-batch scheduler step, and every checkpointEvery steps a mid-epoch checkpoint);
 * then evaluate on opts.val (eval mode, noGrad), step a per-epoch scheduler, log, save checkpoints
 * and check early stopping. The model is left in training mode. Keras' model.fit; in PyTorch, the
 * hand-written training loop (or Lightning's Trainer.fit).
 *
 * @example
 * ```ts
 * const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 64, shuffle: true });
 * const history = fit(model, {
 *   train: loader,
 *   loss: new nn.CrossEntropyLoss(),
 *   optimizer: new optim.Adam(model.parameters(), { lr: 1e-3 }),
 *   epochs: 5,
 *   metrics: ["loss", "accuracy"],
 * });
 * console.log(history.loss, history.accuracy);
 * ```
 */
export function fit(model: Module, opts: FitOptions): History {
  checkOptions("fit", opts, FIT_KEYS);
  const run = fitLoop(model, opts);
  for (let r = run.next(); ; r = run.next()) {
    if (r.done) return r.value;
    if (r.value !== BATCH_DONE) {
      run.return(undefined as never);
      throw new DescentError("fit: onEpochEnd returned a Promise; use fitAsync for async callbacks");
    }
  }
}

/** Options of fitAsync: fit's, plus an AbortSignal. */
export interface FitAsyncOptions extends FitOptions {
  /** Aborting rejects the promise with signal.reason after the current batch; the model keeps the steps taken. */
  signal?: AbortSignal;
}

const FIT_ASYNC_KEYS = mergeKeys(FIT_KEYS, new Set(["signal"]));

/** fitAsync hands the event loop back after this much training time, so timers and I/O stay live. */
const SLICE_MS = 8;

/**
 * fit that does not block the event loop (Keras-in-JS users' `await model.fit(...)`): the same
 * loop, results and checkpoints, but it yields to the event loop between batches once every
 * SLICE_MS of work, awaits an onEpochEnd that returns a Promise, and stops when opts.signal aborts.
 */
export async function fitAsync(model: Module, opts: FitAsyncOptions): Promise<History> {
  checkOptions("fitAsync", opts, FIT_ASYNC_KEYS);
  const signal = opts.signal;
  const stopIfAborted = () => {
    if (signal?.aborted) throw signal.reason ?? new DescentError("fitAsync: aborted");
  };
  stopIfAborted();
  const run = fitLoop(model, opts);
  let since = performance.now();
  let sent: unknown = undefined;
  try {
    for (;;) {
      const r = run.next(sent);
      if (r.done) return r.value;
      sent = undefined;
      if (r.value !== BATCH_DONE) {
        sent = await r.value.wait;
        since = performance.now();
      } else if (performance.now() - since >= SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        since = performance.now();
      }
      stopIfAborted();
    }
  } finally {
    run.return(undefined as never);
  }
}

/** What the loop yields: a batch was done (a point to yield the event loop), or a callback's Promise to await. */
const BATCH_DONE = Symbol("batch done");
type Pause = typeof BATCH_DONE | { wait: Promise<unknown> };

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}

/** The training loop of fit and fitAsync, as a generator that pauses after every batch. */
function* fitLoop(model: Module, opts: FitOptions): Generator<Pause, History, unknown> {
  if (!(model instanceof Module)) throw new DescentError(`fit: expected an nn.Module, got ${String(model)}`);
  const { train, val, optimizer, scheduler } = opts;
  const { metrics, wantAcc, schedulerStep, clip, stopper, keeper, plateau, every } = resolveFitOptions(model, opts);
  const ck = opts.checkpoint;
  // Under DistributedDataParallel: rank 0 alone writes; checkpoints hold the wrapped module.
  const { lead, inner, distributed } = fitRole(model);

  // Where the run starts: epoch 1 (or after initialEpoch), or where the checkpoint left off.
  let first = (opts.initialEpoch ?? 0) + 1;
  let last = (opts.initialEpoch ?? 0) + opts.epochs;
  let stepBase = 0;
  let resumed: InEpoch | null = null;
  if (opts.resumeFrom !== undefined) {
    let progress: FitProgress | null = null;
    const where = `fit: resumeFrom ${opts.resumeFrom}`;
    // The check runs after the checkpoint is read and before anything is loaded into the model.
    const info = loadCheckpoint(opts.resumeFrom, {
      model: inner,
      optimizer,
      scheduler,
      check: (c) => {
        progress = readFitProgress(where, c.extra);
        const e = progress?.inEpoch;
        if (e) {
          if (e.epoch !== c.epoch + 1)
            throw new DescentError(`${where}: the mid-epoch record is of epoch ${e.epoch}, after epoch ${c.epoch}`);
          if (!isResumable(train))
            throw new DescentError(`${where}: a mid-epoch checkpoint needs opts.train to be a DataLoader`);
        }
      },
      // Restored only from a mid-epoch checkpoint (the others hold no loader state).
      loader: isResumable(train) ? train : undefined,
    });
    const p = progress as FitProgress | null;
    if (p?.keeper && keeper) keeper.setState(p.keeper);
    if (p?.stopper && stopper) stopper.setState(p.stopper);
    resumed = p?.inEpoch ?? null;
    first = resumed ? resumed.epoch : info.epoch + 1;
    last = opts.epochs;
    stepBase = info.step;
  }

  const logger: TrainingLogger = createLogger(
    lead ? (opts.log ?? "auto") : "silent",
    opts.logStream ?? process.stdout,
    {
      logEvery: opts.logEvery,
    },
  );
  const params = clip ? model.parameters() : [];
  const history: History = {
    epochs: [],
    loss: [],
    accuracy: [],
    valLoss: [],
    valAccuracy: [],
    lr: [],
    bestEpoch: keeper?.epoch ?? stopper?.epoch ?? null,
    bestValue: keeper?.value ?? stopper?.value ?? null,
    stopped: false,
    bestCheckpoint: ck && keeper?.epoch != null ? join(ck.dir, "best.safetensors") : null,
    steps: 0,
  };
  let bestState: Record<string, Tensor> | null = null;
  const lrNow = () => optimizer.paramGroups[0]?.lr ?? NaN;
  const trackers = () => ({ keeper: keeper?.getState() ?? null, stopper: stopper?.getState() ?? null });
  const saveLast = (epochsDone: number, inEpoch: InEpoch | null) =>
    lead &&
    saveCheckpoint(join(ck!.dir, "last.safetensors"), {
      model: inner,
      optimizer,
      scheduler,
      loader: inEpoch && isResumable(train) ? train : undefined,
      epoch: epochsDone,
      step: stepBase + history.steps,
      extra: { fit: { ...trackers(), inEpoch } },
    });

  for (let epoch = first; epoch <= last; epoch++) {
    const started = performance.now();
    const cont = epoch === first ? resumed : null;
    const lr = cont ? cont.lr : lrNow();
    model.train();
    setSamplerEpoch(train, epoch);
    logger.epochStart(epoch, last, batchLength(train));
    const acc = new MetricAccumulator();
    if (cont) acc.setState(cont.acc);
    let index = cont ? cont.batch : 0;
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
      // Everything the rest of this epoch depends on: the generator and the loader's order and
      // position (in the checkpoint), the metric sums and the lr the epoch's log reports. After
      // the epoch's last batch the epoch-end checkpoint follows instead.
      if (every !== null && (stepBase + history.steps) % every === 0 && index !== batchLength(train))
        saveLast(epoch - 1, { epoch, batch: index, lr, acc: acc.getState() });
      yield BATCH_DONE;
    }
    if (index === 0) throw new DescentError(`fit: the training loader gave no batches in epoch ${epoch}`);
    if (distributed) reduceMetrics(acc);
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
    // Early stopping's count is updated before the checkpoints, so last.safetensors carries it.
    if (stopper) {
      if (stopper.offer(monitored(log, stopper.monitor), epoch)) stopper.since = 0;
      else stopper.since++;
    }
    if (ck) {
      if (keeper?.offer(monitored(log, keeper.monitor), epoch)) {
        const path = join(ck.dir, "best.safetensors");
        if (lead)
          saveCheckpoint(path, {
            model: inner,
            optimizer,
            scheduler,
            epoch,
            step: stepBase + history.steps,
            extra: { monitor: keeper.monitor, value: keeper.value, fit: { ...trackers(), inEpoch: null } },
          });
        history.bestCheckpoint = path;
        if (ck.restoreBest) bestState = snapshot(inner);
        logger.note(
          "checkpoint",
          { epoch, path, monitor: keeper.monitor, value: keeper.value },
          `  saved best ${keeper.monitor} ${keeper.value!.toPrecision(5)} to ${path}`,
        );
      }
      if ((ck.saveLast ?? true) || every !== null) saveLast(epoch, null);
    }
    if (keeper) {
      history.bestEpoch = keeper.epoch;
      history.bestValue = keeper.value;
    }
    let stop = false;
    if (stopper) {
      if (!keeper) {
        history.bestEpoch = stopper.epoch;
        history.bestValue = stopper.value;
      }
      if (stopper.since > opts.earlyStopping!.patience) {
        stop = true;
        logger.note(
          "early_stop",
          { epoch, monitor: stopper.monitor, bestEpoch: stopper.epoch, best: stopper.value },
          `early stopping: ${stopper.monitor} has not improved for ${stopper.since} epochs (best ${stopper.value?.toPrecision(5)} at epoch ${stopper.epoch})`,
        );
      }
    }
    let said: unknown = opts.onEpochEnd?.(log, history);
    if (isPromiseLike(said)) said = yield { wait: Promise.resolve(said) };
    if (said === false) stop = true;
    if (stop) {
      history.stopped = epoch < last;
      break;
    }
  }
  // Only the weights go back: the optimizer, schedule and generator stay where training ended. A
  // resumed run whose best epoch came before the interruption takes them from best.safetensors.
  if (!bestState && ck?.restoreBest && history.bestCheckpoint && opts.resumeFrom !== undefined)
    bestState = modelPart(loadFile(history.bestCheckpoint).tensors);
  if (bestState) inner.loadStateDict(bestState);
  model.train();
  if (opts.report && lead) writeReport(opts.report, { history, monitor: opts.gradientMonitor });
  return history;
}

/** The model's tensors of a checkpoint ("model.<name>"). */
function modelPart(tensors: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) if (k.startsWith("model.")) out[k.slice(6)] = t;
  return out;
}
