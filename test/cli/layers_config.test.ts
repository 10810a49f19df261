// The issue-13 layers in the CLI's JSON model configs: each type builds from its fields, infers
// its input size from the previous layer, is listed in the help table, and bad fields are one-line
// config errors naming the field.

import assert from "node:assert/strict";
import { test } from "node:test";

import { buildModel, CliError, LAYER_TYPES } from "../../src/cli/config.js";

const NEW = [
  "convtranspose1d",
  "convtranspose2d",
  "groupnorm",
  "instancenorm2d",
  "dropout1d",
  "dropout2d",
  "upsample",
  "unflatten",
  "pixelshuffle",
  "pixelunshuffle",
];

test("each new layer type is in the help table with its fields", () => {
  for (const t of NEW) assert.ok(t in LAYER_TYPES, t);
  assert.match(LAYER_TYPES.upsample!, /"scaleFactor"/);
  assert.match(LAYER_TYPES.convtranspose2d!, /"outputPadding"/);
});

test("a decoder-style stack builds and its output shape is inferred layer by layer", () => {
  const { outputShape } = buildModel(
    [
      { type: "linear", out: 48 },
      { type: "unflatten", sizes: [3, 4, 4] },
      { type: "conv_transpose2d", out: 8, kernel: 3, stride: 2, padding: 1, outputPadding: 1 },
      { type: "groupnorm", groups: 2 },
      { type: "instancenorm2d", affine: true, trackRunningStats: true },
      { type: "dropout2d", p: 0.2 },
      { type: "upsample", scaleFactor: 2, mode: "bilinear", alignCorners: false },
      { type: "pixelunshuffle", factor: 2 },
      { type: "pixelshuffle", factor: 4 },
    ],
    [10],
  );
  assert.deepEqual(outputShape, [2, 32, 32]);
  const seq = buildModel(
    [
      { type: "convtranspose1d", out: 4, kernel: 3, stride: 2, groups: 2 },
      { type: "dropout1d" },
      { type: "upsample", size: 30, mode: "linear" },
    ],
    [2, 7],
  );
  assert.deepEqual(seq.outputShape, [4, 30]);
});

test("bad fields are config errors naming the field or the layer", () => {
  const cases: [unknown[], number[], RegExp][] = [
    [[{ type: "groupnorm" }], [4, 3], /layers\[0\]\.groups: expected a number \(required\)/],
    [
      [{ type: "groupnorm", groups: 3 }],
      [4, 3],
      /layers\[0\]\.groups: expected a divisor of the layer.s 4 input channels, got number 3/,
    ],
    [[{ type: "upsample", size: [4, 4] }], [2, 7], /layers\[0\]\.size: expected an integer >= 1 or 1 of them/],
    [
      [{ type: "upsample", size: 4, scaleFactor: 2 }],
      [2, 7],
      /layers\[0\]\.size: expected exactly one of "size" and "scaleFactor"/,
    ],
    [
      [{ type: "upsample", scaleFactor: 2, mode: "linear" }],
      [2, 5, 5],
      /does not fit.*mode "linear" needs a 3-D input/,
    ],
    [
      [{ type: "convtranspose1d", out: 2, kernel: [2, 2] }],
      [2, 7],
      /layers\[0\]\.kernel: expected an integer for convtranspose1d/,
    ],
    [[{ type: "convtranspose2d", out: 2, kernel: 2, in: 3 }], [2, 7, 7], /layers\[0\]\.in: the layer gets 2/],
    [
      [{ type: "unflatten", sizes: [5, -1] }],
      [12],
      /does not fit.*sizes \[5, -1\] do not multiply to dim 1 of size 12/,
    ],
    [[{ type: "unflatten" }], [12], /layers\[0\]\.sizes: expected a non-empty array/],
    [[{ type: "pixelshuffle", factor: 2 }], [3, 4, 4], /not divisible by upscaleFactor² = 4/],
    [[{ type: "dropout2d", p: 0.5 }], [3, 4], /expects images \[channels, height, width\]/],
    [[{ type: "instancenorm2d", momentun: 0.1 }], [3, 4, 4], /momentun/],
  ];
  for (const [layers, input, re] of cases)
    assert.throws(
      () => buildModel(layers, input),
      (e: unknown) => e instanceof CliError && re.test(e.message),
      `${JSON.stringify(layers)} on [${input.join(", ")}]`,
    );
});
