// What fit does differently when the model is a DistributedDataParallel: rank 0 alone logs,
// writes checkpoints and the report; checkpoints hold the wrapped module (not the wrapper), so a
// run resumes under any world size, or in one process; a DistributedSampler in the loader gets
// setEpoch(epoch) at each epoch; and the epoch's training metrics are summed over the ranks, so
// every rank logs and decides (early stopping, keep-best) on the same numbers.

import type { Module } from "../nn/module.js";
import { DistributedDataParallel } from "../distributed/ddp.js";
import { allReduceArrayAsync, rank } from "../distributed/collectives.js";
import { DataLoader } from "../data/loader.js";
import type { MetricAccumulator } from "./metrics.js";

export interface FitRole {
  /** True where logs and files are written (rank 0, or no DDP). */
  lead: boolean;
  /** The module checkpoints save and load. */
  inner: Module;
  distributed: boolean;
}

export function fitRole(model: Module): FitRole {
  if (!(model instanceof DistributedDataParallel)) return { lead: true, inner: model, distributed: false };
  return { lead: rank() === 0, inner: model.module, distributed: true };
}

/** Calls the loader's sampler's setEpoch, when it has one (PyTorch leaves this to the user). */
export function setSamplerEpoch(train: unknown, epoch: number): void {
  if (!(train instanceof DataLoader)) return;
  const s = train.sampler as { setEpoch?: (e: number) => void } | undefined;
  if (typeof s?.setEpoch === "function") s.setEpoch(epoch);
}

/** Replaces the accumulator's sums by their sums over the ranks. */
export function reduceMetrics(acc: MetricAccumulator): void {
  const st = acc.getState();
  const buf = new Float64Array([st.samples, st.lossSum, st.correct]);
  allReduceArrayAsync(buf, "sum", "fit").wait();
  acc.setState({ samples: buf[0]!, lossSum: buf[1]!, correct: buf[2]! });
}
