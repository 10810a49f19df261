// The fused softmax / log-softmax primitives (src/ops/fused.ts, taken for the last dim of a
// contiguous float tensor): numerical gradient checks of the op and of graphs through it, that the
// fused op is what runs there (and the composite elsewhere), that both forms agree in value and
// gradient (float64 to rounding, float32 to a few ulps, large magnitudes and -Inf included), and
// that NaN/±Inf rows give what the composite gives; and ReLU's one-kernel backward.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { tensor, type Tensor } from "../../src/index.js";
import * as C from "../../src/tensor/composite.js";
import { crossEntropy } from "../../src/nn/functional/loss.js";
import { dtensor, gradcheck } from "../helpers/gradcheck.js";
import { assertAllclose } from "../helpers/allclose.js";

const OPS = [
  ["logSoftmax", (x: Tensor) => x.logSoftmax(-1), (x: Tensor) => C.logSoftmax(x, -1)],
  ["softmax", (x: Tensor) => x.softmax(-1), (x: Tensor) => C.softmax(x, -1)],
] as const;

describe("fused softmax / log-softmax along the last dim", () => {
  for (const [name, fused] of OPS) {
    test(`${name}: gradcheck on [1], [5], [3,5], [2,3,4], wide ranges`, () => {
      gradcheck(fused, [dtensor([1])]);
      gradcheck(fused, [dtensor([5], { lo: -3, hi: 3 })]);
      gradcheck(fused, [dtensor([3, 5], { lo: -20, hi: 20, seed: 3 })]);
      gradcheck(fused, [dtensor([2, 3, 4], { seed: 4 })]);
      // weighted sum of outputs, so the backward sees a non-constant gradient
      const w = dtensor([3, 5], { seed: 9, requiresGrad: false });
      gradcheck((x) => fused(x).mul(w).sum(), [dtensor([3, 5], { seed: 5 })]);
      gradcheck((x) => fused(x.mul(2).add(1)).square(), [dtensor([4, 3], { seed: 6 })]);
    });

    test(`${name}: the fused op runs for the last contiguous dim only`, () => {
      const x = dtensor([3, 4]);
      assert.equal(fused(x).gradFn!.name, name);
      assert.equal(x[name](1).gradFn!.name, name);
      assert.notEqual(x[name](0).gradFn!.name, name);
      assert.notEqual(x.transpose(0, 1)[name](-1).gradFn!.name, name);
    });

    test(`${name}: fused and composite agree in value and gradient, float64 and float32`, () => {
      for (const dtype of ["float64", "float32"] as const) {
        const base = dtensor([6, 33], { lo: -50, hi: 50, seed: 11, requiresGrad: false }).to(dtype);
        const w = dtensor([6, 33], { seed: 12, requiresGrad: false }).to(dtype);
        const grads: Tensor[] = [];
        const values: Tensor[] = [];
        for (const f of [fused, (x: Tensor) => (name === "softmax" ? C.softmax(x, -1) : C.logSoftmax(x, -1))]) {
          const x = base.detach().requiresGrad_();
          const y = f(x);
          y.mul(w).sum().backward();
          values.push(y);
          grads.push(x.grad!);
        }
        const tol = dtype === "float64" ? { rtol: 1e-13, atol: 1e-14 } : { rtol: 1e-5, atol: 1e-6 };
        assertAllclose(values[0]!, values[1]!, tol);
        assertAllclose(grads[0]!, grads[1]!, tol);
      }
    });

    test(`${name}: NaN and ±Inf rows give what the composite gives`, () => {
      const rows = [
        [1, NaN, 2],
        [1, Infinity, 2],
        [-Infinity, 0, 1],
        [-Infinity, -Infinity, -Infinity],
        [1e30, -1e30, 0],
      ];
      for (const dtype of ["float32", "float64"] as const) {
        const x = tensor(rows, { dtype });
        const composite = name === "softmax" ? C.softmax(x, -1) : C.logSoftmax(x, -1);
        assert.deepEqual([...fused(x).toFlatArray()], [...composite.toFlatArray()]);
      }
    });
  }

  test("relu's fused backward equals g.maskedFill(y.le(0), 0), NaN and ±Inf included, and gradchecks", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const x = tensor([-2, -0, 0, 0.5, NaN, Infinity, -Infinity, 3], { dtype }).requiresGrad_();
      const g = tensor([1, 2, 3, NaN, 5, 6, NaN, -Infinity], { dtype });
      const y = x.relu();
      y.backward(g);
      const expected = g.maskedFill(y.detach().le(0), 0);
      assert.deepEqual([...x.grad!.toFlatArray()], [...expected.toFlatArray()]);
      assert.equal(y.gradFn!.name, "relu");
    }
    gradcheck((x) => x.relu().mul(x), [dtensor([3, 4], { lo: 0.1, hi: 1, signed: true })]);
    gradcheck((x) => x.transpose(0, 1).relu(), [dtensor([3, 4], { lo: 0.1, hi: 1, signed: true, seed: 2 })]);
  });

  test("crossEntropy on [N, C] takes the fused log-softmax and keeps its gradient", () => {
    const logits = dtensor([4, 5], { seed: 21 });
    const target = tensor([0, 4, 2, 1], { dtype: "int32" });
    gradcheck((x) => crossEntropy(x, target), [logits]);
    const loss = crossEntropy(logits, target);
    let node = loss.gradFn;
    const names: string[] = [];
    while (node) {
      names.push(node.name);
      node = node.inputs[0]?.gradFn ?? null;
    }
    assert.ok(names.includes("logSoftmax"), names.join(" <- "));
  });
});

describe("gradients the walk owns are kept, not copied, and never aliased", () => {
  test("Linear's weight gradient comes out contiguous in the weight's layout, equal to gᵀx", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const x = dtensor([5, 3], { seed: 31, requiresGrad: false }).to(dtype);
      const w = dtensor([4, 3], { seed: 32 }).to(dtype).detach().requiresGrad_();
      const g = dtensor([5, 4], { seed: 33, requiresGrad: false }).to(dtype);
      x.matmul(w.transpose(0, 1)).backward(g);
      assert.equal(w.grad!.isContiguous(), true);
      assertAllclose(w.grad!, g.transpose(0, 1).matmul(x), dtype === "float64" ? {} : { rtol: 1e-6, atol: 1e-7 });
      gradcheck((wt) => x.to("float64").matmul(wt.transpose(0, 1)), [dtensor([4, 3], { seed: 34 })]);
    }
  });

  test("a retained or hooked gradient and the leaf's .grad do not share storage", () => {
    // reshape: the leaf's gradient is a contiguous view of the one the hooked / retained tensor gets
    const w = dtensor([2, 4], { seed: 42, requiresGrad: false });
    const x = dtensor([2, 3], { seed: 41 });
    const xr = x.reshape([3, 2]).retainGrad();
    xr.matmul(w).sum().backward();
    assert.notEqual(x.grad!.data, xr.grad!.data);

    const seen: Tensor[] = [];
    const y = dtensor([2, 3], { seed: 43 });
    const yr = y.reshape([3, 2]);
    yr.registerHook((gr) => void seen.push(gr));
    for (let i = 0; i < 2; i++) yr.matmul(w).sum().backward(undefined, { retainGraph: true });
    const first = [...seen[0]!.toFlatArray()];
    assert.deepEqual([...seen[1]!.toFlatArray()], first, "the hook's tensor changed after the second backward");
    assert.deepEqual(
      [...y.grad!.toFlatArray()],
      first.map((v) => 2 * v),
    );

    // and without hooks the leaf keeps the walk's buffer: no copy
    const z = dtensor([2, 3], { seed: 44 });
    z.reshape([3, 2]).matmul(w).sum().backward();
    assert.equal(z.grad!.isContiguous(), true);
  });
});
