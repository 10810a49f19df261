// The optim namespace of the public API: optimizers and, as the lrScheduler namespace, schedules.

export { Optimizer, requireOption, stateTensor } from "./optimizer.js";
export type {
  BaseOptions,
  SchedulerKeys,
  ParamGroup,
  GroupSpec,
  ParamsArg,
  ParamState,
  OptimizerStateDict,
} from "./optimizer.js";
export { SGD } from "./sgd.js";
export type { SGDOptions } from "./sgd.js";
export { Adam, AdamW } from "./adam.js";
export type { AdamOptions } from "./adam.js";
export { RMSprop } from "./rmsprop.js";
export type { RMSpropOptions } from "./rmsprop.js";
export { Adagrad } from "./adagrad.js";
export type { AdagradOptions } from "./adagrad.js";
export * as lrScheduler from "./lr_scheduler.js";
