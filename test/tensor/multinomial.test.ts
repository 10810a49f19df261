// multinomial: the draw frequencies against the weights (with replacement, and the first two
// sequential draws without it, whose probabilities are computed exactly here), reproducibility
// through manualSeed and an explicit Generator, and the errors for weights no distribution has.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { DescentError, Generator, manualSeed, multinomial, rand, tensor } from "../../src/index.js";
import { defaultGenerator } from "../../src/core/random.js";

/** Asserts each observed frequency is within 5 standard errors of its probability. */
function assertFrequencies(counts: number[], probs: number[], n: number, what: string): void {
  probs.forEach((p, c) => {
    const se = Math.sqrt((p * (1 - p)) / n);
    const f = counts[c]! / n;
    assert.ok(Math.abs(f - p) <= 5 * se + 1e-12, `${what}: category ${c} frequency ${f}, expected ${p} ± ${5 * se}`);
  });
}

const W = [1, 2, 3, 4]; // weights, not normalised
const P = W.map((w) => w / 10);

describe("statistics", () => {
  test("with replacement: frequencies follow the weights, zero weights never drawn", () => {
    manualSeed(11);
    const n = 40000;
    const draws = multinomial(tensor([W, [0, 5, 0, 5]]), n, { replacement: true });
    assert.equal(draws.dtype, "int32");
    assert.deepEqual(draws.shape, [2, n]);
    const flat = draws.toFlatArray();
    const count = (row: number) => {
      const c = [0, 0, 0, 0];
      for (let i = 0; i < n; i++) c[flat[row * n + i]!]!++;
      return c;
    };
    assertFrequencies(count(0), P, n, "row 0");
    const c1 = count(1);
    assert.equal(c1[0]! + c1[2]!, 0, "a zero-weight category was drawn");
    assertFrequencies(c1, [0, 0.5, 0, 0.5], n, "row 1");
  });

  test("without replacement: first and second draws as sequential sampling, rows are distinct", () => {
    const g = new Generator(5);
    const trials = 20000;
    const rows = multinomial(tensor(W).reshape(1, 4).expand(trials, 4), 2, { generator: g }).toFlatArray();
    const first = [0, 0, 0, 0];
    const second = [0, 0, 0, 0];
    for (let t = 0; t < trials; t++) {
      assert.notEqual(rows[2 * t], rows[2 * t + 1], "a category was drawn twice");
      first[rows[2 * t]!]!++;
      second[rows[2 * t + 1]!]!++;
    }
    // P(second = j) = Σ_{i≠j} p_i · p_j / (1 - p_i)
    const p2 = P.map((pj, j) => P.reduce((s, pi, i) => (i === j ? s : s + (pi * pj) / (1 - pi)), 0));
    assertFrequencies(first, P, trials, "first draw");
    assertFrequencies(second, p2, trials, "second draw");
  });

  test("without replacement, numSamples = categories: every row is a permutation", () => {
    const draws = multinomial(rand([5, 6]).add(0.1), 6, { generator: new Generator(3) });
    for (const row of draws.toArray() as number[][]) assert.deepEqual([...row].sort(), [0, 1, 2, 3, 4, 5]);
    // more than 64 samples take the sorting path instead of the running selection
    const all = [...Array(100).keys()];
    const many = multinomial(rand([2, 100]).add(0.1), 100, { generator: new Generator(4) });
    for (const row of many.toArray() as number[][])
      assert.deepEqual(
        [...row].sort((a, b) => a - b),
        all,
      );
  });
});

describe("reproducibility", () => {
  test("manualSeed replays the same draws; another seed gives others", () => {
    const probs = tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    const draw = (seed: number, replacement: boolean) => {
      manualSeed(seed);
      return [...multinomial(probs, 6, { replacement }).toFlatArray()];
    };
    for (const r of [true, false]) {
      assert.deepEqual(draw(3, r), draw(3, r));
      assert.notDeepEqual(draw(3, r), draw(4, r));
    }
  });
  test("an explicit generator is used and the default one is left alone", () => {
    const probs = tensor([[1, 1, 1, 1, 1, 1, 1, 1]], { dtype: "float64" });
    const before = defaultGenerator.getState();
    const a = multinomial(probs, 5, { generator: new Generator(9) }).toFlatArray();
    const b = multinomial(probs, 5, { generator: new Generator(9) }).toFlatArray();
    assert.deepEqual([...a], [...b]);
    assert.deepEqual(defaultGenerator.getState(), before);
  });
});

function throwsDescent(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DescentError, `expected a DescentError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

describe("errors", () => {
  test("weights that are no distribution", () => {
    throwsDescent(() => multinomial(tensor([0.5, -0.1, 0.6]), 1), /multinomial/, /-0.1/, /category 1/, /\[3\]/);
    throwsDescent(
      () =>
        multinomial(
          tensor([
            [1, 1],
            [NaN, 1],
          ]),
          1,
        ),
      /multinomial/,
      /NaN/,
      /row 1/,
      /\[2,2\]/,
    );
    throwsDescent(() => multinomial(tensor([Infinity, 1]), 1), /multinomial/, /Infinity/);
    throwsDescent(
      () =>
        multinomial(
          tensor([
            [1, 2],
            [0, 0],
          ]),
          1,
        ),
      /multinomial/,
      /row 1/,
      /sums to 0/,
    );
  });
  test("too many samples without replacement", () => {
    throwsDescent(() => multinomial(tensor([1, 2, 3]), 4), /multinomial/, /4 samples/, /3 categories/, /replacement/);
    throwsDescent(() => multinomial(tensor([1, 0, 3]), 3), /multinomial/, /2 non-zero categories/);
    assert.deepEqual(multinomial(tensor([1, 2, 3]), 4, { replacement: true }).shape, [4]);
  });
  test("shapes, dtypes and numSamples", () => {
    throwsDescent(() => multinomial(tensor([[[1]]]), 1), /multinomial/, /1-D or 2-D/, /\[1,1,1\]/);
    throwsDescent(() => multinomial(tensor([1, 2], { dtype: "int32" }), 1), /multinomial/, /int32/);
    throwsDescent(() => multinomial(tensor([1, 2]), 0), /multinomial/, /numSamples/);
    throwsDescent(() => multinomial(tensor([1, 2]), 1.5), /multinomial/, /1.5/);
  });
  test("a refused call does not advance the generator", () => {
    const g = new Generator(1);
    const before = g.getState();
    assert.throws(() =>
      multinomial(
        tensor([
          [1, 1],
          [0, -1],
        ]),
        1,
        { generator: g },
      ),
    );
    assert.deepEqual(g.getState(), before);
  });
});
