// `descent export`: a weights file carrying its config (as `descent train` writes it) or a run
// folder becomes an ONNX file that onnxruntime-node runs with the rebuilt model's outputs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";

import { save, randn, manualSeed, noGrad, type Tensor } from "../../src/index.js";
import { buildModel, CliError } from "../../src/cli/config.js";
import { runExport } from "../../src/cli/export_onnx.js";
import { assertAllclose } from "../helpers/allclose.js";
import { runCli } from "../helpers/cli.js";

const config = {
  model: {
    input: [1, 6, 6],
    layers: [
      { type: "conv2d", out: 3, kernel: 3, padding: 1 },
      { type: "relu" },
      { type: "flatten" },
      { type: "linear", out: 4 },
    ],
  },
};

test("descent export: a weights file with its config and a run folder run in onnxruntime as the model", async () => {
  manualSeed(5);
  const dir = mkdtempSync(join(tmpdir(), "descent-onnx-cli-"));
  const { model } = buildModel(config.model.layers, config.model.input);
  noGrad(() => model.parameters().forEach((p) => p.copy_(randn(p.shape).mul(0.5))));
  const state = model.stateDict();
  const weights = join(dir, "w.safetensors");
  save(state, weights, { "descent.config": JSON.stringify(config) });
  const run = join(dir, "run");
  mkdirSync(run);
  save(state, join(run, "model.safetensors"), { "descent.config": JSON.stringify(config) });

  const lines: string[] = [];
  runExport({ source: weights, out: join(dir, "a.onnx") }, (l) => lines.push(l));
  assert.match(lines[0]!, /wrote .*a\.onnx/);
  const r = runCli(dir, "export", "run", "b.onnx");
  assert.equal(r.code, 0, r.stderr);

  model.eval();
  const x = randn([3, 1, 6, 6]);
  const expected = Array.from((model.forward(x) as Tensor).toFlatArray());
  for (const file of ["a.onnx", "b.onnx"]) {
    const s = await ort.InferenceSession.create(join(dir, file));
    const out = await s.run({ x: new ort.Tensor("float32", x.toFlatArray() as Float32Array, [3, 1, 6, 6]) });
    assertAllclose(Array.from(out.y!.data as Float32Array), expected, { rtol: 1e-4, atol: 1e-5, message: file });
  }

  save(state, join(dir, "bare.safetensors"));
  assert.throws(
    () => runExport({ source: join(dir, "bare.safetensors"), out: join(dir, "c.onnx") }, () => {}),
    CliError,
  );
  assert.throws(() => runExport({ source: join(dir, "missing"), out: join(dir, "c.onnx") }, () => {}), /not found/);
});
