// The JSON run configuration of `descent train` / `predict`: validation with messages that name the
// field and what was expected, and the model built from its list of layers (each layer's input size
// inferred by a dummy forward pass, which also reports the first layer whose shape does not fit).

import { readFileLimited } from "../core/files.js";
import { DescentError, nn, noGrad, optim, zeros, type Tensor } from "../index.js";
import { transformerFromFields } from "./config_transformer.js";

/** A mistake by the user (missing file, bad config, shapes that do not fit): printed without a stack. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array (${JSON.stringify(v).slice(0, 60)})`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Reads typed fields of one JSON object, naming the full path in every complaint. */
export class Fields {
  private readonly used = new Set<string>();
  constructor(
    readonly path: string,
    readonly obj: Obj,
  ) {}

  static of(path: string, v: unknown): Fields {
    if (v === null || typeof v !== "object" || Array.isArray(v))
      throw new CliError(`${path}: expected an object, got ${describe(v)}`);
    return new Fields(path, v as Obj);
  }

  fail(key: string, expected: string): never {
    throw new CliError(`${this.path}.${key}: expected ${expected}, got ${describe(this.obj[key])}`);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  raw(key: string): Json | undefined {
    this.used.add(key);
    return this.obj[key] ?? undefined;
  }

  num(key: string, opts: { int?: boolean; min?: number; max?: number; above?: number } = {}): number | undefined {
    // Integers (sizes, counts, epochs) are int32, like the tensor dims they become.
    if (opts.int) opts = { ...opts, max: Math.min(opts.max ?? 2147483647, 2147483647) };
    const v = this.raw(key);
    if (v === undefined) return undefined;
    const what = [
      opts.int ? "an integer" : "a number",
      opts.above !== undefined ? `> ${opts.above}` : "",
      opts.min !== undefined ? `>= ${opts.min}` : "",
      opts.max !== undefined ? `<= ${opts.max}` : "",
    ]
      .filter(Boolean)
      .join(" ");
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(key, what);
    if (opts.int && !Number.isInteger(v)) this.fail(key, what);
    if (opts.min !== undefined && v < opts.min) this.fail(key, what);
    if (opts.max !== undefined && v > opts.max) this.fail(key, what);
    if (opts.above !== undefined && !(v > opts.above)) this.fail(key, what);
    return v;
  }

  reqNum(key: string, opts: { int?: boolean; min?: number; max?: number; above?: number } = {}): number {
    const v = this.num(key, opts);
    if (v === undefined) this.fail(key, `a number (required)`);
    return v;
  }

  str(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== "string" || v === "") this.fail(key, "a non-empty string");
    return v;
  }

  reqStr(key: string): string {
    const v = this.str(key);
    if (v === undefined) this.fail(key, "a string (required)");
    return v;
  }

  oneOf<T extends string>(key: string, choices: readonly T[]): T | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== "string" || !choices.includes(v.toLowerCase() as T))
      this.fail(key, `one of ${choices.map((c) => JSON.stringify(c)).join(", ")}`);
    return v.toLowerCase() as T;
  }

  bool(key: string): boolean | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (typeof v !== "boolean") this.fail(key, "true or false");
    return v;
  }

  /** A number or a pair [a, b] of positive (or non-negative) integers, as kernel sizes and strides. */
  pair(key: string, min = 1): number | [number, number] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    const ok = (x: unknown) => typeof x === "number" && Number.isInteger(x) && x >= min;
    if (ok(v)) return v as number;
    if (Array.isArray(v) && v.length === 2 && v.every(ok)) return [v[0] as number, v[1] as number];
    this.fail(key, `an integer >= ${min} or a pair of them`);
  }

  shape(key: string): number[] | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "number" && Number.isInteger(x) && x > 0))
      this.fail(key, "a shape: a non-empty array of positive integers, e.g. [1, 28, 28]");
    return v as number[];
  }

  sub(key: string): Fields | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    return Fields.of(`${this.path}.${key}`, v);
  }

  /** Refuses keys nobody read (a typo such as "lerning_rate" should not be silently ignored). */
  done(): void {
    const extra = Object.keys(this.obj).filter((k) => !this.used.has(k));
    if (extra.length) {
      throw new CliError(
        `${this.path}: unknown field${extra.length > 1 ? "s" : ""} ${extra.map((k) => JSON.stringify(k)).join(", ")}; expected ${[...this.used].map((k) => JSON.stringify(k)).join(", ")}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Layers

/** Each layer type with the fields it accepts (besides "type"); used for the help text and errors. */
export const LAYER_TYPES: Record<string, string> = {
  linear: '"out" (required), "bias"',
  conv1d: '"out", "kernel" (required), "stride", "padding", "dilation", "bias"',
  conv2d: '"out", "kernel" (required), "stride", "padding" (number or "same"), "dilation", "bias"',
  maxpool2d: '"kernel" (required), "stride", "padding"',
  avgpool2d: '"kernel" (required), "stride", "padding"',
  adaptiveavgpool2d: '"output" (required)',
  relu: "",
  leakyrelu: '"slope" (default 0.01)',
  elu: '"alpha"',
  gelu: '"approximate" ("none" or "tanh")',
  silu: "",
  tanh: "",
  sigmoid: "",
  softmax: '"dim" (default 1)',
  logsoftmax: '"dim" (default 1)',
  dropout: '"p" (default 0.5)',
  batchnorm1d: '"momentum", "eps"',
  batchnorm2d: '"momentum", "eps"',
  layernorm: '"eps"',
  flatten: "",
  transformerencoderlayer: '"nhead" (required), "dimFeedforward", "dropout", "activation", "layerNormEps", "normFirst"',
  transformerencoder:
    '"nhead", "numLayers" (required), "dimFeedforward", "dropout", "activation", "layerNormEps", "normFirst"',
};

/** Builds one layer for inputs of per-sample shape `shape` (no batch dim). */
function buildLayer(f: Fields, shape: readonly number[]): nn.Module {
  const type = f.reqStr("type").toLowerCase().replace(/[_-]/g, "");
  if (!(type in LAYER_TYPES))
    f.fail(
      "type",
      `one of ${Object.keys(LAYER_TYPES)
        .map((t) => JSON.stringify(t))
        .join(", ")}`,
    );
  const last = shape[shape.length - 1]!;
  const channels = shape[0]!;
  const need = (rank: number | number[], what: string) => {
    const ranks = Array.isArray(rank) ? rank : [rank];
    if (!ranks.includes(shape.length))
      throw new CliError(
        `${f.path} (${type}): expects ${what}, but its input has per-sample shape [${shape.join(", ")}]${shape.length === 1 && type.startsWith("conv") ? '; give "model.input" as [channels, height, width]' : ""}${type === "linear" && shape.length > 1 ? '; add {"type": "flatten"} before it' : ""}`,
      );
  };
  const checkIn = (key: string, inferred: number) => {
    const given = f.num(key, { int: true, min: 1 });
    if (given !== undefined && given !== inferred)
      throw new CliError(
        `${f.path}.${key}: the layer gets ${inferred} from the previous layer (per-sample shape [${shape.join(", ")}]), but the config says ${given}`,
      );
  };
  let m: nn.Module;
  switch (type) {
    case "linear":
      need([1], "flat features [F]");
      checkIn("in", last);
      m = new nn.Linear(last, f.reqNum("out", { int: true, min: 1 }), { bias: f.bool("bias") ?? true });
      break;
    case "conv1d":
    case "conv2d": {
      const two = type === "conv2d";
      need(two ? 3 : 2, two ? "images [channels, height, width]" : "sequences [channels, length]");
      checkIn("in", channels);
      const out = f.reqNum("out", { int: true, min: 1 });
      const kernel = f.pair("kernel");
      if (kernel === undefined) f.fail("kernel", "an integer >= 1 or a pair (required)");
      const padRaw = f.raw("padding");
      let padding: number | [number, number] | "same" | "valid" | undefined;
      if (padRaw === "same" || padRaw === "valid") padding = padRaw;
      else if (padRaw !== undefined) padding = f.pair("padding", 0);
      const opts = { stride: f.pair("stride"), padding, dilation: f.pair("dilation"), bias: f.bool("bias") ?? true };
      if (two) m = new nn.Conv2d(channels, out, kernel, opts);
      else {
        if (Array.isArray(kernel)) f.fail("kernel", "an integer for conv1d");
        m = new nn.Conv1d(channels, out, kernel, opts as never);
      }
      break;
    }
    case "maxpool2d":
    case "avgpool2d": {
      need(3, "images [channels, height, width]");
      const kernel = f.pair("kernel");
      if (kernel === undefined) f.fail("kernel", "an integer >= 1 or a pair (required)");
      const opts = { stride: f.pair("stride"), padding: f.pair("padding", 0) };
      m = type === "maxpool2d" ? new nn.MaxPool2d(kernel, opts) : new nn.AvgPool2d(kernel, opts);
      break;
    }
    case "adaptiveavgpool2d": {
      need(3, "images [channels, height, width]");
      const out = f.pair("output");
      if (out === undefined) f.fail("output", "an integer >= 1 or a pair (required)");
      m = new nn.AdaptiveAvgPool2d(out);
      break;
    }
    case "relu":
      m = new nn.ReLU();
      break;
    case "leakyrelu":
      m = new nn.LeakyReLU(f.num("slope") ?? 0.01);
      break;
    case "elu":
      m = new nn.ELU(f.num("alpha") ?? 1);
      break;
    case "gelu":
      m = new nn.GELU(f.oneOf("approximate", ["none", "tanh"] as const) ?? "none");
      break;
    case "silu":
      m = new nn.SiLU();
      break;
    case "tanh":
      m = new nn.Tanh();
      break;
    case "sigmoid":
      m = new nn.Sigmoid();
      break;
    case "softmax":
      m = new nn.Softmax(f.num("dim", { int: true }) ?? 1);
      break;
    case "logsoftmax":
      m = new nn.LogSoftmax(f.num("dim", { int: true }) ?? 1);
      break;
    case "dropout":
      m = new nn.Dropout(f.num("p", { min: 0, max: 1 }) ?? 0.5);
      break;
    case "batchnorm1d":
      need([1, 2], "features [F] or [channels, length]");
      checkIn("features", channels);
      m = new nn.BatchNorm1d(channels, {
        momentum: f.num("momentum", { min: 0, max: 1 }),
        eps: f.num("eps", { above: 0 }),
      });
      break;
    case "batchnorm2d":
      need(3, "images [channels, height, width]");
      checkIn("features", channels);
      m = new nn.BatchNorm2d(channels, {
        momentum: f.num("momentum", { min: 0, max: 1 }),
        eps: f.num("eps", { above: 0 }),
      });
      break;
    case "layernorm":
      m = new nn.LayerNorm(last, { eps: f.num("eps", { above: 0 }) });
      break;
    case "flatten":
      m = new nn.Flatten();
      break;
    case "transformerencoderlayer":
    case "transformerencoder":
      need(2, "sequences [seq, dModel]");
      m = transformerFromFields(f, type === "transformerencoder", last);
      break;
    default:
      throw new CliError(`${f.path}.type: unknown layer type ${type}`);
  }
  f.done();
  return m;
}

/**
 * The nn.Sequential described by layers, for samples of shape input (no batch dim). Each layer is
 * run on a dummy batch of two zeros as it is added, so sizes are inferred and a layer whose input
 * does not fit is named with both shapes. Returns the model and its output shape per sample.
 */
export function buildModel(
  layersRaw: unknown,
  input: readonly number[],
  path = "config.model.layers",
): {
  model: nn.Sequential;
  outputShape: number[];
} {
  if (!Array.isArray(layersRaw) || layersRaw.length === 0)
    throw new CliError(
      `${path}: expected a non-empty array of layers such as {"type": "linear", "out": 10}, got ${describe(layersRaw)}`,
    );
  const modules: nn.Module[] = [];
  let shape = [...input];
  noGrad(() => {
    let x: Tensor = zeros([2, ...shape]);
    layersRaw.forEach((raw, i) => {
      const f = Fields.of(`${path}[${i}]`, raw);
      const layer = buildLayer(f, shape);
      layer.eval();
      try {
        x = (layer.forward as (t: Tensor) => Tensor)(x);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new CliError(
          `${path}[${i}] (${String((raw as Obj).type)}): does not fit its input of per-sample shape [${shape.join(", ")}]: ${why}`,
        );
      }
      layer.train();
      shape = x.shape.slice(1);
      if (shape.some((d) => d === 0))
        throw new CliError(
          `${path}[${i}] (${String((raw as Obj).type)}): its output is empty (shape [${shape.join(", ")}]); the input is too small for it`,
        );
      modules.push(layer);
    });
  });
  return { model: new nn.Sequential(...modules), outputShape: shape };
}

// ---------------------------------------------------------------------------------------------
// Loss, optimizer, schedule

export type LossName = "crossentropy" | "nll" | "mse" | "l1" | "huber" | "smoothl1" | "bce" | "bcewithlogits";
const LOSSES: readonly LossName[] = ["crossentropy", "nll", "mse", "l1", "huber", "smoothl1", "bce", "bcewithlogits"];

/** True for the losses that take class indices as targets (accuracy and argmax predictions apply). */
export function isClassification(loss: LossName): boolean {
  return loss === "crossentropy" || loss === "nll";
}

export function buildLoss(
  raw: unknown,
  path = "config.loss",
): { loss: nn.Module & { forward(o: Tensor, t: Tensor): Tensor }; name: LossName } {
  const f =
    typeof raw === "string" || raw === undefined
      ? new Fields(path, { type: raw ?? "crossentropy" })
      : Fields.of(path, raw);
  const name = f.reqStr("type").toLowerCase().replace(/[_-]/g, "").replace(/loss$/, "") as LossName;
  if (!LOSSES.includes(name)) {
    throw new CliError(
      `${path}${typeof raw === "string" ? "" : ".type"}: expected one of ${LOSSES.map((l) => JSON.stringify(l)).join(", ")}, got ${JSON.stringify(name)}`,
    );
  }
  let loss: nn.Module;
  switch (name) {
    case "crossentropy":
      loss = new nn.CrossEntropyLoss({ labelSmoothing: f.num("labelSmoothing", { min: 0, max: 1 }) });
      break;
    case "nll":
      loss = new nn.NLLLoss();
      break;
    case "mse":
      loss = new nn.MSELoss();
      break;
    case "l1":
      loss = new nn.L1Loss();
      break;
    case "huber":
      loss = new nn.HuberLoss({ delta: f.num("delta", { above: 0 }) });
      break;
    case "smoothl1":
      loss = new nn.SmoothL1Loss({ beta: f.num("beta", { above: 0 }) });
      break;
    case "bce":
      loss = new nn.BCELoss();
      break;
    case "bcewithlogits":
      loss = new nn.BCEWithLogitsLoss();
      break;
  }
  f.done();
  return { loss: loss as nn.Module & { forward(o: Tensor, t: Tensor): Tensor }, name };
}

const OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop", "adagrad"] as const;

export function buildOptimizer(raw: unknown, params: nn.Parameter[], path = "config.optimizer"): optim.Optimizer {
  const f = Fields.of(path, raw ?? { type: "adam" });
  const type = f.oneOf("type", OPTIMIZERS) ?? f.fail("type", `one of ${OPTIMIZERS.join(", ")} (required)`);
  const lr = f.num("lr", { above: 0 });
  const weightDecay = f.num("weightDecay", { min: 0 });
  let o: optim.Optimizer;
  try {
    switch (type) {
      case "sgd":
        o = new optim.SGD(params, {
          lr: lr ?? f.fail("lr", "a number > 0 (SGD has no default learning rate)"),
          momentum: f.num("momentum", { min: 0 }),
          nesterov: f.bool("nesterov"),
          weightDecay,
        });
        break;
      case "adam":
      case "adamw": {
        const betas = f.raw("betas");
        if (
          betas !== undefined &&
          !(Array.isArray(betas) && betas.length === 2 && betas.every((b) => typeof b === "number" && b >= 0 && b < 1))
        )
          f.fail("betas", "a pair of numbers in [0, 1)");
        const opts = { lr, weightDecay, betas: betas as [number, number] | undefined, eps: f.num("eps", { above: 0 }) };
        o = type === "adam" ? new optim.Adam(params, opts) : new optim.AdamW(params, opts);
        break;
      }
      case "rmsprop":
        o = new optim.RMSprop(params, {
          lr,
          weightDecay,
          momentum: f.num("momentum", { min: 0 }),
          alpha: f.num("alpha"),
        });
        break;
      case "adagrad":
        o = new optim.Adagrad(params, { lr, weightDecay });
        break;
    }
  } catch (e) {
    if (e instanceof DescentError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
  f.done();
  return o;
}

export type Scheduler = optim.lrScheduler.LRScheduler | optim.lrScheduler.ReduceLROnPlateau;
const SCHEDULES = ["step", "multistep", "exponential", "cosine", "onecycle", "linear", "plateau"] as const;

/** The schedule (or null), given the number of epochs and of batches per epoch (for OneCycleLR). */
export function buildScheduler(
  raw: unknown,
  optimizer: optim.Optimizer,
  epochs: number,
  stepsPerEpoch: number,
  path = "config.schedule",
): Scheduler | null {
  if (raw === undefined || raw === null) return null;
  const f = Fields.of(path, raw);
  const type = f.oneOf("type", SCHEDULES) ?? f.fail("type", `one of ${SCHEDULES.join(", ")} (required)`);
  const S = optim.lrScheduler;
  let s: Scheduler;
  switch (type) {
    case "step":
      s = new S.StepLR(optimizer, f.reqNum("stepSize", { int: true, min: 1 }), { gamma: f.num("gamma", { above: 0 }) });
      break;
    case "multistep": {
      const ms = f.raw("milestones");
      if (!Array.isArray(ms) || !ms.every((m) => typeof m === "number" && Number.isInteger(m) && m > 0))
        f.fail("milestones", "an array of positive integers (epochs)");
      s = new S.MultiStepLR(optimizer, ms as number[], { gamma: f.num("gamma", { above: 0 }) });
      break;
    }
    case "exponential":
      s = new S.ExponentialLR(optimizer, f.reqNum("gamma", { above: 0 }));
      break;
    case "cosine":
      s = new S.CosineAnnealingLR(optimizer, f.num("tMax", { int: true, min: 1 }) ?? epochs, {
        etaMin: f.num("etaMin", { min: 0 }),
      });
      break;
    case "linear":
      s = new S.LinearLR(optimizer, {
        startFactor: f.num("startFactor", { above: 0 }),
        endFactor: f.num("endFactor", { min: 0 }),
        totalIters: f.num("totalIters", { int: true, min: 1 }) ?? epochs,
      });
      break;
    case "onecycle":
      s = new S.OneCycleLR(optimizer, f.reqNum("maxLr", { above: 0 }), {
        epochs,
        stepsPerEpoch,
        pctStart: f.num("pctStart", { above: 0, max: 1 }),
      });
      break;
    case "plateau":
      s = new S.ReduceLROnPlateau(optimizer, {
        factor: f.num("factor", { above: 0, max: 0.999999 }),
        patience: f.num("patience", { int: true, min: 0 }),
      });
      break;
  }
  f.done();
  return s;
}

/** Reads and parses a JSON file, with a clear message for a missing file or a syntax error. */
export function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    // Regular files only (a FIFO would block, /dev/zero never end), at most 256 MiB.
    text = readFileLimited(`${what} ${path}`, path, 256 * 2 ** 20).toString("utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new CliError(code === "ENOENT" ? `${what} not found: ${path}` : (e as Error).message);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new CliError(`${what} ${path} is not valid JSON: ${(e as Error).message}`);
  }
}
