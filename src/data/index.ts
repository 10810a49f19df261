// The data namespace of the public API: datasets, the batching loader and file readers.

export { TensorDataset } from "./dataset.js";
export type { Dataset } from "./dataset.js";
export { DataLoader } from "./loader.js";
export type { DataLoaderOptions, Sampler } from "./loader.js";
export { DistributedSampler } from "./sampler.js";
export type { DistributedSamplerOptions } from "./sampler.js";
export { readIdx, DEFAULT_IDX_MAX_BYTES } from "./idx.js";
export type { IdxOptions } from "./idx.js";
export { readCsv, DEFAULT_CSV_MAX_BYTES } from "./csv.js";
export type { CsvOptions, CsvData } from "./csv.js";
