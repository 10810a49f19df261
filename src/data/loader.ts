// DataLoader: iterates a dataset in batches. With shuffle, each iteration (each epoch) starts by
// drawing a permutation from the generator (the default one unless given), so manualSeed makes the
// order reproducible and a checkpoint of the generator state resumes the same order. Batches of a
// TensorDataset are gathered with indexSelect (copies, as PyTorch's collate makes); other datasets
// are stacked example by example. A `sampler` (an iterable of indices with a length, such as
// DistributedSampler) replaces the loader's own order.
// For mid-epoch checkpoints the loader has a state: the generator state its current iteration drew
// the order from, and how many batches that iteration has yielded. Loading it makes the next
// iteration give the same order from the same place, without drawing from the generator again.
// With numWorkers > 0 (PyTorch's num_workers) worker threads build the batches (workers.ts); the
// order is still drawn here, exactly as with numWorkers 0, so the batches are the same for any
// number of workers and the main thread's generator moves the same way. Determinism of random
// transforms in workers: before building batch b, a worker seeds its default generator from
// (a hash of the loader's generator state when the iteration began, b). So an iteration's
// batches are the same for any numWorkers >= 1 and after a mid-epoch resume; they differ from
// numWorkers 0, where get() draws from the main thread's generator. (Without shuffle, a fresh
// epoch gets fresh seeds only if something drew from that generator in between.)

import { DescentError } from "../core/errors.js";
import { Generator, defaultGenerator, type GeneratorState } from "../core/random.js";
import { checkOptions, keysOf } from "../core/options.js";
import type { Tensor } from "../tensor/tensor.js";
import { TensorDataset, type Dataset } from "./dataset.js";
import { gather, share, unpack, type PackedTensor } from "./collate.js";
import { WorkerPool, moduleUrl, type DatasetSource, type WorkerDatasetSpec } from "./workers.js";

/** Options of DataLoader (PyTorch's DataLoader keyword arguments, camelCased). */
export interface DataLoaderOptions {
  /** Examples per batch (default 1). */
  batchSize?: number;
  /** Draw a new order of the examples at the start of every iteration (default false). */
  shuffle?: boolean;
  /** Leave out the last batch when it would be smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Where shuffling draws from (default: the default generator). */
  generator?: Generator;
  /** Worker threads that build the batches (default 0: the main thread does). */
  numWorkers?: number;
  /** Batches in flight per worker (default 2, as PyTorch's prefetch_factor). */
  prefetchFactor?: number;
  /** Keep the workers between iterations instead of starting them for each (default false). */
  persistentWorkers?: boolean;
  /** How a worker rebuilds a dataset that is not a TensorDataset: a module and the class it exports. */
  workerDataset?: WorkerDatasetSpec;
  /** The indices to visit, in order (excludes shuffle; e.g. a DistributedSampler). */
  sampler?: Sampler;
}

/** The keys of DataLoaderOptions, for checkOptions. */
const DATALOADER_KEYS = keysOf<DataLoaderOptions>()({
  batchSize: true,
  shuffle: true,
  dropLast: true,
  generator: true,
  numWorkers: true,
  prefetchFactor: true,
  persistentWorkers: true,
  workerDataset: true,
  sampler: true,
});

/** An order of dataset indices for a DataLoader; iterating it again may give another order. */
export interface Sampler extends Iterable<number> {
  /** How many indices one iteration yields. */
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
  /** The dataset's length, to refuse the state of another loader. */
  length: number;
  /** The batch size, to refuse the state of another loader. */
  batchSize: number;
  /** The loader's own generator's state (null when it draws from the default one, which checkpoints save). */
  generator: GeneratorState | null;
  /** What the workers' per-batch seeds derive from (absent in states saved before workers existed). */
  workerSeed?: number;
  /**
   * The sampler's numReplicas when it has one (a DistributedSampler); absent means 1. A mid-epoch
   * position counts batches of one rank's share, so it resumes only under the same world size.
   */
  replicas?: number;
}

/** Where an iteration stands: its order's origin, progress and the base of its workers' seeds. */
interface Progress {
  orderRng: GeneratorState | null;
  position: number;
  workerSeed: number;
}

/**
 * Batches a dataset (torch.utils.data.DataLoader): iterating yields one Tensor[] per batch, each
 * tensor the dataset's examples stacked along a new dim 0 ([batchSize, ...]); shuffled anew every
 * iteration when `shuffle` is set. stateDict() / loadStateDict() save and restore the position
 * inside an iteration (for mid-epoch checkpoints).
 *
 * @example
 * ```ts
 * const loader = new data.DataLoader(new data.TensorDataset(images, labels), { batchSize: 64, shuffle: true });
 * for (const [x, y] of loader) {
 *   // x: [64, ...images.shape.slice(1)], y: [64]
 * }
 * ```
 */
export class DataLoader implements Iterable<Tensor[]> {
  /** The dataset batches are drawn from. */
  readonly dataset: Dataset;
  /** Examples per batch (the last batch may be smaller unless dropLast). */
  readonly batchSize: number;
  /** Whether each iteration draws a new order (PyTorch's shuffle). */
  readonly shuffle: boolean;
  /** Whether a last, smaller batch is left out (PyTorch's drop_last). */
  readonly dropLast: boolean;
  /** The generator shuffling draws from; undefined: the default generator (manualSeed). */
  readonly generator: Generator | undefined;
  /** The sampler giving the order of indices, if one was passed (then shuffle is false). */
  readonly sampler: Sampler | undefined;
  /** The latest iteration's origin and progress (what stateDict reports). */
  private current: Progress | null = null;
  /** A loaded state the next iteration resumes from. */
  private resume: Progress | null = null;
  /** Worker threads building the batches (0: the main thread does; PyTorch's num_workers). */
  readonly numWorkers: number;
  /** Batches in flight per worker (default 2; PyTorch's prefetch_factor). */
  readonly prefetchFactor: number;
  /** Whether the workers are kept between iterations (PyTorch's persistent_workers). */
  readonly persistentWorkers: boolean;
  private readonly workerSource: (() => DatasetSource) | null;
  private pool: WorkerPool | null = null;
  /** Iterations started, so the workers can drop the tasks of abandoned ones. */
  private iterations = 0;

  constructor(dataset: Dataset, opts: DataLoaderOptions = {}) {
    checkOptions("DataLoader", opts, DATALOADER_KEYS);
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
    const numWorkers = opts.numWorkers ?? 0;
    if (!Number.isInteger(numWorkers) || numWorkers < 0)
      throw new DescentError(`DataLoader: numWorkers must be a non-negative integer, got ${numWorkers}`);
    const prefetch = opts.prefetchFactor ?? 2;
    if (!Number.isInteger(prefetch) || prefetch < 1)
      throw new DescentError(`DataLoader: prefetchFactor must be a positive integer, got ${prefetch}`);
    if (numWorkers === 0 && (opts.persistentWorkers || opts.prefetchFactor !== undefined))
      throw new DescentError(
        `DataLoader: ${opts.persistentWorkers ? "persistentWorkers" : "prefetchFactor"} needs numWorkers > 0`,
      );
    this.numWorkers = numWorkers;
    this.prefetchFactor = prefetch;
    this.persistentWorkers = opts.persistentWorkers ?? false;
    this.workerSource = numWorkers === 0 ? null : sourceOf(dataset, opts.workerDataset);
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

  /** One pass over the data: batches of [inputs..., target] tensors, each with the batch dim first. */
  [Symbol.iterator](): Iterator<Tensor[]> {
    // The permutation is drawn here, when the iteration starts, not at the first next(). A resumed
    // iteration redraws the interrupted one's order from a scratch generator set to the state it
    // was drawn from, so the shared generator is not moved (its own state comes from the checkpoint).
    const g = this.generator ?? defaultGenerator;
    let cur: Progress;
    let idx: Int32Array;
    if (this.resume) {
      cur = { ...this.resume };
      const scratch = new Generator();
      if (cur.orderRng) scratch.setState(cur.orderRng);
      idx = this.order(scratch);
      this.resume = null;
    } else {
      const start = g.getState();
      cur = { orderRng: this.shuffle ? start : null, position: 0, workerSeed: seedOf(start) };
      idx = this.order(g);
    }
    this.current = cur;
    const batches = this.length;
    const part = (b: number) => idx.subarray(b * this.batchSize, Math.min(idx.length, (b + 1) * this.batchSize));
    if (this.numWorkers > 0) return this.workerIterator(cur, batches, part);
    return {
      next: (): IteratorResult<Tensor[]> => {
        const b = cur.position;
        if (b >= batches) return { done: true, value: undefined };
        cur.position++;
        return { done: false, value: gather(this.dataset, part(b)) };
      },
    };
  }

  /** Batches from the workers, prefetchFactor per worker ahead of the one being read, in order. */
  private workerIterator(cur: Progress, batches: number, part: (b: number) => Int32Array): Iterator<Tensor[]> {
    if (this.pool && (!this.persistentWorkers || this.pool.closed)) this.dropPool();
    const pool = (this.pool ??= new WorkerPool(this.numWorkers, this.workerSource!(), this.dataset.length));
    const iter = ++this.iterations;
    pool.begin(iter);
    let sent = cur.position;
    const fill = () => {
      for (; sent < Math.min(batches, cur.position + this.numWorkers * this.prefetchFactor); sent++)
        pool.send({ iter, batch: sent, indices: part(sent).slice(), seed: batchSeed(cur.workerSeed, sent) });
    };
    const finish = (): IteratorResult<Tensor[]> => {
      if (!this.persistentWorkers && this.pool === pool) this.dropPool();
      return { done: true, value: undefined };
    };
    return {
      next: (): IteratorResult<Tensor[]> => {
        const b = cur.position;
        if (b >= batches || pool.closed) return finish();
        fill();
        let fields: PackedTensor[];
        try {
          fields = pool.receive(iter, b);
        } catch (e) {
          // A failed pool is not reused, persistent or not: a worker whose dataset failed to load would stay silent.
          if (this.pool === pool) this.dropPool();
          throw e;
        }
        cur.position++;
        fill();
        return { done: false, value: unpack(fields) };
      },
      return: finish,
    };
  }

  /**
   * Stops the worker threads (with persistentWorkers they live until this or exit; they never
   * keep the process alive). The loader stays usable: a later iteration starts new workers.
   */
  close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    return pool ? pool.close() : Promise.resolve();
  }

  private dropPool(): void {
    void this.close();
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
      workerSeed: open ? c.workerSeed : 0,
      ...(this.replicas() !== 1 ? { replicas: this.replicas() } : {}),
    };
  }

  /**
   * Makes the next iteration continue the one st describes: the same order, starting after the
   * batches it had yielded. Everything is checked before anything changes.
   */
  loadStateDict(st: DataLoaderState): void {
    this.checkStateDict(st);
    if (st.generator) this.generator!.setState(st.generator);
    const orderRng = this.shuffle ? st.orderRng : null;
    const workerSeed = st.workerSeed ?? (orderRng ? seedOf(orderRng) : 0);
    this.resume = st.started ? { orderRng, position: st.position, workerSeed } : null;
  }

  /** How many data-parallel ranks share the data: the sampler's numReplicas, else 1. */
  private replicas(): number {
    const n = (this.sampler as { numReplicas?: unknown } | undefined)?.numReplicas;
    return Number.isInteger(n) ? (n as number) : 1;
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
    const replicas = st.replicas ?? 1;
    if (st.started && replicas !== this.replicas())
      throw new DescentError(
        `${where}: the state is of an epoch interrupted under ${String(replicas)} rank(s); this loader's sampler splits the data over ${this.replicas()}. A mid-epoch position resumes only under the same world size; resume from an epoch-end checkpoint instead`,
      );
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
    if (
      st.workerSeed !== undefined &&
      !(Number.isInteger(st.workerSeed) && st.workerSeed >= 0 && st.workerSeed < 2 ** 32)
    )
      throw new DescentError(`${where}: workerSeed must be a 32-bit unsigned integer, got ${String(st.workerSeed)}`);
    // A scratch generator checks the generator states exactly as they will be taken.
    if (st.orderRng) new Generator().setState(st.orderRng);
    if (st.generator) new Generator().setState(st.generator);
  }
}

/** How the workers rebuild the dataset; refused at construction when they cannot. */
function sourceOf(ds: Dataset, spec: WorkerDatasetSpec | undefined): () => DatasetSource {
  if (spec !== undefined) {
    if (spec === null || typeof spec.module !== "string")
      throw new DescentError("DataLoader: workerDataset must be { module, export?, args? } with a module path");
    const src: DatasetSource = {
      kind: "module",
      url: moduleUrl(spec),
      name: spec.export ?? "default",
      args: spec.args ?? [],
    };
    return () => src;
  }
  // The values as of the workers' start (each iteration's, unless persistentWorkers).
  if (ds instanceof TensorDataset) return () => ({ kind: "tensors", tensors: share(ds) });
  throw new DescentError(
    `DataLoader: numWorkers > 0 needs a dataset a worker can rebuild: a TensorDataset, or opts.workerDataset = { module, export, args } naming the module and class that build this ${ds.constructor?.name ?? "dataset"}`,
  );
}

/** A 32-bit digest of a generator state: the base of an iteration's worker seeds. */
function seedOf(st: GeneratorState): number {
  let h = 0x2545f491;
  for (const w of st.s) h = mix(h, w);
  return h;
}

/** The seed of batch b's worker generator. */
function batchSeed(base: number, b: number): number {
  return mix(mix(base, b), 0x68e31da4);
}

function mix(h: number, x: number): number {
  h = Math.imul(h ^ x, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}
