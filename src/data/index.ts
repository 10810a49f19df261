// The data namespace of the public API: datasets, the batching loader and file readers.

export { TensorDataset } from "./dataset.js";
export type { Dataset } from "./dataset.js";
export { DataLoader } from "./loader.js";
export type { DataLoaderOptions, DataLoaderState, Sampler } from "./loader.js";
export type { WorkerDatasetSpec } from "./workers.js";
export { DistributedSampler } from "./sampler.js";
export type { DistributedSamplerOptions } from "./sampler.js";
export { readIdx, DEFAULT_IDX_MAX_BYTES } from "./idx.js";
export type { IdxOptions } from "./idx.js";
export { readCsv, DEFAULT_CSV_MAX_BYTES } from "./csv.js";
export type { CsvOptions, CsvData } from "./csv.js";
export { CharVocab, TextWindows, readTextSplit, unigramEntropy, FORTUNES_DIR } from "./text.js";
export type { TextSplit } from "./text.js";
