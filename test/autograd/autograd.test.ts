// Autograd semantics beyond the numbers gradcheck verifies: accumulation, upstream gradients,
// grad mode, detach, leaves, hooks, graph freeing, anomaly detection, in-place rules and views.
// Expected values come from identities (d(c·x)/dx = c, broadcasting sums, …) computed through
// another path of the API.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  DescentError,
  detectAnomaly,
  isGradEnabled,
  noGrad,
  ones,
  tensor,
  zeros,
  type Tensor,
} from "../../src/index.js";
import { dtensor } from "../helpers/gradcheck.js";

function assertTensorClose(actual: Tensor | null, expected: Tensor, tol = 1e-12, what = "tensor"): void {
  assert.ok(actual !== null, `${what}: got null`);
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.toFlatArray();
  const e = expected.toFlatArray();
  for (let i = 0; i < e.length; i++) {
    const ok = Object.is(a[i], e[i]) || Math.abs(a[i]! - e[i]!) <= tol * (1 + Math.abs(e[i]!));
    assert.ok(ok, `${what}: element ${i}: ${a[i]} vs expected ${e[i]}`);
  }
}

function throwsDescent(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DescentError, `expected a DescentError, got ${String(err)}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

const f64 = { dtype: "float64" as const };

describe("gradient accumulation", () => {
  test(".grad accumulates over two backward calls on separate graphs", () => {
    const x = dtensor([2, 3]);
    x.mul(3).sum().backward();
    assertTensorClose(x.grad, ones([2, 3], f64).mul(3), 0, "after first backward");
    x.mul(3).sum().backward();
    assertTensorClose(x.grad, ones([2, 3], f64).mul(6), 0, "after second backward");
  });

  test("grad has the leaf's shape and dtype (float32 and float64)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const x = tensor([[1, 2, 3]], { dtype, requiresGrad: true });
      x.exp().sum().backward();
      assert.ok(x.grad !== null);
      assert.equal(x.grad.dtype, dtype);
      assert.deepEqual(x.grad.shape, [1, 3]);
      assertTensorClose(x.grad, x.detach().exp(), dtype === "float32" ? 1e-6 : 1e-14);
    }
  });

  test("a tensor used twice gets the sum of both paths", () => {
    const x = dtensor([4]);
    x.mul(x).add(x).sum().backward(); // d/dx (x² + x) = 2x + 1
    assertTensorClose(x.grad, x.detach().mul(2).add(1), 1e-14);
  });

  test("through to(float32): the grad is delivered in the leaf's dtype", () => {
    const x = dtensor([3]);
    x.to("float32").mul(2).sum().backward();
    assert.ok(x.grad !== null);
    assert.equal(x.grad.dtype, "float64");
    assertTensorClose(x.grad, ones([3], f64).mul(2), 0);
  });

  test("amax splits the gradient evenly between ties; max(dim) sends it to one index", () => {
    const x = tensor([[1, 3, 3, 0]], { dtype: "float64", requiresGrad: true });
    x.amax().backward();
    assertTensorClose(x.grad, tensor([[0, 0.5, 0.5, 0]], f64), 0, "amax ties");
    const y = tensor([[1, 3, 2, 0]], { dtype: "float64", requiresGrad: true });
    y.max(1).sum().backward();
    assertTensorClose(y.grad, tensor([[0, 1, 0, 0]], f64), 0, "max(dim)");
  });
});

describe("gradients at kinks follow PyTorch's conventions", () => {
  test("maximum/minimum split the gradient evenly between equal operands", () => {
    const a = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const b = tensor([1, 0], { dtype: "float64", requiresGrad: true });
    a.maximum(b).sum().backward();
    assertTensorClose(a.grad, tensor([0.5, 1], f64), 0, "maximum a.grad");
    assertTensorClose(b.grad, tensor([0.5, 0], f64), 0, "maximum b.grad");
    const c = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const d = tensor([1, 0], { dtype: "float64", requiresGrad: true });
    c.minimum(d).sum().backward();
    assertTensorClose(c.grad, tensor([0.5, 0], f64), 0, "minimum c.grad");
    assertTensorClose(d.grad, tensor([0.5, 1], f64), 0, "minimum d.grad");
  });
  test("clamp passes the gradient at its bounds (inclusive)", () => {
    const x = tensor([-2, -1, 0, 1, 2], { dtype: "float64", requiresGrad: true });
    x.clamp(-1, 1).sum().backward();
    assertTensorClose(x.grad, x.detach().ge(-1).mul(x.detach().le(1)), 0);
  });
  test("norm at the zero vector has a zero gradient, not NaN (PyTorch masks zero norms)", () => {
    const x = zeros([3], { dtype: "float64", requiresGrad: true });
    x.norm().backward();
    assertTensorClose(x.grad, zeros([3], f64), 0, "norm()");
    const y = tensor(
      [
        [0, 0],
        [3, 4],
      ],
      { dtype: "float64", requiresGrad: true },
    );
    y.norm(2, 1).sum().backward();
    // row 0 is zero (gradient 0); row 1 gets x / ‖x‖
    const rows = y.detach().div(y.detach().norm(2, 1, true).maximum(1e-300));
    assertTensorClose(y.grad, rows, 1e-15, "norm(2, 1) with a zero row");
  });
});

describe("hooks and dtypes across a graph", () => {
  test("a hook on a leaf used twice fires once, with the summed gradient", () => {
    const x = dtensor([3]);
    const seen: Tensor[] = [];
    x.registerHook((g) => {
      seen.push(g.clone());
    });
    x.mul(2).add(x.mul(3)).sum().backward();
    assert.equal(seen.length, 1);
    assertTensorClose(seen[0]!, ones([3], f64).mul(5), 0);
  });
  test("a float32 leaf in a float64 computation gets a float32 gradient", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const w = tensor([3, 4], f64);
    x.mul(w).sum().backward();
    assert.ok(x.grad !== null);
    assert.equal(x.grad.dtype, "float32");
    assertTensorClose(x.grad, w.to("float32"), 0);
  });
});

describe("backward(gradient)", () => {
  test("non-scalar output with an explicit upstream gradient", () => {
    const x = dtensor([2, 3]);
    const c = dtensor([2, 3], { seed: 9, requiresGrad: false });
    const g = dtensor([2, 3], { seed: 10, requiresGrad: false });
    x.mul(c).backward(g);
    assertTensorClose(x.grad, g.mul(c), 1e-15);
  });

  test("a scalar output may also be given its gradient", () => {
    const x = dtensor([3]);
    x.sum().backward(tensor(2.5, f64));
    assertTensorClose(x.grad, ones([3], f64).mul(2.5), 0);
  });

  test("backward of a non-scalar without a gradient throws DescentError", () => {
    const x = dtensor([2, 3]);
    throwsDescent(() => x.mul(2).backward(), /backward/);
  });

  test("backward of a tensor that does not require grad throws DescentError", () => {
    throwsDescent(() => tensor([1, 2]).sum().backward(), /backward/);
  });
});

describe("broadcasting gradients are summed to each input's shape", () => {
  test("[3,1] + [1,4]", () => {
    const a = dtensor([3, 1]);
    const b = dtensor([1, 4], { seed: 3 });
    a.add(b).sum().backward();
    assertTensorClose(a.grad, ones([3, 1], f64).mul(4), 0, "a.grad");
    assertTensorClose(b.grad, ones([1, 4], f64).mul(3), 0, "b.grad");
  });
  test("[2,3,4] * [4] and a 0-d factor", () => {
    const x = dtensor([2, 3, 4]);
    const w = dtensor([4], { seed: 4 });
    const s = dtensor([], { seed: 5 });
    x.mul(w).mul(s).sum().backward();
    // d/dw = s · Σ_{i,j} x[i,j,:];  d/ds = Σ x·w
    assertTensorClose(w.grad, x.detach().sum([0, 1]).mul(s.detach()), 1e-12, "w.grad");
    assertTensorClose(s.grad, x.detach().mul(w.detach()).sum(), 1e-12, "s.grad");
    assert.deepEqual(s.grad?.shape, []);
  });
});

describe("grad mode", () => {
  test("noGrad records no graph and returns fn's result", () => {
    const x = dtensor([3]);
    const y = noGrad(() => x.mul(2).exp());
    assert.equal(y.requiresGrad, false);
    assert.equal(y.gradFn, null);
    assert.equal(y.isLeaf, true);
    assertTensorClose(y, x.detach().mul(2).exp(), 0);
  });
  test("isGradEnabled is false inside noGrad, restored after, also when fn throws", () => {
    assert.equal(isGradEnabled(), true);
    noGrad(() => {
      assert.equal(isGradEnabled(), false);
      noGrad(() => assert.equal(isGradEnabled(), false));
      assert.equal(isGradEnabled(), false);
    });
    assert.equal(isGradEnabled(), true);
    assert.throws(() =>
      noGrad(() => {
        throw new Error("boom");
      }),
    );
    assert.equal(isGradEnabled(), true);
  });
  test("results of ops on tensors that require grad are non-leaves with a gradFn", () => {
    const x = dtensor([3]);
    const y = x.mul(2);
    assert.equal(x.isLeaf, true);
    assert.equal(x.gradFn, null);
    assert.equal(y.isLeaf, false);
    assert.equal(y.requiresGrad, true);
    assert.ok(y.gradFn !== null);
    // CONTRACT.md: gradFn is an object with `name` (e.g. "mul")
    assert.equal((y.gradFn as { name?: unknown }).name, "mul");
    const z = tensor([1, 2]).mul(2);
    assert.equal(z.requiresGrad, false);
    assert.equal(z.isLeaf, true);
  });
});

describe("detach, requiresGrad_, zeroGrad, retainGrad", () => {
  test("detach shares storage, requires no grad and blocks the gradient", () => {
    const x = dtensor([3]);
    const d = x.detach();
    assert.equal(d.requiresGrad, false);
    assert.equal(d.isLeaf, true);
    assert.equal(d.gradFn, null);
    noGrad(() => d.fill_(0.25));
    assertTensorClose(x.detach(), ones([3], f64).mul(0.25), 0, "x after writing through detach");
    const y = dtensor([3], { seed: 77 });
    y.detach().mul(y).sum().backward(); // only the second factor is differentiated
    assertTensorClose(y.grad, y.detach(), 0);
  });
  test("requiresGrad_ returns this and toggles the flag", () => {
    const x = tensor([1, 2, 3], f64);
    assert.equal(x.requiresGrad, false);
    const r = x.requiresGrad_();
    assert.equal(r, x);
    assert.equal(x.requiresGrad, true);
    x.requiresGrad_(false);
    assert.equal(x.requiresGrad, false);
    x.requiresGrad_(true);
    x.square().sum().backward();
    assertTensorClose(x.grad, x.detach().mul(2), 0);
  });
  test("zeroGrad clears the accumulated gradient", () => {
    const x = dtensor([2, 2]);
    x.mul(5).sum().backward();
    x.zeroGrad();
    const g = x.grad;
    assert.ok(g === null || g.toFlatArray().every((v) => v === 0), "grad is null or zeros after zeroGrad");
    x.mul(2).sum().backward();
    assertTensorClose(x.grad, ones([2, 2], f64).mul(2), 0, "fresh grad after zeroGrad");
  });
  test("a non-leaf has no grad unless retainGrad() is called", () => {
    const x = dtensor([3]);
    const y = x.mul(2);
    y.square().sum().backward();
    assert.equal(y.grad, null);

    const x2 = dtensor([3]);
    const y2 = x2.mul(2);
    y2.retainGrad();
    y2.square().sum().backward(); // d/dy (y²) = 2y
    assertTensorClose(y2.grad, y2.detach().mul(2), 0, "retained grad");
    assertTensorClose(x2.grad, y2.detach().mul(4), 0, "leaf grad");
  });
  test("a leaf that does not require grad gets no grad", () => {
    const x = dtensor([3]);
    const c = dtensor([3], { requiresGrad: false, seed: 2 });
    x.mul(c).sum().backward();
    assert.equal(c.grad, null);
  });
  test("no gradient flows into an int32 index", () => {
    const x = dtensor([4]);
    const i = tensor(Int32Array.from([1, 1, 3]));
    x.indexSelect(0, i).sum().backward();
    assertTensorClose(x.grad, tensor([0, 2, 0, 1], f64), 0);
    assert.equal(i.grad, null);
  });
});

describe("graph freeing", () => {
  test("a second backward through a freed graph throws DescentError", () => {
    const x = dtensor([3]);
    const z = x.exp().sum();
    z.backward();
    throwsDescent(() => z.backward(), /backward/);
  });
  test("retainGraph allows a second backward, which accumulates", () => {
    const x = dtensor([3]);
    const z = x.exp().sum();
    z.backward(undefined, { retainGraph: true });
    z.backward();
    assertTensorClose(x.grad, x.detach().exp().mul(2), 1e-14);
  });
});

describe("hooks", () => {
  test("a hook on a leaf observes the gradient", () => {
    const x = dtensor([3]);
    const seen: Tensor[] = [];
    x.registerHook((g) => {
      seen.push(g);
    });
    x.mul(3).sum().backward();
    assert.equal(seen.length, 1);
    assertTensorClose(seen[0]!, ones([3], f64).mul(3), 0, "observed");
    assertTensorClose(x.grad, ones([3], f64).mul(3), 0, "grad unchanged");
  });
  test("a hook may replace the gradient, and remove() unregisters it", () => {
    const x = dtensor([3]);
    const h = x.registerHook((g) => g.mul(2));
    x.mul(3).sum().backward();
    assertTensorClose(x.grad, ones([3], f64).mul(6), 0, "replaced");
    h.remove();
    x.zeroGrad();
    x.mul(3).sum().backward();
    assertTensorClose(x.grad, ones([3], f64).mul(3), 0, "after remove");
  });
  test("a hook on an intermediate changes what flows further back", () => {
    const x = dtensor([3]);
    const y = x.mul(3);
    y.registerHook((g) => g.mul(10));
    y.sum().backward();
    assertTensorClose(x.grad, ones([3], f64).mul(30), 0);
  });
});

describe("detectAnomaly", () => {
  test("throws a DescentError naming log for log(-1) in forward", () => {
    throwsDescent(() => detectAnomaly(() => tensor([-1, 1]).log()), /log/);
  });
  test("names the op whose backward creates a NaN (sqrt at 0, times 0)", () => {
    const x = tensor([0, 1], { dtype: "float64", requiresGrad: true });
    throwsDescent(() => detectAnomaly(() => x.sqrt().mul(0).sum().backward()), /sqrt/);
  });
  test("returns fn's result when nothing goes wrong, and outside it NaN passes silently", () => {
    const r = detectAnomaly(() => tensor([1, 2]).log());
    assert.deepEqual(r.shape, [2]);
    const y = tensor([-1]).log();
    assert.ok(Number.isNaN(y.item()));
  });
});

describe("in-place rules", () => {
  test("an in-place op on a leaf that requires grad is refused", () => {
    const x = dtensor([3]);
    throwsDescent(() => x.add_(1), /add_/);
    throwsDescent(() => x.fill_(0), /fill_/);
    throwsDescent(() => x.copy_(zeros([3], f64)), /copy_/);
  });
  test("under noGrad the same in-place op is allowed (as an optimizer step)", () => {
    const x = dtensor([3]);
    const before = x.detach().clone();
    noGrad(() => x.sub_(ones([3], f64).mul(0.5)));
    assertTensorClose(x.detach(), before.sub(0.5), 0);
    assert.equal(x.requiresGrad, true);
  });
  test("changing a tensor that a backward needs, after it was used, is refused at backward (version counter)", () => {
    const x = dtensor([2]);
    const y = x.exp(); // exp's backward reads its output
    noGrad(() => y.detach().fill_(100));
    throwsDescent(() => y.sum().backward(), /exp/, /in-place/);
    const a = dtensor([2]);
    const w = dtensor([2], { requiresGrad: false });
    const z = a.mul(w); // mul's backward reads w
    noGrad(() => w.slice(0, 0, 1).add_(1)); // through a view of the same buffer
    throwsDescent(() => z.sum().backward(), /mul/);
  });
  test("an in-place change that no backward needs is allowed (add saves nothing)", () => {
    const x = dtensor([2]);
    const c = dtensor([2], { requiresGrad: false });
    const y = x.add(c);
    noGrad(() => c.fill_(5));
    y.sum().backward();
    assertTensorClose(x.grad!, ones([2], f64), 0);
  });
});

describe("views share storage", () => {
  test("fill_ through a slice view changes the base", () => {
    const base = zeros([4, 3], f64);
    const v = base.slice(0, 1, 3);
    noGrad(() => v.fill_(7));
    assertTensorClose(base.slice(0, 1, 3), ones([2, 3], f64).mul(7), 0, "written rows");
    assertTensorClose(base.slice(0, 0, 1), zeros([1, 3], f64), 0, "row 0");
    assertTensorClose(base.slice(0, 3, 4), zeros([1, 3], f64), 0, "row 3");
  });
  test("copy_ through a stepped slice writes every other column", () => {
    const base = zeros([2, 4], f64);
    const src = dtensor([2, 2], { requiresGrad: false });
    noGrad(() => base.slice(1, 0, 4, 2).copy_(src));
    assertTensorClose(base.slice(1, 0, 4, 2), src, 0, "even columns");
    assertTensorClose(base.slice(1, 1, 4, 2), zeros([2, 2], f64), 0, "odd columns");
  });
  test("copy_ broadcasts its source into a transposed view", () => {
    const base = zeros([3, 2], f64);
    const row = tensor([1, 2, 3], f64);
    noGrad(() => base.transpose(0, 1).copy_(row)); // base.T is [2,3]: each row of base.T gets `row`
    assertTensorClose(base, row.unsqueeze(1).expand(3, 2), 0);
  });
  test("select and reshape views write through as well", () => {
    const base = zeros([2, 3], f64);
    noGrad(() => base.select(1, 2).fill_(4));
    noGrad(() => base.reshape(6).slice(0, 0, 1).fill_(-1));
    assertTensorClose(
      base,
      tensor(
        [
          [-1, 0, 4],
          [0, 0, 4],
        ],
        f64,
      ),
      0,
    );
  });
});
