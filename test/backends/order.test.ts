// The order kernels (sort, scan) of every available backend against plain references written
// here: sort against Array.prototype.sort with a NaN-last comparator and the index as tie-break,
// scan against a running loop. Inputs are transposed, offset, stepped and stride-0 views holding
// ties, ±0, ±Inf, NaN and denormals, in float32, float64 and int32; each row is long enough (300)
// to exercise every byte pass of the radix sort. Outputs are strided views too.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { allocArray, type DType } from "../../src/core/dtype.js";
import { Generator } from "../../src/core/random.js";
import { availableBackends, backend, setBackend } from "../../src/backends/index.js";
import type { View } from "../../src/backends/backend.js";
import { viewMaker, type Layout } from "../helpers/views.js";

const gen = new Generator(21);
const makeView = viewMaker(gen);
const SPECIAL = [0, -0, Infinity, -Infinity, NaN, 5e-324, -5e-324, 1e-40, 3.4e38, -1, 1, 0.5];

function draw(dtype: DType): () => number {
  if (dtype === "int32") return () => [0, -1, 2147483647, -2147483648, 7][gen.randint(5)]! + gen.randint(3);
  return () => (gen.uniform() < 0.4 ? SPECIAL[gen.randint(SPECIAL.length)]! : Math.round(gen.normal() * 4) / 4);
}

/** The value at multi-index idx of a view. */
function at(v: View, idx: readonly number[]): number {
  let p = v.offset;
  idx.forEach((k, d) => (p += k * v.strides[d]!));
  return (v.data as ArrayLike<number>)[p]!;
}

/** Every multi-index of shape with dim fixed at 0 (one per row along dim). */
function rowStarts(shape: readonly number[], dim: number): number[][] {
  let out: number[][] = [[]];
  shape.forEach((n, d) => {
    const r = d === dim ? [0] : [...Array(n).keys()];
    out = out.flatMap((p) => r.map((k) => [...p, k]));
  });
  return out;
}

/** A strided output view: stored transposed so the kernel's writes go through strides. */
function outView(dtype: DType, shape: readonly number[]): View {
  const v = makeView(dtype, shape, { transpose: shape.length > 1, offset: 3 });
  (v.data as { fill(x: number): void }).fill(dtype === "int32" ? -7 : NaN);
  return v;
}

const LAYOUTS: [string, Layout][] = [
  ["contiguous", {}],
  ["transposed", { transpose: true, offset: 2 }],
  ["stepped", { step: 2, offset: 1 }],
  ["broadcast", { broadcast: [0] }],
];
const DTYPES: DType[] = ["float32", "float64", "int32"];

for (const name of availableBackends()) {
  describe(`${name} backend`, () => {
    test("sort: the permutation of a NaN-last stable comparator sort, both directions", () => {
      setBackend(name);
      const k = backend().kernels;
      for (const dtype of DTYPES)
        for (const [lname, layout] of LAYOUTS)
          for (const [shape, dim] of [
            [[3, 300], 1],
            [[300, 2], 0],
            [[2, 3, 5], 1],
          ] as [number[], number][])
            for (const descending of [false, true]) {
              const x = makeView(dtype, shape, layout, draw(dtype));
              const out = outView("int32", shape);
              k.sort(x, dim, descending, out);
              for (const start of rowStarts(shape, dim)) {
                const idx = (i: number) => start.map((s, d) => (d === dim ? i : s));
                const vals = [...Array(shape[dim]).keys()].map((i) => at(x, idx(i)));
                const key = (v: number) => (v !== v ? Infinity : v); // NaN after +Inf
                const rank = (a: number, b: number) =>
                  vals[a] !== vals[a] && vals[b] !== vals[b]
                    ? 0
                    : vals[a] !== vals[a]
                      ? 1
                      : vals[b] !== vals[b]
                        ? -1
                        : key(vals[a]!) - key(vals[b]!);
                const want = [...vals.keys()].sort((a, b) => (descending ? -rank(a, b) : rank(a, b)) || a - b);
                const got = want.map((_, i) => at(out, idx(i)));
                assert.deepEqual(got, want, `${dtype} ${lname} ${shape} dim ${dim} descending ${descending}`);
              }
            }
    });

    test("scan: running sum and product along each dim", () => {
      setBackend(name);
      const k = backend().kernels;
      for (const dtype of DTYPES)
        for (const [lname, layout] of LAYOUTS)
          for (const op of ["sum", "prod"] as const)
            for (const dim of [0, 1]) {
              const shape = [4, 6];
              const x = makeView(dtype, shape, layout, () => (dtype === "int32" ? gen.randint(7) - 3 : gen.normal()));
              const out = outView(dtype, shape);
              k.scan(op, x, dim, out);
              const ref = allocArray(dtype, 1);
              for (const start of rowStarts(shape, dim)) {
                let acc = op === "sum" ? 0 : 1;
                for (let i = 0; i < shape[dim]!; i++) {
                  const p = start.map((s, d) => (d === dim ? i : s));
                  const v = at(x, p);
                  acc =
                    dtype === "int32"
                      ? op === "sum"
                        ? (acc + v) | 0
                        : Math.imul(acc, v)
                      : op === "sum"
                        ? acc + v
                        : acc * v;
                  ref[0] = acc; // rounded to the output dtype, as stored
                  assert.equal(at(out, p), ref[0], `${dtype} ${lname} ${op} dim ${dim} at [${p}]`);
                }
              }
            }
    });
  });
}
