// The data namespace of the browser entry (src/browser.ts): datasets held in memory and the
// loader, without the file readers (IDX, CSV, text folders), which need Node's fs and zlib.

export { TensorDataset } from "./dataset.js";
export type { Dataset } from "./dataset.js";
export { DataLoader } from "./loader.js";
export type { DataLoaderOptions, DataLoaderState, Sampler } from "./loader.js";
export { DistributedSampler } from "./sampler.js";
export type { DistributedSamplerOptions } from "./sampler.js";
