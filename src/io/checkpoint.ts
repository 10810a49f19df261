// Checkpoints as files (the format and the restore logic are in checkpoint_state.ts; the byte forms,
// for browsers, in bytes.ts): written atomically, read with the limits of load.

import { checkpointParts, checkTargets, restoreCheckpoint } from "./checkpoint_state.js";
import type { CheckpointContents, CheckpointInfo, CheckpointTargets } from "./checkpoint_state.js";
import { loadFile, save, type LoadOptions } from "./safetensors.js";

export type {
  CheckpointContents,
  CheckpointTargets,
  CheckpointInfo,
  CheckpointableScheduler,
  CheckpointableLoader,
} from "./checkpoint_state.js";

/** Saves model, optimizer, scheduler, the default generator's state, epoch and step to one file (atomically). */
export function saveCheckpoint(path: string, c: CheckpointContents): void {
  const { tensors, meta } = checkpointParts("saveCheckpoint", c);
  save(tensors, path, meta);
}

/**
 * Restores a checkpoint into the given model (strictly: every key, every shape), optimizer and
 * scheduler, and the default generator; returns epoch, step and extra. Everything is read and
 * checked before anything is changed, apart from what the optimizer or scheduler themselves refuse.
 * opts: the file's limits, as for load.
 */
export function loadCheckpoint(path: string, t: CheckpointTargets, opts?: LoadOptions): CheckpointInfo {
  checkTargets("loadCheckpoint", t);
  return restoreCheckpoint(`loadCheckpoint: ${path}`, loadFile(path, opts), t);
}
