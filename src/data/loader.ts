// DataLoader: iterates a dataset in batches. With shuffle, each iteration (each epoch) starts by
// drawing a permutation from the generator (the default one unless given), so manualSeed makes the
// order reproducible and a checkpoint of the generator state resumes the same order. Batches of a
// TensorDataset are gathered with indexSelect (copies, as PyTorch's collate makes); other datasets
// are stacked example by example. A `sampler` (an iterable of indices with a length, such as
// DistributedSampler) replaces the loader's own order.
// For mid-epoch checkpoints the loader has a state: the generator state its current iteration drew
// the order from, and how many batches that iteration has yielded. Loading it makes the next
// iteration give the same order from the same place, without drawing from the generator again.

import { DescentError } from "../core/errors.js";
import { Generator, defaultGenerator, type GeneratorState } from "../core/random.js";
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
  /** The indices to visit, in order (excludes shuffle; e.g. a DistributedSampler). */
  sampler?: Sampler;
}

/** An order of dataset indices for a DataLoader; iterating it again may give another order. */
export interface Sampler extends Iterable<number> {
  readonly length: number;
}

/** Where a DataLoader's current iteration stands: stateDict() / loadStateDict(). */
export interface DataLoaderState {
  /** False before the first iteration and after an iteration has ended (loading it then cancels a pending resume). */
  started: boolean;
  /** The shuffling generator's state just before this iteration drew its order (null without shuffle). */
  orderRng: GeneratorState | null;
  /** Batches this iteration has yielded. */
  position: number;
  /** The dataset's length and the batch size, to refuse the state of another loader. */
  length: number;
  batchSize: number;
  /** The loader's own generator's state (null when it draws from the default one, which checkpoints save). */
  generator: GeneratorState | null;
}

export class DataLoader implements Iterable<Tensor[]> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly generator: Generator | undefined;
  readonly sampler: Sampler | undefined;
  /** The latest iteration's origin and progress (what stateDict reports). */
  private current: { orderRng: GeneratorState | null; position: number } | null = null;
  /** A loaded state the next iteration resumes from. */
  private resume: { orderRng: GeneratorState | null; position: number } | null = null;

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
    const sampler = opts.sampler;
    if (sampler !== undefined) {
      if (sampler === null || typeof sampler[Symbol.iterator] !== "function" || !Number.isInteger(sampler.length))
        throw new DescentError("DataLoader: sampler must be an iterable of indices with an integer length");
      if (opts.shuffle)
        throw new DescentError("DataLoader: sampler and shuffle exclude each other (the sampler orders)");
    }
    this.sampler = sampler;
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.generator = opts.generator;
  }

  /** The number of batches one iteration yields. */
  get length(): number {
    const n = this.sampler ? this.sampler.length : this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The order of the examples for one iteration (draws from g when shuffling). */
  private order(g: Generator): Int32Array {
    if (this.sampler) return this.sampled();
    const n = this.dataset.length;
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    if (this.shuffle) {
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

  /** The sampler's indices, checked against the dataset. */
  private sampled(): Int32Array {
    const idx = Int32Array.from(this.sampler!);
    const n = this.dataset.length;
    if (idx.length !== this.sampler!.length)
      throw new DescentError(
        `DataLoader: the sampler gave ${idx.length} indices, its length says ${this.sampler!.length}`,
      );
    const bad = idx.findIndex((i) => i < 0 || i >= n);
    if (bad >= 0)
      throw new DescentError(`DataLoader: the sampler gave index ${idx[bad]} for a dataset of ${n} examples`);
    return idx;
  }

  [Symbol.iterator](): Iterator<Tensor[]> {
    // The permutation is drawn here, when the iteration starts, not at the first next(). A resumed
    // iteration redraws the interrupted one's order from a scratch generator set to the state it
    // was drawn from, so the shared generator is not moved (its own state comes from the checkpoint).
    const g = this.generator ?? defaultGenerator;
    let cur: { orderRng: GeneratorState | null; position: number };
    let idx: Int32Array;
    if (this.resume) {
      cur = { ...this.resume };
      const scratch = new Generator();
      if (cur.orderRng) scratch.setState(cur.orderRng);
      idx = this.order(scratch);
      this.resume = null;
    } else {
      cur = { orderRng: this.shuffle ? g.getState() : null, position: 0 };
      idx = this.order(g);
    }
    this.current = cur;
    const batches = this.length;
    return {
      next: (): IteratorResult<Tensor[]> => {
        const b = cur.position;
        if (b >= batches) return { done: true, value: undefined };
        const part = idx.subarray(b * this.batchSize, Math.min(idx.length, (b + 1) * this.batchSize));
        cur.position++;
        return { done: false, value: this.gather(part) };
      },
    };
  }

  /** Where the latest iteration stands (a mid-epoch checkpoint stores it; see loadStateDict). */
  stateDict(): DataLoaderState {
    const c = this.current;
    // An iteration that has yielded everything leaves nothing to resume: the next one starts afresh.
    const open = c !== null && c.position < this.length;
    return {
      started: open,
      orderRng: open && c.orderRng ? { s: [...c.orderRng.s] as never, spare: c.orderRng.spare } : null,
      position: open ? c.position : 0,
      length: this.dataset.length,
      batchSize: this.batchSize,
      generator: this.generator ? this.generator.getState() : null,
    };
  }

  /**
   * Makes the next iteration continue the one st describes: the same order, starting after the
   * batches it had yielded. Everything is checked before anything changes.
   */
  loadStateDict(st: DataLoaderState): void {
    this.checkStateDict(st);
    if (st.generator) this.generator!.setState(st.generator);
    this.resume = st.started ? { orderRng: this.shuffle ? st.orderRng : null, position: st.position } : null;
  }

  /** Throws what loadStateDict would throw for st, changing nothing. */
  checkStateDict(st: DataLoaderState): void {
    const where = "DataLoader.loadStateDict";
    if (st === null || typeof st !== "object") throw new DescentError(`${where}: expected a state from stateDict()`);
    if (st.length !== this.dataset.length || st.batchSize !== this.batchSize)
      throw new DescentError(
        `${where}: the state is of a loader over ${String(st.length)} examples in batches of ${String(st.batchSize)}, this one has ${this.dataset.length} in batches of ${this.batchSize}`,
      );
    if (typeof st.started !== "boolean") throw new DescentError(`${where}: started must be a boolean`);
    if (!Number.isInteger(st.position) || st.position < 0 || st.position > this.length)
      throw new DescentError(
        `${where}: position must be an integer from 0 to ${this.length}, got ${String(st.position)}`,
      );
    if (this.shuffle && st.started && !st.orderRng)
      throw new DescentError(`${where}: this loader shuffles, but the state holds no generator state for its order`);
    if ((st.generator !== null) !== (this.generator !== undefined))
      throw new DescentError(
        `${where}: the state is of a loader ${st.generator ? "with" : "without"} its own generator, this one is ${this.generator ? "with" : "without"}`,
      );
    // A scratch generator checks the generator states exactly as they will be taken.
    if (st.orderRng) new Generator().setState(st.orderRng);
    if (st.generator) new Generator().setState(st.generator);
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
