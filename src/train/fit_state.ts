// What fit keeps between batches beyond the model, optimizer, scheduler and generator: the best
// monitored value (keep-best checkpoints, early stopping) and, inside an epoch, the metric sums,
// the epoch's lr (the train loader's position is the checkpoint's own "loader" entry). A checkpoint stores it as JSON in its extra
// ("fit"), so that resuming from it (fit's resumeFrom) continues the run bit-exactly, even mid-epoch.

import { DescentError } from "../core/errors.js";
import type { Tensor } from "../tensor/tensor.js";
import type { Module } from "../nn/module.js";
import type { EpochLog } from "./progress.js";
import type { MetricName } from "./metrics.js";

/** The quantities early stopping, keep-best and ReduceLROnPlateau can watch. */
export type Monitor = "loss" | "accuracy" | "valLoss" | "valAccuracy";

/** A monitor's mode: accuracies grow, losses shrink. */
export function modeOf(monitor: Monitor, mode?: "min" | "max"): "min" | "max" {
  return mode ?? (monitor === "accuracy" || monitor === "valAccuracy" ? "max" : "min");
}

export function checkMonitor(where: string, monitor: Monitor, hasVal: boolean, metrics: readonly MetricName[]): void {
  const ok: Monitor[] = ["loss", ...(metrics.includes("accuracy") ? (["accuracy"] as const) : [])];
  if (hasVal) ok.push("valLoss", ...(metrics.includes("accuracy") ? (["valAccuracy"] as const) : []));
  if (!ok.includes(monitor))
    throw new DescentError(
      `${where}: cannot monitor "${String(monitor)}"; available: ${ok.join(", ")}${hasVal ? "" : " (no validation loader)"}`,
    );
}

export function monitored(log: EpochLog, m: Monitor): number {
  return log[m] ?? NaN;
}

/** Tracks the best value of one monitored quantity. */
export class Best {
  value: number | null = null;
  epoch: number | null = null;
  /** Epochs since the last improvement (early stopping's patience counter). */
  since = 0;
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
  getState(): BestState {
    return { value: this.value, epoch: this.epoch, since: this.since };
  }
  setState(st: BestState): void {
    this.value = st.value;
    this.epoch = st.epoch;
    this.since = st.since;
  }
}

export interface BestState {
  value: number | null;
  epoch: number | null;
  since: number;
}

/** The part of an epoch done when a mid-epoch checkpoint was written. */
export interface InEpoch {
  /** The epoch under way (1-based, as in the logs). */
  epoch: number;
  /** Batches done in it. */
  batch: number;
  /** The lr when it began (what its log reports). */
  lr: number;
  acc: { samples: number; lossSum: number; correct: number };
}

/** extra.fit of a checkpoint written by fit. */
export interface FitProgress {
  keeper: BestState | null;
  stopper: BestState | null;
  inEpoch: InEpoch | null;
}

/** A copy of the model's state dict (the live one shares storage with the model). */
export function snapshot(model: Module): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(model.stateDict())) out[k] = t.detach().clone();
  return out;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function checkBest(where: string, what: string, v: unknown): BestState | null {
  if (v === null || v === undefined) return null;
  if (
    !isObj(v) ||
    !(v.value === null || typeof v.value === "number") ||
    !(v.epoch === null || isCount(v.epoch)) ||
    !isCount(v.since)
  )
    throw new DescentError(`${where}: the checkpoint's ${what} record is malformed`);
  return v as unknown as BestState;
}

/**
 * Reads and checks extra.fit of a checkpoint (null for checkpoints not written by fit).
 */
export function readFitProgress(where: string, extra: Record<string, unknown>): FitProgress | null {
  const f = extra.fit;
  if (f === undefined) return null;
  if (!isObj(f)) throw new DescentError(`${where}: the checkpoint's fit record is not an object`);
  const inEpoch = f.inEpoch;
  if (inEpoch !== null && inEpoch !== undefined) {
    const e = inEpoch as Record<string, unknown>;
    const acc = e.acc as Record<string, unknown> | undefined;
    const ok =
      isObj(e) &&
      isCount(e.epoch) &&
      e.epoch >= 1 &&
      isCount(e.batch) &&
      typeof e.lr === "number" &&
      isObj(acc) &&
      isCount(acc.samples) &&
      typeof acc.lossSum === "number" &&
      isCount(acc.correct);
    if (!ok) throw new DescentError(`${where}: the checkpoint's mid-epoch record is malformed`);
  }
  return {
    keeper: checkBest(where, "keep-best", f.keeper),
    stopper: checkBest(where, "early-stopping", f.stopper),
    inEpoch: (inEpoch ?? null) as InEpoch | null,
  };
}
