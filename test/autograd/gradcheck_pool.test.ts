// Numerical gradient checks of the max-pooling primitive (Tensor.maxPool2d) and of its gradient op
// (Tensor.maxUnpool2d): windows with stride, padding, dilation and a ceil-mode overhang, strided
// and sliced inputs, a tensor pooled twice and used beside its pooling, retained graphs walked
// twice. Inputs are distinct values (no ties), so the max is differentiable at them.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { tensor, type Tensor } from "../../src/index.js";
import type { Window2d } from "../../src/backends/index.js";
import { distinctTensor, dtensor, gradcheck } from "../helpers/gradcheck.js";

const win = (k: number, s: number, p = 0, d = 1): Window2d => ({
  kernel: [k, k],
  stride: [s, s],
  padding: [p, p],
  dilation: [d, d],
});

describe("gradcheck: maxPool2d primitive", () => {
  test("2x2 stride 2", () => gradcheck((x) => x.maxPool2d(win(2, 2), [2, 2]), [distinctTensor([2, 3, 4, 5])]));
  test("3x3 stride 1 with padding 1", () =>
    gradcheck((x) => x.maxPool2d(win(3, 1, 1), [5, 4]), [distinctTensor([1, 2, 5, 4])]));
  test("dilated, asymmetric window", () =>
    gradcheck(
      (x) => x.maxPool2d({ kernel: [2, 3], stride: [1, 2], padding: [1, 1], dilation: [2, 1] }, [5, 3]),
      [distinctTensor([1, 2, 5, 5])],
    ));
  test("ceil-mode overhang (one more output row and column than fit)", () =>
    gradcheck((x) => x.maxPool2d(win(2, 2), [3, 3]), [distinctTensor([1, 2, 5, 5])]));
  test("transposed view", () =>
    gradcheck((x) => x.transpose(2, 3).maxPool2d(win(2, 1), [3, 4]), [distinctTensor([1, 2, 5, 4])]));
  test("sliced view with step and offset", () =>
    gradcheck((x) => x.slice(3, 1, 9, 2).maxPool2d(win(2, 1), [3, 2]), [distinctTensor([1, 2, 4, 9])]));
  test("pooled twice and used beside its pooling", () =>
    gradcheck(
      (x) =>
        x
          .maxPool2d(win(2, 2), [2, 2])
          .add(
            x
              .maxPool2d(win(3, 1, 1), [4, 4])
              .slice(2, 0, 2)
              .slice(3, 0, 2),
          )
          .add(x.sum()),
      [distinctTensor([1, 2, 4, 4])],
    ));
  test("overlapping windows send two gradients to one element", () =>
    gradcheck((x) => x.maxPool2d(win(2, 1), [3, 3]).square(), [distinctTensor([1, 1, 4, 4])]));
});

describe("gradcheck: maxUnpool2d (maxPool2d's gradient op)", () => {
  const indices = tensor(Int32Array.from([0, 5, 16, 3, 3, 15, 16, 0]), { shape: [1, 2, 2, 2], dtype: "int32" });
  test("scatter to given indices, H·W adding nowhere", () =>
    gradcheck((g) => g.maxUnpool2d(indices, [4, 4]).mul(dtensor([1, 2, 4, 4], { seed: 5 })), [dtensor([1, 2, 2, 2])]));
  test("refuses an index past H·W", () => {
    const bad = tensor(Int32Array.from([0, 17]), { shape: [1, 1, 1, 2], dtype: "int32" });
    assert.throws(() => dtensor([1, 1, 1, 2]).maxUnpool2d(bad, [4, 4]), /maxUnpool2d: index 17 is out of bounds/);
  });
});

describe("maxPool2d primitive in the graph", () => {
  test("a retained graph walked twice accumulates twice", () => {
    const x = distinctTensor([1, 1, 4, 4], { requiresGrad: true });
    const y = x.maxPool2d(win(2, 2), [2, 2]).sum();
    y.backward(undefined, { retainGraph: true });
    const once = Array.from((x.grad as Tensor).clone().data);
    y.backward();
    const twice = Array.from((x.grad as Tensor).clone().data);
    assert.deepEqual(
      twice,
      once.map((v) => 2 * v),
    );
    assert.equal(
      once.reduce((a, b) => a + b, 0),
      4,
    );
  });
  test("refuses int32 input and a non-4-D one", () => {
    assert.throws(
      () =>
        tensor([
          [
            [
              [1, 2],
              [3, 4],
            ],
          ],
        ])
          .int()
          .maxPool2d(win(2, 2), [1, 1]),
      /floating-point/,
    );
    assert.throws(() => dtensor([2, 2]).maxPool2d(win(2, 2), [1, 1]), /4-D/);
  });
});
