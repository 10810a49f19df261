// The public API of descent-nn (API.md). Re-exports only.

export { Tensor, where, cat, stack } from "./tensor/tensor.js";
export type { Scalar, Dims, GradHook, HookHandle } from "./tensor/tensor.js";
export {
  tensor,
  zeros,
  ones,
  full,
  rand,
  randn,
  randint,
  arange,
  linspace,
  eye,
  zerosLike,
  onesLike,
} from "./tensor/creation.js";
export type { TensorOptions, RandomOptions, NestedArray, ShapeArg } from "./tensor/creation.js";
export { noGrad, enableGrad, isGradEnabled, detectAnomaly } from "./autograd/graph.js";
export { manualSeed, Generator, defaultGenerator } from "./core/random.js";
export type { GeneratorState } from "./core/random.js";
export { DescentError } from "./core/errors.js";
export type { DType, TypedArray } from "./core/dtype.js";
export { setBackend, availableBackends } from "./backends/index.js";
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";
export * as data from "./data/index.js";
export { save, load, loadFile, saveCheckpoint, loadCheckpoint } from "./io/index.js";
export type {
  SafetensorsFile,
  LoadOptions,
  CheckpointContents,
  CheckpointTargets,
  CheckpointInfo,
  CheckpointableScheduler,
} from "./io/index.js";
export { fit, evaluate, predict } from "./train/index.js";
export type { FitOptions, History, EvaluateResult, EpochLog, LogMode } from "./train/index.js";
export * as train from "./train/index.js";
export { einsum } from "./tensor/einsum.js";
export { baddbmm, type BaddbmmOptions } from "./tensor/baddbmm.js";
