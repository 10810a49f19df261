// The fused LayerNorm and Linear ops behind F.layerNorm / nn.LayerNorm and F.linear / nn.Linear
// (src/ops/norm.ts): float64 gradchecks for every affine variant, multi-dim normalized shapes and
// strided inputs, agreement with the op-by-op formula they replaced, and their errors. The kernels
// themselves are checked against their fallbacks in test/backends/accelerations.test.ts, and the
// PyTorch fixtures of test/nn/core.test.ts cover the layers' values.

import { test } from "node:test";
import assert from "node:assert/strict";
import { zeros } from "../../src/index.js";
import * as F from "../../src/nn/functional/activation.js";
import { assertAllclose } from "../helpers/allclose.js";
import { gradcheck, dtensor } from "../helpers/gradcheck.js";
import type { Tensor } from "../../src/tensor/tensor.js";

/** The composite F.layerNorm was before it had an op (an independent formula over other ops). */
function composite(x: Tensor, dims: number, w: Tensor | null, b: Tensor | null, eps: number): Tensor {
  const ds = Array.from({ length: dims }, (_, i) => x.ndim - dims + i);
  const c = x.sub(x.mean(ds, true));
  let y = c.mul(c.square().mean(ds, true).add(eps).rsqrt());
  if (w) y = y.mul(w);
  if (b) y = y.add(b);
  return y;
}

test("layerNorm: gradcheck float64 with weight and bias, either, or neither; 2-D normalized shape", () => {
  const x = dtensor([3, 2, 5], { seed: 1 });
  const w = dtensor([5], { seed: 2, lo: 0.2, hi: 1.5 });
  const b = dtensor([5], { seed: 3 });
  gradcheck((xi, wi, bi) => F.layerNorm(xi!, 5, wi, bi), [x, w, b]);
  gradcheck((xi, wi) => F.layerNorm(xi!, [5], wi), [x, w]);
  gradcheck((xi, bi) => F.layerNorm(xi!, 5, null, bi), [x, b]);
  gradcheck((xi) => F.layerNorm(xi!, [2, 5], null, null, 1e-3), [x]);
  const w2 = dtensor([2, 5], { seed: 4, lo: 0.2, hi: 1.5 });
  gradcheck((xi, wi, bi) => F.layerNorm(xi!, [2, 5], wi, bi), [x, w2, dtensor([2, 5], { seed: 5 })]);
});

test("layerNorm: a strided input (a transpose) and a strided upstream gradient", () => {
  const x = dtensor([4, 3], { seed: 6 });
  const w = dtensor([4], { seed: 7, lo: 0.2, hi: 1.5 });
  gradcheck((xi, wi) => F.layerNorm(xi!.transpose(0, 1), 4, wi, null).transpose(0, 1), [x, w]);
});

test("layerNorm: the op gives the composite formula's values and gradients (float64)", () => {
  for (const [shape, dims] of [
    [[2, 3, 7], 1],
    [[4, 6], 2],
    [[1, 1], 1],
  ] as const) {
    const n = shape.slice(shape.length - dims);
    const x = dtensor([...shape], { seed: 8 });
    const w = dtensor([...n], { seed: 9 });
    const b = dtensor([...n], { seed: 10 });
    const g = dtensor([...shape], { seed: 11, requiresGrad: false });
    const run = (f: typeof composite) => {
      const ins = [x, w, b].map((t) => t.detach().requiresGrad_(true));
      f(ins[0]!, dims, ins[1]!, ins[2]!, 1e-5).backward(g);
      return [f(ins[0]!, dims, ins[1]!, ins[2]!, 1e-5), ...ins.map((t) => t.grad!)];
    };
    const got = run((xi, d, wi, bi, eps) => F.layerNorm(xi, n, wi, bi, eps));
    const want = run(composite);
    got.forEach((t, i) => assertAllclose(t, want[i]!, { rtol: 1e-10, atol: 1e-12 }));
  }
});

test("linear: gradcheck float64 for 1-D, 2-D and 3-D inputs, with and without a bias, strided input", () => {
  const w = dtensor([4, 3], { seed: 12 });
  const b = dtensor([4], { seed: 13 });
  gradcheck((xi, wi, bi) => F.linear(xi!, wi!, bi), [dtensor([3], { seed: 14 }), w, b]);
  gradcheck((xi, wi, bi) => F.linear(xi!, wi!, bi), [dtensor([2, 5, 3], { seed: 15 }), w, b]);
  gradcheck((xi, wi) => F.linear(xi!, wi!), [dtensor([5, 3], { seed: 16 }), w]);
  gradcheck((xi, wi, bi) => F.linear(xi!.transpose(0, 1), wi!, bi), [dtensor([3, 6], { seed: 17 }), w, b]);
});

test("linear: a weight's .grad kept from backward (fresh gradients) sums uses and later backwards correctly", () => {
  // The op hands its gradients on as the walk's own buffers (freshGrads): a weight used twice, a
  // weight also used by another op, and a second backward must still sum, never alias.
  const run = (lin: (x: Tensor, w: Tensor, b: Tensor) => Tensor) => {
    const x = dtensor([5, 4], { seed: 30 }).requiresGrad_(true);
    const w = dtensor([4, 4], { seed: 31 }).requiresGrad_(true);
    const b = dtensor([4], { seed: 32 }).requiresGrad_(true);
    const loss = () =>
      lin(lin(x, w, b), w, b)
        .square()
        .sum()
        .add(w.mul(3).sum());
    loss().backward();
    const first = [x, w, b].map((t) => t.grad!.clone());
    loss().backward();
    return [...first, x.grad!, w.grad!, b.grad!];
  };
  const got = run((x, w, b) => F.linear(x, w, b));
  const want = run((x, w, b) => x.matmul(w.transpose(0, 1)).add(b));
  got.forEach((t, i) => assertAllclose(t, want[i]!, { rtol: 1e-12, atol: 1e-12 }));
  // The three .grad tensors are distinct buffers: writing one leaves the others alone.
  const [, , , gx, gw, gb] = got;
  const before = [gx!.clone(), gb!.clone()];
  gw!.fill_(0);
  assertAllclose(gx!, before[0]!, { rtol: 0, atol: 0 });
  assertAllclose(gb!, before[1]!, { rtol: 0, atol: 0 });
});

test("gelu (the fused op, exact and tanh): gradcheck float64 on a strided input, and the composite's values", () => {
  const x = dtensor([4, 3], { seed: 18, lo: -3, hi: 3 });
  gradcheck((xi) => F.gelu(xi!.transpose(0, 1)), [x]);
  gradcheck((xi) => F.gelu(xi!, { approximate: "tanh" }), [x]);
  const v = x.detach();
  assertAllclose(F.gelu(v), v.mul(0.5).mul(v.mul(Math.SQRT1_2).erf().add(1)), { rtol: 1e-14, atol: 1e-15 });
  const u = v.add(v.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
  assertAllclose(F.gelu(v, { approximate: "tanh" }), v.mul(0.5).mul(u.tanh().add(1)), { rtol: 1e-14, atol: 1e-15 });
});

test("layerNorm and linear refuse mismatched shapes and dtypes with DescentError naming the op", () => {
  assert.throws(
    () => F.layerNorm(zeros([2, 3]), 3, zeros([3], { dtype: "float64" })),
    /layerNorm: input is float32 but weight\/bias is float64/,
  );
  assert.throws(
    () => F.layerNorm(zeros([2, 3]), 3, zeros([4])),
    /layerNorm: weight \[4\] must have the normalized shape \[3\]/,
  );
  assert.throws(() => F.layerNorm(zeros([2, 3], { dtype: "int32" }), 3), /layerNorm.*int32/);
  assert.throws(
    () => F.linear(zeros([2, 3]), zeros([4, 3]), zeros([3])),
    /linear: bias \[3\] does not match weight \[4,3\]/,
  );
  assert.throws(
    () => F.linear(zeros([2, 3]), zeros([4, 3]), zeros([4], { dtype: "float64" })),
    /linear: input is float32 but bias is float64/,
  );
});

test("layerNorm and linear on empty inputs: empty outputs, no error", () => {
  assert.deepEqual(F.layerNorm(zeros([0, 4]), 4).shape, [0, 4]);
  assert.deepEqual(F.linear(zeros([0, 3]), zeros([2, 3]), zeros([2])).shape, [0, 2]);
  assert.deepEqual([...F.linear(zeros([2, 0]), zeros([2, 0]), zeros([2]).add(1)).toFlatArray()], [1, 1, 1, 1]);
});
