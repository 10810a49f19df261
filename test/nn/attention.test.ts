// scaledDotProductAttention and MultiheadAttention against PyTorch (test/fixtures/attention.json
// from scripts/fixtures_attention.py): outputs and gradients, contiguous and not, float32 and
// float64, bool/float masks, key padding, batchFirst, needWeights on/off, kdim/vdim, no bias,
// unbatched; float64 gradchecks; errors naming the op and shapes.

import { test } from "node:test";
import assert from "node:assert/strict";

import { DescentError, randn, tensor, type Tensor } from "../../src/index.js";
import { scaledDotProductAttention as sdpa, sdpaComposed } from "../../src/nn/functional/attention.js";
import { MultiheadAttention } from "../../src/nn/layers/attention.js";
import { assertAllclose } from "../helpers/allclose.js";
import { dtensor, gradcheck } from "../helpers/gradcheck.js";
import { toTensor } from "../helpers/checkOp.js";
import { fixture, nonContiguous, replayModule, TOL } from "./attention_fixture.js";

// sdpa takes the fused op here (no dropout); sdpaComposed is the composed definition.
const FORMS = { fused: sdpa, composed: (q: Tensor, k: Tensor, v: Tensor, o: object) => sdpaComposed(q, k, v, o)[0] };
for (const c of fixture.sdpa) {
  for (const [form, noncontig] of [
    ["fused", false],
    ["fused", true],
    ["composed", false],
  ] as const) {
    test(`sdpa vs PyTorch (${form}): ${c.name}${noncontig ? " (non-contiguous)" : ""}`, () => {
      const leaves = c.inputs.map((x) => toTensor(x, true));
      const [q, k, v] = noncontig ? leaves.map(nonContiguous) : leaves;
      const tol = TOL[c.inputs[0]!.dtype as "float32" | "float64"];
      const out = FORMS[form](q!, k!, v!, { ...c.opts, attnMask: c.mask ? toTensor(c.mask) : null });
      assert.deepEqual(out.shape, c.output.shape);
      assertAllclose(out, c.output.values, { ...tol, message: "output" });
      if (!c.grads) return;
      out.mul(toTensor(c.upstream)).sum().backward();
      leaves.forEach((x, i) => assertAllclose(x.grad!, c.grads![i]!.values, { ...tol, message: `grad ${i}` }));
    });
  }
}

for (const c of fixture.modules.filter((m) => m.cls === "MultiheadAttention")) {
  test(`MultiheadAttention vs PyTorch: ${c.name}`, () => replayModule(c));
  test(`MultiheadAttention vs PyTorch: ${c.name} (non-contiguous)`, () => replayModule(c, true));
}

test("sdpa: the fused op equals the composed form past the kernel's 64-row blocks (masks, causal, views)", () => {
  const [B, H, L, S, E] = [2, 3, 70, 131, 8];
  const mk = () => randn([B, H, E, L]).transpose(-2, -1).requiresGrad_(true); // a non-contiguous q
  const keys = () => randn([B, H, S, E], { requiresGrad: true });
  const bool = randn([B, 1, 1, S]).gt(-1).to("int32"); // key padding: ~16% of keys off
  for (const opts of [{ attnMask: randn([L, S]) }, { attnMask: bool }, { isCausal: true }, { scale: 0.5 }]) {
    const [q, k, v] = [mk(), keys(), keys()];
    const r = randn([B, H, L, E]);
    const grads = (o: Tensor) => {
      for (const t of [q, k, v]) t.grad = null;
      o.mul(r).sum().backward();
      return [o, q.grad!, k.grad!, v.grad!];
    };
    const want = grads(sdpaComposed(q, k, v, opts)[0]).map((t) => t.toFlatArray());
    grads(sdpa(q, k, v, opts)).forEach((t, i) =>
      assertAllclose(t, want[i]!, { rtol: 1e-4, atol: 1e-5, message: `${Object.keys(opts)[0]} ${i}` }),
    );
  }
});

test("sdpa gradcheck float64: bool mask broadcast over heads", () => {
  const mask = tensor(new Int32Array([1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1]), { shape: [3, 4], dtype: "int32" });
  gradcheck(
    (q, k, v) => sdpa(q!, k!, v!, { attnMask: mask }),
    [dtensor([2, 3, 2], { seed: 1 }), dtensor([2, 4, 2], { seed: 2 }), dtensor([2, 4, 3], { seed: 3 })],
  );
});

test("sdpa gradcheck float64: float mask, causal, scale", () => {
  const fm = dtensor([1, 3, 3], { seed: 4, requiresGrad: false });
  const inputs = () => [
    dtensor([2, 3, 2], { seed: 5 }),
    dtensor([2, 3, 2], { seed: 6 }),
    dtensor([2, 3, 2], { seed: 7 }),
  ];
  gradcheck((q, k, v) => sdpa(q!, k!, v!, { attnMask: fm, scale: 0.7 }), inputs());
  gradcheck((q, k, v) => sdpa(q!, k!, v!, { isCausal: true }), inputs());
});

test("MultiheadAttention gradcheck float64 (inputs and parameters, with key padding)", () => {
  const m = new MultiheadAttention(4, 2, { dtype: "float64" });
  const kpm = tensor(new Int32Array([0, 0, 1, 0, 1, 0]), { shape: [2, 3], dtype: "int32" });
  const params = [m.in_proj_weight!, m.in_proj_bias!, m.out_proj.weight];
  gradcheck(
    (q, k, v) => m.forward(q!, k!, v!, { keyPaddingMask: kpm })[0],
    [dtensor([2, 2, 4], { seed: 8 }), dtensor([3, 2, 4], { seed: 9 }), dtensor([3, 2, 4], { seed: 10 })],
  );
  // Parameters: the module reads them as leaves, so check through a closure that writes them in.
  gradcheck(
    (w, b, ow) => {
      m.in_proj_weight = w as never;
      m.in_proj_bias = b as never;
      m.out_proj.weight = ow as never;
      return m.forward(
        dtensor([2, 2, 4], { seed: 11, requiresGrad: false }),
        dtensor([3, 2, 4], { seed: 12, requiresGrad: false }),
        dtensor([3, 2, 4], { seed: 13, requiresGrad: false }),
      )[1]!;
    },
    params.map((p) => p.detach().clone().requiresGrad_(true)),
  );
});

test("sdpa: dropout zeroes weights in training and keeps the expectation", () => {
  const q = randn([1, 64, 8]);
  const v = randn([1, 64, 8]);
  const plain = sdpa(q, q, v);
  const dropped = sdpa(q, q, v, { dropoutP: 0.5 });
  assert.notDeepEqual(dropped.toFlatArray(), plain.toFlatArray());
  assert.deepEqual(sdpa(q, q, v, { dropoutP: 0 }).toFlatArray(), plain.toFlatArray());
});

test("sdpa and MultiheadAttention: bad shapes and masks are DescentErrors naming the op and shapes", () => {
  const q = randn([2, 3, 4]);
  const err = (fn: () => unknown, re: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof DescentError && re.test(e.message));
  err(() => sdpa(q, randn([2, 5, 3]), randn([2, 5, 4])), /scaledDotProductAttention: .*last dim.*\[2,3,4\].*\[2,5,3\]/);
  err(() => sdpa(q, randn([2, 5, 4]), randn([2, 6, 4])), /scaledDotProductAttention: .*sequence length.*\[2,6,4\]/);
  err(
    () => sdpa(q, q, q, { attnMask: tensor([[1, 0]], { dtype: "int32" }) }),
    /attnMask \[1,2\] does not broadcast.*\[\.\.\., 3, 3\]/,
  );
  err(() => sdpa(q, q, q, { attnMask: randn([3, 3]), isCausal: true }), /either attnMask or isCausal/);
  err(
    () => sdpa(q, q, q, { attnMask: randn([3, 3], { dtype: "float64" }) }),
    /attnMask must be int32 \(bool\) or float32/,
  );
  err(() => sdpa(randn([4]), q, q), /at least 2 dims/);
  err(() => new MultiheadAttention(6, 4), /MultiheadAttention: embedDim 6 must be divisible by numHeads 4/);
  const m = new MultiheadAttention(4, 2);
  const x = randn([3, 2, 4]);
  err(
    () => m.forward(randn([3, 2, 5]), x, x),
    /MultiheadAttention: expected feature sizes embedDim 4.*query \[3,2,5\]/,
  );
  err(() => m.forward(x, x, x, { attnMask: randn([3, 4]) }), /attnMask \[3,4\] must be \[3,3\] or \[4,3,3\]/);
  err(
    () => m.forward(x, x, x, { keyPaddingMask: tensor([[0, 1, 0]], { dtype: "int32" }) }),
    /keyPaddingMask \[1,3\] must be \[2,3\]/,
  );
  err(() => m.forward(x, randn([3, 1, 4]), randn([3, 1, 4])), /batch sizes/);
});

test("MultiheadAttention: int32 masks mean 'masked' (PyTorch's bool True), SDPA's mean 'attend'", () => {
  const m = new MultiheadAttention(4, 1);
  const x = randn([3, 1, 4]);
  const kpm = tensor([[0, 0, 1]], { dtype: "int32" });
  const [, w] = m.forward(x, x, x, { keyPaddingMask: kpm });
  const ws = w!.toArray() as number[][][];
  for (const row of ws[0]!) assert.equal(row[2], 0);
  const allowed: Tensor = tensor([[1, 1, 0]], { dtype: "int32" });
  const q = randn([1, 3, 4]);
  const viaMask = sdpa(q, q, q, { attnMask: allowed });
  const viaSlice = sdpa(q, q.slice(1, 0, 2), q.slice(1, 0, 2));
  assertAllclose(viaMask, viaSlice.toFlatArray(), { rtol: 1e-6, atol: 1e-7 });
});
