// DataLoader: iterates a dataset in batches. With shuffle, each iteration (each epoch) starts by
// drawing a permutation from the generator (the default one unless given), so manualSeed makes the
// order reproducible and a checkpoint of the generator state resumes the same order. Batches of a
// TensorDataset are gathered with indexSelect (copies, as PyTorch's collate makes); other datasets
// are stacked example by example.

import { DescentError } from "../core/errors.js";
import { defaultGenerator, type Generator } from "../core/random.js";
import { Tensor, fromArray, stack } from "../tensor/tensor.js";
import { TensorDataset, type Dataset } from "./dataset.js";

export interface DataLoaderOptions {
  /** Examples per batch (default 1). */
  batchSize?: number;
  /** Draw a new order of the examples at the start of every iteration (default false). */
  shuffle?: boolean;
  /** Leave out the last batch when it would be smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Where shuffling draws from (default: the default generator). */
  generator?: Generator;
}

export class DataLoader implements Iterable<Tensor[]> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly generator: Generator | undefined;

  constructor(dataset: Dataset, opts: DataLoaderOptions = {}) {
    if (dataset === null || typeof dataset !== "object" || typeof dataset.get !== "function") {
      throw new DescentError("DataLoader: expected a dataset (an object with length and get(i))");
    }
    if (!Number.isInteger(dataset.length) || dataset.length < 0) {
      throw new DescentError(`DataLoader: the dataset's length must be a non-negative integer, got ${dataset.length}`);
    }
    const batchSize = opts.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new DescentError(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.generator = opts.generator;
  }

  /** The number of batches one iteration yields. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The order of the examples for one iteration (draws from the generator when shuffling). */
  private order(): Int32Array {
    const n = this.dataset.length;
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    if (this.shuffle) {
      const g = this.generator ?? defaultGenerator;
      // Fisher–Yates: every permutation equally likely.
      for (let i = n - 1; i > 0; i--) {
        const j = g.randint(i + 1);
        const t = idx[i]!;
        idx[i] = idx[j]!;
        idx[j] = t;
      }
    }
    return idx;
  }

  [Symbol.iterator](): Iterator<Tensor[]> {
    // The permutation is drawn here, when the iteration starts, not at the first next().
    const idx = this.order();
    const batches = this.length;
    let b = 0;
    return {
      next: (): IteratorResult<Tensor[]> => {
        if (b >= batches) return { done: true, value: undefined };
        const part = idx.subarray(b * this.batchSize, Math.min(idx.length, (b + 1) * this.batchSize));
        b++;
        return { done: false, value: this.gather(part) };
      },
    };
  }

  private gather(part: Int32Array): Tensor[] {
    const ds = this.dataset;
    if (ds instanceof TensorDataset) {
      const index = fromArray("int32", [part.length], (i) => part[i]!);
      return ds.tensors.map((t) => t.indexSelect(0, index));
    }
    const examples = Array.from(part, (i) => ds.get(i));
    const fields = examples[0]!.length;
    for (const [k, ex] of examples.entries()) {
      if (!Array.isArray(ex) || ex.length !== fields || !ex.every((t) => t instanceof Tensor)) {
        throw new DescentError(
          `DataLoader: dataset.get(${part[k]}) returned ${Array.isArray(ex) ? `${ex.length} item(s)` : typeof ex}; expected ${fields} tensor(s) like dataset.get(${part[0]})`,
        );
      }
    }
    return Array.from({ length: fields }, (_, f) => {
      try {
        return stack(examples.map((ex) => ex[f]!));
      } catch (e) {
        throw new DescentError(`DataLoader: cannot stack field ${f} of a batch: ${(e as Error).message}`);
      }
    });
  }
}
