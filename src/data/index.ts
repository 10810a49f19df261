// The data namespace of the public API: datasets, the batching loader and file readers.

export { TensorDataset } from "./dataset.js";
export type { Dataset } from "./dataset.js";
export { DataLoader } from "./loader.js";
export type { DataLoaderOptions } from "./loader.js";
export { readIdx } from "./idx.js";
export { readCsv } from "./csv.js";
export type { CsvOptions, CsvData } from "./csv.js";
