// Layer registry entries: linear, the activations, dropout and flatten (see registry.ts).

import { nn } from "../../index.js";
import { bool, int, names, num, unit } from "../schema_parts.js";
import type { LayerEntry } from "./registry.js";

const inFeatures = int("Input features; inferred from the previous layer, checked when given", 1);
const p = (what: string) => unit(`Probability of zeroing ${what} (default 0.5)`);
const dim = int("The dimension, counting the batch dim as 0 (default 1)");

export const BASIC_LAYERS: Record<string, LayerEntry> = {
  linear: {
    description: "Fully connected layer on flat features [F]: y = x Wᵀ + b",
    fields: { in: inFeatures, out: int("Output features", 1), bias: bool("Learn an additive bias (default true)") },
    required: ["out"],
    needs: { ranks: [1], what: "flat features [F]" },
    restates: { key: "in", dim: "last" },
    build: (o, c) => new nn.Linear(c.shape[c.shape.length - 1]!, o.out!, { bias: o.bias ?? true }),
  },
  relu: { description: "max(x, 0)", fields: {}, build: () => new nn.ReLU() },
  leakyrelu: {
    description: "x for x > 0, slope·x otherwise",
    fields: { slope: num("Slope for negative inputs (default 0.01)") },
    build: (o) => new nn.LeakyReLU(o.slope ?? 0.01),
  },
  elu: {
    description: "x for x > 0, alpha·(eˣ − 1) otherwise",
    fields: { alpha: num("Scale of the negative part (default 1)") },
    build: (o) => new nn.ELU(o.alpha ?? 1),
  },
  gelu: {
    description: "Gaussian error linear unit",
    fields: { approximate: names('"none" (exact, erf) or "tanh" (default "none")', ["none", "tanh"]) },
    build: (o) => new nn.GELU(((o.approximate as string | undefined)?.toLowerCase() ?? "none") as never),
  },
  silu: { description: "x·sigmoid(x)", fields: {}, build: () => new nn.SiLU() },
  tanh: { description: "Hyperbolic tangent", fields: {}, build: () => new nn.Tanh() },
  sigmoid: { description: "1 / (1 + e⁻ˣ)", fields: {}, build: () => new nn.Sigmoid() },
  softmax: { description: "Softmax over a dimension", fields: { dim }, build: (o) => new nn.Softmax(o.dim ?? 1) },
  logsoftmax: {
    description: "Log-softmax over a dimension",
    fields: { dim },
    build: (o) => new nn.LogSoftmax(o.dim ?? 1),
  },
  dropout: {
    description: "Zeroes each element with probability p while training",
    fields: { p: p("each element") },
    build: (o) => new nn.Dropout(o.p ?? 0.5),
  },
  dropout1d: {
    description: "Zeroes whole channels of sequences [channels, length] while training",
    fields: { p: p("each channel") },
    needs: { ranks: [2], what: "sequences [channels, length]" },
    build: (o) => new nn.Dropout1d(o.p ?? 0.5),
  },
  dropout2d: {
    description: "Zeroes whole channels of images [channels, height, width] while training",
    fields: { p: p("each channel") },
    needs: { ranks: [3], what: "images [channels, height, width]" },
    build: (o) => new nn.Dropout2d(o.p ?? 0.5),
  },
  flatten: { description: "Flattens each sample to [F]", fields: {}, build: () => new nn.Flatten() },
};
