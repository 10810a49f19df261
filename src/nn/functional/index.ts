// nn.functional: the layers and losses as plain functions of tensors.

export {
  relu,
  leakyRelu,
  prelu,
  elu,
  gelu,
  silu,
  sigmoid,
  tanh,
  softmax,
  logSoftmax,
  dropout,
  linear,
  embedding,
  layerNorm,
} from "./activation.js";
export { conv1d, conv2d, maxPool2d, avgPool2d, adaptiveAvgPool2d, batchNorm, unfold, fold } from "./conv.js";
export type {
  Pair,
  ConvPadding,
  ConvOptions,
  Conv1dOptions,
  MaxPoolOptions,
  AvgPoolOptions,
  WindowOptions,
} from "./conv.js";
export {
  mseLoss,
  l1Loss,
  mapeLoss,
  huberLoss,
  smoothL1Loss,
  crossEntropy,
  nllLoss,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  hingeEmbeddingLoss,
  multiMarginLoss,
  klDiv,
} from "./loss.js";
export type {
  Reduction,
  ReductionOptions,
  WeightedOptions,
  NllOptions,
  CrossEntropyOptions,
  MapeOptions,
  BceWithLogitsOptions,
} from "./loss.js";
export { ctcLoss } from "./ctc.js";
export type { CtcOptions, Lengths } from "./ctc.js";
export { interpolate } from "./interpolate.js";
export type { InterpolateOptions, InterpolateMode } from "./interpolate.js";
export { convTranspose1d, convTranspose2d } from "./conv_transpose.js";
export type { ConvTransposeOptions, ConvTranspose1dOptions } from "./conv_transpose.js";
export { groupNorm, instanceNorm } from "./norm.js";
export { dropout1d, dropout2d, pixelShuffle, pixelUnshuffle } from "./channel.js";
export { oneHot } from "./one_hot.js";
export { pad, type PadMode, type PadOptions } from "./pad.js";
export { scaledDotProductAttention } from "./attention.js";
export type { SdpaOptions } from "./attention.js";
