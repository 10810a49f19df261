// Running a model over batches without training it: evaluate (mean loss and accuracy in eval mode
// under noGrad) and predict (batched outputs), plus the batch handling fit shares with them.

import { DescentError } from "../core/errors.js";
import { checkOneOf, checkOptions, keysOf } from "../core/options.js";
import { noGrad } from "../autograd/graph.js";
import { Tensor, cat } from "../tensor/tensor.js";
import type { Module } from "../nn/module.js";
import { compile, type CompiledModel } from "../compile/index.js";
import { MetricAccumulator, correctCount, type MetricName } from "./metrics.js";

/**
 * What fit and evaluate iterate: a DataLoader, or any iterable of batches [input..., target]
 * (the last tensor is the target, the others go to model.forward). `length` (the number of
 * batches), when present, gives the progress bar its total and ETA.
 */
export type Batches = Iterable<readonly Tensor[]> & { readonly length?: number };

/** A loss module (nn.CrossEntropyLoss, …) or a function (output, target) → scalar tensor. */
export type LossFn = { forward(output: Tensor, target: Tensor): Tensor } | ((output: Tensor, target: Tensor) => Tensor);

/** Options of evaluate. */
export interface EvaluateOptions {
  /** The loss to average over the batches (a module or a function). */
  loss?: LossFn;
  /** Default: ["loss"] when a loss is given; add "accuracy" for classifiers. */
  metrics?: MetricName[];
}

/** The keys of EvaluateOptions, for checkOptions. */
const PREDICT_KEYS: ReadonlySet<string> = new Set(["batchSize"]);
const EVALUATE_KEYS = keysOf<EvaluateOptions>()({ loss: true, metrics: true });

/** What evaluate returns: the sample-weighted means of the asked metrics. */
export interface EvaluateResult {
  /** Mean loss (when a loss was given). */
  loss?: number;
  /** Accuracy in [0, 1] (when "accuracy" was asked). */
  accuracy?: number;
  /** Samples evaluated. */
  samples: number;
}

/** Runs the model on inputs, insisting on one tensor out. */
export function forward(model: Module, inputs: readonly Tensor[], where: string): Tensor {
  const out = (model.forward as (...a: readonly Tensor[]) => unknown)(...inputs);
  if (!(out instanceof Tensor)) throw new DescentError(`${where}: the model returned ${typeof out}, expected a Tensor`);
  return out;
}

export function computeLoss(loss: LossFn, output: Tensor, target: Tensor): Tensor {
  const l = typeof loss === "function" ? loss(output, target) : loss.forward(output, target);
  if (!(l instanceof Tensor) || l.size !== 1)
    throw new DescentError(
      `fit: the loss must return a one-element tensor (use reduction "mean"), got ${l instanceof Tensor ? `shape [${l.shape.join(", ")}]` : typeof l}`,
    );
  return l;
}

export function splitBatch(batch: readonly Tensor[], where: string): { inputs: readonly Tensor[]; target: Tensor } {
  if (!Array.isArray(batch) || batch.length < 2 || !batch.every((t) => t instanceof Tensor)) {
    throw new DescentError(
      `${where}: each batch must be an array of tensors [input..., target], got ${Array.isArray(batch) ? `${batch.length} item(s)` : typeof batch}`,
    );
  }
  return { inputs: batch.slice(0, -1), target: batch[batch.length - 1]! };
}

export function batchLength(loader: Batches): number | null {
  const n = (loader as { length?: unknown }).length;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

/** Runs fn with model in eval mode (and grad recording off), restoring the mode afterwards. */
export function inEval<T>(model: Module, fn: () => T): T {
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
  checkOptions("evaluate", opts, EVALUATE_KEYS);
  const metrics = opts.metrics ?? (opts.loss ? ["loss"] : []);
  for (const m of metrics) checkOneOf("evaluate", "each metric", m, ["loss", "accuracy"]);
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
 * modes are restored afterwards. The batches run through `compile(model, …)`'s inference plan (one
 * trace per batch size), or the eager forward for a model compile refuses.
 */
export function predict(
  model: Module,
  input: Tensor | Iterable<Tensor | readonly Tensor[]>,
  opts: { batchSize?: number } = {},
): Tensor {
  checkOptions("predict", opts, PREDICT_KEYS);
  const batchSize = opts.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new DescentError(`predict: batchSize must be a positive integer, got ${String(batchSize)}`);
  return inEval(model, () => {
    const outs: Tensor[] = [];
    const run = compiledForward(model);
    if (input instanceof Tensor) {
      if (input.ndim === 0) throw new DescentError("predict: the input must have a batch dimension (dim 0)");
      const n = input.shape[0]!;
      for (let s = 0; s < n; s += batchSize) {
        outs.push(run(input.narrow(0, s, Math.min(batchSize, n - s))));
      }
      if (n === 0) outs.push(forward(model, [input], "predict"));
    } else {
      for (const b of input) {
        const x = b instanceof Tensor ? b : b[0];
        if (!(x instanceof Tensor))
          throw new DescentError("predict: each batch must be a tensor or an array of tensors");
        outs.push(run(x));
      }
      if (outs.length === 0) throw new DescentError("predict: the loader gave no batches");
    }
    return outs.length === 1 ? outs[0]! : cat(outs, 0);
  });
}

/**
 * predict's forward: the model compiled into an inference plan (src/compile) at the first batch
 * (a new batch size traces once more), or the eager forward where compile refuses the model (a
 * forward writing in place, returning no Tensor): predictions are the same either way.
 */
function compiledForward(model: Module): (x: Tensor) => Tensor {
  let compiled: CompiledModel | null | undefined; // undefined: not tried yet; null: refused
  return (x) => {
    if (compiled === undefined) {
      try {
        compiled = compile(model, x);
      } catch (e) {
        if (!(e instanceof DescentError)) throw e;
        compiled = null;
      }
    }
    if (compiled) {
      try {
        const out = compiled.forward(x);
        if (out instanceof Tensor) return out;
      } catch (e) {
        if (!(e instanceof DescentError)) throw e;
      }
      compiled = null;
    }
    return forward(model, [x], "predict");
  };
}
