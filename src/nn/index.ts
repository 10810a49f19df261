// The nn namespace of the public API: modules, layers, losses, functional forms, init and utils.

export { Module, Parameter } from "./module.js";
export type { ForwardHook, BackwardHook } from "./module.js";
export { RNNBase, RNN, LSTM, GRU } from "./layers/rnn.js";
export type { RNNOptions, RNNMode } from "./layers/rnn.js";
