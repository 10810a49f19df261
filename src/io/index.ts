// The io namespace: safetensors files and training checkpoints.

export { save, load, loadFile, parseSafetensors, writeFileAtomic, MAX_HEADER_BYTES } from "./safetensors.js";
export type { SafetensorsFile } from "./safetensors.js";
export { saveCheckpoint, loadCheckpoint } from "./checkpoint.js";
export type {
  CheckpointContents,
  CheckpointTargets,
  CheckpointInfo,
  CheckpointableScheduler,
  CheckpointableLoader,
} from "./checkpoint.js";
