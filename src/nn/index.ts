// The nn namespace of the public API: modules, layers, losses, functional forms, init and utils.

export { Module, Parameter } from "./module.js";
export type { ForwardHook, BackwardHook } from "./module.js";
export { RNNBase, RNN, LSTM, GRU } from "./layers/rnn.js";
export type { RNNOptions, RNNMode } from "./layers/rnn.js";
export { Linear, Identity, Flatten } from "./layers/linear.js";
export { Sequential, ModuleList } from "./layers/container.js";
export { ReLU, LeakyReLU, PReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Softmax, LogSoftmax } from "./layers/activation.js";
export { Dropout } from "./layers/dropout.js";
export { Embedding } from "./layers/embedding.js";
export type { EmbeddingOptions } from "./layers/embedding.js";
export { LayerNorm } from "./layers/layernorm.js";
export type { LayerNormOptions } from "./layers/layernorm.js";
export * as init from "./init.js";
export * as utils from "./utils.js";
export * as functional from "./functional/index.js";
export { Conv1d, Conv2d } from "./layers/conv.js";
export type { ConvLayerOptions } from "./layers/conv.js";
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d } from "./layers/pooling.js";
export type { Pair } from "./layers/pooling.js";
export { BatchNorm1d, BatchNorm2d } from "./layers/batchnorm.js";
export type { BatchNormOptions } from "./layers/batchnorm.js";
export {
  MSELoss,
  L1Loss,
  MAPELoss,
  HuberLoss,
  SmoothL1Loss,
  CrossEntropyLoss,
  NLLLoss,
  BCELoss,
  BCEWithLogitsLoss,
  HingeEmbeddingLoss,
  MultiMarginLoss,
  KLDivLoss,
  CTCLoss,
} from "./layers/loss.js";
export { ConvTranspose1d, ConvTranspose2d } from "./layers/conv_transpose.js";
export type { ConvTransposeLayerOptions } from "./layers/conv_transpose.js";
export { GroupNorm, InstanceNorm2d } from "./layers/norm.js";
export type { GroupNormOptions, InstanceNormOptions } from "./layers/norm.js";
export { Unflatten, PixelShuffle, PixelUnshuffle, Upsample, Dropout1d, Dropout2d } from "./layers/reshape.js";
export { GPT, KVCache, Block, CausalSelfAttention, MLP } from "./models/gpt.js";
export type { GPTConfig } from "./models/gpt.js";
export type { GenerateOptions } from "./models/generate.js";
export { MultiheadAttention, NonDynamicallyQuantizableLinear } from "./layers/attention.js";
export type { MultiheadAttentionOptions, MhaForwardOptions } from "./layers/attention.js";
export {
  TransformerEncoderLayer,
  TransformerDecoderLayer,
  TransformerEncoder,
  TransformerDecoder,
} from "./layers/transformer.js";
export type {
  TransformerLayerOptions,
  TransformerActivation,
  EncoderForwardOptions,
  DecoderForwardOptions,
} from "./layers/transformer.js";
