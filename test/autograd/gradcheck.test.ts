// Numerical gradient checks (central differences in float64) for every differentiable primitive
// and composite, on contiguous inputs, transposed and sliced views, 0-d tensors, broadcasting
// operands and graphs that use one tensor several times. Inputs stay away from kinks.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { cat, stack, tensor, where, type Tensor } from "../../src/index.js";
import { distinctTensor, dtensor, gradcheck, gradcheckReport, type DoubleOpts } from "../helpers/gradcheck.js";

type Fn = (...xs: Tensor[]) => Tensor;

function idx(values: number[], shape: number[]): Tensor {
  return tensor(Int32Array.from(values), { shape, dtype: "int32" });
}

/** The four layouts every unary op is fed: contiguous, transposed, strided slice with offset, 0-d. */
function unaryInputs(d: DoubleOpts): [string, Tensor][] {
  return [
    ["contiguous [3,4]", dtensor([3, 4], { ...d, seed: 1 })],
    ["transposed view", dtensor([4, 3], { ...d, seed: 2 }).transpose(0, 1)],
    ["sliced view with step and offset", dtensor([7, 4], { ...d, seed: 3 }).slice(0, 1, 7, 2)],
    ["0-d", dtensor([], { ...d, seed: 4 })],
  ];
}

describe("gradcheck helper", () => {
  test("accepts a correct gradient", () => {
    assert.equal(gradcheckReport((x) => x.mul(x), [dtensor([3])]).ok, true);
    gradcheck((x) => x.mul(x), [dtensor([3])]);
  });
  test("detects a wrong gradient (detach hides a dependency)", () => {
    // y = x * detach(x): the analytic gradient is x, the true one 2x.
    const r = gradcheckReport((x) => x.mul(x.detach()), [dtensor([3], { lo: 0.5, hi: 1 })]);
    assert.equal(r.ok, false);
    assert.ok(r.worst !== null && r.worst.input === 0);
  });
  test("refuses non-float64 inputs that require grad", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    assert.throws(() => gradcheck((a) => a.exp(), [x]), /float64/);
  });
});

const A = 0.5;
const unary: [string, Fn, DoubleOpts][] = [
  ["neg", (x) => x.neg(), {}],
  ["abs", (x) => x.abs(), { lo: 0.2, hi: 1.5, signed: true }],
  ["exp", (x) => x.exp(), {}],
  ["log", (x) => x.log(), { lo: 0.3, hi: 2 }],
  ["sqrt", (x) => x.sqrt(), { lo: 0.3, hi: 2 }],
  ["rsqrt", (x) => x.rsqrt(), { lo: 0.3, hi: 2 }],
  ["sin", (x) => x.sin(), { lo: -2, hi: 2 }],
  ["cos", (x) => x.cos(), { lo: -2, hi: 2 }],
  ["clamp(min,max)", (x) => x.clamp(-A, A), { lo: -1, hi: 1 }],
  ["clamp(min)", (x) => x.clamp(-0.3), { lo: -1, hi: 1 }],
  ["clamp(undefined,max)", (x) => x.clamp(undefined, 0.3), { lo: -1, hi: 1 }],
  ["log1p", (x) => x.log1p(), { lo: -0.5, hi: 1.5 }],
  ["expm1", (x) => x.expm1(), { lo: -1.5, hi: 1.5 }],
  ["erf", (x) => x.erf(), { lo: -1.5, hi: 1.5 }],
  ["reciprocal", (x) => x.reciprocal(), { lo: 0.3, hi: 1.5, signed: true }],
  ["square", (x) => x.square(), {}],
  ["relu", (x) => x.relu(), { lo: 0.1, hi: 1, signed: true }],
  ["leakyRelu()", (x) => x.leakyRelu(), { lo: 0.1, hi: 1, signed: true }],
  ["leakyRelu(0.2)", (x) => x.leakyRelu(0.2), { lo: 0.1, hi: 1, signed: true }],
  ["elu()", (x) => x.elu(), { lo: 0.1, hi: 1.5, signed: true }],
  ["elu(0.5)", (x) => x.elu(0.5), { lo: 0.1, hi: 1.5, signed: true }],
  ["gelu", (x) => x.gelu(), { lo: -2.5, hi: 2.5 }],
  ["silu", (x) => x.silu(), { lo: -2.5, hi: 2.5 }],
  ["sigmoid", (x) => x.sigmoid(), { lo: -3, hi: 3 }],
  ["tanh", (x) => x.tanh(), { lo: -2, hi: 2 }],
  ["softmax(-1)", (x) => x.softmax(-1), { lo: -2, hi: 2 }],
  ["logSoftmax(-1)", (x) => x.logSoftmax(-1), { lo: -2, hi: 2 }],
  ["pow(2)", (x) => x.pow(2), {}],
  ["pow(3) negative base", (x) => x.pow(3), { lo: 0.2, hi: 1.2, signed: true }],
  ["pow(0.5)", (x) => x.pow(0.5), { lo: 0.3, hi: 2 }],
  ["pow(-1.5)", (x) => x.pow(-1.5), { lo: 0.3, hi: 2 }],
  ["pow(0)", (x) => x.pow(0), { lo: 0.3, hi: 2 }],
  ["add(number)", (x) => x.add(2.5), {}],
  ["sub(number)", (x) => x.sub(-1.25), {}],
  ["mul(number)", (x) => x.mul(-3), {}],
  ["div(number)", (x) => x.div(0.7), {}],
  ["maximum(number)", (x) => x.maximum(0.05), { lo: 0.2, hi: 1, signed: true }],
  ["minimum(number)", (x) => x.minimum(-0.05), { lo: 0.2, hi: 1, signed: true }],
  ["to(float64)", (x) => x.to("float64"), {}],
  ["double()", (x) => x.double(), {}],
  ["contiguous()", (x) => x.contiguous(), {}],
  ["clone()", (x) => x.clone(), {}],
];

describe("gradcheck: unary ops and scalar operands", () => {
  for (const [name, fn, dom] of unary) {
    for (const [layout, x] of unaryInputs(dom)) {
      test(`${name} on ${layout}`, () => {
        gradcheck(fn, [x]);
      });
    }
  }
  // softmax along dim 0 of a 2-D tensor (the non-last dim) and of a 3-D one in the middle.
  test("softmax(0) on [3,4]", () => gradcheck((x) => x.softmax(0), [dtensor([3, 4])]));
  test("logSoftmax(1) on [2,3,4]", () => gradcheck((x) => x.logSoftmax(1), [dtensor([2, 3, 4])]));
  test("softmax(1) on a transposed [2,4,3] view", () =>
    gradcheck((x) => x.softmax(1), [dtensor([2, 3, 4], { seed: 8 }).transpose(1, 2)]));
});

describe("gradcheck: piecewise-constant ops have zero gradient", () => {
  // PyTorch's floor/ceil/round/sign backward is zero; away from jumps the numeric slope is 0 too.
  const away: DoubleOpts = { lo: 0.1, hi: 0.4, signed: true }; // no integers or .5 within reach
  for (const [name, fn] of [
    ["sign", (x: Tensor) => x.sign()],
    ["floor", (x: Tensor) => x.floor()],
    ["ceil", (x: Tensor) => x.ceil()],
    ["round", (x: Tensor) => x.round()],
  ] as [string, Fn][]) {
    test(name, () => gradcheck((x) => fn(x).add(x.mul(0.5)), [dtensor([3, 4], away)]));
  }
});

const B =
  (seed: number, d: DoubleOpts = {}) =>
  (shape: number[]) =>
    dtensor(shape, { ...d, seed });
const binary: [string, Fn, DoubleOpts, DoubleOpts][] = [
  ["add", (a, b) => a.add(b), {}, {}],
  ["sub", (a, b) => a.sub(b), {}, {}],
  ["mul", (a, b) => a.mul(b), {}, {}],
  ["div", (a, b) => a.div(b), {}, { lo: 0.5, hi: 1.5, signed: true }],
  ["pow (tensor exponent, base>0)", (a, b) => a.pow(b), { lo: 0.5, hi: 2 }, { lo: -1.5, hi: 1.5 }],
  // maximum/minimum: a in ±[0.6,1], b in [-0.4,0.4]; never within eps of each other.
  ["maximum", (a, b) => a.maximum(b), { lo: 0.6, hi: 1, signed: true }, { lo: -0.4, hi: 0.4 }],
  ["minimum", (a, b) => a.minimum(b), { lo: 0.6, hi: 1, signed: true }, { lo: -0.4, hi: 0.4 }],
];

describe("gradcheck: binary ops with broadcasting, 0-d and views", () => {
  for (const [name, fn, da, db] of binary) {
    const a = B(11, da);
    const b = B(12, db);
    const cases: [string, Tensor, Tensor][] = [
      ["[3,4] with [3,4]", a([3, 4]), b([3, 4])],
      ["[3,1] with [1,4]", a([3, 1]), b([1, 4])],
      ["[2,3,4] with [4]", a([2, 3, 4]), b([4])],
      ["[4] with [2,3,1]", a([4]), b([2, 3, 1])],
      ["[3,4] with 0-d", a([3, 4]), b([])],
      ["0-d with [3,4]", a([]), b([3, 4])],
      ["0-d with 0-d", a([]), b([])],
      ["transposed with sliced view", a([4, 3]).transpose(0, 1), b([6, 4]).slice(0, 1, 6, 2).slice(0, 0, 3)],
      ["sliced view with [4]", a([3, 8]).slice(1, 1, 8, 2), b([4])],
    ];
    for (const [what, x, y] of cases) {
      test(`${name}: ${what}`, () => gradcheck(fn, [x, y]));
    }
    test(`${name}: expanded operand (expand inside the graph)`, () =>
      gradcheck((x, y) => fn(x, y.expand(3, 4)), [a([3, 4]), b([3, 1])]));
    test(`${name}: only one operand requires grad`, () => gradcheck(fn, [a([3, 4]), b([3, 4]).detach()]));
  }
});

describe("gradcheck: reductions", () => {
  const x34 = () => dtensor([3, 4], { seed: 21 });
  const x234 = () => dtensor([2, 3, 4], { seed: 22 });
  const xT = () => dtensor([4, 3], { seed: 23 }).transpose(0, 1);
  const d34 = () => distinctTensor([3, 4], { seed: 24 });
  const d234 = () => distinctTensor([2, 3, 4], { seed: 25 });
  const dT = () => distinctTensor([4, 3], { seed: 26 }).transpose(0, 1);
  const x0 = () => dtensor([], { seed: 27 });
  const cases: [string, Fn, () => Tensor][] = [
    ["sum()", (x) => x.sum(), x34],
    ["sum(0)", (x) => x.sum(0), x34],
    ["sum(1, keepDim)", (x) => x.sum(1, true), x34],
    ["sum(-1) transposed", (x) => x.sum(-1), xT],
    ["sum([0,2])", (x) => x.sum([0, 2]), x234],
    ["sum([0,2], keepDim)", (x) => x.sum([0, 2], true), x234],
    ["sum() 0-d", (x) => x.sum(), x0],
    ["mean()", (x) => x.mean(), x34],
    ["mean(1)", (x) => x.mean(1), x34],
    ["mean([0,2], keepDim)", (x) => x.mean([0, 2], true), x234],
    ["mean(0) transposed", (x) => x.mean(0), xT],
    ["mean() 0-d", (x) => x.mean(), x0],
    ["var()", (x) => x.var(), x34],
    ["var(1)", (x) => x.var(1), x34],
    ["var(1, unbiased=false)", (x) => x.var(1, { unbiased: false }), x34],
    ["var([0,2], keepDim)", (x) => x.var([0, 2], { keepDim: true }), x234],
    ["var(0) transposed", (x) => x.var(0), xT],
    ["std()", (x) => x.std(), x34],
    ["std(1)", (x) => x.std(1), x34],
    ["std(0, unbiased=false, keepDim)", (x) => x.std(0, { unbiased: false, keepDim: true }), x34],
    ["std(-1) on [2,3,4]", (x) => x.std(-1), x234],
    ["max()", (x) => x.max(), d34],
    ["max(1)", (x) => x.max(1), d34],
    ["max(0, keepDim)", (x) => x.max(0, true), d34],
    ["max(-1) transposed", (x) => x.max(-1), dT],
    ["max([0,2])", (x) => x.max([0, 2]), d234],
    ["max() 0-d", (x) => x.max(), x0],
    ["min()", (x) => x.min(), d34],
    ["min(1)", (x) => x.min(1), d34],
    ["min(0, keepDim) transposed", (x) => x.min(0, true), dT],
    ["min([1,2])", (x) => x.min([1, 2]), d234],
    ["amax()", (x) => x.amax(), d34],
    ["amax(1)", (x) => x.amax(1), d34],
    ["amax([0,1], keepDim)", (x) => x.amax([0, 1], true), d234],
    ["amin(0)", (x) => x.amin(0), d34],
    ["amin([0,2])", (x) => x.amin([0, 2]), d234],
    ["logSumExp(1)", (x) => x.logSumExp(1), x34],
    ["logSumExp(0, keepDim)", (x) => x.logSumExp(0, true), x34],
    ["logSumExp([0,2])", (x) => x.logSumExp([0, 2]), x234],
    ["logSumExp(-1) transposed", (x) => x.logSumExp(-1), xT],
    ["logSumExp(0) 0-d", (x) => x.logSumExp(0), x0],
    ["norm()", (x) => x.norm(), x34],
    ["norm(2, 1)", (x) => x.norm(2, 1), x34],
    ["norm(2, 0, keepDim) transposed", (x) => x.norm(2, 0, true), xT],
    ["norm(1, 1)", (x) => x.norm(1, 1), d34],
    ["norm(3)", (x) => x.norm(3), d34],
    ["norm(Infinity, 1)", (x) => x.norm(Infinity, 1), d34],
    ["norm([1,2])", (x) => x.norm(2, [1, 2]), x234],
  ];
  for (const [name, fn, make] of cases) test(name, () => gradcheck(fn, [make()]));
});

describe("gradcheck: matmul", () => {
  const m = (shape: number[], seed: number) => dtensor(shape, { seed });
  const cases: [string, Tensor, Tensor][] = [
    ["1-D · 1-D (dot → 0-d)", m([4], 31), m([4], 32)],
    ["1-D · 2-D", m([4], 33), m([4, 3], 34)],
    ["2-D · 1-D", m([3, 4], 35), m([4], 36)],
    ["2-D · 2-D", m([3, 4], 37), m([4, 5], 38)],
    ["batched 3-D · 3-D", m([2, 3, 4], 39), m([2, 4, 5], 40)],
    ["broadcast batch [2,1,3,4] · [3,4,2]", m([2, 1, 3, 4], 41), m([3, 4, 2], 42)],
    ["3-D · 2-D", m([2, 3, 4], 43), m([4, 5], 44)],
    ["2-D · 3-D", m([3, 4], 45), m([2, 4, 5], 46)],
    ["1-D · 3-D", m([4], 47), m([2, 4, 3], 48)],
    ["3-D · 1-D", m([2, 3, 4], 49), m([4], 50)],
    ["transposed · transposed", m([4, 3], 51).transpose(0, 1), m([5, 4], 52).transpose(0, 1)],
    ["sliced view · 2-D", m([6, 4], 53).slice(0, 0, 6, 2), m([4, 2], 54)],
    ["permuted batch · 3-D", m([4, 2, 3], 55).permute(1, 2, 0), m([2, 4, 2], 56)],
  ];
  for (const [name, a, b] of cases) test(name, () => gradcheck((x, y) => x.matmul(y), [a, b]));
  test("x used twice: x · x", () => gradcheck((x) => x.matmul(x), [m([3, 3], 57)]));
  test("x · xᵀ", () => gradcheck((x) => x.matmul(x.transpose(0, 1)), [m([3, 4], 58)]));
});

describe("gradcheck: shape and movement ops", () => {
  const x34 = () => dtensor([3, 4], { seed: 61 });
  const x234 = () => dtensor([2, 3, 4], { seed: 62 });
  const xT = () => dtensor([4, 3], { seed: 63 }).transpose(0, 1);
  const cases: [string, Fn, () => Tensor][] = [
    ["reshape(4,3)", (x) => x.reshape(4, 3), x34],
    ["reshape(-1)", (x) => x.reshape(-1), x34],
    ["reshape(2,-1,2)", (x) => x.reshape(2, -1, 2), x34],
    ["reshape(12) of a transposed view (copy)", (x) => x.reshape(12), xT],
    ["reshape() of 0-d to [1,1]", (x) => x.reshape(1, 1), () => dtensor([], { seed: 64 })],
    ["view(12)", (x) => x.view(12), x34],
    ["view(6,2).mul", (x) => x.view(6, 2).mul(x.view(6, 2).sin()), x34],
    ["transpose(0,1)", (x) => x.transpose(0, 1), x34],
    ["transpose(-1,0) 3-D", (x) => x.transpose(-1, 0), x234],
    ["permute(2,0,1)", (x) => x.permute(2, 0, 1), x234],
    ["squeeze()", (x) => x.squeeze(), () => dtensor([3, 1, 4, 1], { seed: 65 })],
    ["squeeze(1)", (x) => x.squeeze(1), () => dtensor([3, 1, 4, 1], { seed: 66 })],
    ["squeeze(-1)", (x) => x.squeeze(-1), () => dtensor([3, 1, 4, 1], { seed: 67 })],
    ["unsqueeze(0)", (x) => x.unsqueeze(0), x34],
    ["unsqueeze(-1)", (x) => x.unsqueeze(-1), x34],
    ["unsqueeze(1) transposed", (x) => x.unsqueeze(1), xT],
    ["expand(2,3,4) from [3,1]", (x) => x.expand(2, 3, 4), () => dtensor([3, 1], { seed: 68 })],
    ["expand(2,-1,4) from [3,1]", (x) => x.expand(2, -1, 4), () => dtensor([3, 1], { seed: 69 })],
    ["expand of 0-d", (x) => x.expand(2, 3), () => dtensor([], { seed: 70 })],
    [
      "expandAs",
      (x) => x.expandAs(tensor(new Float64Array(12), { shape: [3, 4] })),
      () => dtensor([1, 4], { seed: 71 }),
    ],
    ["flatten()", (x) => x.flatten(), x234],
    ["flatten(1)", (x) => x.flatten(1), x234],
    ["flatten(0,1)", (x) => x.flatten(0, 1), x234],
    ["flatten(-2,-1) transposed", (x) => x.flatten(-2, -1), xT],
    ["slice(1,1,3)", (x) => x.slice(1, 1, 3), x34],
    ["slice(0,0,3,2)", (x) => x.slice(0, 0, 3, 2), x34],
    ["slice(1,-3) (end omitted)", (x) => x.slice(1, -3), x34],
    ["slice(1,1,100,2) (clamped end, step)", (x) => x.slice(1, 1, 100, 2), x34],
    ["slice of a transposed view", (x) => x.slice(0, 1, 3), xT],
    ["narrow(1,1,2)", (x) => x.narrow(1, 1, 2), x34],
    ["narrow(0,1,2) transposed", (x) => x.narrow(0, 1, 2), xT],
    ["select(0,1)", (x) => x.select(0, 1), x34],
    ["select(1,-1)", (x) => x.select(1, -1), x34],
    ["select(2,0) 3-D", (x) => x.select(2, 0), x234],
    [
      "chunk(3,1) combined",
      (x) => {
        const [p, q, r] = x.chunk(3, 1);
        return p!.mul(q!).add(r!.exp());
      },
      () => dtensor([3, 6], { seed: 72 }),
    ],
    [
      "chunk(3) uneven [7]",
      (x) => {
        const parts = x.chunk(3);
        return cat([parts[0]!.sin(), parts[1]!.mul(2), ...parts.slice(2).map((p) => p.exp())], 0);
      },
      () => dtensor([7], { seed: 73 }),
    ],
    [
      "split(2) uneven [5,2]",
      (x) => {
        const [p, q, r] = x.split(2);
        return cat([p!.sin(), q!.mul(3), r!.exp()], 0);
      },
      () => dtensor([5, 2], { seed: 74 }),
    ],
    [
      "split(2,1) transposed",
      (x) => {
        const parts = x.split(2, 1);
        return cat(
          parts.map((p, i) => p.mul(i + 1)),
          1,
        );
      },
      xT,
    ],
  ];
  for (const [name, fn, make] of cases) test(name, () => gradcheck(fn, [make()]));
});

describe("gradcheck: indexing, cat, stack, where, maskedFill", () => {
  const x34 = () => dtensor([3, 4], { seed: 81 });
  const xT = () => dtensor([4, 3], { seed: 82 }).transpose(0, 1);
  const gi1 = idx([0, 0, 3, 1, 2, 2], [3, 2]); // repeats: gradients accumulate
  const gi0 = idx([2, 0, 1, 2, 0, 0, 1, 1], [2, 4]);
  const cases: [string, Fn, () => Tensor][] = [
    ["indexSelect(0, [2,0,2])", (x) => x.indexSelect(0, idx([2, 0, 2], [3])), x34],
    ["indexSelect(1, [3,3,1])", (x) => x.indexSelect(1, idx([3, 3, 1], [3])), x34],
    ["indexSelect(-1) transposed", (x) => x.indexSelect(-1, idx([1, 0, 1], [3])), xT],
    ["gather(1, [3,2] with repeats)", (x) => x.gather(1, gi1), x34],
    ["gather(0, [2,4])", (x) => x.gather(0, gi0), x34],
    ["gather(1) transposed", (x) => x.gather(1, gi1), xT],
    ["gather(1) with a transposed index", (x) => x.gather(1, idx([0, 3, 1, 0, 2, 2], [2, 3]).transpose(0, 1)), x34],
    ["maskedFill", (x) => x.maskedFill(dtensor([3, 4], { seed: 83, requiresGrad: false }).gt(0), -2.5), x34],
    [
      "maskedFill broadcast mask [1,4]",
      (x) => x.maskedFill(dtensor([1, 4], { seed: 84, requiresGrad: false }).gt(0), 7),
      xT,
    ],
  ];
  for (const [name, fn, make] of cases) test(name, () => gradcheck(fn, [make()]));

  test("scatterAdd (self and src)", () =>
    gradcheck((x, s) => x.scatterAdd(1, gi1, s), [x34(), dtensor([3, 2], { seed: 85 })]));
  test("scatterAdd(0) with a transposed self", () =>
    gradcheck((x, s) => x.scatterAdd(0, gi0, s), [xT(), dtensor([2, 4], { seed: 86 })]));
  test("cat dim 0", () => gradcheck((a, b) => cat([a, b], 0), [dtensor([2, 4], { seed: 87 }), x34()]));
  test("cat dim 1 of three, one a view", () =>
    gradcheck((a, b, c) => cat([a, b, c], 1), [x34(), xT(), dtensor([3, 1], { seed: 88 })]));
  test("cat dim -1 with the same tensor twice", () => gradcheck((a) => cat([a, a.mul(2), a], -1), [x34()]));
  test("cat with an empty operand", () =>
    gradcheck((a, e) => cat([a, e], 0), [x34(), tensor(new Float64Array(0), { shape: [0, 4], requiresGrad: true })]));
  test("stack dim 0", () => gradcheck((a, b) => stack([a, b], 0), [x34(), xT()]));
  test("stack dim -1 of three", () =>
    gradcheck((a, b, c) => stack([a, b, c], -1), [x34(), dtensor([3, 4], { seed: 89 }), xT()]));
  test("stack of 0-d tensors", () =>
    gradcheck((a, b) => stack([a, b, a], 0), [dtensor([], { seed: 90 }), dtensor([], { seed: 91 })]));
  const cond34 = dtensor([3, 4], { seed: 92, requiresGrad: false }).gt(0);
  test("where(cond, a, b)", () => gradcheck((a, b) => where(cond34, a, b), [x34(), dtensor([3, 4], { seed: 93 })]));
  test("where broadcast cond [3,1], a [1,4], b [3,4]", () =>
    gradcheck(
      (a, b) => where(dtensor([3, 1], { seed: 94, requiresGrad: false }).gt(0), a, b),
      [dtensor([1, 4], { seed: 95 }), xT()],
    ));
  test("where with a 0-d branch", () => gradcheck((a, b) => where(cond34, a, b), [dtensor([], { seed: 96 }), x34()]));
});

describe("gradcheck: composites and graphs reusing a tensor", () => {
  test("x*x + exp(x), summed", () => gradcheck((x) => x.mul(x).add(x.exp()).sum(), [dtensor([3, 4])]));
  test("x.pow(x), base > 0", () => gradcheck((x) => x.pow(x), [dtensor([5], { lo: 0.3, hi: 2 })]));
  test("diamond: a = exp(x); a * sin(a)", () =>
    gradcheck(
      (x) => {
        const a = x.exp();
        return a.mul(a.sin());
      },
      [dtensor([2, 3])],
    ));
  test("x + xᵀ", () => gradcheck((x) => x.add(x.transpose(0, 1)), [dtensor([3, 3])]));
  test("x * y + x / y - sin(y * x)", () =>
    gradcheck(
      (x, y) => x.mul(y).add(x.div(y)).sub(y.mul(x).sin()),
      [dtensor([3, 4]), dtensor([3, 4], { lo: 0.5, hi: 1.5, seed: 5 })],
    ));
  test("softmax of cat([x, 2x])", () => gradcheck((x) => cat([x, x.mul(2)]).softmax(0), [dtensor([3])]));
  test("layer-norm-like composite", () =>
    gradcheck(
      (x, w) => {
        const mu = x.mean(-1, true);
        const v = x.var(-1, { unbiased: false, keepDim: true });
        return x.sub(mu).div(v.add(1e-5).sqrt()).mul(w);
      },
      [dtensor([3, 5]), dtensor([5], { seed: 6 })],
    ));
  test("linear + logSoftmax + gather (NLL-like)", () =>
    gradcheck(
      (x, w, b) =>
        x
          .matmul(w.transpose(0, 1))
          .add(b)
          .logSoftmax(1)
          .gather(1, idx([2, 0, 1], [3, 1]))
          .mean()
          .neg(),
      [dtensor([3, 4]), dtensor([3, 4], { seed: 7 }), dtensor([3], { seed: 8 })],
    ));
  test("norm of a difference, x used on both sides", () =>
    gradcheck((x) => x.sub(x.mul(x).indexSelect(0, idx([3, 2, 1, 0], [4]))).norm(), [dtensor([4])]));
});

describe("gradcheck: sliding windows (im2col / col2im)", () => {
  const win = (k: [number, number], s: [number, number], p: [number, number], d: [number, number]) => ({
    kernel: k,
    stride: s,
    padding: p,
    dilation: d,
  });
  const cases: [string, ReturnType<typeof win>][] = [
    ["3x3, stride 1, no padding", win([3, 3], [1, 1], [0, 0], [1, 1])],
    ["2x3, stride (2,1), padding (1,0), dilation (1,2)", win([2, 3], [2, 1], [1, 0], [1, 2])],
    ["1x1 with padding 1", win([1, 1], [1, 1], [1, 1], [1, 1])],
  ];
  for (const [name, w] of cases) {
    test(`im2col ${name}`, () => gradcheck((x) => x.im2col(w), [dtensor([2, 2, 5, 6], { seed: 91 })]));
    test(`im2col ${name} on a transposed view`, () =>
      gradcheck((x) => x.im2col(w), [dtensor([2, 2, 6, 5], { seed: 92 }).transpose(2, 3)]));
    test(`col2im ${name}`, () => {
      const cols = dtensor([2, 2, 5, 6], { seed: 93 }).im2col(w).detach();
      gradcheck((c) => c.col2im([5, 6], w), [dtensor([...cols.shape], { seed: 94 })]);
    });
  }
  test("col2im is the adjoint of im2col: <im2col(x), y> = <x, col2im(y)>", () => {
    const w = win([3, 2], [2, 2], [1, 1], [1, 1]);
    const x = dtensor([2, 3, 7, 5], { seed: 95 });
    const y = dtensor([...x.im2col(w).shape], { seed: 96 });
    const lhs = x.im2col(w).mul(y).sum().item();
    const rhs = x
      .mul(y.col2im([7, 5], w))
      .sum()
      .item();
    assert.ok(Math.abs(lhs - rhs) <= 1e-12 * Math.max(1, Math.abs(lhs)), `${lhs} vs ${rhs}`);
  });
});

describe("gradcheck: unbind and many slices of one tensor", () => {
  test("unbind(1) then a weighted sum of the parts", () =>
    gradcheck(
      (x) => x.unbind(1).reduce((acc, part, i) => acc.add(part.mul(i + 1)), x.select(1, 0).mul(0)),
      [dtensor([3, 4, 2], { seed: 97 })],
    ));
  test("overlapping slices and a reuse of the whole tensor accumulate correctly", () =>
    gradcheck(
      (x) =>
        x
          .slice(0, 0, 3)
          .mul(x.slice(0, 1, 4))
          .sum(0)
          .add(x.sum(0))
          .add(x.slice(0, 0, 4, 2).sum(0)),
      [dtensor([4, 3], { seed: 98 })],
    ));
});
