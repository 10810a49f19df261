// TensorDataset and DataLoader: batch sizes, dropLast and the last partial batch, shuffling that
// covers every index once per epoch, determinism under manualSeed and a given generator, the
// generic (stacking) path for other datasets, and errors.

import { test } from "node:test";
import assert from "node:assert/strict";

import { arange, manualSeed, tensor, DescentError, Generator, defaultGenerator, type Tensor } from "../../src/index.js";
import { TensorDataset, type Dataset } from "../../src/data/dataset.js";
import { DataLoader } from "../../src/data/loader.js";

function ds(n: number): TensorDataset {
  const x = arange(0, n * 2)
    .reshape(n, 2)
    .float();
  const y = arange(0, n).int();
  return new TensorDataset(x, y);
}

/** The y values (example indices) of every batch of one epoch. */
function epoch(loader: DataLoader): number[][] {
  return [...loader].map((b) => Array.from(b[1]!.toFlatArray()));
}

test("TensorDataset: length, get, negative index, errors", () => {
  const d = ds(5);
  assert.equal(d.length, 5);
  const [x, y] = d.get(2);
  assert.deepEqual(x!.toArray(), [4, 5]);
  assert.equal(y!.item(), 2);
  assert.equal(d.get(-1)[1]!.item(), 4);
  assert.throws(() => d.get(5), /TensorDataset.get: index 5 is out of range for a dataset of 5/);
  assert.throws(() => d.get(1.5), DescentError);
  assert.throws(() => new TensorDataset(), /at least one tensor/);
  assert.throws(() => new TensorDataset(tensor([1, 2, 3]), tensor([1, 2])), /same size in dim 0.*\[3\].*\[2\]/);
  assert.throws(() => new TensorDataset(tensor(1)), /0-d/);
});

test("DataLoader: sequential batches, last partial batch, dropLast, length", () => {
  const l = new DataLoader(ds(10), { batchSize: 4 });
  assert.equal(l.length, 3);
  assert.deepEqual(epoch(l), [
    [0, 1, 2, 3],
    [4, 5, 6, 7],
    [8, 9],
  ]);
  const batches = [...l];
  assert.deepEqual(batches[2]![0]!.shape, [2, 2]);
  assert.deepEqual(batches[2]![0]!.toArray(), [
    [16, 17],
    [18, 19],
  ]);
  assert.equal(batches[0]![1]!.dtype, "int32");
  const d = new DataLoader(ds(10), { batchSize: 4, dropLast: true });
  assert.equal(d.length, 2);
  assert.deepEqual(epoch(d), [
    [0, 1, 2, 3],
    [4, 5, 6, 7],
  ]);
  assert.equal(new DataLoader(ds(8), { batchSize: 4, dropLast: true }).length, 2);
  assert.equal(new DataLoader(ds(3), { batchSize: 4, dropLast: true }).length, 0);
  assert.deepEqual(epoch(new DataLoader(ds(3), { batchSize: 4, dropLast: true })), []);
  assert.equal(new DataLoader(ds(3)).length, 3); // batchSize defaults to 1
  assert.deepEqual(epoch(new DataLoader(ds(0), { batchSize: 2 })), []);
});

test("DataLoader: batches are copies, not views of the dataset", () => {
  const d = ds(4);
  const [x] = [...new DataLoader(d, { batchSize: 2 })][0]!;
  x!.data[0] = 99;
  assert.equal(d.tensors[0]!.data[0], 0);
});

test("DataLoader: shuffling covers every index once per epoch, and epochs differ", () => {
  manualSeed(3);
  const l = new DataLoader(ds(23), { batchSize: 5, shuffle: true });
  const orders: string[] = [];
  for (let e = 0; e < 4; e++) {
    const seen = epoch(l).flat();
    assert.equal(seen.length, 23);
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      Array.from({ length: 23 }, (_, i) => i),
    );
    orders.push(seen.join(","));
  }
  assert.equal(new Set(orders).size, 4, "each epoch draws a new order");
  assert.notEqual(orders[0], Array.from({ length: 23 }, (_, i) => i).join(","));
});

test("DataLoader: manualSeed makes the order reproducible; a given generator is used instead", () => {
  const run = (): number[][][] => {
    const l = new DataLoader(ds(17), { batchSize: 4, shuffle: true, dropLast: true });
    return [epoch(l), epoch(l)];
  };
  manualSeed(42);
  const a = run();
  manualSeed(42);
  const b = run();
  assert.deepEqual(a, b);
  assert.equal(a[0]!.length, 4);
  manualSeed(43);
  assert.notDeepEqual(run(), a);

  const g1 = new Generator(7);
  const g2 = new Generator(7);
  manualSeed(1);
  const x = epoch(new DataLoader(ds(12), { batchSize: 3, shuffle: true, generator: g1 }));
  manualSeed(2); // the default generator does not matter now
  const y = epoch(new DataLoader(ds(12), { batchSize: 3, shuffle: true, generator: g2 }));
  assert.deepEqual(x, y);
});

test("DataLoader: the order is drawn when an iteration starts, so a restored generator state repeats it", () => {
  manualSeed(5);
  const l = new DataLoader(ds(9), { batchSize: 2, shuffle: true });
  epoch(l);
  const state = defaultGenerator.getState();
  const first = epoch(l);
  defaultGenerator.setState(state);
  assert.deepEqual(epoch(l), first);
});

test("DataLoader: a generic dataset is stacked example by example", () => {
  const squares: Dataset = {
    length: 5,
    get: (i: number): Tensor[] => [tensor([i, i * i]), tensor(i % 2, { dtype: "int32" })],
  };
  const batches = [...new DataLoader(squares, { batchSize: 2 })];
  assert.equal(batches.length, 3);
  assert.deepEqual(batches[1]![0]!.toArray(), [
    [2, 4],
    [3, 9],
  ]);
  assert.deepEqual(batches[2]![1]!.shape, [1]);
  const ragged: Dataset = { length: 2, get: (i: number): Tensor[] => [tensor(i === 0 ? [1, 2] : [1, 2, 3])] };
  assert.throws(() => [...new DataLoader(ragged, { batchSize: 2 })], /DataLoader: cannot stack field 0/);
  const uneven: Dataset = { length: 2, get: (i: number): Tensor[] => (i === 0 ? [tensor(1)] : [tensor(1), tensor(2)]) };
  assert.throws(() => [...new DataLoader(uneven, { batchSize: 2 })], /dataset.get\(1\) returned 2 item/);
});

test("DataLoader: bad options", () => {
  assert.throws(() => new DataLoader(ds(3), { batchSize: 0 }), /batchSize must be a positive integer, got 0/);
  assert.throws(() => new DataLoader(ds(3), { batchSize: 1.5 }), DescentError);
  assert.throws(() => new DataLoader(null as unknown as Dataset), /expected a dataset/);
});
