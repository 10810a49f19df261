// The io namespace: safetensors files and training checkpoints, as files (Node) and as bytes.

export {
  save,
  load,
  loadFile,
  parseSafetensors,
  writeFileAtomic,
  MAX_HEADER_BYTES,
  DEFAULT_MAX_LOAD_BYTES,
  DEFAULT_MAX_TENSORS,
} from "./safetensors.js";
export type { SafetensorsFile, LoadOptions } from "./safetensors.js";
export { saveCheckpoint, loadCheckpoint } from "./checkpoint.js";
export type {
  CheckpointContents,
  CheckpointTargets,
  CheckpointInfo,
  CheckpointableScheduler,
  CheckpointableLoader,
} from "./checkpoint.js";
export {
  saveToBytes,
  loadFromBytes,
  readSafetensorsBytes,
  saveCheckpointToBytes,
  loadCheckpointFromBytes,
} from "./bytes.js";
export type { ByteSource, AsyncByteSource, BlobLike, ResponseLike } from "./bytes.js";
