// Intra-op threads for the wasm backend: workers running descent-mt.wasm over the same shared
// WebAssembly.Memory as the calling thread (Node: worker_threads; a browser page or worker that is
// cross-origin isolated: module Web Workers from a Blob URL). A large matrix product is split into
// column ranges, one per thread, each packing into its own scratch (wasm/gemm.c, matmul_f32_cols);
// the caller takes the first range itself. The partition is static (worker w always takes range
// w + 1), so a job is one generation bump and one count of finished workers: no claims to race on.
// Workers wait with Atomics.wait (a sleep, not a spin: DESIGN.md, the two vCPUs are not always both
// available); so does the caller, except on a browser's main thread, where blocking is refused and
// it polls the count after finishing its own (equal) share.

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
/** Jobs the workers ran, all together (the browser test reads it to see the threads did work). */
const JOBS = 9;
/** The job's column count (for the job count: a worker whose range is empty did no work). */
const COLS = 10;
const SLOTS = 11;
/** Each worker's own shadow stack (the C code uses a few hundred bytes). */
const STACK_BYTES = 64 << 10;
/** How long a browser's worker waits blocked for the next job before it waits in its event loop. */
const IDLE_MS = 1000;
/** How long Node's first product waits for the workers to start before running on one thread. */
const START_TIMEOUT_MS = 5000;

// Worker body, shared by both hosts (`d`: the module, the memory, and this worker's addresses):
// instantiate the module on the shared memory, move the stack pointer to this worker's stack, then
// run range `id + 1` of every job until the process or page goes away. In a browser (`web`) a
// worker idle for a second waits with Atomics.waitAsync instead, back in its event loop (where
// DevTools reach it: the browser test reads descentPoolJobs() there); the next job wakes it either way.
const BODY = `async (d, web) => {
const x = new WebAssembly.Instance(d.module, { env: { memory: d.memory } }).exports;
x.__stack_pointer.value = d.stack;
const c = new Int32Array(d.memory.buffer, d.ctl, ${SLOTS});
if (web) self.descentPoolJobs = () => Atomics.load(c, ${JOBS});
let gen = Atomics.load(c, ${GEN});
Atomics.add(c, ${READY}, 1);
Atomics.notify(c, ${READY});
for (;;) {
  if (Atomics.wait(c, ${GEN}, gen, web ? ${IDLE_MS} : Infinity) === "timed-out") {
    const r = Atomics.waitAsync(c, ${GEN}, gen);
    if (r.async) await r.value;
  }
  gen = Atomics.load(c, ${GEN});
  const j0 = (d.id + 1) * c[${CHUNK}];
  try {
    if (j0 < c[${COLS}]) Atomics.add(c, ${JOBS}, 1);
    x.matmul_f32_cols(c[${META}], c[${A}], c[${B}], c[${C}], j0, j0 + c[${CHUNK}], d.scratch);
  } catch {
    Atomics.store(c, ${FAILED}, 1);
  }
  Atomics.add(c, ${DONE}, 1);
  Atomics.notify(c, ${DONE});
}}`;
/** Node: eval'd by worker_threads, its data through process.getBuiltinModule (the browser bundle holds no require). */
const NODE_WORKER = `(${BODY})(process.getBuiltinModule("node:worker_threads").workerData, false);`;
/** Browsers: a module worker whose first message is its data (a Module and a shared Memory can be posted). */
const WEB_WORKER = `self.onmessage = (e) => (${BODY})(e.data, true);`;

interface WorkerLike {
  terminate(): unknown;
}
interface NodeWorker extends WorkerLike {
  unref(): void;
}
type NodeWorkerCtor = new (code: string, opts: { eval: true; workerData: object }) => NodeWorker;
interface WebWorker extends WorkerLike {
  postMessage(data: object): void;
  onerror: ((e: unknown) => void) | null;
}
type WebWorkerCtor = new (url: string, opts: { type: "module" }) => WebWorker;

/** Where workers come from here: Node's worker_threads, a browser's Worker, or nothing. */
function host(): "node" | "web" | undefined {
  if (globalThis.process?.getBuiltinModule?.("node:worker_threads")) return "node";
  const g = globalThis as { Worker?: unknown; crossOriginIsolated?: boolean };
  return typeof g.Worker === "function" && g.crossOriginIsolated === true ? "web" : undefined;
}

/** Whether this runtime can run the pool: shared memory and workers (a browser page must be cross-origin isolated). */
export function canThread(): boolean {
  return typeof SharedArrayBuffer === "function" && host() !== undefined;
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread): asked once per pool. */
function canBlock(ctl: Int32Array): boolean {
  try {
    Atomics.wait(ctl, GEN, Atomics.load(ctl, GEN) + 1, 0); // "not-equal" at once where blocking is allowed
    return true;
  } catch {
    return false;
  }
}

let webUrl: string | undefined;

export class ThreadPool {
  private ctl: Int32Array | undefined;
  private workers: WorkerLike[] = [];
  private broken = false;
  private blocking = true;

  /** `threads` counts the calling thread; the workers start at the first product that uses them (or at `warm`). */
  constructor(
    private readonly heap: Heap,
    private readonly module: WasmModule,
    public threads: number,
  ) {}

  /** Products the workers took part in so far (0 until a product ran on more than one thread). */
  get jobs(): number {
    return this.ctl ? Atomics.load(this.ctl, JOBS) : 0;
  }

  /**
   * Starts the workers now, without waiting for them: a browser starts workers asynchronously (its
   * thread must return to its event loop), so a page warms the pool when the backend loads.
   */
  warm(): void {
    if (this.threads >= 2) this.start(this.threads - 1, false);
  }

  /**
   * The threads a product with N columns will use: starts missing workers (between calls: it
   * reserves heap space) and returns 1 when there is no pool to use, or (browser) not yet.
   */
  prepare(N: number, nr: number): number {
    const t = Math.min(this.threads, Math.ceil(N / nr));
    return t >= 2 && this.start(t - 1, host() === "node") ? t : 1;
  }

  /** Runs matmul_f32_cols over [0, N) split across t threads (t from prepare, ≥ 2). */
  matmul(t: number, meta: number, a: number, b: number, c: number, N: number, nr: number): void {
    const ctl = this.ctl!;
    const chunk = Math.ceil(N / t / nr) * nr;
    Atomics.store(ctl, META, meta);
    Atomics.store(ctl, A, a);
    Atomics.store(ctl, B, b);
    Atomics.store(ctl, C, c);
    Atomics.store(ctl, COLS, N);
    Atomics.store(ctl, CHUNK, chunk);
    Atomics.store(ctl, DONE, 0);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    this.heap.exports.matmul_f32_cols(meta, a, b, c, 0, chunk, 0);
    // Every started worker runs each job (an empty range returns at once), so wait for all of them.
    for (let d = Atomics.load(ctl, DONE); d < this.workers.length; d = Atomics.load(ctl, DONE))
      if (this.blocking) Atomics.wait(ctl, DONE, d);
    if (Atomics.exchange(ctl, FAILED, 0) !== 0)
      throw new DescentError(`matmul: a wasm worker thread failed on a product with ${N} columns`);
  }

  /**
   * Starts workers up to n (once); true when all of them are ready. `wait`: block until they are
   * (Node, up to START_TIMEOUT_MS), else answer at once (browsers: they come up meanwhile).
   */
  private start(n: number, wait: boolean): boolean {
    if (this.broken) return false;
    if (this.workers.length < n && !this.spawn(n)) return !(this.broken = true);
    const ctl = this.ctl!;
    if (Atomics.load(ctl, READY) >= this.workers.length) return true;
    if (!wait) return false;
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let r = Atomics.load(ctl, READY); r < this.workers.length; r = Atomics.load(ctl, READY)) {
      if (Date.now() > deadline || Atomics.wait(ctl, READY, r, deadline - Date.now()) === "timed-out") {
        for (const w of this.workers) void w.terminate();
        this.workers = [];
        return !(this.broken = true);
      }
    }
    return true;
  }

  /** Adds workers up to n; false if workers cannot start here. */
  private spawn(n: number): boolean {
    const where = host();
    if (!where) return false;
    if (!this.ctl) {
      const at = this.heap.reserve(4 * SLOTS);
      this.ctl = new Int32Array(this.heap.memory.buffer, at, SLOTS).fill(0); // earlier calls' scratch was here
      this.blocking = canBlock(this.ctl);
    }
    // Join the pool between jobs only: no job runs while this one is being set up.
    const scratchBytes = 4 * this.heap.exports.matmul_scratch_floats();
    while (this.workers.length < n) {
      const id = this.workers.length;
      const scratch = this.heap.reserve(scratchBytes);
      const stack = this.heap.reserve(STACK_BYTES) + STACK_BYTES;
      const data = { module: this.module, memory: this.heap.memory, ctl: this.ctl.byteOffset, id, scratch, stack };
      if (where === "node") {
        const wt = globalThis.process!.getBuiltinModule!("node:worker_threads") as { Worker: NodeWorkerCtor };
        const w = new wt.Worker(NODE_WORKER, { eval: true, workerData: data });
        w.unref(); // an idle pool does not keep the process alive
        this.workers.push(w);
      } else {
        const g = globalThis as unknown as { Worker: WebWorkerCtor; Blob: typeof Blob; URL: typeof URL };
        webUrl ??= g.URL.createObjectURL(new g.Blob([WEB_WORKER], { type: "text/javascript" }));
        const w = new g.Worker(webUrl, { type: "module" });
        // A worker that fails to start never reports ready: the pool then stays unused (one thread).
        w.onerror = () => (this.broken = true);
        w.postMessage(data);
        this.workers.push(w);
      }
    }
    return true;
  }
}
