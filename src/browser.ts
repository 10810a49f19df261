// The public API of descent-nn for browsers (package.json's "browser" condition, and the bundle
// dist/descent.browser.js): index.ts's exports minus what needs Node (files, the CLI's training
// loop fit, worker threads, MPI, ONNX files). load and save read and make bytes, Blobs and fetch
// Responses (io/web.ts). Re-exports only; nothing reached from here imports node:*, which
// test/browser/bundle.test.ts checks on the bundle.

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
export * as data from "./data/memory.js";
export { save, load } from "./io/web.js";
export {
  saveToBytes,
  loadFromBytes,
  readSafetensorsBytes,
  saveCheckpointToBytes,
  loadCheckpointFromBytes,
} from "./io/bytes.js";
export type { LoadOptions } from "./io/safetensors_read.js";
export type {
  CheckpointContents,
  CheckpointTargets,
  CheckpointInfo,
  CheckpointableScheduler,
  CheckpointableLoader,
} from "./io/checkpoint_state.js";
export type { ByteSource, AsyncByteSource, BlobLike, ResponseLike } from "./io/bytes.js";
export { evaluate, predict } from "./train/evaluate.js";
export type { EvaluateResult } from "./train/evaluate.js";
export { einsum } from "./tensor/einsum.js";
export { baddbmm, type BaddbmmOptions } from "./tensor/baddbmm.js";
