// einsum and baddbmm: every einsum/baddbmm case of test/fixtures/ops_b.json (scripts/fixtures_ops_b.py,
// PyTorch 1.13; float32 and float64, transposed/permuted/sliced operands) replayed through checkOp
// with its dtype-default tolerances, float64 gradient checks through the lowering (diagonal views,
// sums, batched matmul, broadcast multiply), and the errors for malformed equations and shapes.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { baddbmm, DescentError, einsum, tensor, type Tensor } from "../../src/index.js";
import { checkOp, loadFixtures } from "../helpers/checkOp.js";
import { viewed } from "../helpers/fixture_views.js";
import { dtensor, gradcheck } from "../helpers/gradcheck.js";

const { cases } = loadFixtures("ops_b.json");

describe("ops_b.json: einsum", () => {
  for (const c of cases.filter((c) => c.op === "einsum")) {
    const eq = c.args.equation as string;
    test(`${c.name} "${eq}"`, () =>
      checkOp(c, (...xs) => einsum(eq, ...xs.map((x, i) => viewed(x, c.inputs[i]!.view)))));
  }
});

describe("ops_b.json: baddbmm", () => {
  for (const c of cases.filter((c) => c.op === "baddbmm")) {
    test(c.name, () =>
      checkOp(c, (...xs) => {
        const [i, b1, b2] = xs.map((x, k) => viewed(x, c.inputs[k]!.view));
        return baddbmm(i!, b1!, b2!, c.args as { beta?: number; alpha?: number });
      }),
    );
  }
});

describe("einsum gradcheck (float64)", () => {
  const t = (shape: number[], seed: number) => dtensor(shape, { seed });
  const cases: [string, Tensor[]][] = [
    ["bij,bjk->bik", [t([2, 2, 3], 1), t([2, 3, 2], 2)]],
    ["iij->ji", [t([3, 3, 2], 3)]],
    ["ii", [t([3, 3], 4)]],
    ["ij,jk,kl->li", [t([2, 3], 5), t([3, 2], 6), t([2, 2], 7)]],
    ["...ij,...j->...i", [t([2, 1, 2, 3], 8), t([3, 3], 9)]],
    ["i,j->ij", [t([3], 10), t([2], 11)]],
    ["ij,jk", [t([2, 1], 12), t([3, 2], 13)]],
    ["ijk,jl->il", [t([2, 3, 2], 14), t([3, 2], 15)]],
  ];
  for (const [eq, xs] of cases) test(eq, () => gradcheck((...v) => einsum(eq, ...v), xs));
  test("transposed operand", () =>
    gradcheck((a, b) => einsum("ij,jk->ik", a!.transpose(0, 1), b!), [t([3, 2], 16), t([3, 2], 17)]));
});

describe("baddbmm gradcheck (float64)", () => {
  const t = (shape: number[], seed: number) => dtensor(shape, { seed });
  test("broadcast input, beta and alpha", () =>
    gradcheck(
      (i, a, b) => baddbmm(i!, a!, b!, { beta: 0.5, alpha: -1.5 }),
      [t([3, 1], 1), t([2, 3, 2], 2), t([2, 2, 2], 3)],
    ));
  test("beta 0", () =>
    gradcheck((i, a, b) => baddbmm(i!, a!, b!, { beta: 0 }), [t([2], 4), t([2, 2, 3], 5), t([2, 3, 2], 6)]));
});

describe("einsum: lowering", () => {
  test("a repeated subscript is a view of the operand, not a copy", () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [3, 3] });
    const d = einsum("ii->i", x);
    assert.deepEqual(d.toArray(), [1, 5, 9]);
    x.fill_(7); // a view sees its base's writes
    assert.deepEqual(d.toArray(), [7, 7, 7], "ii->i should be a strided view of x");
  });
  test("einsum takes its operands as an array too", () => {
    const a = tensor([1, 2]);
    assert.deepEqual(einsum("i,i->", [a, a]).item(), 5);
  });
});

describe("einsum: errors", () => {
  const x = tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] });
  const y = tensor([1, 2, 3], { shape: [3] });
  const cases: [string, () => unknown, RegExp][] = [
    ["too few operands", () => einsum("ij,jk", x), /einsum.*"ij,jk" names 2 operands but 1 was given.*\[2, ?3\]/],
    ["too many operands", () => einsum("ij", x, y), /einsum.*names 1 operand but 2 were given/],
    ["subscripts vs rank", () => einsum("ijk", x), /einsum.*operand 0.*3 subscripts but 2 dims.*\[2, ?3\]/],
    ["size mismatch", () => einsum("ij,jk", x, x), /einsum.*subscript j.*size 2 in operand 1.*but 3/],
    [
      "diagonal of unequal sizes",
      () => einsum("ii->i", x),
      /einsum.*subscript i is repeated in operand 0 .* with sizes 2 and 3/,
    ],
    ["invalid character", () => einsum("i-j", x), /einsum.*invalid character '-' at index 1 of "i-j"/],
    ["comma in output", () => einsum("ij->i,j", x), /einsum.*invalid character ','/],
    ["lone dot", () => einsum("i..j", x), /einsum.*'\.' at index 1.*not part of an ellipsis/],
    ["two ellipses", () => einsum("...i...", x), /einsum.*more than one ellipsis/],
    ["unknown output subscript", () => einsum("ij->k", x), /einsum.*output subscript k.*does not appear/],
    ["repeated output subscript", () => einsum("ij->ii", x), /einsum.*output subscript i appears more than once/],
    [
      "ellipsis does not broadcast",
      () => einsum("...i,...i", x, tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [3, 3] })),
      /einsum.*\.\.\. dim 0.*size 3.*but 2/,
    ],
    [
      "operand not a tensor",
      () => einsum("i,i", y, [1, 2, 3] as unknown as Tensor),
      /einsum: operand 1 of "i,i" is not a Tensor/,
    ],
    ["dtypes differ", () => einsum("i,i", y, y.double()), /einsum.*different dtypes.*float32.*float64/],
  ];
  for (const [name, f, re] of cases)
    test(name, () =>
      assert.throws(f, (e: unknown) => (e instanceof DescentError && re.test(e.message)) || assert.fail(String(e))),
    );
});

describe("baddbmm: errors", () => {
  const b1 = dtensor([2, 3, 4], { requiresGrad: false });
  const b2 = dtensor([2, 4, 5], { requiresGrad: false });
  const cases: [string, () => unknown, RegExp][] = [
    [
      "2-D batch",
      () => baddbmm(dtensor([5]), b1.select(0, 0), b2),
      /baddbmm: batch1 and batch2 must be 3-D.*batch1 \[3, ?4\]/,
    ],
    [
      "batch counts differ",
      () => baddbmm(dtensor([5]), b1, b2.narrow(0, 0, 1)),
      /baddbmm: batch2 must have shape \[2, 4, p\].*\[1, ?4, ?5\]/,
    ],
    ["inner sizes differ", () => baddbmm(dtensor([5]), b1, b1), /baddbmm: batch2 must have shape/],
    [
      "input does not broadcast",
      () => baddbmm(dtensor([3, 2, 5]), b1, b2),
      /baddbmm: input does not broadcast to the product's shape \[2, ?3, ?5\]/,
    ],
    ["input has more dims", () => baddbmm(dtensor([1, 2, 3, 5]), b1, b2), /baddbmm: input does not broadcast/],
    ["dtypes differ", () => baddbmm(dtensor([5]).float(), b1, b2), /baddbmm: dtypes differ/],
  ];
  for (const [name, f, re] of cases)
    test(name, () =>
      assert.throws(f, (e: unknown) => (e instanceof DescentError && re.test(e.message)) || assert.fail(String(e))),
    );
});
