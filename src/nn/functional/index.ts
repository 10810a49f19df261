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
