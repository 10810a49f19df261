// The training loop of a causal language model (the GPT): random [B, T+1] windows, next-token
// cross-entropy, AdamW (weight decay on the matrices only, as nanoGPT), warm-up then cosine decay
// of the learning rate (OneCycleLR with the cosine strategy: lr rises from maxLr/divFactor to maxLr
// over the warm-up and falls to maxLr/10, nanoGPT's min_lr), gradient clipping, and a validation
// loss on a fixed set of windows every evalEvery steps. Used by examples/char_gpt.ts, `descent
// train` with a text config, and the PyTorch trajectory test (which feeds its own batches).

import { DescentError } from "../core/errors.js";
import { checkOptions, keysOf } from "../core/options.js";
import { noGrad } from "../autograd/graph.js";
import type { Tensor } from "../tensor/tensor.js";
import { AdamW } from "../optim/adam.js";
import { OneCycleLR } from "../optim/lr_scheduler.js";
import { clipGradNorm_ } from "../nn/utils.js";
import { crossEntropy } from "../nn/functional/loss.js";
import type { GPT } from "../nn/models/gpt.js";
import type { GradientMonitor } from "./health.js";

/** Options of trainLanguageModel: the schedule, AdamW's settings, clipping, the batches and evaluation. */
export interface LMTrainOptions {
  /** Optimizer steps to take (the cosine schedule spans them). */
  steps: number;
  /** The peak learning rate. */
  lr: number;
  /** Steps of warm-up (>= 2, < steps; OneCycleLR needs two points). Default max(2, steps/10). */
  warmupSteps?: number;
  /** Default 0.1 (on weights with ≥ 2 dims; biases, LayerNorm and nothing else decay). */
  weightDecay?: number;
  /** AdamW's (beta1, beta2); default [0.9, 0.95] as nanoGPT. */
  /** AdamW's (beta1, beta2); default [0.9, 0.95] as nanoGPT. */
  betas?: [number, number];
  /** Clip the total gradient norm to this; default 1, 0 turns clipping off. */
  clip?: number;
  /** The next training batch [B, T+1] (int32). */
  nextBatch: (step: number) => Tensor;
  /** Fixed validation batches, each [B, T+1]; evaluated every evalEvery steps and at the end. */
  valBatches?: Tensor[];
  /** Steps between validation evaluations. */
  evalEvery?: number;
  /** Stop (after evaluating) once this many seconds have passed; the schedule is not stretched. */
  maxSeconds?: number;
  /**
   * Fit the schedule to a time budget (nanoGPT-style decay on progress): after the warm-up steps the
   * cosine runs on progress max(steps done / steps left, seconds / scheduleSeconds) (both counted
   * from the warm-up's end), and training stops when progress reaches 1, so the decay completes
   * in time however fast the steps turn out to be; `steps` is then an upper bound.
   */
  scheduleSeconds?: number;
  /** Gradient health: records the gradients (before clipping) and updates of every step. */
  monitor?: GradientMonitor;
  /** Called after every step with its log (valLoss set on evaluation steps). */
  onStep?: (log: LMStepLog) => void;
}

/** The keys of LMTrainOptions, for checkOptions. */
const LM_TRAIN_KEYS = keysOf<LMTrainOptions>()({
  steps: true,
  lr: true,
  warmupSteps: true,
  weightDecay: true,
  betas: true,
  clip: true,
  nextBatch: true,
  valBatches: true,
  evalEvery: true,
  maxSeconds: true,
  scheduleSeconds: true,
  monitor: true,
  onStep: true,
});

/** What one step of trainLanguageModel reports. */
export interface LMStepLog {
  /** The step's index, from 0. */
  step: number;
  /** The training batch's mean next-token cross-entropy (nats/token). */
  loss: number;
  /** The learning rate the step used. */
  lr: number;
  /** The total gradient norm before clipping. */
  gradNorm: number;
  /** Seconds since training started. */
  seconds: number;
  /** The validation loss (nats/token), on evaluation steps only. */
  valLoss?: number;
}

/** Mean next-token cross-entropy (nats/token) of the model on windows [B, T+1]. */
export function lmLoss(model: GPT, batch: Tensor): Tensor {
  const t = batch.shape[1]! - 1;
  const logits = model.forward(batch.slice(1, 0, t));
  const v = logits.shape[2]!;
  return crossEntropy(logits.reshape(-1, v), batch.slice(1, 1, t + 1).reshape(-1));
}

/** The mean loss over the batches, in eval mode and without a graph. */
export function lmEvaluate(model: GPT, batches: readonly Tensor[]): number {
  const was = model.training;
  model.eval();
  try {
    return noGrad(() => batches.reduce((s, b) => s + lmLoss(model, b).item(), 0) / Math.max(batches.length, 1));
  } finally {
    model.train(was);
  }
}

/** AdamW with nanoGPT's two groups: decay for ≥2-D weights, none for biases and LayerNorm. */
export function lmOptimizer(model: GPT, o: Pick<LMTrainOptions, "lr" | "weightDecay" | "betas">): AdamW {
  const params = model.parameters();
  return new AdamW(
    [
      { params: params.filter((p) => p.ndim >= 2), weightDecay: o.weightDecay ?? 0.1 },
      { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
    ],
    { lr: o.lr, betas: o.betas ?? [0.9, 0.95] },
  );
}

const DIV_FACTOR = 25;

/** Warm-up to maxLr, cosine down to maxLr/10 by the last step (step once per batch). */
export function lmSchedule(opt: AdamW, steps: number, lr: number, warmupSteps: number): OneCycleLR {
  if (!(Number.isInteger(warmupSteps) && warmupSteps >= 2 && warmupSteps < steps))
    throw new DescentError(`lmSchedule: warmupSteps must be an integer within [2, ${steps}), got ${warmupSteps}`);
  return new OneCycleLR(opt, lr, {
    totalSteps: steps,
    pctStart: warmupSteps / steps,
    annealStrategy: "cos",
    cycleMomentum: false,
    divFactor: DIV_FACTOR,
    finalDivFactor: 10 / DIV_FACTOR,
  });
}

/** OneCycleLR's cosine from a to b at t ∈ [0, 1]. */
const cosAnneal = (a: number, b: number, t: number) => b + ((a - b) / 2) * (1 + Math.cos(Math.PI * t));

/**
 * The time-fitted schedule's learning rate (see LMTrainOptions.scheduleSeconds): warm-up over the
 * first warmupSteps by step as lmSchedule's, then the cosine from lr to lr/10 at the given progress.
 */
export function lmTimedLr(lr: number, step: number, warmupSteps: number, progress: number): number {
  // The peak at step warmupSteps − 1, as OneCycleLR's pctStart·total − 1.
  if (step < warmupSteps - 1) return cosAnneal(lr / DIV_FACTOR, lr, step / (warmupSteps - 1));
  return cosAnneal(lr, lr / 10, Math.min(1, progress));
}

/** Trains for o.steps steps (or until maxSeconds, or a fitted schedule ends); returns every step's log. */
export function trainLanguageModel(model: GPT, o: LMTrainOptions): LMStepLog[] {
  checkOptions("trainLanguageModel", o, LM_TRAIN_KEYS);
  if (!Number.isInteger(o.steps) || o.steps < 3)
    throw new DescentError(`trainLanguageModel: steps must be an integer >= 3, got ${o.steps}`);
  const budget = o.scheduleSeconds;
  if (budget !== undefined && !(budget > 0))
    throw new DescentError(`trainLanguageModel: scheduleSeconds must be a positive number, got ${budget}`);
  const opt = lmOptimizer(model, o);
  const warmup = o.warmupSteps ?? Math.max(2, Math.floor(o.steps / 10));
  const sched = lmSchedule(opt, o.steps, o.lr, warmup);
  let warmEnd = 0; // seconds at the peak (the timed decay's start)
  let progress = 0; // of the decay, at the current step
  const clip = o.clip ?? 1;
  const evalEvery = o.evalEvery ?? 0;
  const started = performance.now();
  const logs: LMStepLog[] = [];
  model.train();
  for (let step = 0; step < o.steps; step++) {
    if (budget !== undefined) {
      // From the peak (step warmup − 1) on: progress by steps or by time, whichever is further.
      const now = (performance.now() - started) / 1000;
      if (step === warmup - 1) warmEnd = now;
      if (step >= warmup - 1)
        progress = Math.max(
          (step - warmup + 1) / (o.steps - warmup),
          budget > warmEnd ? (now - warmEnd) / (budget - warmEnd) : 1,
        );
      for (const g of opt.paramGroups) g.lr = lmTimedLr(o.lr, step, warmup, progress);
    }
    const lr = opt.paramGroups[0]!.lr;
    const loss = lmLoss(model, o.nextBatch(step));
    opt.zeroGrad();
    loss.backward();
    o.monitor?.recordGradients(step);
    const gradNorm = clip > 0 ? clipGradNorm_(model.parameters(), clip) : NaN;
    opt.step();
    o.monitor?.recordUpdate(step);
    sched.step();
    const seconds = (performance.now() - started) / 1000;
    const log: LMStepLog = { step, loss: loss.item(), lr, gradNorm, seconds };
    const last =
      step === o.steps - 1 ||
      (o.maxSeconds !== undefined && seconds >= o.maxSeconds) ||
      (budget !== undefined && progress >= 1);
    if (o.valBatches && (last || (evalEvery > 0 && (step + 1) % evalEvery === 0)))
      log.valLoss = lmEvaluate(model, o.valBatches);
    logs.push(log);
    o.onStep?.(log);
    if (last) break;
  }
  return logs;
}

/**
 * A health record's gradient norms grouped per transformer block ("blocks.i"), the embeddings
 * and the head (final LayerNorm and LM head): each the 2-norm of its parameters' norms.
 */
export function blockGradNorms(rec: { gradNorms: Record<string, number> }): Record<string, number> {
  const sq: Record<string, number> = {};
  for (const [name, v] of Object.entries(rec.gradNorms)) {
    const m = /^blocks\.(\d+)\./.exec(name);
    const key = m ? `blocks.${m[1]}` : /Emb\./.test(name) ? "embeddings" : "head";
    sq[key] = (sq[key] ?? 0) + v * v;
  }
  const order = (k: string) => (k === "embeddings" ? -1 : k === "head" ? Infinity : Number(k.slice(7)));
  return Object.fromEntries(
    Object.keys(sq)
      .sort((a, b) => order(a) - order(b))
      .map((k) => [k, Math.sqrt(sq[k]!)]),
  );
}
