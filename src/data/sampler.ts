// DistributedSampler: the indices of a dataset that one of numReplicas data-parallel ranks visits,
// with PyTorch's rules: without dropLast the order is padded (wrapping around it) to a multiple of
// numReplicas so every rank gets the same count; with dropLast the tail is cut instead; rank r
// takes positions r, r + numReplicas, ... With shuffle (the default) the order is a permutation
// drawn from a generator seeded with seed + epoch, the same on every rank (call setEpoch(e) at
// each epoch for a new order). The permutation is Descent's generator's, not torch.randperm's.
// Give it to a DataLoader as its `sampler`.

import { DescentError } from "../core/errors.js";
import { Generator } from "../core/random.js";
import { checkOptions, keysOf } from "../core/options.js";
import { isInitialized, rank as worldRank, worldSize } from "../distributed/collectives.js";

/** Options of a DistributedSampler (torch.utils.data.DistributedSampler's arguments). */
export interface DistributedSamplerOptions {
  /** Ranks sharing the dataset (default: distributed.worldSize()). */
  numReplicas?: number;
  /** This rank (default: distributed.rank()). */
  rank?: number;
  /** Draw a new permutation per epoch (default true). */
  shuffle?: boolean;
  /** Base seed of the permutation, the same on every rank (default 0). */
  seed?: number;
  /** Cut the tail that does not divide evenly instead of padding (default false). */
  dropLast?: boolean;
}

/** The keys of DistributedSamplerOptions, for checkOptions. */
const SAMPLER_KEYS = keysOf<DistributedSamplerOptions>()({
  numReplicas: true,
  rank: true,
  shuffle: true,
  seed: true,
  dropLast: true,
});

/**
 * The dataset indices one data-parallel rank visits (torch.utils.data.DistributedSampler): without
 * dropLast the order is padded by wrapping around to a multiple of numReplicas, with dropLast the
 * tail is cut; rank r takes positions r, r + numReplicas, ... With shuffle (default) the order is a
 * permutation seeded by seed + epoch, the same on every rank: call setEpoch(e) at each epoch (as
 * PyTorch's set_epoch). The permutation is Descent's generator's, not torch.randperm's. Pass it to a
 * DataLoader as its `sampler`.
 *
 * @example
 * ```ts
 * const sampler = new data.DistributedSampler(dataset, { shuffle: true, seed: 0 });
 * const loader = new data.DataLoader(dataset, { batchSize: 32, sampler });
 * for (let epoch = 0; epoch < epochs; epoch++) {
 *   sampler.setEpoch(epoch);
 *   for (const [x, y] of loader) {
 *     // ...
 *   }
 * }
 * ```
 */
export class DistributedSampler implements Iterable<number> {
  /** Ranks sharing the dataset (PyTorch's num_replicas). */
  readonly numReplicas: number;
  /** This rank, 0 ≤ rank < numReplicas. */
  readonly rank: number;
  /** Whether each epoch draws a new permutation. */
  readonly shuffle: boolean;
  /** Base seed of the permutation (the epoch's generator is seeded with seed + epoch). */
  readonly seed: number;
  /** Whether the tail that does not divide evenly is cut (true) or padded by wrapping around (false). */
  readonly dropLast: boolean;
  /** Indices each rank visits per epoch. */
  readonly length: number;
  /** Indices all ranks visit per epoch together: length · numReplicas (after padding or cutting). */
  readonly totalSize: number;
  private readonly n: number;
  /** The epoch whose permutation iteration uses (default 0; set it with setEpoch). */
  epoch = 0;

  constructor(dataset: { readonly length: number }, opts: DistributedSamplerOptions = {}) {
    checkOptions("DistributedSampler", opts, SAMPLER_KEYS);
    const where = "DistributedSampler";
    if (dataset === null || typeof dataset !== "object" || !Number.isInteger(dataset.length) || dataset.length < 0)
      throw new DescentError(`${where}: expected a dataset with a non-negative integer length`);
    if ((opts.numReplicas === undefined || opts.rank === undefined) && !isInitialized())
      throw new DescentError(`${where}: pass numReplicas and rank, or call distributed.init() first`);
    const replicas = opts.numReplicas ?? worldSize();
    const rank = opts.rank ?? worldRank();
    if (!Number.isInteger(replicas) || replicas < 1)
      throw new DescentError(`${where}: numReplicas must be a positive integer, got ${String(replicas)}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= replicas)
      throw new DescentError(`${where}: rank must be an integer from 0 to ${replicas - 1}, got ${String(rank)}`);
    const seed = opts.seed ?? 0;
    if (!Number.isSafeInteger(seed)) throw new DescentError(`${where}: seed must be an integer, got ${String(seed)}`);
    this.n = dataset.length;
    this.numReplicas = replicas;
    this.rank = rank;
    this.shuffle = opts.shuffle ?? true;
    this.seed = seed;
    this.dropLast = opts.dropLast ?? false;
    // PyTorch's counts: with dropLast and a tail, ceil((n - replicas) / replicas) per rank (which
    // is -0 when n < replicas: the max makes it 0).
    this.length =
      this.dropLast && this.n % replicas !== 0
        ? Math.max(0, Math.ceil((this.n - replicas) / replicas))
        : Math.ceil(this.n / replicas);
    this.totalSize = this.length * replicas;
  }

  /** Sets the epoch whose permutation the next iteration uses (the same on every rank). */
  setEpoch(epoch: number): void {
    if (!Number.isSafeInteger(epoch) || epoch < 0)
      throw new DescentError(`DistributedSampler.setEpoch: epoch must be a non-negative integer, got ${String(epoch)}`);
    this.epoch = epoch;
  }

  /** This rank's indices for the current epoch. */
  indices(): Int32Array {
    const n = this.n;
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    if (this.shuffle) {
      const g = new Generator(this.seed + this.epoch);
      for (let i = n - 1; i > 0; i--) {
        const j = g.randint(i + 1);
        const t = order[i]!;
        order[i] = order[j]!;
        order[j] = t;
      }
    }
    // Position p of the padded (or cut) order is order[p % n]: padding wraps around, as PyTorch's.
    const out = new Int32Array(this.length);
    for (let k = 0; k < this.length; k++) out[k] = order[(this.rank + k * this.numReplicas) % n]!;
    return out;
  }

  /** Iterates this rank's indices for the current epoch (see indices()). */
  [Symbol.iterator](): Iterator<number> {
    return this.indices()[Symbol.iterator]();
  }
}
