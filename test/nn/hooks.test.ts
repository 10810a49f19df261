// Module hooks with PyTorch's semantics: register_forward_hook (sees module, inputs, output; a
// returned value replaces the output) and register_full_backward_hook (sees the gradients with
// respect to the module's inputs and output when they are computed; a returned list replaces the
// input gradients). Expected gradients are derived by hand for a Linear layer, y = x Wᵀ + b:
// ∂L/∂x = g W for the output gradient g, and checked against autograd on an unhooked copy.

import { test } from "node:test";
import assert from "node:assert/strict";

import { manualSeed, randn, type Tensor } from "../../src/index.js";
import { Linear } from "../../src/nn/layers/linear.js";
import { Sequential } from "../../src/nn/layers/container.js";
import { ReLU } from "../../src/nn/layers/activation.js";
import type { Module } from "../../src/nn/module.js";

const f64 = { dtype: "float64" as const };

function close(a: Tensor, b: Tensor, msg: string): void {
  assert.deepEqual(a.shape, b.shape, msg);
  const x = a.toFlatArray();
  const y = b.toFlatArray();
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i]! - y[i]!) <= 1e-12, `${msg}: ${x[i]} vs ${y[i]} at ${i}`);
}

test("forward hook sees module, inputs and output; its return value replaces the output; remove() detaches it", () => {
  manualSeed(0);
  const lin = new Linear(3, 2, f64);
  const x = randn([4, 3], f64);
  const seen: [Module, unknown[], unknown][] = [];
  const h = lin.registerForwardHook((m, inputs, out) => void seen.push([m, inputs, out]));
  const y = lin.forward(x);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]![0], lin);
  assert.equal(seen[0]![1][0], x);
  assert.equal(seen[0]![2], y);

  const h2 = lin.registerForwardHook((_m, _in, out) => (out as Tensor).mul(2));
  close(lin.forward(x), y.mul(2), "replaced output");
  h2.remove();
  h.remove();
  close(lin.forward(x), y, "hooks removed");
  assert.equal(seen.length, 2, "the removed hook no longer runs");
});

test("full backward hook: gradInputs = g·W and gradOutputs = g for a Linear, as autograd computes them", () => {
  manualSeed(1);
  const lin = new Linear(3, 2, f64);
  const x = randn([4, 3], f64).requiresGrad_();
  const g = randn([4, 2], f64);
  const calls: { gin: (Tensor | null)[]; gout: (Tensor | null)[] }[] = [];
  const h = lin.registerFullBackwardHook((m, gin, gout) => {
    assert.equal(m, lin);
    calls.push({ gin: [...gin], gout: [...gout] });
  });
  lin.forward(x).backward(g);
  assert.equal(calls.length, 1, "called once per backward");
  close(calls[0]!.gout[0]!, g, "gradOutputs[0]");
  close(calls[0]!.gin[0]!, g.matmul(lin.weight.detach()), "gradInputs[0] = g W");
  close(x.grad!, g.matmul(lin.weight.detach()), "x.grad unchanged by an observing hook");

  h.remove();
  x.grad = null;
  lin.forward(x).backward(g);
  assert.equal(calls.length, 1, "a removed hook is not called");
});

test("full backward hook can replace the input gradient; the parameters' gradients are unaffected", () => {
  manualSeed(2);
  const lin = new Linear(3, 2, f64);
  const x = randn([4, 3], f64).requiresGrad_();
  const g = randn([4, 2], f64);
  lin.registerFullBackwardHook((_m, gin) => gin.map((t) => (t ? t.mul(0.5) : t)));
  lin.forward(x).backward(g);
  close(x.grad!, g.matmul(lin.weight.detach()).mul(0.5), "x.grad halved by the hook");
  close(lin.weight.grad!, g.transpose(0, 1).matmul(x.detach()), "weight.grad = gᵀ x");
});

test("hooks on the layers of a Sequential run in forward order and in backward order", () => {
  manualSeed(3);
  const a = new Linear(3, 4, f64);
  const b = new Linear(4, 2, f64);
  const net = new Sequential(a, new ReLU(), b);
  const order: string[] = [];
  for (const [name, m] of [
    ["a", a],
    ["b", b],
  ] as const) {
    m.registerForwardHook(() => void order.push(`fwd ${name}`));
    m.registerFullBackwardHook(() => void order.push(`bwd ${name}`));
  }
  const x = randn([5, 3], f64).requiresGrad_();
  (net.forward(x) as Tensor).sum().backward();
  assert.deepEqual(order, ["fwd a", "fwd b", "bwd b", "bwd a"]);
});

test("full backward hook on a module whose input does not require grad still sees the output gradient", () => {
  manualSeed(4);
  const lin = new Linear(3, 2, f64);
  const x = randn([4, 3], f64); // a data batch: no gradient wanted
  const g = randn([4, 2], f64);
  let gout: Tensor | null = null;
  lin.registerFullBackwardHook((_m, _gin, go) => void (gout = go[0] ?? null));
  lin.forward(x).backward(g);
  assert.ok(gout !== null, "the hook ran");
  close(gout, g, "gradOutputs[0]");
});
