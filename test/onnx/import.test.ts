// onnx.load on models written by PyTorch's torch.onnx.export (test/fixtures/onnx/, made by
// scripts/fixtures_onnx.py with torch 1.13 at opset 17): outputs match PyTorch's; the initializers
// are trainable Parameters (gradients reach them, an optimizer step changes the output); graphs
// with operators Descent cannot run are refused by name at load.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { onnx, optim, tensor, DescentError, type Tensor } from "../../src/index.js";
import { encodeModel } from "../../src/onnx/proto.js";
import { assertAllclose } from "../helpers/allclose.js";

const dir = new URL("../fixtures/onnx/", import.meta.url);
interface Case {
  input: { shape: number[]; data: number[] };
  output: { shape: number[]; data: number[] };
}
const cases = JSON.parse(readFileSync(new URL("cases.json", dir), "utf8")) as Record<string, Case>;

for (const name of ["mlp", "cnn", "lstm", "gru"]) {
  test(`torch.onnx.export ${name} runs in Descent with PyTorch's outputs`, () => {
    const c = cases[name]!;
    const model = onnx.load(new URL(`${name}.onnx`, dir).pathname);
    assert.deepEqual(model.inputNames, ["x"]);
    const x = tensor(c.input.data, { shape: c.input.shape });
    const y = model.forward(x) as Tensor;
    assert.deepEqual([...y.shape], c.output.shape);
    assertAllclose(Array.from(y.toFlatArray()), c.output.data, { rtol: 1e-4, atol: 1e-5, message: name });
    if (name === "gru") return; // time-major: dim 0 is the sequence, not the batch
    // The batch dim was exported dynamic: one sample gives PyTorch's first row.
    const one = model.forward(x.slice(0, 0, 1)) as Tensor;
    const per = c.output.data.length / c.output.shape[0]!;
    assertAllclose(Array.from(one.toFlatArray()), c.output.data.slice(0, per), { rtol: 1e-4, atol: 1e-5 });
  });
}

test("an imported model fine-tunes: its initializers are Parameters that gradients reach", () => {
  const c = cases.mlp!;
  const model = onnx.load(new URL("mlp.onnx", dir).pathname);
  const params = model.parameters();
  assert.equal(params.length, 6); // three Gemm weights and biases
  const x = tensor(c.input.data, { shape: c.input.shape });
  const loss = () => (model.forward(x) as Tensor).square().mean();
  const before = loss().item();
  const opt = new optim.SGD(params, { lr: 0.1 });
  opt.zeroGrad();
  loss().backward();
  assert.ok(params.every((p) => p.grad !== null && p.grad.abs().sum().item() > 0));
  opt.step();
  assert.ok(loss().item() < before, "one SGD step lowers the loss");
});

test("onnx.load refuses an operator it cannot run, and bytes that are not ONNX", () => {
  const bytes = encodeModel({
    ir_version: 8,
    opset_import: [{ domain: "", version: 17 }],
    graph: {
      name: "g",
      node: [{ op_type: "NonMaxSuppression", input: ["x"], output: ["y"] }],
      input: [{ name: "x" }],
      output: [{ name: "y" }],
    },
  });
  assert.throws(
    () => onnx.loadBytes(bytes, "nms.onnx"),
    (e: unknown) => e instanceof DescentError && /NonMaxSuppression/.test(e.message),
  );
  assert.throws(
    () => onnx.loadBytes(new Uint8Array([0xff, 0xff, 0xff, 0x07]), "junk"),
    /onnx\.load: junk is not an ONNX model/,
  );
});
