// Intra-op threads for the wasm backend (Node; a browser would do the same with Web Workers on a
// cross-origin-isolated page): worker_threads running descent-mt.wasm over the same shared
// WebAssembly.Memory as the calling thread. A large matrix product is split into column ranges,
// one per thread, each packing into its own scratch (wasm/gemm.c, matmul_f32_cols); the caller
// takes the first range itself. The partition is static (worker w always takes range w + 1), so a
// job is one generation bump and one count of finished workers: no claims to race on. Waiting is
// Atomics.wait (a sleep, not a spin: DESIGN.md, the two vCPUs are not always both available).

import { DescentError } from "../../core/errors.js";
import type { Heap, WasmModule } from "./heap.js";

/** Control block slots (int32): the job generation, finished workers, then the job itself. */
const GEN = 0;
const DONE = 1;
const META = 2;
const A = 3;
const B = 4;
const C = 5;
const CHUNK = 6;
const READY = 7;
/** Set by a worker whose range trapped (it still counts as done, so the caller never waits forever). */
const FAILED = 8;
const SLOTS = 9;
/** Each worker's own shadow stack (the C code uses a few hundred bytes). */
const STACK_BYTES = 64 << 10;
/** How long the first product waits for the workers to start before running on one thread. */
const START_TIMEOUT_MS = 5000;

// Worker body (eval'd; Node's built-ins through process.getBuiltinModule, so the browser bundle
// holds no require): instantiate the module on the shared memory, move the stack pointer to this
// worker's stack, then run range `id + 1` of every job until the process exits.
const WORKER = `
const { workerData: d } = process.getBuiltinModule("node:worker_threads");
const x = new WebAssembly.Instance(d.module, { env: { memory: d.memory } }).exports;
x.__stack_pointer.value = d.stack;
const c = new Int32Array(d.memory.buffer, d.ctl, ${SLOTS});
let gen = Atomics.load(c, ${GEN});
Atomics.add(c, ${READY}, 1);
Atomics.notify(c, ${READY});
for (;;) {
  Atomics.wait(c, ${GEN}, gen);
  gen = Atomics.load(c, ${GEN});
  const j0 = (d.id + 1) * c[${CHUNK}];
  try {
    x.matmul_f32_cols(c[${META}], c[${A}], c[${B}], c[${C}], j0, j0 + c[${CHUNK}], d.scratch);
  } catch {
    Atomics.store(c, ${FAILED}, 1);
  }
  Atomics.add(c, ${DONE}, 1);
  Atomics.notify(c, ${DONE});
}`;

interface WorkerLike {
  unref(): void;
  terminate(): Promise<number>;
}
type WorkerCtor = new (code: string, opts: { eval: true; workerData: object }) => WorkerLike;

export class ThreadPool {
  private ctl: Int32Array | undefined;
  private workers: WorkerLike[] = [];
  private broken = false;

  /** `threads` counts the calling thread; the workers start at the first product that uses them. */
  constructor(
    private readonly heap: Heap,
    private readonly module: WasmModule,
    public threads: number,
  ) {}

  /**
   * The threads a product with N columns will use: starts missing workers (between calls: it
   * reserves heap space) and returns 1 when there is no pool to use.
   */
  prepare(N: number, nr: number): number {
    const t = Math.min(this.threads, Math.ceil(N / nr));
    return t >= 2 && this.start(t - 1) ? t : 1;
  }

  /** Runs matmul_f32_cols over [0, N) split across t threads (t from prepare, ≥ 2). */
  matmul(t: number, meta: number, a: number, b: number, c: number, N: number, nr: number): void {
    const ctl = this.ctl!;
    const chunk = Math.ceil(N / t / nr) * nr;
    Atomics.store(ctl, META, meta);
    Atomics.store(ctl, A, a);
    Atomics.store(ctl, B, b);
    Atomics.store(ctl, C, c);
    Atomics.store(ctl, CHUNK, chunk);
    Atomics.store(ctl, DONE, 0);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    this.heap.exports.matmul_f32_cols(meta, a, b, c, 0, chunk, 0);
    // Every started worker runs each job (an empty range returns at once), so wait for all of them.
    for (let d = Atomics.load(ctl, DONE); d < this.workers.length; d = Atomics.load(ctl, DONE))
      Atomics.wait(ctl, DONE, d);
    if (Atomics.exchange(ctl, FAILED, 0) !== 0)
      throw new DescentError(`matmul: a wasm worker thread failed on a product with ${N} columns`);
  }

  /** Starts workers up to n (once), waiting for them to be ready; false if they cannot start here. */
  private start(n: number): boolean {
    if (this.broken) return false;
    if (this.workers.length >= n) return true;
    const wt = globalThis.process?.getBuiltinModule?.("node:worker_threads") as { Worker: WorkerCtor } | undefined;
    if (!wt) return !(this.broken = true);
    if (!this.ctl) {
      const at = this.heap.reserve(4 * SLOTS);
      this.ctl = new Int32Array(this.heap.memory.buffer, at, SLOTS).fill(0); // earlier calls' scratch was here
    }
    // Join the pool between jobs only: no job runs while this one is being set up.
    const scratchBytes = 4 * this.heap.exports.matmul_scratch_floats();
    while (this.workers.length < n) {
      const id = this.workers.length;
      const scratch = this.heap.reserve(scratchBytes);
      const stack = this.heap.reserve(STACK_BYTES) + STACK_BYTES;
      const w = new wt.Worker(WORKER, {
        eval: true,
        workerData: { module: this.module, memory: this.heap.memory, ctl: this.ctl.byteOffset, id, scratch, stack },
      });
      w.unref(); // an idle pool does not keep the process alive
      this.workers.push(w);
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let r = Atomics.load(this.ctl, READY); r < n; r = Atomics.load(this.ctl, READY)) {
      if (Date.now() > deadline || Atomics.wait(this.ctl, READY, r, deadline - Date.now()) === "timed-out") {
        for (const w of this.workers) void w.terminate();
        this.workers = [];
        return !(this.broken = true);
      }
    }
    return true;
  }
}
