// Hostile inputs: 0-d tensors, empty tensors, NaN and ±Inf, huge magnitudes, non-contiguous
// views into every kernel family, and broadcasting corner cases. Expected values come from IEEE
// arithmetic done in JS, from identities, or from a second path through the API (the same op on
// `.contiguous()`, an explicit expand, a scalar operand).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { arange, cat, noGrad, ones, stack, tensor, where, zeros, type Tensor } from "../../src/index.js";
import { dtensor, makeRng } from "../helpers/gradcheck.js";

type Vals = ArrayLike<number>;
const f64 = { dtype: "float64" as const };

/** Same shape, and element-wise equal up to tol·(1+|e|); NaN matches NaN, ±Inf must match exactly. */
function expectClose(actual: Tensor, expected: Tensor | Vals, tol = 0, shape?: number[]): void {
  const e = expected instanceof Object && "toFlatArray" in expected ? (expected as Tensor) : null;
  if (e !== null) assert.deepEqual(actual.shape, e.shape, "shape");
  if (shape !== undefined) assert.deepEqual(actual.shape, shape, "shape");
  const a = actual.toFlatArray();
  const ev: Vals = e !== null ? e.toFlatArray() : (expected as Vals);
  assert.equal(a.length, ev.length, "element count");
  for (let i = 0; i < ev.length; i++) {
    const x = a[i]!;
    const y = ev[i]!;
    const ok =
      (Number.isNaN(x) && Number.isNaN(y)) ||
      x === y ||
      (Number.isFinite(x) && Number.isFinite(y) && Math.abs(x - y) <= tol * (1 + Math.abs(y)));
    assert.ok(ok, `element ${i}: got ${x}, expected ${y} (shape ${JSON.stringify(actual.shape)})`);
  }
}

function allFinite(t: Tensor): boolean {
  return Array.from(t.toFlatArray()).every((v) => Number.isFinite(v));
}

function f(values: number[], dtype: "float32" | "float64" = "float64"): Tensor {
  return tensor(values, { dtype });
}

function idx(values: number[], shape?: number[]): Tensor {
  return tensor(Int32Array.from(values), shape ? { shape } : {});
}

/** Stable softmax / logSumExp in JS, the reference for the magnitude tests. */
function jsLogSumExp(v: number[]): number {
  const m = Math.max(...v);
  if (!Number.isFinite(m)) return m === -Infinity ? -Infinity : m;
  return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0));
}
function jsSoftmax(v: number[]): number[] {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

describe("0-d tensors in every op family", () => {
  const s = tensor(1.5, f64);
  const t = tensor(-0.25, f64);
  test("creation and read-out", () => {
    assert.deepEqual(s.shape, []);
    assert.equal(s.ndim, 0);
    assert.equal(s.size, 1);
    assert.equal(s.item(), 1.5);
    assert.equal(s.toArray(), 1.5);
    assert.equal(s.toFlatArray().length, 1);
  });
  test("unary", () => {
    expectClose(s.exp(), [Math.exp(1.5)], 1e-15, []);
    expectClose(s.neg().relu(), [0], 0, []);
    expectClose(s.sigmoid(), [1 / (1 + Math.exp(-1.5))], 1e-15, []);
  });
  test("binary and comparison", () => {
    expectClose(s.add(t), [1.25], 0, []);
    expectClose(s.mul(t), [-0.375], 0, []);
    expectClose(s.gt(t), [1], 0, []);
    const v = dtensor([3], { requiresGrad: false });
    expectClose(s.add(v), v.add(1.5), 0, [3]);
    expectClose(v.mul(t), v.mul(-0.25), 0, [3]);
    expectClose(v.sub(s).div(t), v.sub(1.5).div(-0.25), 0, [3]);
  });
  test("reductions", () => {
    expectClose(s.sum(), [1.5], 0, []);
    expectClose(s.sum(0), [1.5], 0, []);
    expectClose(s.sum(-1, true), [1.5], 0, []);
    expectClose(s.mean(), [1.5], 0, []);
    expectClose(s.max(), [1.5], 0, []);
    expectClose(s.amin(), [1.5], 0, []);
    expectClose(s.logSumExp(0), [1.5], 1e-15, []);
    const am = s.argmax();
    assert.equal(am.dtype, "int32");
    expectClose(am, [0], 0, []);
  });
  test("movement", () => {
    assert.deepEqual(s.reshape(1).shape, [1]);
    assert.deepEqual(s.reshape(1, 1).shape, [1, 1]);
    assert.deepEqual(tensor([5], f64).reshape().shape, []);
    assert.deepEqual(s.unsqueeze(0).shape, [1]);
    assert.deepEqual(s.flatten().shape, [1]);
    assert.deepEqual(s.squeeze().shape, []);
    assert.deepEqual(s.permute().shape, []);
    expectClose(s.expand(2, 3), ones([2, 3], f64).mul(1.5), 0);
    expectClose(s.contiguous(), [1.5], 0, []);
    expectClose(s.clone(), [1.5], 0, []);
    expectClose(s.to("float32"), [1.5], 0, []);
    expectClose(stack([s, t, s], 0), [1.5, -0.25, 1.5], 0, [3]);
  });
  test("where, softmax, matmul result", () => {
    expectClose(where(tensor(1, f64), s, t), [1.5], 0, []);
    expectClose(where(tensor(0, f64), s, t), [-0.25], 0, []);
    expectClose(s.softmax(0), [1], 0, []);
    expectClose(s.logSoftmax(-1), [0], 0, []);
    const a = f([1, 2, 3]);
    expectClose(a.matmul(a), [14], 0, []); // a 1-D dot gives a 0-d tensor
  });
  test("backward from and into 0-d", () => {
    const x = tensor(3, { dtype: "float64", requiresGrad: true });
    x.mul(x).backward();
    expectClose(x.grad!, [6], 0, []);
  });
});

describe("empty tensors", () => {
  for (const dtype of ["float32", "float64"] as const) {
    test(`sum of empty is 0 and mean of empty is NaN (${dtype})`, () => {
      expectClose(zeros([0], { dtype }).sum(), [0], 0, []);
      expectClose(ones([0, 3], { dtype }).sum(0), [0, 0, 0], 0, [3]);
      assert.deepEqual(ones([0, 3], { dtype }).sum(1).shape, [0]);
      expectClose(zeros([0], { dtype }).mean(), [NaN], 0, []);
      expectClose(ones([0, 2], { dtype }).mean(0), [NaN, NaN], 0, [2]);
    });
  }
  test("matmul with K=0 gives zeros; with M=0 an empty result", () => {
    expectClose(ones([2, 0], f64).matmul(ones([0, 3], f64)), zeros([2, 3], f64));
    expectClose(ones([2, 5, 0]).matmul(ones([2, 0, 4])), zeros([2, 5, 4]));
    assert.deepEqual(ones([0, 3]).matmul(ones([3, 2])).shape, [0, 2]);
    expectClose(ones([0], f64).matmul(ones([0], f64)), [0], 0, []);
  });
  test("cat with empties", () => {
    const x = dtensor([2, 3], { requiresGrad: false });
    expectClose(cat([zeros([0, 3], f64), x], 0), x);
    expectClose(cat([x, zeros([0, 3], f64)], 0), x);
    expectClose(cat([x, zeros([2, 0], f64)], 1), x);
    assert.deepEqual(cat([zeros([0, 3]), zeros([0, 3])], 0).shape, [0, 3]);
  });
  test("element-wise, broadcasting, movement and softmax keep empty shapes", () => {
    assert.deepEqual(zeros([0, 3]).exp().shape, [0, 3]);
    assert.deepEqual(zeros([0, 3]).add(ones([3])).shape, [0, 3]);
    assert.deepEqual(zeros([0, 1]).mul(ones([1, 4])).shape, [0, 4]);
    assert.deepEqual(zeros([0, 3]).reshape(3, 0).shape, [3, 0]);
    assert.deepEqual(zeros([0, 3]).transpose(0, 1).shape, [3, 0]);
    assert.deepEqual(zeros([0, 4]).softmax(1).shape, [0, 4]);
    assert.deepEqual(zeros([0, 3]).amax(1).shape, [0]);
    assert.deepEqual(zeros([3, 4]).indexSelect(0, idx([])).shape, [0, 4]);
    assert.deepEqual(zeros([3, 4]).gather(1, idx([], [3, 0])).shape, [3, 0]);
    assert.deepEqual(zeros([0]).toArray(), []);
    assert.deepEqual(zeros([3, 0]).toArray(), [[], [], []]);
  });
  test("backward through an empty tensor gives an empty grad", () => {
    const x = tensor(new Float64Array(0), { shape: [0, 3], requiresGrad: true });
    x.mul(2).sum().backward();
    assert.ok(x.grad !== null);
    assert.deepEqual(x.grad.shape, [0, 3]);
  });
});

describe("NaN and ±Inf propagate as IEEE arithmetic says", () => {
  const a = [NaN, Infinity, -Infinity, 1, Infinity, 0];
  const b = [1, 1, 1, NaN, -Infinity, Infinity];
  for (const dtype of ["float32", "float64"] as const) {
    test(`add, sub, mul, div (${dtype})`, () => {
      expectClose(
        f(a, dtype).add(f(b, dtype)),
        a.map((x, i) => x + b[i]!),
      );
      expectClose(
        f(a, dtype).sub(f(b, dtype)),
        a.map((x, i) => x - b[i]!),
      );
      expectClose(
        f(a, dtype).mul(f(b, dtype)),
        a.map((x, i) => x * b[i]!),
      );
      expectClose(
        f(a, dtype).div(f(b, dtype)),
        a.map((x, i) => x / b[i]!),
      );
      expectClose(
        f(a, dtype).mul(0),
        a.map((x) => x * 0),
      );
    });
    test(`exp, log, relu, sigmoid, tanh (${dtype})`, () => {
      const v = [NaN, Infinity, -Infinity];
      expectClose(f(v, dtype).exp(), [NaN, Infinity, 0]);
      expectClose(f([NaN, Infinity, 0], dtype).log(), [NaN, Infinity, -Infinity]);
      expectClose(f(v, dtype).relu(), [NaN, Infinity, 0]);
      expectClose(f(v, dtype).sigmoid(), [NaN, 1, 0]);
      expectClose(f(v, dtype).tanh(), [NaN, 1, -1]);
    });
    test(`max, min, maximum, argmax with NaN (${dtype})`, () => {
      expectClose(f([1, NaN, 3], dtype).max(), [NaN]);
      expectClose(f([1, NaN, 3], dtype).min(), [NaN]);
      expectClose(f([1, NaN, 3], dtype).amax(), [NaN]);
      expectClose(
        tensor(
          [
            [1, NaN, 3],
            [1, 2, 3],
          ],
          { dtype },
        ).max(1),
        [NaN, 3],
      );
      expectClose(f([NaN, 1, 2], dtype).maximum(f([1, NaN, 1], dtype)), [NaN, NaN, 2]);
      expectClose(f([NaN, 1, 2], dtype).minimum(f([1, NaN, 1], dtype)), [NaN, NaN, 1]);
      expectClose(f([1, NaN, 3], dtype).argmax(), [1]);
      expectClose(f([Infinity, -Infinity, 3], dtype).max(), [Infinity]);
      expectClose(f([Infinity, -Infinity, 3], dtype).min(), [-Infinity]);
    });
    test(`sum and mean (${dtype})`, () => {
      expectClose(f([1, NaN, 2], dtype).sum(), [NaN]);
      expectClose(f([Infinity, -Infinity], dtype).sum(), [NaN]);
      expectClose(f([Infinity, 1], dtype).sum(), [Infinity]);
      expectClose(f([Infinity, 1], dtype).mean(), [Infinity]);
      expectClose(
        tensor(
          [
            [NaN, 1],
            [2, 3],
          ],
          { dtype },
        ).sum(1),
        [NaN, 5],
      );
    });
    test(`softmax: a NaN poisons only its own row (${dtype})`, () => {
      const sm = tensor(
        [
          [NaN, 1, 2],
          [0, 1, 2],
        ],
        { dtype },
      ).softmax(1);
      const rows = sm.toArray() as number[][];
      assert.ok(
        rows[0]!.every((v) => Number.isNaN(v)),
        `row 0: ${rows[0]!.join(",")}`,
      );
      expectClose(tensor(rows[1]!, f64), jsSoftmax([0, 1, 2]), 1e-6);
    });
    test(`comparisons with NaN are false except ne (${dtype})`, () => {
      const n = f([NaN, NaN], dtype);
      const o = f([NaN, 1], dtype);
      expectClose(n.eq(o), [0, 0]);
      expectClose(n.ne(o), [1, 1]);
      expectClose(n.lt(o), [0, 0]);
      expectClose(n.ge(o), [0, 0]);
    });
    test(`isNan, isInf, isFinite (${dtype})`, () => {
      const v = f([NaN, Infinity, -Infinity, 0, -2], dtype);
      expectClose(v.isNan(), [1, 0, 0, 0, 0]);
      expectClose(v.isInf(), [0, 1, 1, 0, 0]);
      expectClose(v.isFinite(), [0, 0, 0, 1, 1]);
    });
  }
  test("matmul: Inf · 0 is NaN, not skipped", () => {
    expectClose(tensor([[Infinity, 1]], f64).matmul(tensor([[0], [1]], f64)), [NaN]);
    expectClose(tensor([[NaN, 1]], f64).matmul(tensor([[0], [1]], f64)), [NaN]);
  });
});

describe("stable composites at huge magnitudes and infinities", () => {
  for (const dtype of ["float32", "float64"] as const) {
    const tol = dtype === "float32" ? 1e-6 : 1e-14;
    test(`softmax and logSoftmax at ±1e4 (${dtype})`, () => {
      const v = [1e4, 0, -1e4];
      const sm = f(v, dtype).softmax(0);
      assert.ok(allFinite(sm));
      expectClose(sm, jsSoftmax(v), tol);
      const ls = f(v, dtype).logSoftmax(0);
      assert.ok(allFinite(ls));
      expectClose(
        ls,
        v.map((x) => x - jsLogSumExp(v)),
        tol,
      );
      expectClose(f([-1e4, -1e4], dtype).softmax(0), [0.5, 0.5], tol);
      expectClose(
        tensor(
          [
            [1e4, 1e4 - 1],
            [-1e4, -1e4 + 1],
          ],
          { dtype },
        ).softmax(1),
        [...jsSoftmax([1e4, 1e4 - 1]), ...jsSoftmax([-1e4, -1e4 + 1])],
        tol,
      );
    });
    test(`softmax and logSoftmax with -Inf entries (${dtype})`, () => {
      expectClose(f([-Infinity, 0, 0], dtype).softmax(0), [0, 0.5, 0.5], tol);
      expectClose(f([-Infinity, 0, 0], dtype).logSoftmax(0), [-Infinity, -Math.LN2, -Math.LN2], tol);
    });
    test(`logSumExp at ±1e4 and ±Inf (${dtype})`, () => {
      expectClose(f([1e4, 1e4], dtype).logSumExp(0), [1e4 + Math.LN2], tol);
      expectClose(f([-1e4, -1e4], dtype).logSumExp(0), [-1e4 + Math.LN2], tol);
      expectClose(f([1e4, -1e4], dtype).logSumExp(0), [1e4], tol);
      expectClose(f([-Infinity, 0], dtype).logSumExp(0), [0], tol);
      expectClose(f([-Infinity, -Infinity], dtype).logSumExp(0), [-Infinity]);
      expectClose(f([Infinity, 0], dtype).logSumExp(0), [Infinity]);
    });
    test(`sigmoid, tanh, gelu, silu, elu at ±1e4 and ±Inf (${dtype})`, () => {
      expectClose(f([1e4, -1e4, Infinity, -Infinity], dtype).sigmoid(), [1, 0, 1, 0], tol);
      expectClose(f([1e4, -1e4, Infinity, -Infinity], dtype).tanh(), [1, -1, 1, -1], tol);
      expectClose(f([1e4, -1e4], dtype).gelu(), [1e4, 0], tol);
      expectClose(f([1e4, -1e4], dtype).silu(), [1e4, 0], tol);
      expectClose(f([1e4, -1e4], dtype).elu(), [1e4, -1], tol);
    });
    test(`gradients stay finite at ±1e4 (${dtype})`, () => {
      const mk = () => tensor([1e4, 0, -1e4], { dtype, requiresGrad: true });
      const w = f([0.3, -1, 2], dtype);
      const cases: [string, (x: Tensor) => Tensor][] = [
        ["softmax", (x) => x.softmax(0).mul(w).sum()],
        ["logSoftmax", (x) => x.logSoftmax(0).mul(w).sum()],
        ["logSumExp", (x) => x.logSumExp(0)],
        ["sigmoid", (x) => x.sigmoid().mul(w).sum()],
        ["tanh", (x) => x.tanh().mul(w).sum()],
        ["gelu", (x) => x.gelu().mul(w).sum()],
        ["silu", (x) => x.silu().mul(w).sum()],
      ];
      for (const [name, fn] of cases) {
        const x = mk();
        fn(x).backward();
        assert.ok(x.grad !== null && allFinite(x.grad), `${name}: grad ${x.grad?.toFlatArray().join(",")}`);
      }
      // d logSumExp / dx = softmax(x)
      const x = mk();
      x.logSumExp(0).backward();
      expectClose(x.grad!, jsSoftmax([1e4, 0, -1e4]), tol);
    });
  }
});

describe("non-contiguous inputs give the same result as .contiguous()", () => {
  // Views over float64 data: transposed, stepped slice with an offset, expanded (stride 0), permuted 3-D.
  const base = dtensor([6, 8], { lo: 0.2, hi: 2, signed: true, requiresGrad: false, seed: 401 });
  const views: [string, Tensor][] = [
    ["transposed", dtensor([4, 3], { lo: 0.2, hi: 2, signed: true, requiresGrad: false, seed: 402 }).transpose(0, 1)],
    ["stepped slice with offset", base.slice(0, 1, 6, 2).slice(1, 1, 8, 2)],
    ["expanded", dtensor([3, 1], { lo: 0.2, hi: 2, signed: true, requiresGrad: false, seed: 403 }).expand(3, 4)],
    ["narrowed", base.narrow(1, 2, 4).narrow(0, 2, 3)],
  ];
  const tol = 1e-12;
  const other = dtensor([3, 4], { lo: 0.2, hi: 2, requiresGrad: false, seed: 404 });
  const cond = dtensor([3, 4], { requiresGrad: false, seed: 405 }).gt(0);
  const gidx = idx([0, 3, 1, 2, 2, 0], [3, 2]);
  const families: [string, (v: Tensor) => Tensor][] = [
    ["unary exp", (v) => v.exp()],
    ["unary abs/sqrt", (v) => v.abs().sqrt()],
    ["unary relu/sigmoid/tanh", (v) => v.relu().add(v.sigmoid()).add(v.tanh())],
    ["binary add with contiguous", (v) => v.add(other)],
    ["binary with itself transposed twice", (v) => v.mul(v.transpose(0, 1).transpose(0, 1))],
    ["binary div/pow with scalar", (v) => v.div(0.3).abs().pow(1.5)],
    ["binary maximum", (v) => v.maximum(other.neg())],
    ["comparison gt", (v) => v.gt(other.sub(1))],
    ["reduce sum()", (v) => v.sum()],
    ["reduce sum(0)", (v) => v.sum(0)],
    ["reduce mean(1, keepDim)", (v) => v.mean(1, true)],
    ["reduce max(1)", (v) => v.max(1)],
    ["reduce amin(0)", (v) => v.amin(0)],
    ["reduce var(1)", (v) => v.var(1)],
    ["reduce argmax(1)", (v) => v.argmax(1)],
    ["reduce argmin(0)", (v) => v.argmin(0)],
    ["reduce logSumExp(1)", (v) => v.logSumExp(1)],
    ["softmax(0)", (v) => v.softmax(0)],
    ["norm()", (v) => v.norm()],
    ["matmul v · vᵀ", (v) => v.matmul(v.transpose(0, 1))],
    ["matmul vᵀ · v", (v) => v.transpose(0, 1).matmul(v)],
    ["matmul v · 1-D", (v) => v.matmul(other.select(0, 1))],
    ["gather(1)", (v) => v.gather(1, gidx)],
    ["indexSelect(1)", (v) => v.indexSelect(1, idx([3, 0, 3]))],
    ["where(cond, v, other)", (v) => where(cond, v, other)],
    ["where(v > 0, other, v)", (v) => where(v.gt(0), other, v)],
    ["maskedFill", (v) => v.maskedFill(cond, 9)],
    ["copy: clone", (v) => v.clone()],
    ["copy: to(float32)", (v) => v.to("float32")],
    ["copy: reshape(-1)", (v) => v.reshape(-1)],
    ["copy: flatten then view", (v) => v.flatten().view(2, 6)],
    ["cat of the view with itself", (v) => cat([v, v], 1)],
    ["stack", (v) => stack([v, other], 0)],
    ["scatterAdd with the view as src", (v) => zeros([3, 4], f64).scatterAdd(1, gidx, v.slice(1, 0, 2))],
    ["scatterAdd into the view as self", (v) => v.scatterAdd(1, gidx, other.slice(1, 0, 2))],
  ];
  for (const [vname, v] of views) {
    test(`${vname}: the view really is non-contiguous`, () => {
      assert.equal(v.isContiguous(), false);
      assert.equal(v.contiguous().isContiguous(), true);
      assert.deepEqual(Array.from(v.toFlatArray()), Array.from(v.contiguous().toFlatArray()));
      assert.deepEqual(v.toArray(), v.contiguous().toArray());
    });
    for (const [fname, fn] of families) {
      test(`${vname}: ${fname}`, () => expectClose(fn(v), fn(v.contiguous()), tol));
    }
  }
  test("batched matmul on permuted 3-D views", () => {
    const a = dtensor([4, 2, 3], { requiresGrad: false, seed: 406 }).permute(1, 2, 0); // [2,3,4]
    const b = dtensor([2, 5, 4], { requiresGrad: false, seed: 407 }).transpose(1, 2); // [2,4,5]
    expectClose(a.matmul(b), a.contiguous().matmul(b.contiguous()), tol);
  });
  test("int32 views: add, sum, gather", () => {
    const x = tensor(
      Int32Array.from({ length: 12 }, (_, i) => ((i * 7) % 11) - 5),
      { shape: [4, 3] },
    ).transpose(0, 1);
    assert.equal(x.isContiguous(), false);
    expectClose(x.add(x.contiguous().mul(2)), x.contiguous().mul(3));
    expectClose(x.sum(1), x.contiguous().sum(1));
    expectClose(x.gather(1, gidx), x.contiguous().gather(1, gidx));
  });
  test("float32 views: unary, reduce, matmul", () => {
    const x = dtensor([4, 3], { requiresGrad: false, seed: 408 }).to("float32").transpose(0, 1);
    expectClose(x.exp(), x.contiguous().exp());
    expectClose(x.sum(0), x.contiguous().sum(0), 1e-6);
    expectClose(x.matmul(x.transpose(0, 1)), x.contiguous().matmul(x.contiguous().transpose(0, 1)), 1e-6);
  });
  test("copy_ and add_ into non-contiguous destinations", () => {
    const src = dtensor([4, 3], { requiresGrad: false, seed: 409 });
    const y = dtensor([3, 4], { requiresGrad: false, seed: 410 });
    const dst = zeros([3, 4], f64);
    noGrad(() => dst.transpose(0, 1).copy_(src));
    expectClose(dst, src.transpose(0, 1).contiguous());
    const acc = y.clone();
    noGrad(() => acc.transpose(0, 1).add_(src));
    expectClose(acc, y.add(src.transpose(0, 1)), tol);
    const strided = zeros([3, 8], f64);
    noGrad(() => strided.slice(1, 1, 8, 2).copy_(y.transpose(0, 1).transpose(0, 1)));
    expectClose(strided.slice(1, 1, 8, 2), y);
    expectClose(strided.slice(1, 0, 8, 2), zeros([3, 4], f64));
  });
});

/** Naive float64 triple loop over row-major values: the reference for the blocked GEMM. */
function jsMatmul(a: Vals, b: Vals, m: number, k: number, n: number): number[] {
  const out = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += a[i * k + p]! * b[p * n + j]!;
      out[i * n + j] = acc;
    }
  }
  return out;
}

describe("matmul large enough for the blocked (packed) path", () => {
  // M > 128, K > 256 and sizes that are not multiples of the register tile, so every block loop
  // and the edge tiles run; operands as transposed, sliced and broadcast views.
  const [M, K, N] = [133, 261, 7];
  const a = dtensor([M, K], { requiresGrad: false, seed: 601 });
  const b = dtensor([K, N], { requiresGrad: false, seed: 602 });
  const ref = jsMatmul(a.toFlatArray(), b.toFlatArray(), M, K, N);
  test("contiguous float64 against a naive loop", () => expectClose(a.matmul(b), ref, 1e-12, [M, N]));
  test("transposed operands", () => {
    const at = a.transpose(0, 1).contiguous().transpose(0, 1);
    const bt = b.transpose(0, 1).contiguous().transpose(0, 1);
    assert.equal(at.isContiguous(), false);
    expectClose(at.matmul(bt), ref, 1e-12, [M, N]);
  });
  test("stepped-slice operands with offsets", () => {
    const big = zeros([2 * M + 1, K + 3], f64);
    noGrad(() =>
      big
        .slice(0, 1, 2 * M + 1, 2)
        .slice(1, 2, K + 2)
        .copy_(a),
    );
    const av = big.slice(0, 1, 2 * M + 1, 2).slice(1, 2, K + 2);
    assert.equal(av.isContiguous(), false);
    expectClose(av.matmul(b), ref, 1e-12, [M, N]);
  });
  test("wide N, transposed product (Kᵀ)", () => {
    const c = dtensor([40, 150], { requiresGrad: false, seed: 603 });
    const expected = jsMatmul(c.transpose(0, 1).contiguous().toFlatArray(), c.toFlatArray(), 150, 40, 150);
    expectClose(c.transpose(0, 1).matmul(c), expected, 1e-12, [150, 150]);
  });
  test("batched with a broadcast batch dim", () => {
    const x = dtensor([3, 1, 20, 30], { requiresGrad: false, seed: 604 });
    const y = dtensor([2, 30, 25], { requiresGrad: false, seed: 605 });
    const r = x.matmul(y);
    assert.deepEqual(r.shape, [3, 2, 20, 25]);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 2; j++) {
        const e = jsMatmul(x.select(0, i).select(0, 0).toFlatArray(), y.select(0, j).toFlatArray(), 20, 30, 25);
        expectClose(r.select(0, i).select(0, j), e, 1e-12);
      }
    }
  });
  test("float32 accumulates accurately", () => {
    const r = a.to("float32").matmul(b.to("float32"));
    assert.equal(r.dtype, "float32");
    const ref32 = jsMatmul(a.to("float32").toFlatArray(), b.to("float32").toFlatArray(), M, K, N);
    expectClose(r, ref32, 1e-5);
  });
  test("backward through the blocked path: dA = G·Bᵀ, dB = Aᵀ·G", () => {
    const A = a.detach().requiresGrad_();
    const Bm = b.detach().requiresGrad_();
    const G = dtensor([M, N], { requiresGrad: false, seed: 606 });
    A.matmul(Bm).backward(G);
    const bT = b.transpose(0, 1).contiguous().toFlatArray();
    const aT = a.transpose(0, 1).contiguous().toFlatArray();
    expectClose(A.grad!, jsMatmul(G.toFlatArray(), bT, M, N, K), 1e-12, [M, K]);
    expectClose(Bm.grad!, jsMatmul(aT, G.toFlatArray(), K, M, N), 1e-12, [K, N]);
  });
  test("an Inf or NaN in a big operand reaches the right outputs", () => {
    const a2 = a.clone();
    noGrad(() => a2.select(0, 5).select(0, 17).fill_(NaN));
    const r = a2.matmul(b);
    const rows = r.isNan().sum(1).toFlatArray();
    rows.forEach((v, i) => assert.equal(v, i === 5 ? N : 0, `row ${i}`));
  });
});

describe("random strided layouts through the loop compiler", () => {
  // A random shape, a random permutation and random stepped slices, then the op on the view
  // against the op on its contiguous copy.
  const rng = makeRng(4242);
  const ri = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  for (let trial = 0; trial < 40; trial++) {
    const nd = ri(1, 4);
    const full = Array.from({ length: nd }, () => ri(1, 5));
    const base = dtensor(full, { lo: 0.1, hi: 2, signed: true, requiresGrad: false, seed: 700 + trial });
    let v = base;
    for (let d = 0; d < nd; d++) {
      const size = v.shape[d]!;
      const start = ri(0, Math.max(size - 1, 0));
      v = v.slice(d, start, size, ri(1, 2));
    }
    const perm = Array.from({ length: nd }, (_, i) => i).sort(() => rng() - 0.5);
    v = v.permute(...perm);
    const c = v.contiguous();
    const other = dtensor([...c.shape], { requiresGrad: false, seed: 800 + trial });
    const rdim = ri(0, nd - 1);
    test(`trial ${trial}: shape ${JSON.stringify(v.shape)} strides ${JSON.stringify(v.strides)}`, () => {
      expectClose(v.exp(), c.exp());
      expectClose(v.add(other), c.add(other));
      expectClose(other.mul(v), other.mul(c));
      expectClose(v.sum(rdim, true), c.sum(rdim, true), 1e-12);
      expectClose(v.amax(rdim), c.amax(rdim));
      expectClose(v.argmin(rdim), c.argmin(rdim));
      expectClose(v.sum(), c.sum(), 1e-12);
      expectClose(v.softmax(rdim), c.softmax(rdim), 1e-12);
      expectClose(where(v.gt(0), v, other), where(c.gt(0), c, other));
      expectClose(v.reshape(-1), c.reshape(-1));
    });
  }
});

describe("broadcasting corner cases", () => {
  test("[3,1] + [1,4] against an explicit double loop", () => {
    const a = dtensor([3, 1], { requiresGrad: false, seed: 501 });
    const b = dtensor([1, 4], { requiresGrad: false, seed: 502 });
    const av = a.toFlatArray();
    const bv = b.toFlatArray();
    const expected: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) expected.push(av[i]! + bv[j]!);
    expectClose(a.add(b), expected, 0, [3, 4]);
  });
  const pairs: [number[], number[], number[]][] = [
    [
      [2, 1, 3],
      [4, 1],
      [2, 4, 3],
    ],
    [
      [5, 1, 1],
      [1, 1, 5],
      [5, 1, 5],
    ],
    [[], [2, 3], [2, 3]],
    [[1], [], [1]],
    [[1, 1], [1], [1, 1]],
    [[0], [1], [0]],
    [
      [3, 0, 2],
      [1, 2],
      [3, 0, 2],
    ],
    [[4], [3, 1], [3, 4]],
  ];
  for (const [sa, sb, so] of pairs) {
    test(`${JSON.stringify(sa)} with ${JSON.stringify(sb)} -> ${JSON.stringify(so)}`, () => {
      const a = dtensor(sa, { requiresGrad: false, seed: 503 });
      const b = dtensor(sb, { requiresGrad: false, seed: 504 });
      for (const op of ["add", "sub", "mul", "maximum"] as const) {
        const r = a[op](b);
        assert.deepEqual(r.shape, so, op);
        // the same op on explicitly expanded, materialised operands
        const ea = a.expand(...so).contiguous();
        expectClose(r, ea[op](b.expand(...so).contiguous()), 0);
      }
    });
  }
  test("an expanded (stride-0) view broadcast again", () => {
    const x = dtensor([3, 1], { requiresGrad: false, seed: 505 }).expand(3, 4);
    const y = dtensor([2, 1, 4], { requiresGrad: false, seed: 506 });
    expectClose(
      x.add(y),
      x
        .contiguous()
        .unsqueeze(0)
        .expand(2, 3, 4)
        .contiguous()
        .add(y.expand(2, 3, 4).contiguous()),
    );
  });
  test("where broadcasts all three operands", () => {
    const c = dtensor([3, 1], { requiresGrad: false, seed: 507 }).gt(0);
    const a = tensor(2, f64);
    const b = dtensor([1, 4], { requiresGrad: false, seed: 508 });
    const r = where(c, a, b);
    assert.deepEqual(r.shape, [3, 4]);
    expectClose(r, where(c.expand(3, 4), a.expand(3, 4), b.expand(3, 4)));
  });
  test("int32 broadcasting stays int32", () => {
    const r = idx([1, 2, 3], [3, 1]).add(idx([10, 20]));
    assert.equal(r.dtype, "int32");
    expectClose(r, [11, 21, 12, 22, 13, 23], 0, [3, 2]);
  });
  test("in-place add_ broadcasts its operand into self", () => {
    const x = zeros([3, 4], f64);
    const row = arange(0, 4, 1, f64);
    noGrad(() => x.add_(row));
    expectClose(x, row.expand(3, 4));
  });
  test("a random mix of broadcastable shapes agrees with explicit expansion", () => {
    const rng = makeRng(7);
    for (let trial = 0; trial < 20; trial++) {
      const nd = 1 + Math.floor(rng() * 4);
      const out = Array.from({ length: nd }, () => 1 + Math.floor(rng() * 3));
      const sa = out.map((d) => (rng() < 0.4 ? 1 : d)).slice(Math.floor(rng() * nd));
      const sb = out.map((d) => (rng() < 0.4 ? 1 : d));
      const a = dtensor(sa, { requiresGrad: false, seed: trial });
      const b = dtensor(sb, { requiresGrad: false, seed: trial + 100 });
      const r = a.mul(b);
      const so = r.shape;
      expectClose(
        r,
        a
          .expand(...so)
          .contiguous()
          .mul(b.expand(...so).contiguous()),
        0,
      );
    }
  });
});
