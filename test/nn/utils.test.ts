// nn.utils against PyTorch (test/fixtures/nn_core.json): clipGradNorm_'s returned total norm and
// clipped gradients (2-norm, inf-norm, p = 1, 1.5, 3, and a case that does not clip),
// clipGradValue_, non-finite norms, and parametersToVector / vectorToParameters.
//
// Tolerances: total norm rtol 1e-6 (Descent sums in float64, PyTorch in float32); gradients float32
// rtol 1e-5 / atol 1e-6.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { tensor, zeros, DescentError, type Tensor } from "../../src/index.js";
import { clipGradNorm_, clipGradValue_, parametersToVector, vectorToParameters } from "../../src/nn/utils.js";
import { assertAllclose } from "../helpers/allclose.js";
import { decodeSpecials, FIXTURE_DIR, toTensor, type FixtureTensor } from "../helpers/checkOp.js";
import { dtensor, gradcheck } from "../helpers/gradcheck.js";

interface ClipCase {
  name: string;
  normType?: number;
  maxNorm?: number;
  clipValue?: number;
  total?: number;
  grads: FixtureTensor[];
  clipped: FixtureTensor[];
}
const fx = decodeSpecials(JSON.parse(readFileSync(join(FIXTURE_DIR, "nn_core.json"), "utf8"))) as { clip: ClipCase[] };

/** Parameters holding the fixture's gradients, plus one (a 4th) without a gradient. */
function paramsWithGrads(c: ClipCase): Tensor[] {
  const ps = c.grads.map((g) => zeros(g.shape).requiresGrad_(true));
  ps.forEach((p, i) => (p.grad = toTensor(c.grads[i]!)));
  return [...ps, zeros([2]).requiresGrad_(true)];
}

for (const c of fx.clip) {
  test(`clip vs PyTorch: ${c.name}`, () => {
    const ps = paramsWithGrads(c);
    if (c.clipValue !== undefined) {
      clipGradValue_(ps, c.clipValue);
    } else {
      const total = clipGradNorm_(ps, c.maxNorm!, c.normType!);
      assert.equal(typeof total, "number");
      assert.ok(Math.abs(total - c.total!) <= 1e-6 * c.total!, `total ${total} vs PyTorch ${c.total}`);
    }
    c.clipped.forEach((g, i) => assertAllclose(ps[i]!.grad!, g.values, { rtol: 1e-5, atol: 1e-6 }));
    assert.equal(ps[ps.length - 1]!.grad, null);
  });
}

test("clipGradNorm_: a single tensor, no gradients, non-finite norms, errorIfNonfinite", () => {
  const p = zeros([2]).requiresGrad_(true);
  assert.equal(clipGradNorm_([p], 1), 0);
  p.grad = tensor([3, 4]);
  assert.equal(clipGradNorm_(p, 1), 5);
  assertAllclose(p.grad, [3 / (5 + 1e-6), 4 / (5 + 1e-6)], { rtol: 1e-6 });
  p.grad = tensor([NaN, 1]);
  assert.throws(
    () => clipGradNorm_(p, 1, 2, { errorIfNonfinite: true }),
    /clipGradNorm_: the total norm of order 2 .* non-finite \(NaN\)/,
  );
  assert.ok(Number.isNaN(clipGradNorm_(p, 1))); // as PyTorch: NaN spreads to every gradient
  assert.ok(p.grad.toFlatArray().every(Number.isNaN));
  p.grad = tensor([Infinity, 1]);
  assert.throws(() => clipGradNorm_(p, 1, Infinity, { errorIfNonfinite: true }), DescentError);
  assert.equal(clipGradNorm_(p, 1, Infinity), Infinity);
  assert.throws(() => clipGradNorm_(p, NaN), /clipGradNorm_: maxNorm/);
  assert.throws(() => clipGradValue_(p, NaN), /clipGradValue_: clipValue/);
});

test("parametersToVector / vectorToParameters: round trip, differentiable, shape errors", () => {
  const a = dtensor([2, 3]);
  const b = dtensor([4]);
  const v = parametersToVector([a, b]);
  assert.deepEqual(v.shape, [10]);
  assert.deepEqual([...v.toFlatArray()], [...a.toFlatArray(), ...b.toFlatArray()]);
  gradcheck((x, y) => parametersToVector([x!, y!]).mul(parametersToVector([x!, y!])), [a, b]);
  const target = [
    zeros([2, 3], { dtype: "float64" }).requiresGrad_(true),
    zeros([4], { dtype: "float64" }).requiresGrad_(true),
  ];
  vectorToParameters(v.detach(), target);
  assert.deepEqual([...target[0]!.toFlatArray()], [...a.toFlatArray()]);
  assert.deepEqual([...target[1]!.toFlatArray()], [...b.toFlatArray()]);
  assert.throws(
    () => vectorToParameters(zeros([9]), target),
    /vectorToParameters: expected a 1-D vector of 10 elements/,
  );
  assert.throws(() => parametersToVector([]), DescentError);
});
