// Order and rearrangement ops of issue 13 (sort, argsort, topk, cumsum, cumprod, flip, roll, repeat,
// tril, triu, chunk, split, nn.functional.oneHot): PyTorch parity from test/fixtures/ops_a.json (made
// by scripts/fixtures_ops_a.py under PyTorch 1.13; float32 and float64, with transposed and stepped
// inputs), float64 gradient checks, view/copy semantics, and the errors for bad arguments.
// Tolerances are checkOp's dtype defaults (float64 rtol 1e-10/atol 1e-12, float32 rtol 1e-5/atol 1e-6, int32 exact).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { DescentError, nn, tensor, type Tensor } from "../../src/index.js";
import { compare, describeComparison } from "../helpers/allclose.js";
import {
  defaultTolerance,
  loadFixtures,
  toTensor,
  type FixtureInput,
  type FixtureStep,
  type FixtureTensor,
} from "../helpers/checkOp.js";
import { distinctTensor, dtensor, gradcheck } from "../helpers/gradcheck.js";

interface Args {
  dim?: number;
  dims?: number | number[];
  descending?: boolean;
  stable?: boolean;
  k?: number;
  largest?: boolean;
  sorted?: boolean;
  shifts?: number | number[];
  sizes?: number[];
  diagonal?: number;
  chunks?: number;
  size?: number | number[];
  numClasses?: number;
  dim0?: number;
  dim1?: number;
  step?: number;
}

interface OpsCase {
  name: string;
  op: string;
  args: Args;
  inputs: FixtureInput[];
  outputs: FixtureTensor[];
  upstreams?: (FixtureTensor | null)[];
  grads?: (FixtureTensor | null)[];
  valuesOnly?: boolean;
}

const OPS: Record<string, (x: Tensor, a: Args) => Tensor[]> = {
  sort: (x, a) => x.sort({ dim: a.dim, descending: a.descending, stable: a.stable }),
  argsort: (x, a) => [x.argsort({ dim: a.dim, descending: a.descending })],
  topk: (x, a) => x.topk(a.k!, { dim: a.dim, largest: a.largest, sorted: a.sorted }),
  cumsum: (x, a) => [x.cumsum(a.dim!)],
  cumprod: (x, a) => [x.cumprod(a.dim!)],
  flip: (x, a) => [x.flip(a.dims!)],
  roll: (x, a) => [x.roll(a.shifts!, a.dims as number | number[] | undefined)],
  repeat: (x, a) => [x.repeat(...a.sizes!)],
  tril: (x, a) => [x.tril(a.diagonal)],
  triu: (x, a) => [x.triu(a.diagonal)],
  chunk: (x, a) => x.chunk(a.chunks!, a.dim),
  split: (x, a) => x.split(a.size!, a.dim),
  oneHot: (x, a) => [nn.functional.oneHot(x, a.numClasses)],
};

const VIEWS: Record<string, (x: Tensor, a: Args) => Tensor> = {
  transpose: (x, a) => x.transpose(a.dim0!, a.dim1!),
  slice: (x, a) => x.slice(a.dim!, undefined, undefined, a.step),
};

function check(what: string, actual: Tensor | null, expected: FixtureTensor): void {
  assert.ok(actual, `${what}: missing`);
  assert.deepEqual([...actual.shape], expected.shape, `${what}: shape`);
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  const tol = defaultTolerance(expected.dtype);
  const c = compare(actual.toFlatArray(), expected.values, tol, expected.shape);
  assert.ok(c.ok, `${what}: ${describeComparison(c, expected.values.length)}`);
}

function replay(c: OpsCase): void {
  const leaves = c.inputs.map((x) => toTensor(x, x.requiresGrad));
  const xs = leaves.map((t, i) =>
    (c.inputs[i]!.view ?? []).reduce((v: Tensor, s: FixtureStep) => VIEWS[s.op]!(v, s.args as Args), t),
  );
  const f = OPS[c.op];
  assert.ok(f, `no mapping for op ${c.op}`);
  const outs = f(xs[0]!, c.args);
  assert.equal(outs.length, c.outputs.length, `${c.name}: number of outputs`);
  if (c.valuesOnly) {
    // PyTorch's order among ties is unspecified: compare the values; the indices must select them.
    check(`${c.name}: values`, outs[0]!, c.outputs[0]!);
    check(`${c.name}: values at the indices`, xs[0]!.gather(c.args.dim ?? -1, outs[1]!), c.outputs[0]!);
    return;
  }
  outs.forEach((o, i) => check(`${c.name}: output ${i}`, o, c.outputs[i]!));
  if (!c.upstreams || !c.grads) return;
  const terms = outs.flatMap((o, i) => (c.upstreams![i] ? [o.mul(toTensor(c.upstreams![i]!)).sum()] : []));
  terms.reduce((a, b) => a.add(b)).backward();
  c.grads.forEach((g, i) => g && check(`${c.name}: grad of input ${i}`, leaves[i]!.grad, g));
}

describe("PyTorch fixtures (ops_a.json)", () => {
  const { cases } = loadFixtures("ops_a.json") as unknown as { cases: OpsCase[] };
  for (const c of cases) test(c.name, () => replay(c));
  test("every op has a case", () => {
    const seen = new Set(cases.map((c) => c.op));
    assert.deepEqual(
      Object.keys(OPS).filter((op) => !seen.has(op)),
      [],
    );
  });
});

describe("float64 gradient checks", () => {
  const x34 = () => distinctTensor([3, 4]);
  const xT = () => distinctTensor([4, 3]).detach().requiresGrad_(true);
  test("sort values, both directions, a transposed input", () => {
    gradcheck((x) => x.sort()[0], [x34()]);
    gradcheck((x) => x.sort({ dim: 0, descending: true })[0], [x34()]);
    gradcheck((x) => x.transpose(0, 1).sort({ dim: 1 })[0], [xT()]);
  });
  test("topk values", () => {
    gradcheck((x) => x.topk(2)[0], [x34()]);
    gradcheck((x) => x.topk(2, { dim: 0, largest: false })[0], [x34()]);
  });
  test("cumsum along each dim, and of a transposed input", () => {
    gradcheck((x) => x.cumsum(0), [dtensor([3, 4])]);
    gradcheck((x) => x.cumsum(-1), [dtensor([2, 3, 4])]);
    gradcheck((x) => x.transpose(0, 1).cumsum(1), [dtensor([4, 3])]);
  });
  test("cumprod without zeros", () => {
    gradcheck((x) => x.cumprod(1), [dtensor([3, 5], { lo: 0.5, hi: 1.5, signed: true })]);
    gradcheck((x) => x.transpose(0, 1).cumprod(0), [dtensor([4, 3], { lo: 0.5, hi: 1.5, signed: true })]);
  });
  test("cumprod with zeros: one, two, first, last, all", () => {
    const rows = [
      [1.5, 0, 2, -0.5, 3],
      [0, 2, 0.5, 0, -1.5],
      [2, -1.25, 0.5, 3, 0],
      [0, 0, 0, 0, 0],
      [0.7, 1.1, 0, 0.9, 1.3],
    ];
    gradcheck((x) => x.cumprod(1), [tensor(rows, { dtype: "float64", requiresGrad: true })]);
    gradcheck((x) => x.cumprod(0), [tensor(rows, { dtype: "float64", requiresGrad: true })]);
  });
  test("flip, roll, repeat", () => {
    gradcheck((x) => x.flip([0, 2]), [dtensor([2, 3, 2])]);
    gradcheck((x) => x.roll([1, -2], [0, 1]), [dtensor([3, 4])]);
    gradcheck((x) => x.roll(5), [dtensor([3, 4])]);
    gradcheck((x) => x.repeat(2, 1, 3), [dtensor([2, 3])]);
    gradcheck((x) => x.transpose(0, 1).repeat(2, 2), [dtensor([3, 2])]);
  });
  test("tril, triu on a batch", () => {
    gradcheck((x) => x.tril(-1), [dtensor([2, 3, 4])]);
    gradcheck((x) => x.triu(1), [dtensor([2, 4, 3])]);
  });
  test("chunk and split parts", () => {
    gradcheck((x) => x.chunk(3, 1)[2]!.mul(2).add(x.chunk(3, 1)[0]!.sum()), [dtensor([2, 7])]);
    gradcheck((x) => x.split([1, 2], 0)[1]!, [dtensor([3, 2])]);
  });
});

describe("semantics", () => {
  test("sort and topk: indices are int32, NaN is the largest, ties keep input order", () => {
    const x = tensor([2, NaN, 1, 2, -Infinity, 1]);
    const [v, i] = x.sort();
    assert.equal(i.dtype, "int32");
    assert.deepEqual([...v.toFlatArray()], [-Infinity, 1, 1, 2, 2, NaN]);
    assert.deepEqual([...i.toFlatArray()], [4, 2, 5, 0, 3, 1]);
    assert.deepEqual([...x.sort({ descending: true })[1].toFlatArray()], [1, 0, 3, 2, 5, 4]);
    assert.deepEqual([...x.argsort({ descending: true }).toFlatArray()], [1, 0, 3, 2, 5, 4]);
    assert.deepEqual([...x.topk(3)[1].toFlatArray()], [1, 0, 3]);
    assert.deepEqual([...x.topk(2, { largest: false })[1].toFlatArray()], [4, 2]);
  });
  test("topk ties: the gradient goes to the chosen index only", () => {
    const x = tensor([1, 3, 3, 0], { requiresGrad: true });
    const [v, i] = x.topk(1);
    v.sum().backward();
    assert.deepEqual([...i.toFlatArray()], [1]);
    assert.deepEqual([...x.grad!.toFlatArray()], [0, 1, 0, 0]);
  });
  test("0-d inputs: sort, topk and cumsum give 0-d results", () => {
    const x = tensor(2.5);
    assert.deepEqual(x.sort()[1].shape, []);
    assert.deepEqual(x.topk(1)[0].shape, []);
    assert.equal(x.topk(0)[0].item(), 2.5); // PyTorch's topk(0) of a 0-d tensor is that tensor
    assert.equal(x.cumprod(0).item(), 2.5);
  });
  test("chunk and split are views; flip, roll, repeat, tril copy", () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    x.chunk(2, 1)[1]!.fill_(0);
    x.split([1, 1], 0)[0]!.fill_(-1);
    assert.deepEqual(x.toArray(), [
      [-1, -1, -1],
      [4, 5, 0],
    ]);
    for (const y of [x.flip(0), x.flip([]), x.roll(0), x.roll(3, 1), x.repeat(1, 1), x.tril(5), x.triu(-5)]) {
      y.fill_(9);
      assert.equal(x.sum().item(), 6);
    }
  });
  test("large rows sort as Array.prototype.sort does (stable)", () => {
    const n = 2000;
    const vals = Array.from({ length: n }, (_, i) => ((i * 7919) % 97) - 48);
    const [v, idx] = tensor(vals, { dtype: "int32" }).sort({ descending: true });
    const want = vals.map((val, i) => [val, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    assert.deepEqual(
      [...idx.toFlatArray()],
      want.map((p) => p[1]),
    );
    assert.deepEqual(
      [...v.toFlatArray()],
      want.map((p) => p[0]),
    );
  });
});

/** Asserts fn throws a DescentError whose message matches every pattern. */
function throwsDescent(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DescentError, `expected a DescentError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

describe("errors name the op and the shapes", () => {
  const x = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  test("dims out of range", () => {
    throwsDescent(() => x.sort({ dim: 2 }), /sort/, /dim 2/);
    throwsDescent(() => x.argsort({ dim: -3 }), /argsort/, /dim -3/);
    throwsDescent(() => x.cumsum(5), /cumsum/, /dim 5/);
    throwsDescent(() => x.cumprod(-3), /cumprod/);
    throwsDescent(() => x.flip([0, 0]), /flip/, /more than once/);
    throwsDescent(() => x.flip(2), /flip/, /dim 2/);
    throwsDescent(() => x.roll(1, 2), /roll/, /dim 2/);
  });
  test("topk k out of range", () => {
    throwsDescent(() => x.topk(4), /topk/, /k 4/, /size 3/, /\[2,3\]/);
    throwsDescent(() => x.topk(-1, { dim: 0 }), /topk/, /k -1/);
    throwsDescent(() => x.topk(1.5), /topk/);
  });
  test("roll, repeat, tril/triu arguments", () => {
    throwsDescent(() => x.roll([1, 2]), /roll/, /without dims/, /\[2,3\]/);
    throwsDescent(() => x.roll([1, 2], [0]), /roll/, /same length/);
    throwsDescent(() => x.roll(0.5, 0), /roll/, /integers/);
    throwsDescent(() => x.repeat(2), /repeat/, /\[2,3\]/);
    throwsDescent(() => x.repeat(2, -1), /repeat/, /non-negative/);
    throwsDescent(() => tensor([1, 2]).tril(), /tril/, /at least 2 dims/, /\[2\]/);
    throwsDescent(() => tensor(1).triu(), /triu/, /\[\]/);
    throwsDescent(() => x.triu(0.5), /triu/, /diagonal/);
  });
  test("oneHot", () => {
    const F = nn.functional;
    throwsDescent(() => F.oneHot(tensor([0, 1])), /oneHot/, /int32/, /float32/);
    throwsDescent(() => F.oneHot(tensor([0, -1], { dtype: "int32" })), /oneHot/, /-1/, /negative/);
    throwsDescent(() => F.oneHot(tensor([0, 3], { dtype: "int32" }), 3), /oneHot/, /3/, /numClasses 3/);
    throwsDescent(() => F.oneHot(tensor([], { dtype: "int32" })), /oneHot/, /empty/);
    throwsDescent(() => F.oneHot(tensor([0], { dtype: "int32" }), -2), /oneHot/, /-2/);
    assert.deepEqual(F.oneHot(tensor([], { dtype: "int32" }), 3).shape, [0, 3]);
  });
});
