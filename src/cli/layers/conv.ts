// Layer registry entries: convolutions, transposed convolutions and pooling (see registry.ts).

import { nn } from "../../index.js";
import { bool, int, pair, scalar, type Schema } from "../schema_parts.js";
import type { LayerEntry } from "./registry.js";

const IMAGES = { ranks: [3], what: "images [channels, height, width]" } as const;
const SEQUENCES = { ranks: [2], what: "sequences [channels, length]" } as const;
const inChannels = int("Input channels; inferred from the previous layer, checked when given", 1);
const out = int("Output channels", 1);
const bias = bool("Learn an additive bias (default true)");
const samePadding = { enum: ["same", "valid"] };

/** The fields of a 1-D (integers) or 2-D (integer or pair) convolution; `transpose` adds outputPadding and groups. */
function convFields(two: boolean, transpose: boolean, layer: string): Record<string, Schema> {
  const size = (d: string, min = 1) => (two ? pair(d, min) : scalar(d, layer, min));
  const padding = size("Zero padding on each side" + (transpose ? "" : ', or "same" / "valid"'), 0);
  return {
    in: inChannels,
    out,
    kernel: size("Kernel size"),
    stride: size("Stride (default 1)"),
    padding: transpose
      ? padding
      : {
          description: padding.description,
          anyOf: [samePadding, padding],
          "x-expect": `"same", "valid" or ${String(padding["x-expect"])}`,
        },
    ...(transpose ? { outputPadding: size("Extra size added to one side of the output", 0) } : {}),
    dilation: size("Spacing between kernel elements (default 1)"),
    ...(transpose ? { groups: int("Blocked connections from input to output channels (default 1)", 1) } : {}),
    bias,
  };
}

const conv = (two: boolean, transpose: boolean, description: string): LayerEntry => {
  const layer = `${transpose ? "convtranspose" : "conv"}${two ? 2 : 1}d`;
  return {
    description,
    fields: convFields(two, transpose, layer),
    required: ["out", "kernel"],
    needs: two ? IMAGES : SEQUENCES,
    restates: { key: "in", dim: "channels" },
    build: (o, c) => {
      const opts = {
        stride: o.stride,
        padding: o.padding,
        dilation: o.dilation,
        ...(transpose ? { outputPadding: o.outputPadding, groups: o.groups } : {}),
        bias: o.bias ?? true,
      };
      const C = transpose ? (two ? nn.ConvTranspose2d : nn.ConvTranspose1d) : two ? nn.Conv2d : nn.Conv1d;
      return new C(c.shape[0]!, o.out!, o.kernel!, opts);
    },
  };
};

const pool = (max: boolean): LayerEntry => ({
  description: `${max ? "Max" : "Average"} pooling over windows of images`,
  fields: {
    kernel: pair("Window size"),
    stride: pair("Stride (default: the window size)"),
    padding: pair("Padding on each side (default 0)", 0),
  },
  required: ["kernel"],
  needs: IMAGES,
  build: (o) => {
    const opts = { stride: o.stride, padding: o.padding };
    return max ? new nn.MaxPool2d(o.kernel!, opts) : new nn.AvgPool2d(o.kernel!, opts);
  },
});

export const CONV_LAYERS: Record<string, LayerEntry> = {
  conv1d: conv(false, false, "1-D convolution over sequences [channels, length]"),
  conv2d: conv(true, false, "2-D convolution over images [channels, height, width]"),
  convtranspose1d: conv(false, true, "1-D transposed convolution (upsampling) over sequences"),
  convtranspose2d: conv(true, true, "2-D transposed convolution (upsampling) over images"),
  maxpool2d: pool(true),
  avgpool2d: pool(false),
  adaptiveavgpool2d: {
    description: "Average pooling to a fixed output size",
    fields: { output: pair("Output size: an integer or [height, width]") },
    required: ["output"],
    needs: IMAGES,
    build: (o) => new nn.AdaptiveAvgPool2d(o.output!),
  },
};
