// DistributedSampler: PyTorch's index lists without shuffle (test/fixtures/distributed.json, from
// scripts/fixtures_distributed.py), the structure of shuffled ones, setEpoch, and the
// DataLoader's sampler option. Pure logic: no MPI needed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { data, DescentError, arange } from "../../src/index.js";

interface Case {
  n: number;
  numReplicas: number;
  rank: number;
  dropLast: boolean;
  indices: number[];
  length: number;
}
const fixture = JSON.parse(readFileSync(new URL("../fixtures/distributed.json", import.meta.url), "utf8")) as {
  unshuffled: Case[];
};

test("DistributedSampler without shuffle gives PyTorch's indices (padding, dropLast, stride)", () => {
  for (const c of fixture.unshuffled) {
    const s = new data.DistributedSampler(
      { length: c.n },
      { numReplicas: c.numReplicas, rank: c.rank, shuffle: false, dropLast: c.dropLast },
    );
    const name = `n=${c.n} replicas=${c.numReplicas} rank=${c.rank} dropLast=${c.dropLast}`;
    assert.deepEqual([...s], c.indices, name);
    assert.equal(s.length, c.length, name);
  }
});

test("DistributedSampler with shuffle: ranks share one permutation per epoch", () => {
  for (const [n, replicas, dropLast] of [
    [10, 3, false],
    [10, 3, true],
    [12, 4, false],
    [2, 5, false],
  ] as const) {
    const ranks = (epoch: number) =>
      Array.from({ length: replicas }, (_, rank) => {
        const s = new data.DistributedSampler({ length: n }, { numReplicas: replicas, rank, seed: 5, dropLast });
        s.setEpoch(epoch);
        return [...s];
      });
    const e0 = ranks(0);
    const all = e0.flat();
    // Every rank the same count; without dropLast every index is visited, padding repeats some.
    assert.ok(e0.every((r) => r.length === e0[0]!.length));
    if (!dropLast)
      assert.deepEqual(
        [...new Set(all)].sort((a, b) => a - b),
        [...Array(n).keys()],
      );
    else assert.equal(new Set(all).size, all.length);
    assert.deepEqual(ranks(0), e0, "the same epoch gives the same order");
    if (n > 3) assert.notDeepEqual(ranks(1), e0, "another epoch gives another order");
  }
});

test("DistributedSampler refuses bad options with the value", () => {
  assert.throws(
    () => new data.DistributedSampler({ length: 4 }, { numReplicas: 2, rank: 2 }),
    /rank must be an integer from 0 to 1, got 2/,
  );
  assert.throws(() => new data.DistributedSampler({ length: 4 }, { numReplicas: 0, rank: 0 }), DescentError);
  assert.throws(
    () => new data.DistributedSampler({ length: 4 }),
    /pass numReplicas and rank, or call distributed\.init\(\) first/,
  );
  const s = new data.DistributedSampler({ length: 4 }, { numReplicas: 2, rank: 0 });
  assert.throws(() => s.setEpoch(-1), /epoch must be a non-negative integer, got -1/);
});

test("DataLoader takes a sampler: its indices, in order, in batches", () => {
  const ds = new data.TensorDataset(arange(10));
  const sampler = new data.DistributedSampler(ds, { numReplicas: 3, rank: 1, shuffle: false });
  const loader = new data.DataLoader(ds, { batchSize: 2, sampler });
  assert.equal(loader.length, 2);
  assert.deepEqual(
    [...loader].map(([x]) => Array.from(x!.toFlatArray())),
    [
      [1, 4],
      [7, 0],
    ],
  );
  assert.throws(() => new data.DataLoader(ds, { sampler, shuffle: true }), /sampler and shuffle exclude each other/);
  const bad = {
    length: 1,
    *[Symbol.iterator]() {
      yield 10;
    },
  };
  assert.throws(
    () => [...new data.DataLoader(ds, { sampler: bad })],
    /the sampler gave index 10 for a dataset of 10 examples/,
  );
});

test("a mid-epoch loader state resumes only under the same number of ranks; an epoch-end one under any", () => {
  const ds = new data.TensorDataset(arange(24));
  const under = (n: number) =>
    new data.DataLoader(ds, {
      batchSize: 2,
      sampler: new data.DistributedSampler(ds, { numReplicas: n, rank: 0, shuffle: false }),
    });
  const two = under(2);
  const it = two[Symbol.iterator]();
  it.next();
  const mid = two.stateDict();
  assert.equal(mid.replicas, 2);
  under(2).loadStateDict(mid);
  assert.throws(
    () => under(3).loadStateDict(mid),
    (e: unknown) =>
      e instanceof DescentError && /interrupted under 2 rank\(s\).*splits the data over 3/.test(e.message),
  );
  assert.throws(() => new data.DataLoader(ds, { batchSize: 2 }).loadStateDict(mid), /interrupted under 2 rank/);
  while (!it.next().done);
  under(3).loadStateDict(two.stateDict());
  const single = new data.DataLoader(ds, { batchSize: 2 });
  single[Symbol.iterator]().next();
  assert.equal(single.stateDict().replicas, undefined);
});
