// The distributed namespace of the public API: data-parallel training over MPI (API.md).

export { init, isAvailable, isInitialized, rank, worldSize, allReduce, broadcast, barrier } from "./collectives.js";
export type { ReduceOp } from "./collectives.js";
export { DistributedDataParallel } from "./ddp.js";
export type { DistributedDataParallelOptions } from "./ddp.js";
