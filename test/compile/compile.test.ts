// compile(): the plan's outputs against the eager forward (float32 tolerance) on every backend, for
// an MLP, a CNN whose BatchNorms fold into the conv epilogues, a custom residual module with
// functional activations and element-wise chains, ops the executors lack (replayed in JS), and
// several inputs and outputs; then what the plan promises: parameter updates seen, a new shape
// traced again, buffers reused (one allocation per call: the output), clear refusals.

import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { availableBackends, backend, setBackend } from "../../src/backends/index.js";
import {
  compile,
  getNumThreads,
  manualSeed,
  nn,
  noGrad,
  predict,
  randn,
  setNumThreads,
  type Tensor,
} from "../../src/index.js";
import { compare, describeComparison } from "../helpers/allclose.js";
import { PLAN_BINARY, PLAN_UNARY } from "../../src/backends/plan/index.js";
import { planAddon } from "../../src/backends/plan/native.js";

const F = nn.functional;

function close(actual: Tensor, expected: Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const c = compare(actual.toFlatArray(), expected.toFlatArray(), { rtol: 1e-5, atol: 1e-6 });
  assert.ok(c.ok, `${what}: ${describeComparison(c)}`);
}

function eager(model: nn.Module, ...xs: Tensor[]): Tensor {
  return noGrad(() => (model.forward as (...a: Tensor[]) => Tensor)(...xs));
}

function mlp(): nn.Sequential {
  return new nn.Sequential(
    new nn.Linear(20, 32),
    new nn.ReLU(),
    new nn.Linear(32, 16),
    new nn.GELU(),
    new nn.Linear(16, 5),
  ).eval() as nn.Sequential;
}

/** Conv + BatchNorm (with non-trivial running statistics) + pooling + flatten + dropout + softmax. */
function cnn(): nn.Sequential {
  const m = new nn.Sequential(
    new nn.Conv2d(3, 8, 3, { padding: 1 }),
    new nn.BatchNorm2d(8),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(8, 4, 3, { stride: 2 }),
    new nn.BatchNorm2d(4),
    new nn.Flatten(),
    new nn.Dropout(0.5),
    new nn.Linear(4 * 1 * 1, 6),
    new nn.BatchNorm1d(6),
    new nn.Tanh(),
    new nn.Softmax(-1),
  );
  noGrad(() => {
    for (const bn of m.modules())
      if (bn instanceof nn.BatchNorm2d || bn instanceof nn.BatchNorm1d) {
        const c = bn.running_mean!.shape[0]!;
        bn.running_mean!.copy_(randn([c]));
        bn.running_var!.copy_(randn([c]).abs().add(0.5));
        bn.weight!.copy_(randn([c]));
        bn.bias!.copy_(randn([c]));
      }
  });
  return m.eval() as nn.Sequential;
}

/** A residual block: functional GELU (one fused op), a residual add, LayerNorm, an element-wise tail. */
class Block extends nn.Module {
  fc1 = new nn.Linear(12, 24);
  fc2 = new nn.Linear(24, 12);
  ln = new nn.LayerNorm(12);
  constructor(readonly approximate: "none" | "tanh" = "none") {
    super();
  }
  forward(x: Tensor): Tensor {
    const h = F.gelu(this.fc1.forward(x), { approximate: this.approximate });
    const y = x.add(this.fc2.forward(h));
    return this.ln.forward(y).mul(2).add(1).tanh();
  }
}

for (const name of availableBackends()) {
  describe(`compile on ${name}`, () => {
    test("MLP: eager outputs; bias and activations in the GEMM epilogue; one plan call", () => {
      setBackend(name);
      manualSeed(1);
      const m = mlp();
      const x = randn([3, 20]);
      const c = compile(m, x);
      close(c.forward(x) as Tensor, eager(m, x), "mlp");
      assert.deepEqual(c.steps, ["gemm+relu", "gemm+gelu", "gemm"]);
      assert.equal(c.executor, name === "native" ? "native" : "js");
    });

    test("CNN: BatchNorm folded into the conv and linear epilogues, pooling, flatten, dropout, softmax", () => {
      setBackend(name);
      manualSeed(2);
      const m = cnn();
      const x = randn([2, 3, 8, 8]);
      const c = compile(m, x);
      close(c.forward(x) as Tensor, eager(m, x), "cnn");
      assert.deepEqual(c.steps, ["im2col", "gemm+relu", "maxPool", "im2col", "gemm", "gemm+tanh", "softmax"]);
    });

    test("a custom residual module: functional GELU in the GEMM epilogue, element-wise tails fused into single loops", () => {
      setBackend(name);
      for (const approximate of ["none", "tanh"] as const) {
        manualSeed(3);
        const m = new Block(approximate).eval();
        const x = randn([5, 12]);
        const c = compile(m, x);
        close(c.forward(x) as Tensor, eager(m, x), `block (gelu ${approximate})`);
        // gelu rides fc1's write-out, the residual add is one loop, mul-add-tanh one.
        assert.deepEqual(c.steps, [
          approximate === "tanh" ? "gemm+geluTanh" : "gemm+gelu",
          "gemm",
          "ew",
          "layerNorm",
          "ew",
        ]);
      }
    });

    test("ops the executors lack replay in JS; several inputs and outputs", () => {
      setBackend(name);
      manualSeed(4);
      class Two extends nn.Module {
        fc = new nn.Linear(6, 4);
        forward(a: Tensor, b: Tensor): Tensor[] {
          const h = this.fc.forward(a).sigmoid();
          return [h.cumsum(1), a.add(b).permute([1, 0]), a];
        }
      }
      const m = new Two().eval();
      const a = randn([3, 6]),
        b = randn([1, 6]);
      const c = compile(m, [a, b]);
      const got = c.forward(a, b) as Tensor[];
      const want = eager(m, a, b) as unknown as Tensor[];
      want.forEach((w, i) => close(got[i]!, w, `output ${i}`));
      assert.ok(c.steps.includes("js:cumsum"), c.steps.join(","));
      assert.notEqual(got[2], a, "an input returned as is comes back as a copy");
    });

    test("outputs returned in another order than computed each get their own values", () => {
      // Was: per-call outputs were bound in the forward's return order but the runner takes them in
      // the order their slots were made, so [fc2(h), h] gave each the other's array (native threw
      // "a per-call buffer is too short", the shapes differing).
      setBackend(name);
      manualSeed(15);
      class Late extends nn.Module {
        fc1 = new nn.Linear(5, 7);
        fc2 = new nn.Linear(7, 3);
        forward(x: Tensor): Tensor[] {
          const h = this.fc1.forward(x).relu();
          return [this.fc2.forward(h), h];
        }
      }
      const m = new Late().eval();
      const x = randn([4, 5]);
      const got = compile(m, x).forward(x) as Tensor[];
      (eager(m, x) as unknown as Tensor[]).forEach((w, i) => close(got[i]!, w, `output ${i}`));
    });

    test("parameters updated after compile are seen (weights in place, BatchNorm statistics refolded)", () => {
      setBackend(name);
      manualSeed(5);
      const m = cnn();
      const x = randn([2, 3, 8, 8]);
      const c = compile(m, x);
      c.forward(x);
      const conv = m.modules().find((l) => l instanceof nn.Conv2d) as nn.Conv2d;
      const bn = m.modules().find((l) => l instanceof nn.BatchNorm2d) as nn.BatchNorm2d;
      noGrad(() => {
        conv.weight.mul_(0.5);
        bn.running_var!.add_(1);
      });
      close(c.forward(x) as Tensor, eager(m, x), "after updates");
      m.loadStateDict(cnn().stateDict());
      close(c.forward(x) as Tensor, eager(m, x), "after loadStateDict");
    });

    test("a new input shape traces again; plans are cached per shape", () => {
      setBackend(name);
      const m = mlp();
      const c = compile(m, randn([1, 20]));
      for (const n of [4, 1, 4, 7]) {
        const x = randn([n, 20]);
        close(c.forward(x) as Tensor, eager(m, x), `batch ${n}`);
      }
      assert.equal(c.plans, 3);
    });

    test("buffers are reused: 1000 calls allocate only their outputs", () => {
      setBackend(name);
      const m = mlp();
      const x = randn([2, 20]);
      const c = compile(m, x);
      c.forward(x);
      const b = backend();
      const alloc = b.alloc;
      let n = 0;
      b.alloc = (dtype, size) => (n++, alloc(dtype, size));
      try {
        for (let i = 0; i < 1000; i++) c.forward(x);
      } finally {
        b.alloc = alloc;
      }
      assert.equal(n, 1000);
    });
  });
}

test("refusals: a model in training mode, switched back to training, or writing in place", () => {
  const m = mlp().train();
  assert.throws(
    () => compile(m, randn([1, 20])),
    /compile: cannot compile: the model is in training mode.*model\.eval\(\)/,
  );
  m.eval();
  const c = compile(m, randn([1, 20]));
  (m.modules()[2] as nn.Module).train();
  assert.throws(() => c.forward(randn([1, 20])), /its submodule ReLU is in training mode/);
  class InPlace extends nn.Module {
    fc = new nn.Linear(3, 3);
    forward(x: Tensor): Tensor {
      return this.fc.forward(x).add_(1);
    }
  }
  assert.throws(() => compile(new InPlace().eval(), randn([2, 3])), /writes in place into the output of Linear/);
  assert.throws(() => compile(mlp(), []), /exampleInputs must be a Tensor or a non-empty array/);
});

test("native: the blocked GEMM's epilogue on 2 threads (column and row strips) equals the eager forward", () => {
  if (!availableBackends().includes("native")) return;
  setBackend("native");
  const threads = getNumThreads();
  setNumThreads(2);
  try {
    manualSeed(6);
    // [128, 300]·[300, 200]: past the small path and the one-thread limit, split by columns.
    const wide = new nn.Sequential(new nn.Linear(300, 200), new nn.BatchNorm1d(200), new nn.SiLU()).eval();
    noGrad(() => (wide.modules()[2] as nn.BatchNorm1d).running_var!.copy_(randn([200]).abs().add(0.1)));
    // A conv with 256 output channels on a 4x4 image: more rows than columns, split by rows.
    const tall = new nn.Sequential(
      new nn.Conv2d(256, 256, 3, { padding: 1 }),
      new nn.BatchNorm2d(256),
      new nn.ELU(),
    ).eval();
    noGrad(() => (tall.modules()[2] as nn.BatchNorm2d).running_mean!.copy_(randn([256])));
    for (const [m, x] of [
      [wide, randn([128, 300])],
      [tall, randn([1, 256, 4, 4])],
    ] as const) {
      const c = compile(m, x);
      close(c.forward(x) as Tensor, eager(m, x), m.modules()[1]!.constructor.name);
      assert.equal(c.steps.filter((s) => s === "ew").length, 0, c.steps.join(","));
    }
  } finally {
    setNumThreads(threads);
  }
});

test("predict runs the compiled plan (same predictions), and the eager forward for a model compile refuses", () => {
  setBackend(availableBackends().includes("native") ? "native" : "js");
  manualSeed(7);
  const m = mlp();
  const x = randn([10, 20]);
  close(predict(m, x, { batchSize: 4 }), eager(m, x), "predict");
  class InPlace extends nn.Module {
    fc = new nn.Linear(20, 3);
    forward(t: Tensor): Tensor {
      return this.fc.forward(t).mul_(2);
    }
  }
  const r = new InPlace().eval();
  close(predict(r, x, { batchSize: 4 }), eager(r, x), "predict, eager fallback");
});

test("native: the addon's plan ops are exactly the plan's op list (codes are matched by name)", () => {
  const addon = planAddon();
  if (!addon) return;
  assert.deepEqual([...addon.planOps()].sort(), [...PLAN_UNARY, ...PLAN_BINARY].sort());
});

for (const name of availableBackends())
  test(`compile on ${name}: average pooling, reductions and batched matmuls run as native steps, not JS replays`, () => {
    setBackend(name);
    manualSeed(8);
    class Pools extends nn.Module {
      body = new nn.Sequential(
        new nn.Conv2d(3, 4, 3),
        new nn.AvgPool2d(2),
        new nn.AdaptiveAvgPool2d(1),
        new nn.Flatten(),
      );
      forward(x: Tensor): Tensor {
        const h = this.body.forward(x); // [2, 4]
        const q = x.reshape([2, 3, 9, 9]).matmul(x.reshape([2, 3, 9, 9]).permute([0, 1, 3, 2])); // [2, 3, 9, 9]
        return h.add(q.amax([2, 3]).sum(1, true)).add(q.amin([1]).sum([1, 2]).reshape([2, 1]));
      }
    }
    const m = new Pools().eval();
    const x = randn([2, 3, 9, 9]);
    const c = compile(m, x);
    close(c.forward(x) as Tensor, eager(m, x), "pools");
    assert.ok(!c.steps.some((s) => s.startsWith("js:")), c.steps.join(","));
  });
