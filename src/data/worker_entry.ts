// The body of a DataLoader worker thread (see workers.ts): rebuilds the dataset once (from the
// shared tensors of a TensorDataset, or by importing the user's module), then for every task
// seeds the default generator with the batch's seed, builds the batch and posts it, transferring
// its buffers. Every failure is posted as an answer, so the main thread never waits on a batch
// that will not come.

import { parentPort, workerData } from "node:worker_threads";
import { manualSeed } from "../core/random.js";
import { fromHost } from "../tensor/tensor.js";
import { TensorDataset, type Dataset } from "./dataset.js";
import { gather, pack } from "./collate.js";
import type { Reply, Task, WorkerInit } from "./workers.js";

const init = workerData as WorkerInit;
const { port, control } = init;

function answer(reply: Reply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(reply, transfer);
  // After the post, so a main thread woken by the counter finds the message.
  Atomics.add(control, 0, 1);
  Atomics.notify(control, 0);
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function load(): Promise<Dataset> {
  const src = init.source;
  let ds: Dataset;
  if (src.kind === "tensors") {
    ds = new TensorDataset(...src.tensors.map((p) => fromHost(p.values, p.shape)));
  } else {
    const mod = (await import(src.url)) as Record<string, unknown>;
    const Ctor = mod[src.name];
    if (typeof Ctor !== "function") throw new Error(`${src.url} has no export "${src.name}" that is a class`);
    ds = new (Ctor as new (...a: unknown[]) => Dataset)(...src.args);
  }
  if (ds.length !== init.length)
    throw new Error(`the dataset built in the worker has ${ds.length} examples, the main thread's ${init.length}`);
  return ds;
}

const ready = load();
// A failed load answers once; the tasks that follow find the same rejection and stay silent.
ready.catch((e: unknown) => answer({ iter: -1, batch: -1, error: `cannot build the dataset: ${message(e)}` }));

parentPort!.on("message", (task: Task) => {
  void ready.then(
    (ds) => {
      // A task of an abandoned iteration is skipped: nobody reads its answer.
      if (task.iter !== Atomics.load(control, 1)) return;
      try {
        manualSeed(task.seed);
        const { packed, transfer } = pack(gather(ds, task.indices));
        answer({ iter: task.iter, batch: task.batch, fields: packed }, transfer);
      } catch (e) {
        answer({ iter: task.iter, batch: task.batch, error: message(e) });
      }
    },
    () => undefined,
  );
});

process.on("uncaughtException", (e) => answer({ iter: -1, batch: -1, error: message(e) }));
