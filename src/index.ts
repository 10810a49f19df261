// The public API of descent-nn (API.md). Re-exports only.

export { Tensor, where, cat, stack } from "./tensor/tensor.js";
export type { Scalar, Dims, GradHook, HookHandle, SortOptions, TopkOptions } from "./tensor/tensor.js";
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
export { multinomial } from "./tensor/sampling.js";
export type { MultinomialOptions } from "./tensor/sampling.js";
export { noGrad, enableGrad, isGradEnabled, detectAnomaly } from "./autograd/graph.js";
export type { Node as GradNode } from "./autograd/graph.js";
export type { VarOptions } from "./tensor/reduce.js";
export type { Window2d } from "./backends/backend.js";
export { manualSeed, Generator, defaultGenerator } from "./core/random.js";
export type { GeneratorState } from "./core/random.js";
export { DescentError } from "./core/errors.js";
export type { DType, TypedArray } from "./core/dtype.js";
export {
  setBackend,
  availableBackends,
  setNumThreads,
  getNumThreads,
  initWasm,
  type WasmSource,
} from "./backends/index.js";
export * as nn from "./nn/index.js";
export { summary, countParameters } from "./nn/summary.js";
export type { CountParametersOptions, Example as SummaryExample } from "./nn/summary.js";
export * as optim from "./optim/index.js";
export * as data from "./data/index.js";
export * as distributed from "./distributed/index.js";
export { save, load, loadFile, saveCheckpoint, loadCheckpoint } from "./io/index.js";
export {
  saveToBytes,
  loadFromBytes,
  readSafetensorsBytes,
  saveCheckpointToBytes,
  loadCheckpointFromBytes,
} from "./io/index.js";
export type {
  SafetensorsFile,
  LoadOptions,
  CheckpointContents,
  CheckpointTargets,
  CheckpointInfo,
  CheckpointableScheduler,
  CheckpointableLoader,
  ByteSource,
  AsyncByteSource,
  BlobLike,
  ResponseLike,
} from "./io/index.js";
export { fit, fitAsync, evaluate, predict } from "./train/index.js";
export type { FitOptions, FitAsyncOptions, History, EvaluateResult, EpochLog, LogMode } from "./train/index.js";
export * as train from "./train/index.js";
export { einsum } from "./tensor/einsum.js";
export { baddbmm, type BaddbmmOptions } from "./tensor/baddbmm.js";
export * as onnx from "./onnx/index.js";
export { compile, type CompiledModel } from "./compile/index.js";
