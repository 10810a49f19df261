// The DataLoader's worker threads (numWorkers > 0): a pool of worker_threads that each rebuild the
// dataset once and then build the batches they are given (dataset.get + collate); the main thread
// decides the order, hands batch b to worker b % numWorkers and reads results back in order.
//
// Why a blocking (synchronous) read and not an async iterator: fit's loop and every user's
// `for (const batch of loader)` are synchronous, and a DataLoader is resumable mid-epoch by
// counting the batches it yielded; one code path for numWorkers 0 and > 0 keeps that exact. A
// worker posts its batch on its own MessagePort (transferring the buffers) and then bumps a
// counter in a SharedArrayBuffer and notifies; the main thread takes messages with
// receiveMessageOnPort, which needs no event-loop turn, and sleeps in Atomics.wait on the counter
// while the batch it needs is not there. With prefetchFactor batches in flight per worker the
// wait is empty whenever the workers keep up. fitAsync uses the same iterator: between batches it
// still yields to the event loop; only a wait for a late batch blocks it.
//
// Shutdown: workers and ports are unref'd, so an unfinished iteration or a forgotten close()
// never keeps the process alive; close() (or the end of an iteration without persistentWorkers)
// terminates them.

import type { Worker, MessagePort } from "node:worker_threads";
import { DescentError } from "../core/errors.js";
import { builtin } from "../core/platform.js";
import { packageFile, runningFromSources } from "../core/package_files.js";
import type { PackedTensor } from "./collate.js";

/** A dataset a worker builds itself: `new (await import(module))[export](...args)`. */
export interface WorkerDatasetSpec {
  /** A path (relative to the current directory), a file: URL or a package name. */
  module: string;
  /** The exported class (default "default"). */
  export?: string;
  /** Constructor arguments (structured-cloned to each worker). */
  args?: unknown[];
}

/** What a worker is told at start: how to rebuild the dataset. */
export type DatasetSource =
  { kind: "tensors"; tensors: PackedTensor[] } | { kind: "module"; url: string; name: string; args: unknown[] };

/** One batch to build: the iteration it belongs to, its index, the examples and its seed. */
export interface Task {
  iter: number;
  batch: number;
  indices: Int32Array;
  seed: number;
}

/** A worker's answer: the batch's tensors, or the error that stopped it. */
export interface Reply {
  iter: number;
  batch: number;
  fields?: PackedTensor[];
  error?: string;
}

/** What worker_entry receives as workerData. */
export interface WorkerInit {
  id: number;
  source: DatasetSource;
  length: number;
  port: MessagePort;
  /** Int32 words: [0] results posted (the counter the main thread waits on), [1] the current iteration. */
  control: Int32Array;
  entry: string;
  tsx: string | null;
}

// Node's modules are looked up when a pool starts, not imported: the DataLoader also runs in
// browsers (numWorkers 0), where this file is bundled but never starts a worker.
type Threads = typeof import("node:worker_threads");
function node<T>(id: string): T {
  const m = builtin<T>(id);
  if (!m) throw new DescentError("DataLoader: numWorkers > 0 needs Node's worker_threads; use numWorkers 0 here");
  return m;
}

/** A module spec as the workers import it: relative and absolute paths become file: URLs. */
export function moduleUrl(spec: WorkerDatasetSpec): string {
  const m = spec.module;
  if (!(m.startsWith(".") || m.startsWith("/"))) return m;
  const { resolve } = node<typeof import("node:path")>("node:path");
  return node<typeof import("node:url")>("node:url").pathToFileURL(resolve(m)).href;
}

/**
 * The module a worker starts, found when the first pool starts (no work at import): beside this file
 * in src/; dist/data/worker_entry.js in the build, whose bundle puts this code in dist/descent.cjs.
 * Run from sources under tsx (tests, benches), a worker registers tsx itself (`tsx`): --import
 * hooks do not reach workers.
 */
function workerEntry(): { entry: string; tsx: string | null } {
  if (runningFromSources()) return { entry: new URL("./worker_entry.ts", import.meta.url).href, tsx: resolveTsx() };
  const { pathToFileURL } = node<typeof import("node:url")>("node:url");
  return { entry: pathToFileURL(packageFile("dist/data/worker_entry.js")).href, tsx: null };
}

function resolveTsx(): string | null {
  // Another TypeScript loader (or none) is not an error here; the worker then reports what it cannot load.
  try {
    return import.meta.resolve("tsx/esm/api");
  } catch {
    return null;
  }
}

// The worker's first code is plain script, so a failure to load the entry (or a later exit) is
// still answered on the port: the main thread is blocked and would never see the 'error' event.
const BOOT = `
const { workerData: d } = process.getBuiltinModule("node:worker_threads");
const fail = (e) => {
  d.port.postMessage({ iter: -1, batch: -1, error: String((e && e.message) || e) });
  Atomics.add(d.control, 0, 1);
  Atomics.notify(d.control, 0);
};
process.on("exit", (code) => fail("the worker exited (code " + code + ")"));
(d.tsx ? import(d.tsx).then((a) => a.register()) : Promise.resolve())
  .then(() => import(d.entry))
  .catch((e) => fail("cannot start the worker: " + ((e && e.message) || e)));
`;

/** Milliseconds between checks while waiting (a lost wake-up costs at most this). */
const WAIT_SLICE_MS = 50;

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  /** node:worker_threads, looked up by the first pool, not at import (it took ~10 ms of every start-up). */
  private readonly threads = node<Threads>("node:worker_threads");
  /** A worker's exit or 'error' event (seen when the event loop turns). */
  private readonly failed: (string | null)[] = [];
  closed = false;

  constructor(n: number, source: DatasetSource, length: number) {
    const { entry, tsx } = workerEntry();
    const { Worker, MessageChannel } = this.threads;
    for (let id = 0; id < n; id++) {
      const { port1, port2 } = new MessageChannel();
      const init: WorkerInit = { id, source, length, port: port2, control: this.control, entry, tsx };
      const w = new Worker(BOOT, { eval: true, workerData: init, transferList: [port2] });
      this.failed.push(null);
      w.on("error", (e: Error) => (this.failed[id] = e.message));
      w.on("exit", (code) => (this.failed[id] ??= `exited with code ${code}`));
      w.unref();
      port1.unref();
      this.workers.push(w);
      this.ports.push(port1);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Starts an iteration: workers skip the tasks of earlier ones still queued. */
  begin(iter: number): void {
    Atomics.store(this.control, 1, iter);
  }

  send(task: Task): void {
    this.workers[task.batch % this.workers.length]!.postMessage(task);
  }

  /** Blocks until the worker that builds `batch` of iteration `iter` answers; earlier iterations' answers are dropped. */
  receive(iter: number, batch: number): PackedTensor[] {
    const w = batch % this.workers.length;
    const port = this.ports[w]!;
    for (;;) {
      const seen = Atomics.load(this.control, 0);
      const m = this.threads.receiveMessageOnPort(port)?.message as Reply | undefined;
      if (m !== undefined) {
        if (m.iter !== iter && m.iter !== -1) continue;
        if (m.error !== undefined || m.batch !== batch)
          throw new DescentError(
            `DataLoader: worker ${w} failed on batch ${batch}: ${m.error ?? `answered batch ${m.batch}`}`,
          );
        return m.fields!;
      }
      if (this.closed) throw new DescentError(`DataLoader: batch ${batch} was asked of a closed worker pool`);
      const gone = this.failed[w];
      if (gone != null) throw new DescentError(`DataLoader: worker ${w} failed on batch ${batch}: ${gone}`);
      Atomics.wait(this.control, 0, seen, WAIT_SLICE_MS);
    }
  }

  /** Terminates the workers (idempotent); the promise settles when they are gone. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const p of this.ports) p.close();
    return Promise.all(this.workers.map((w) => w.terminate())).then(() => undefined);
  }
}
