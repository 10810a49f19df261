// DataLoader with numWorkers > 0 (issue 17 item 6): worker threads build the batches, while the
// order stays the main thread's. The reference for every batch is the same loader with
// numWorkers 0 (or, for random transforms, with another number of workers), run from the same seed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DescentError, fit, fitAsync, manualSeed, randn, randint, type Tensor } from "../../src/index.js";
import { Linear } from "../../src/nn/layers/linear.js";
import { CrossEntropyLoss } from "../../src/nn/layers/loss.js";
import { SGD } from "../../src/optim/sgd.js";
import { DataLoader, TensorDataset, type DataLoaderOptions } from "../../src/data/index.js";
import { NoisyDataset } from "./worker_dataset.js";

const noisy = { module: fileURLToPath(new URL("./worker_dataset.ts", import.meta.url)), export: "NoisyDataset" };
const flat = (bs: Iterable<Tensor[]>) => [...bs].map((b) => b.map((t) => [t.dtype, t.shape, [...t.toFlatArray()]]));

function data(seed = 1) {
  manualSeed(seed);
  return new TensorDataset(randn([37, 3]), randint(0, 4, [37]));
}

test("the batches are those of numWorkers 0, epoch after epoch (shuffled, persistent workers)", async () => {
  const ds = data();
  const opts: DataLoaderOptions = { batchSize: 5, shuffle: true };
  manualSeed(7);
  const want = [flat(new DataLoader(ds, opts)), flat(new DataLoader(ds, opts))];
  manualSeed(7);
  const loader = new DataLoader(ds, { ...opts, numWorkers: 2, persistentWorkers: true, prefetchFactor: 3 });
  try {
    assert.deepEqual([flat(loader), flat(loader)], want);
  } finally {
    await loader.close();
  }
});

test("random transforms: the same batches for 1 and 2 workers, and a mid-epoch resume gives the rest exactly", async () => {
  const run = (numWorkers: number, persistentWorkers = false) =>
    new DataLoader(new NoisyDataset(23), {
      batchSize: 4,
      shuffle: true,
      numWorkers,
      persistentWorkers,
      workerDataset: { ...noisy, args: [23] },
    });
  manualSeed(5);
  const one = flat(run(1));
  manualSeed(5);
  const two = run(2, true);
  try {
    const it = two[Symbol.iterator]();
    const head = [it.next().value!, it.next().value!, it.next().value!];
    const st = two.stateDict();
    // The abandoned iteration's prefetched batches are dropped; the default generator moves on meanwhile.
    it.return!();
    manualSeed(99);
    two.loadStateDict(st);
    assert.deepEqual([...flat(head), ...flat(two)], one);
  } finally {
    await two.close();
  }
  // The noise is the workers' (numWorkers 0 draws it from the main thread's generator instead).
  manualSeed(5);
  assert.notDeepEqual(flat(run(0)), one);
});

test("a mid-epoch resume with workers continues the order of a numWorkers 0 loader", () => {
  const ds = data(2);
  manualSeed(11);
  const want = flat(new DataLoader(ds, { batchSize: 4, shuffle: true }));
  manualSeed(11);
  const first = new DataLoader(ds, { batchSize: 4, shuffle: true });
  const it = first[Symbol.iterator]();
  const head = [it.next().value!, it.next().value!, it.next().value!];
  const resumed = new DataLoader(ds, { batchSize: 4, shuffle: true, numWorkers: 1 });
  resumed.loadStateDict(first.stateDict());
  assert.deepEqual([...flat(head), ...flat(resumed)], want);
  assert.equal(resumed.stateDict().started, false);
});

test("fit and fitAsync train with workers exactly as without", async () => {
  const ds = data(3);
  // One persistent pool serves both runs (starting workers is the slow part of this test).
  const workers = new DataLoader(ds, { batchSize: 6, shuffle: true, numWorkers: 1, persistentWorkers: true });
  const train = async (loader: DataLoader, useAsync: boolean) => {
    manualSeed(4);
    const model = new Linear(3, 4);
    const opts = {
      train: loader,
      optimizer: new SGD(model.parameters(), { lr: 0.1 }),
      loss: new CrossEntropyLoss(),
      log: "silent" as const,
      epochs: 2,
    };
    const h = useAsync ? await fitAsync(model, opts) : fit(model, opts);
    return [h.loss, [...model.weight.toFlatArray()]];
  };
  try {
    const want = await train(new DataLoader(ds, { batchSize: 6, shuffle: true }), false);
    assert.deepEqual(await train(workers, false), want);
    assert.deepEqual(await train(workers, true), want);
  } finally {
    await workers.close();
  }
});

test("an error in a worker names the worker, the batch and the original message", async () => {
  const loader = new DataLoader(new NoisyDataset(12, 7), {
    batchSize: 2,
    numWorkers: 2,
    workerDataset: { ...noisy, args: [12, 7] },
  });
  // Example 7 is in batch 3, which worker 3 % 2 = 1 builds.
  assert.throws(
    () => flat(loader),
    (e: Error) => e instanceof DescentError && /worker 1 failed on batch 3: boom at example 7/.test(e.message),
  );
  const missing = new DataLoader(new NoisyDataset(12), {
    numWorkers: 1,
    persistentWorkers: true,
    workerDataset: { ...noisy, export: "Nope", args: [12] },
  });
  // Persistent workers whose dataset failed are not kept: the next iteration fails again instead of waiting forever.
  for (let epoch = 0; epoch < 2; epoch++)
    assert.throws(() => flat(missing), /worker 0 failed on batch 0: cannot build the dataset: .*no export "Nope"/);
});

test("options are checked when the loader is made", () => {
  const ds = data();
  assert.throws(() => new DataLoader(ds, { numWorkers: -1 }), /numWorkers must be a non-negative integer, got -1/);
  assert.throws(
    () => new DataLoader(ds, { numWorkers: 1, prefetchFactor: 0 }),
    /prefetchFactor must be a positive integer, got 0/,
  );
  assert.throws(() => new DataLoader(ds, { persistentWorkers: true }), /persistentWorkers needs numWorkers > 0/);
  assert.throws(
    () => new DataLoader(new NoisyDataset(3), { numWorkers: 1 }),
    /numWorkers > 0 needs a dataset a worker can rebuild.*NoisyDataset/,
  );
});

test("the process exits with persistent workers left mid-iteration and no close()", async () => {
  const child = fileURLToPath(new URL("./worker_exit_child.ts", import.meta.url));
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ["--import", "tsx", child], { timeout: 30_000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
  assert.equal(out, "got 4x4\n");
});
