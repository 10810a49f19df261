// The Transformer layers against PyTorch (test/fixtures/attention.json from
// scripts/fixtures_attention.py): TransformerEncoderLayer / DecoderLayer post- and pre-norm,
// relu/gelu, batchFirst both ways, bool and float masks, key padding, float32 and float64, and the
// stacks with PyTorch's state-dict keys (weights PyTorch wrote load unchanged); outputs, input and
// parameter gradients. Also: the stacks' copies start identical, and the layers' errors.

import { test } from "node:test";
import assert from "node:assert/strict";

import { DescentError, randn, where, zeros } from "../../src/index.js";
import { causalMask } from "../../src/nn/functional/attention.js";
import {
  TransformerDecoder,
  TransformerDecoderLayer,
  TransformerEncoder,
  TransformerEncoderLayer,
} from "../../src/nn/layers/transformer.js";
import { assertAllclose } from "../helpers/allclose.js";
import { fixture, replayModule } from "./attention_fixture.js";
import { buildModel } from "../../src/cli/config.js";

for (const c of fixture.modules.filter((m) => m.cls.startsWith("Transformer"))) {
  test(`${c.cls} vs PyTorch: ${c.name}`, () => replayModule(c));
  test(`${c.cls} vs PyTorch: ${c.name} (non-contiguous)`, () => replayModule(c, true));
}

test("TransformerEncoder/Decoder: the layers are independent copies with the layer's initial weights", () => {
  const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
  const enc = new TransformerEncoder(layer, 3);
  const sd = enc.stateDict();
  for (const [k, v] of Object.entries(layer.stateDict())) {
    assertAllclose(sd[`layers.2.${k}`]!, v.toFlatArray(), { rtol: 0, atol: 0, message: k });
  }
  assert.notEqual(enc.layers.at(0).linear1.weight, enc.layers.at(1).linear1.weight);
  const dec = new TransformerDecoder(new TransformerDecoderLayer(8, 2, { dimFeedforward: 16 }), 2);
  assert.equal(dec.layers.length, 2);
  assert.ok("layers.1.multihead_attn.in_proj_weight" in dec.stateDict());
});

test("TransformerEncoderLayer: isCausal equals the causal srcMask", () => {
  const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 });
  const x = randn([5, 2, 8]);
  const mask = where(causalMask(5, 5).eq(0), -Infinity, zeros([5, 5])); // PyTorch's generate_square_subsequent_mask
  assertAllclose(layer.forward(x, { isCausal: true }), layer.forward(x, { srcMask: mask }).toFlatArray(), {
    rtol: 1e-6,
    atol: 1e-7,
  });
});

test("Transformer layers: bad options and shapes are DescentErrors naming the layer", () => {
  const err = (fn: () => unknown, re: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof DescentError && re.test(e.message));
  err(() => new TransformerEncoderLayer(8, 2, { activation: "tanh" as never }), /TransformerEncoderLayer: activation/);
  err(() => new TransformerEncoderLayer(8, 3), /embedDim 8 must be divisible by numHeads 3/);
  err(() => new TransformerEncoder(new TransformerEncoderLayer(8, 2), 0), /TransformerEncoder: numLayers/);
  err(() => new TransformerDecoder(new TransformerEncoderLayer(8, 2) as never, 1), /TransformerDecoder: layer must/);
  const layer = new TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
  err(() => layer.forward(randn([5, 2, 6])), /MultiheadAttention: expected feature sizes embedDim 8.*\[5,2,6\]/);
});

test("CLI config: transformerencoderlayer and transformerencoder over [seq, dModel] samples", () => {
  const layers = [
    { type: "transformerencoderlayer", nhead: 2, dimFeedforward: 16, dropout: 0 },
    { type: "transformer_encoder", nhead: 2, numLayers: 2, dimFeedforward: 16, activation: "gelu", normFirst: true },
    { type: "flatten" },
    { type: "linear", out: 3 },
  ];
  const { model, outputShape } = buildModel(layers, [5, 8]);
  assert.deepEqual(outputShape, [3]);
  assert.ok("1.layers.1.self_attn.in_proj_weight" in model.stateDict());
  assert.deepEqual(model.forward(randn([4, 5, 8])).shape, [4, 3]);
  assert.throws(() => buildModel([{ type: "transformerencoderlayer", nhead: 2 }], [8]), /sequences \[seq, dModel\]/);
  assert.throws(() => buildModel([{ type: "transformerencoder", nhead: 2 }], [5, 8]), /numLayers/);
});
