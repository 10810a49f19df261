// DistributedDataParallel: wraps a module so that backward leaves every rank with the mean over
// the ranks of the gradients (as PyTorch's DDP). At construction rank 0's parameters and buffers
// are broadcast to all. The parameters are grouped into buckets of about bucketCapMb, in reverse
// registration order (the order in which backward reaches them); a gradient hook on each
// parameter copies its gradient into its bucket, and a full bucket is all-reduced ("mean") on the
// communication thread while backward goes on. Buckets are launched in index order on every rank,
// as MPI's collectives must be matched. When the last parameter's gradient arrives, its hook waits
// for all buckets and adds the reduced gradients to `.grad` (the hooks hand zeros to the local
// accumulation, so gradient accumulation over several backward calls keeps PyTorch's meaning).
// A parameter that gets no gradient leaves the reduction unfinished: the next forward says so.

import { DescentError } from "../core/errors.js";
import { checkOptions, keysOf } from "../core/options.js";
import { noGrad } from "../autograd/graph.js";
import type { Tensor, HookHandle } from "../tensor/tensor.js";
import { Module, type Parameter } from "../nn/module.js";
import { allReduceArrayAsync, broadcastArray, init, type Work } from "./collectives.js";

/** Options of DistributedDataParallel (bucket_cap_mb of torch.nn.parallel.DistributedDataParallel). */
export interface DistributedDataParallelOptions {
  /** Target size of a gradient bucket in MiB (default 25, PyTorch's). */
  bucketCapMb?: number;
}

/** The keys of DistributedDataParallelOptions, for checkOptions. */
const DDP_KEYS = keysOf<DistributedDataParallelOptions>()({ bucketCapMb: true });

interface Bucket {
  params: Parameter[];
  offsets: number[];
  buf: Float32Array;
  ready: number;
  work: Work | null;
}

/**
 * Wraps a module for data-parallel training over MPI ranks (torch.nn.parallel.DistributedDataParallel):
 * construction calls distributed.init() and broadcasts rank 0's parameters and buffers to every rank;
 * forward runs the wrapped module; backward leaves each rank's `.grad` holding the mean of the
 * gradients over the ranks, all-reduced in buckets of about bucketCapMb MiB (default 25) while
 * backward goes on. Parameters must be float32. Every parameter that requires grad must get a
 * gradient in each backward, or the next forward reports the unfinished reduction.
 *
 * @example
 * ```ts
 * const ddp = new distributed.DistributedDataParallel(model);
 * const loss = lossFn(ddp.forward(x), y);
 * loss.backward(); // model's grads are now averaged over the ranks
 * opt.step();
 * ```
 */
export class DistributedDataParallel extends Module {
  /** The wrapped module (as PyTorch's `ddp.module`); save its stateDict for checkpoints. */
  declare module: Module;
  declare private buckets: Bucket[];
  declare private where: Map<Parameter, { bucket: number; index: number }>;
  declare private handles: HookHandle[];
  declare private launched: number;
  declare private arrived: number;
  declare private total: number;

  constructor(model: Module, opts: DistributedDataParallelOptions = {}) {
    super();
    checkOptions("DistributedDataParallel", opts, DDP_KEYS);
    if (!(model instanceof Module)) throw new DescentError("DistributedDataParallel: expected a Module");
    const cap = opts.bucketCapMb ?? 25;
    if (!(typeof cap === "number" && cap > 0 && Number.isFinite(cap)))
      throw new DescentError(`DistributedDataParallel: bucketCapMb must be a positive number, got ${String(cap)}`);
    init();
    this.module = model;
    // Every rank starts from rank 0's weights (and running statistics).
    for (const t of [...model.parameters(), ...model.buffers()]) {
      const buf = t.toFlatArray();
      broadcastArray(buf, 0, "DistributedDataParallel");
      noGrad(() => t.writeFlat_(buf));
    }
    const params = model.parameters().filter((p) => p.requiresGrad);
    for (const p of params)
      if (p.dtype !== "float32")
        throw new DescentError(`DistributedDataParallel: parameters must be float32, got a ${p.dtype} one`);
    const hidden = (k: string, v: unknown) =>
      Object.defineProperty(this, k, { value: v, writable: true, enumerable: false });
    hidden("buckets", []);
    hidden("where", new Map());
    hidden("handles", []);
    hidden("launched", 0);
    hidden("arrived", 0);
    hidden("total", params.length);
    const capElems = Math.max(1, Math.floor((cap * 1024 * 1024) / 4));
    let group: Parameter[] = [];
    let size = 0;
    const close = () => {
      if (group.length === 0) return;
      const offsets: number[] = [];
      let o = 0;
      for (const p of group) {
        offsets.push(o);
        o += p.size;
      }
      group.forEach((p, index) => this.where.set(p, { bucket: this.buckets.length, index }));
      this.buckets.push({ params: group, offsets, buf: new Float32Array(o), ready: 0, work: null });
      group = [];
      size = 0;
    };
    for (const p of [...params].reverse()) {
      if (size > 0 && size + p.size > capElems) close();
      group.push(p);
      size += p.size;
    }
    close();
    for (const p of params) this.handles.push(p.registerHook((g) => this.onGrad(p, g)));
  }

  /** The sizes, in float32 elements, of the gradient buckets (in launch order). */
  bucketSizes(): number[] {
    return this.buckets.map((b) => b.buf.length);
  }

  forward(...inputs: never[]): unknown {
    if (this.arrived !== 0)
      throw new DescentError(
        `DistributedDataParallel: the previous backward gave gradients to ${this.arrived} of ${this.total} parameters, so their reduction did not finish; every parameter must take part in the loss`,
      );
    return (this.module.forward as (...a: never[]) => unknown)(...inputs);
  }

  private onGrad(p: Parameter, g: Tensor): Tensor {
    const w = this.where.get(p)!;
    const b = this.buckets[w.bucket]!;
    b.buf.set(g.toFlatArray() as Float32Array, b.offsets[w.index]!);
    b.ready++;
    this.arrived++;
    // Launch, in order, every bucket whose gradients are all in.
    while (
      this.launched < this.buckets.length &&
      this.buckets[this.launched]!.ready === this.buckets[this.launched]!.params.length
    ) {
      const next = this.buckets[this.launched++]!;
      next.work = allReduceArrayAsync(next.buf, "mean", "DistributedDataParallel");
    }
    if (this.arrived < this.total) return g.newZeros(g.shape);
    // The last gradient of this backward: collect every bucket and hand the means to .grad.
    let mine: Tensor | null = null;
    for (const bucket of this.buckets) {
      bucket.work!.wait();
      bucket.params.forEach((q, i) => {
        const mean = q
          .newZeros(q.shape)
          .writeFlat_(bucket.buf.subarray(bucket.offsets[i]!, bucket.offsets[i]! + q.size));
        if (q === p) mine = mean;
        else if (q.grad) q.grad.add_(mean);
        else q.grad = mean;
      });
      bucket.ready = 0;
      bucket.work = null;
    }
    this.launched = 0;
    this.arrived = 0;
    return mine!;
  }

  /** Removes the gradient hooks (the wrapped module goes back to local gradients). */
  detachHooks(): void {
    for (const h of this.handles) h.remove();
    this.handles = [];
  }
}
