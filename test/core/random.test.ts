// The seeded generator's stream (issue 15). The values in test/fixtures/rng_stream.json were drawn
// by the generator before bulk fills replaced its per-element draws (scripts/make_rng_pins.ts):
// tests, fixtures, checkpoints and resumed runs depend on them, so every step must agree bit for
// bit. Beside that, the bulk fills are checked against the one-at-a-time methods (uniform, normal,
// randint) over many seeds, lengths, dtypes and Box-Muller spare states.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { Generator } from "../../src/index.js";
import { bulkDrawsInWasm } from "../../src/core/random.js";
import type { TypedArray } from "../../src/core/dtype.js";
import { FIXTURE_DIR } from "../helpers/checkOp.js";
import { rngPinCases, type Step } from "../helpers/rng_pins.js";

const pinned = JSON.parse(readFileSync(join(FIXTURE_DIR, "rng_stream.json"), "utf8")) as {
  cases: Record<string, Step[]>;
};

test("rand, randn, randint, init and Linear draw the pinned stream, bit for bit", () => {
  const now = rngPinCases();
  assert.deepEqual(Object.keys(now), Object.keys(pinned.cases));
  for (const [name, steps] of Object.entries(pinned.cases)) {
    const got = now[name]!;
    assert.equal(got.length, steps.length, name);
    // JSON round trip: the fixture holds JSON numbers, which are exact for float32 and float64.
    steps.forEach((want, i) => assert.deepEqual(JSON.parse(JSON.stringify(got[i])), want, `${name}: ${want[0]}`));
  }
});

const makers: Record<string, (n: number) => TypedArray> = {
  float32: (n) => new Float32Array(n),
  float64: (n) => new Float64Array(n),
  int32: (n) => new Int32Array(n),
};

/** Two generators in the same state, the second with a Box-Muller spare when `spare`. */
function twins(seed: number, spare: boolean): [Generator, Generator] {
  const a = new Generator(seed);
  if (spare) a.normal();
  const b = new Generator();
  b.setState(a.getState());
  return [a, b];
}

test("fillUniform, fillNormal and fillRandint equal the one-at-a-time draws", () => {
  assert.ok(bulkDrawsInWasm(), "Node has WebAssembly: large fills must not fall back to one draw at a time");
  for (const [dtype, make] of Object.entries(makers)) {
    // Below 32 one draw at a time, above in WebAssembly; 8192 values a call, so 20001 takes three.
    for (const n of [0, 1, 2, 3, 31, 32, 33, 1000, 8193, 20001]) {
      for (const spare of [false, true]) {
        const seed = n * 7 + (spare ? 1 : 0);
        const cases: [string, (g: Generator, out: TypedArray) => void, (g: Generator) => number][] = [
          ["uniform", (g, o) => g.fillUniform(o), (g) => g.uniform()],
          ["uniform affine", (g, o) => g.fillUniform(o, 2.5, -1), (g) => g.uniform() * 2.5 + -1],
          ["normal", (g, o) => g.fillNormal(o), (g) => g.normal()],
          ["normal affine", (g, o) => g.fillNormal(o, 3, 0.5), (g) => g.normal() * 3 + 0.5],
          // mean 0, std 1 through the affine path turns a -0 into +0, as normal() * 1 + 0 does.
          ["normal 0, 1", (g, o) => g.fillNormal(o, 1, 0), (g) => g.normal() * 1 + 0],
          ["randint", (g, o) => g.fillRandint(o, -4, 11), (g) => -4 + g.randint(11)],
          ["randint 2^31-1", (g, o) => g.fillRandint(o, 0, 2147483647), (g) => g.randint(2147483647)],
        ];
        for (const [what, fill, one] of cases) {
          const [a, b] = twins(seed, spare);
          const bulk = make(n);
          fill(a, bulk);
          const single = make(n);
          for (let i = 0; i < n; i++) single[i] = one(b);
          const where = `${what} ${dtype} n=${n} spare=${spare}`;
          assert.deepEqual(bulk, single, where);
          assert.deepEqual(a.getState(), b.getState(), where);
          // The streams go on together: a scalar draw after the fill sees the same state and spare.
          assert.equal(a.normal(), b.normal(), where);
        }
      }
    }
  }
});

test("fillNormal keeps the sign of a zero deviate when no mean and std are given", () => {
  // normal() is -0 only when its uniform is exactly 0 (probability 2^-53), so the sign rule is
  // checked on the spare path: a spare of -0 must reach the array as -0, as randn stored it.
  const g = new Generator(1);
  g.setState({ ...g.getState(), spare: -0 });
  const out = new Float32Array(1);
  g.fillNormal(out);
  assert.ok(Object.is(out[0], -0));
  g.setState({ ...g.getState(), spare: -0 });
  g.fillNormal(out, 1, 0);
  assert.ok(Object.is(out[0], 0));
});
