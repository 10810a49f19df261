// Bad shapes, dims, dtypes, indices and autograd misuse must throw a DescentError whose message
// names the operation and the shapes or values involved (API.md, "Errors").

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  arange,
  cat,
  DescentError,
  eye,
  full,
  linspace,
  nn,
  noGrad,
  ones,
  rand,
  randn,
  stack,
  tensor,
  where,
  zeros,
  type Tensor,
} from "../../src/index.js";
import { backend, registerBackend, setBackend } from "../../src/backends/index.js";
import { jsBackend } from "../../src/backends/js/index.js";

/** Asserts fn throws a DescentError (an Error subclass) whose message matches every pattern. */
function throwsDescent(fn: () => unknown, ...patterns: RegExp[]): void {
  let thrown: unknown = undefined;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, "expected a DescentError, but nothing was thrown");
  assert.ok(thrown instanceof DescentError, `expected a DescentError, got ${String(thrown)}`);
  assert.ok(thrown instanceof Error);
  for (const p of patterns) assert.match(thrown.message, p);
}

/** A shape as messages print it, tolerating spaces or parentheses: [2,3], [2, 3], (2, 3). */
function sh(...dims: number[]): RegExp {
  return new RegExp(`[[(]${dims.join(",\\s*")}[\\])]`);
}

const f64 = { dtype: "float64" as const };
const i32 = (values: number[], shape?: number[]): Tensor => tensor(Int32Array.from(values), shape ? { shape } : {});

describe("DescentError", () => {
  test("is an Error subclass with its own name", () => {
    const e = new DescentError("x: y");
    assert.ok(e instanceof Error);
    assert.equal(e.name, "DescentError");
  });
});

describe("shape mismatches", () => {
  test("add of [2,3] and [4,5]", () =>
    throwsDescent(() => ones([2, 3]).add(ones([4, 5])), /^add\b/, sh(2, 3), sh(4, 5)));
  test("add of [2,3] and [3,2]", () =>
    throwsDescent(() => ones([2, 3]).add(ones([3, 2])), /^add\b/, sh(2, 3), sh(3, 2)));
  test("mul of [3] and [4]", () => throwsDescent(() => ones([3]).mul(ones([4])), /^mul\b/, sh(3), sh(4)));
  test("sub, div, pow, maximum, eq name themselves", () => {
    throwsDescent(() => ones([2]).sub(ones([3])), /^sub\b/);
    throwsDescent(() => ones([2]).div(ones([3])), /^div\b/);
    throwsDescent(() => ones([2]).pow(ones([3])), /^pow\b/);
    throwsDescent(() => ones([2]).maximum(ones([3])), /^maximum\b/);
    throwsDescent(() => ones([2]).eq(ones([3])), /^eq\b/);
  });
  test("matmul of [2,3] and [4,5]", () =>
    throwsDescent(() => ones([2, 3]).matmul(ones([4, 5])), /^matmul\b/, sh(2, 3), sh(4, 5), /3/, /4/));
  test("matmul of 1-D [3] and [4]", () => throwsDescent(() => ones([3]).matmul(ones([4])), /^matmul\b/, sh(3), sh(4)));
  test("matmul with unbroadcastable batch dims", () =>
    throwsDescent(() => ones([2, 3, 4]).matmul(ones([3, 4, 5])), /^matmul\b/, sh(2, 3, 4), sh(3, 4, 5)));
  test("matmul of a 0-d tensor", () => throwsDescent(() => tensor(2).matmul(ones([2])), /^matmul\b/));
  test("cat of [2,3] and [2,4] along dim 0", () =>
    throwsDescent(() => cat([ones([2, 3]), ones([2, 4])], 0), /^cat\b/, sh(2, 3), sh(2, 4)));
  test("cat of tensors with different ndim", () => throwsDescent(() => cat([ones([2, 3]), ones([3])], 0), /^cat\b/));
  test("cat of an empty list", () => throwsDescent(() => cat([], 0), /^cat\b/));
  test("cat of 0-d tensors", () => throwsDescent(() => cat([tensor(1), tensor(2)], 0), /^cat\b/));
  test("stack of different shapes", () =>
    throwsDescent(() => stack([ones([2, 3]), ones([3, 2])], 0), /^stack\b/, sh(2, 3), sh(3, 2)));
  test("where with unbroadcastable operands", () =>
    throwsDescent(() => where(ones([2, 3]), ones([2, 3]), ones([4])), /^where\b/, sh(4)));
  test("maskedFill with an unbroadcastable mask", () =>
    throwsDescent(() => ones([2, 3]).maskedFill(ones([4]), 0), /^maskedFill\b/, sh(4)));
  test("copy_ from an unbroadcastable source", () =>
    throwsDescent(() => noGrad(() => zeros([2, 3]).copy_(ones([3, 2]))), /^copy_\b/, sh(2, 3), sh(3, 2)));
  test("in-place add_ whose broadcast would change self's shape", () =>
    throwsDescent(() => noGrad(() => zeros([3]).add_(ones([2, 3]))), /^add_\b/, sh(3), sh(2, 3)));
});

describe("bad dims", () => {
  const x = ones([2, 3]);
  test("sum(2) on a 2-D tensor", () => throwsDescent(() => x.sum(2), /^sum\b/, /2/));
  test("sum(-3) on a 2-D tensor", () => throwsDescent(() => x.sum(-3), /^sum\b/, /-3/));
  test("sum([0, 0]) repeats a dim", () => throwsDescent(() => x.sum([0, 0]), /^sum\b/));
  test("mean, max, softmax, logSumExp with dim 5", () => {
    throwsDescent(() => x.mean(5), /^mean\b/, /5/);
    throwsDescent(() => x.max(5), /^max\b/, /5/);
    throwsDescent(() => x.softmax(5), /^softmax\b/, /5/);
    throwsDescent(() => x.logSoftmax(-4), /^logSoftmax\b/, /-4/);
    throwsDescent(() => x.logSumExp(2), /^logSumExp\b/, /2/);
    throwsDescent(() => x.argmax(3), /^argmax\b/, /3/);
  });
  test("transpose(0, 5)", () => throwsDescent(() => x.transpose(0, 5), /^transpose\b/, /5/));
  test("unsqueeze(4) on 2-D", () => throwsDescent(() => x.unsqueeze(4), /^unsqueeze\b/, /4/));
  test("squeeze(7)", () => throwsDescent(() => x.squeeze(7), /^squeeze\b/, /7/));
  test("permute with a repeated or missing dim", () => {
    throwsDescent(() => x.permute(0, 0), /^permute\b/);
    throwsDescent(() => x.permute(0), /^permute\b/);
  });
  test("flatten(2) on 2-D", () => throwsDescent(() => x.flatten(2), /^flatten\b/, /2/));
  test("select with a bad dim or index", () => {
    throwsDescent(() => x.select(2, 0), /^select\b/, /2/);
    throwsDescent(() => x.select(1, 3), /^select\b/, /3/);
    throwsDescent(() => x.select(0, -3), /^select\b/, /-3/);
  });
  test("narrow out of range", () => throwsDescent(() => x.narrow(1, 2, 2), /^narrow\b/));
  test("slice with step 0 or negative", () => {
    throwsDescent(() => x.slice(1, 0, 3, 0), /^slice\b/, /step/);
    throwsDescent(() => x.slice(1, 0, 3, -1), /^slice\b/, /step/);
    throwsDescent(() => x.slice(2, 0, 1), /^slice\b/, /2/);
  });
  test("cat and stack with a bad dim", () => {
    throwsDescent(() => cat([x, x], 2), /^cat\b/, /2/);
    throwsDescent(() => stack([x, x], 4), /^stack\b/, /4/);
  });
  test("gather and indexSelect with a bad dim", () => {
    throwsDescent(() => x.gather(2, i32([0, 0, 0, 0, 0, 0], [2, 3])), /^gather\b/, /2/);
    throwsDescent(() => x.indexSelect(3, i32([0])), /^indexSelect\b/, /3/);
  });
  test("chunk(0) and split(0)", () => {
    throwsDescent(() => x.chunk(0), /^chunk\b/);
    throwsDescent(() => x.split(0), /^split\b/);
  });
});

describe("reshape, view and expand sizes", () => {
  test("reshape [2,3] to [4,2]", () =>
    throwsDescent(() => ones([2, 3]).reshape(4, 2), /^reshape\b/, sh(4, 2), /6|\[2,\s*3\]/));
  test("reshape with two -1", () => throwsDescent(() => ones([2, 3]).reshape(-1, -1), /^reshape\b/));
  test("reshape with -1 that does not divide", () => throwsDescent(() => ones([2, 3]).reshape(-1, 4), /^reshape\b/));
  test("view [2,3] to [5]", () => throwsDescent(() => ones([2, 3]).view(5), /^(view|reshape)\b/, /5/));
  test("expand [3,2] to [3,4]", () => throwsDescent(() => ones([3, 2]).expand(3, 4), /^expand\b/, sh(3, 2), sh(3, 4)));
  test("expand to fewer dims", () => throwsDescent(() => ones([2, 3]).expand(3), /^expand\b/));
  test("tensor() with a ragged nested array", () => throwsDescent(() => tensor([[1, 2], [3]]), /^tensor\b/));
  test("tensor() with a typed array that does not fill the shape", () =>
    throwsDescent(() => tensor(new Float32Array(5), { shape: [2, 3] }), /^tensor\b/, /5/, sh(2, 3)));
  test("zeros with a negative size", () => throwsDescent(() => zeros([2, -1]), /-1/));
  test("item() of a multi-element tensor", () => throwsDescent(() => ones([2, 3]).item(), /^item\b/, sh(2, 3)));
});

describe("empty reductions without an identity", () => {
  test("max() and amax(0) of an empty tensor", () => {
    throwsDescent(() => zeros([0]).max(), /^(max|amax)\b/);
    throwsDescent(() => zeros([0, 3]).amax(0), /^amax\b/);
  });
  test("argmax of an empty tensor", () => throwsDescent(() => zeros([0]).argmax(), /^argmax\b/));
});

describe("autograd misuse", () => {
  test("backward of a non-scalar without a gradient", () => {
    const x = ones([2, 3], { dtype: "float64", requiresGrad: true });
    throwsDescent(() => x.mul(2).backward(), /^backward\b/, sh(2, 3));
  });
  test("backward with a gradient of the wrong shape", () => {
    const x = ones([2, 3], { dtype: "float64", requiresGrad: true });
    throwsDescent(() => x.mul(2).backward(ones([3, 2], f64)), /^backward\b/, sh(3, 2), sh(2, 3));
  });
  test("second backward through a freed graph", () => {
    const x = ones([3], { dtype: "float64", requiresGrad: true });
    const y = x.exp().sum();
    y.backward();
    throwsDescent(() => y.backward(), /^backward\b/, /retainGraph|freed/i);
  });
  test("backward of a tensor that does not require grad", () =>
    throwsDescent(() => ones([2]).sum().backward(), /^backward\b/));
  test("in-place ops on a leaf that requires grad", () => {
    const x = ones([3], { requiresGrad: true });
    throwsDescent(() => x.add_(1), /^add_\b/);
    throwsDescent(() => x.mul_(2), /^mul_\b/);
    throwsDescent(() => x.zero_(), /^zero_\b/);
    throwsDescent(() => x.uniform_(), /^uniform_\b/);
  });
});

describe("dtype errors: int32 where a float is needed", () => {
  const n = i32([1, 2, 3]);
  for (const [op, fn] of [
    ["exp", (t: Tensor) => t.exp()],
    ["log", (t: Tensor) => t.log()],
    ["sqrt", (t: Tensor) => t.sqrt()],
    ["sigmoid", (t: Tensor) => t.sigmoid()],
    ["tanh", (t: Tensor) => t.tanh()],
    ["softmax", (t: Tensor) => t.softmax(0)],
    ["logSoftmax", (t: Tensor) => t.logSoftmax(0)],
    ["mean", (t: Tensor) => t.mean()],
    ["var", (t: Tensor) => t.var()],
    ["std", (t: Tensor) => t.std()],
    ["norm", (t: Tensor) => t.norm()],
    ["logSumExp", (t: Tensor) => t.logSumExp(0)],
  ] as [string, (t: Tensor) => Tensor][]) {
    test(`${op} on int32`, () => throwsDescent(() => fn(n), new RegExp(`^${op}\\b`), /int32/));
  }
  test("requiresGrad on int32 at creation", () =>
    throwsDescent(() => tensor(Int32Array.from([1, 2]), { requiresGrad: true }), /int32/));
  test("requiresGrad on an int32 tensor via dtype option", () =>
    throwsDescent(() => zeros([2], { dtype: "int32", requiresGrad: true }), /int32/));
  test("requiresGrad_() on int32", () => throwsDescent(() => i32([1, 2]).requiresGrad_(), /requiresGrad/, /int32/));
  test("an unknown dtype", () => throwsDescent(() => tensor([1], { dtype: "int64" as unknown as "int32" }), /int64/));
  test("a float index for gather and indexSelect", () => {
    throwsDescent(
      () =>
        ones([2, 3]).gather(
          1,
          tensor([
            [0, 1, 2],
            [0, 1, 2],
          ]),
        ),
      /^gather\b/,
      /int32/,
    );
    throwsDescent(() => ones([2, 3]).indexSelect(0, tensor([0, 1])), /^indexSelect\b/, /int32/);
  });
});

describe("out-of-range indices", () => {
  const x = ones([2, 3]);
  test("gather index 5 on a dim of size 3", () =>
    throwsDescent(() => x.gather(1, i32([0, 5, 1, 0, 0, 0], [2, 3])), /^gather\b/, /5/, /3/));
  test("gather with a negative index", () =>
    throwsDescent(() => x.gather(1, i32([0, -1, 1, 0, 0, 0], [2, 3])), /^gather\b/, /-1/));
  test("gather with an index of different ndim", () => throwsDescent(() => x.gather(1, i32([0, 1])), /^gather\b/));
  test("indexSelect index 3 on a dim of size 3", () =>
    throwsDescent(() => x.indexSelect(1, i32([0, 3])), /^indexSelect\b/, /3/));
  test("indexSelect index 2 on a dim of size 2", () =>
    throwsDescent(() => x.indexSelect(0, i32([2])), /^indexSelect\b/, /2/));
  test("indexSelect with a 2-D index", () =>
    throwsDescent(() => x.indexSelect(0, i32([0, 1], [1, 2])), /^indexSelect\b/));
  test("scatterAdd index out of range", () =>
    throwsDescent(() => zeros([2, 3]).scatterAdd(1, i32([4, 0], [2, 1]), ones([2, 1])), /^scatterAdd\b/, /4/));
});

// Issue 11.6: sizes past what one typed array can hold were RangeErrors (or, through toArray, a
// V8 heap crash); each is a DescentError naming the op and the shape.
describe("sizes too large to allocate", () => {
  const limit = new RegExp(String(2 ** 32));
  test("zeros([2^33])", () => throwsDescent(() => zeros([2 ** 33]), /^zeros\b/, sh(2 ** 33), limit));
  test("eye(2^20)", () => throwsDescent(() => eye(2 ** 20), /^eye\b/, sh(2 ** 20, 2 ** 20)));
  test("arange(0, 1e12)", () => throwsDescent(() => arange(0, 1e12), /^arange\b/, /1000000000000/));
  test("linspace, rand, randn, full with huge sizes", () => {
    throwsDescent(() => linspace(0, 1, 2 ** 40), /^linspace\b/);
    throwsDescent(() => rand([2 ** 20, 2 ** 20]), /^rand\b/);
    throwsDescent(() => randn([2 ** 20, 2 ** 20]), /^randn\b/);
    throwsDescent(() => full([2 ** 33], 1), /^full\b/);
  });
  test("a layer constructor (its parameters are made by zeros)", () =>
    throwsDescent(() => new nn.Linear(4, 2 ** 31), /^zeros\b/, sh(2 ** 31, 4)));
  test("an empty tensor may have a huge size, but toArray refuses to build its 2^31 arrays", () => {
    const t = zeros([2 ** 31, 0]);
    assert.deepEqual(t.shape, [2 ** 31, 0]);
    throwsDescent(() => t.toArray(), /^toArray\b/, sh(2 ** 31, 0), /MAX_TO_ARRAY_ENTRIES \(67108864\)/);
    throwsDescent(() => zeros([2 ** 40, 0]), /^zeros\b/, /size larger than/);
    assert.deepEqual(zeros([2, 0]).toArray(), [[], []]);
  });
  // An op whose output no tensor can hold (found after the creation checks: alloc in the ops
  // layer let V8's RangeError "Invalid typed array length" through).
  test("an op's output beyond MAX_ELEMENTS names the op", () => {
    throwsDescent(() => zeros([100000, 1]).matmul(zeros([1, 100000])), /^matmul\b/, sh(100000, 100000));
    throwsDescent(() => zeros([70000, 1]).add(zeros([1, 70000])), /^add\b/, sh(70000, 70000));
  });
  // An allocation that fails within the element limit (out of memory), from a backend that says so.
  test("a failed allocation names the creation function or the op", () => {
    const a = zeros([2, 3]);
    const b = zeros([2, 3]);
    registerBackend({
      ...jsBackend,
      name: "no-memory",
      alloc: () => {
        throw new RangeError("Array buffer allocation failed");
      },
    });
    const before = backend().name;
    setBackend("no-memory");
    try {
      throwsDescent(
        () => zeros([2, 3]),
        /^zeros: cannot allocate the output, shape \[2,3\] float32: Array buffer allocation failed$/,
      );
      throwsDescent(() => a.add(b), /^add: cannot allocate the output, shape \[2,3\] float32/);
    } finally {
      setBackend(before);
    }
  });
});
