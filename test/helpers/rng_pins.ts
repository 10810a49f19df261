// The call sequences whose outputs test/fixtures/rng_stream.json pins (issue 15): rand, randn,
// randint, the in-place uniform_/normal_, nn.init and Linear's default initialisation, each from a
// fixed seed, with the generator's state between draws. scripts/make_rng_pins.ts wrote the fixture
// with the generator as it was before bulk fills replaced its per-element draws;
// test/core/random.test.ts requires the same values, bit for bit, from the generator as it is now.

import {
  defaultGenerator,
  Generator,
  manualSeed,
  nn,
  rand,
  randint,
  randn,
  zeros,
  type Tensor,
} from "../../src/index.js";

/** FNV-1a over the bytes of a tensor's values: pins every bit of a large tensor in one string. */
function fnv(t: Tensor): string {
  const values = flat(t);
  const typed =
    t.dtype === "float64"
      ? new Float64Array(values)
      : t.dtype === "int32"
        ? new Int32Array(values)
        : new Float32Array(values);
  const bytes = new Uint8Array(typed.buffer);
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/** A tensor's values in row-major order. */
function flat(t: Tensor): number[] {
  return t.reshape([-1]).toArray() as number[];
}

/** A tensor's values, flat (small tensors), or its hash and a few values (large ones). */
function pin(t: Tensor): unknown {
  const v = flat(t);
  if (v.length <= 16) return { dtype: t.dtype, shape: t.shape, values: v };
  const at = [0, 1, 2, v.length >> 1, v.length - 2, v.length - 1];
  return { dtype: t.dtype, shape: t.shape, fnv: fnv(t), at: Object.fromEntries(at.map((i) => [i, v[i]])) };
}

/** [what was drawn, its pinned values]. */
export type Step = [string, unknown];

/** Runs every sequence (re-seeding the default generator) and returns its steps by case name. */
export function rngPinCases(): Record<string, Step[]> {
  const cases: Record<string, Step[]> = {};
  const state = (g: Generator): Step => ["state", g.getState()];

  function seeded(name: string, seed: number, body: () => Step[]): void {
    manualSeed(seed);
    cases[name] = [...body(), state(defaultGenerator)];
  }

  seeded("rand", 1, () => [
    ["rand [9] float32", pin(rand([9]))],
    ["rand [2, 3] float64", pin(rand([2, 3], { dtype: "float64" }))],
    ["rand [0]", pin(rand([0]))],
    ["rand [3] int32", pin(rand([3], { dtype: "int32" }))],
  ]);
  seeded("randn odd counts and the Box-Muller spare", 2, () => [
    ["randn [5]", pin(randn([5]))],
    ["normal()", defaultGenerator.normal()],
    ["normal()", defaultGenerator.normal()],
    ["randn [4] float64", pin(randn([4], { dtype: "float64" }))],
    ["randn [1]", pin(randn([1]))],
    state(defaultGenerator),
    ["randn [3]", pin(randn([3]))],
    ["randn [0]", pin(randn([0]))],
    ["uniform()", defaultGenerator.uniform()],
    ["randn [7] int32", pin(randn([7], { dtype: "int32" }))],
    ["normal()", defaultGenerator.normal()],
  ]);
  seeded("randint", 3, () => [
    ["randint(-3, 1000, [9])", pin(randint(-3, 1000, [9]))],
    ["randint(0, 2147483647, [5])", pin(randint(0, 2147483647, [5]))],
    ["randint(-5, 5, [6]) float32", pin(randint(-5, 5, [6], { dtype: "float32" }))],
    ["randint(0, 1, [3])", pin(randint(0, 1, [3]))],
  ]);
  seeded("generator option", 4, () => {
    const g = new Generator(123);
    const h = new Generator();
    return [
      ["rand [5] g", pin(rand([5], { generator: g }))],
      ["randn [3] g", pin(randn([3], { generator: g }))],
      ["randint(0, 7, [5]) g", pin(randint(0, 7, [5], { generator: g }))],
      state(g),
      ["randn [3] default-seeded", pin(randn([3], { generator: h }))],
      state(h),
      ["rand [2] (the default generator untouched by g)", pin(rand([2]))],
    ];
  });
  seeded("in place and nn.init", 5, () => {
    const a = zeros([7]);
    const b = zeros([2, 3], { dtype: "float64" });
    const c = zeros([5]);
    const d = zeros([4, 6]);
    return [
      ["uniform_(-0.5, 2)", pin(nn.init.uniform_(a, -0.5, 2))],
      ["normal_(1, 3) float64", pin(nn.init.normal_(b, 1, 3))],
      ["normal_ [5]", pin(nn.init.normal_(c))],
      ["Tensor.uniform_(0, 1)", pin(zeros([3]).uniform_(0, 1))],
      ["Tensor.normal_(0, 1)", pin(zeros([3]).normal_(0, 1))],
      ["kaimingNormal_", pin(nn.init.kaimingNormal_(d))],
      ["xavierUniform_", pin(nn.init.xavierUniform_(zeros([3, 5])))],
      ["orthogonal_", pin(nn.init.orthogonal_(zeros([3, 4])))],
    ];
  });
  seeded("in place into views and across blocks", 6, () => {
    const big = zeros([20001], { dtype: "float64" });
    const t = zeros([5, 7]);
    const rows = zeros([6, 3000]);
    return [
      ["normal_(2, 0.5) [20001] float64", pin(big.normal_(2, 0.5))],
      ["uniform_(-1, 1) into a transposed view", pin(t.transpose(0, 1).uniform_(-1, 1))],
      ["the tensor under that view", pin(t)],
      ["normal_ into rows 1..4 of [6, 3000]", pin(rows.narrow(0, 1, 4).normal_(0, 1))],
      ["the tensor under those rows", pin(rows)],
      ["uniform_ [9999]", pin(zeros([9999]).uniform_(0, 1))],
    ];
  });
  seeded("W6 model and batch", 0, () => {
    const model = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 128));
    const params = model.parameters();
    return [
      ...params.map((p, i): Step => [`parameter ${i}`, pin(p.detach())]),
      ["randn [128, 784]", pin(randn([128, 784]))],
      ["randint(0, 10, [128])", pin(randint(0, 10, [128]))],
      ["randn [1001]", pin(randn([1001]))],
    ];
  });
  return cases;
}
