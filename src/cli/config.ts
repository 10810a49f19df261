// The JSON run configuration of `descent train` / `predict`: the whole config checked against its
// schema (config_schema.ts, via config_validate.ts) before anything is read or built, then the
// model built from its layers through the layer registry (layers/registry.ts; each layer's input
// size inferred by a dummy forward pass, which also names the first layer whose shape does not
// fit), and the loss, optimizer and schedule from their validated sections.

import { readFileLimited } from "../core/files.js";
import { DescentError, nn, noGrad, optim, zeros, type Tensor } from "../index.js";
import { configProblems, describe, problemsMessage } from "./config_validate.js";
import { LAYERS, type LayerFields } from "./layers/registry.js";
import { LOSSES } from "./config_schema.js";
import { normalizeName } from "./schema_parts.js";

export { LAYER_TYPES } from "./layers/registry.js";

/** A mistake by the user (missing file, bad config, shapes that do not fit): printed without a stack. */
export class CliError extends DescentError {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

type Obj = Record<string, unknown>;

/** A tagged section ({"type": …, options}) after validation. */
export type Section = { type: string } & Obj;

export interface DataConfig {
  format: string;
  train?: string | { images: string; labels?: string };
  test?: string | { images: string; labels?: string };
  validationSplit?: number;
  limit?: number;
  scale?: number;
  normalize?: { mean?: number; std?: number };
  header?: boolean;
  labelColumn?: string | number;
  delimiter?: string;
  testSplit?: number;
}

/** A validated config of a layer model (config_schema.ts's "config"). */
export interface TrainConfig {
  seed?: number;
  epochs?: number;
  output?: string;
  batchSize?: number;
  model: { input?: number[]; layers: unknown[] };
  data: DataConfig;
  loss?: string | Section;
  optimizer?: Section;
  schedule?: Section;
  metrics?: ("loss" | "accuracy")[];
  clipGradNorm?: number;
  logEvery?: number;
  earlyStopping?: { patience: number; monitor?: string; minDelta?: number };
  keepBest?: boolean;
  restoreBest?: boolean;
  report?: boolean;
  checkpointEvery?: { steps: number };
}

/** A validated config of a character GPT (config_schema.ts's "textConfig"). */
export interface TextConfig {
  seed?: number;
  output?: string;
  data: { type: string; dir: string; valEvery?: number };
  model: { type: string; contextLength: number; dModel: number; nHeads: number; nLayers: number; dropout?: number };
  steps?: number;
  batchSize?: number;
  lr?: number;
  warmupSteps?: number;
  weightDecay?: number;
  clipGradNorm?: number;
  evalEvery?: number;
  valBatches?: number;
}

/** A copy without null-valued fields: null has always meant "not given" in a config. */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([, x]) => x !== null)
      .map(([k, x]) => [k, withoutNulls(x)]),
  );
}

/**
 * Checks a whole config against the schema, plus the rules that span fields (a required count the
 * command line may supply, accuracy only for classification); throws one CliError listing every
 * problem, before any file the config names is read.
 */
export function checkConfig<T extends TrainConfig | TextConfig>(config: unknown, ov: { epochs?: number } = {}): T {
  const c = withoutNulls(config);
  const problems = configProblems(c);
  const o = (c ?? {}) as Obj;
  const text = isTextConfig(c);
  const count = text ? "steps" : "epochs";
  if (ov.epochs === undefined && o[count] === undefined && c !== null && typeof c === "object" && !Array.isArray(c))
    problems.push(`config.${count}: expected a positive integer (required, or give --epochs), got nothing`);
  if (!problems.length && !text) {
    const t = c as TrainConfig;
    if (t.metrics?.includes("accuracy") && !isClassification(lossName(t.loss)))
      problems.push(
        `config.metrics: "accuracy" needs a classification loss (crossentropy or nll), not ${lossName(t.loss)}`,
      );
  }
  if (!problems.length && text) {
    const t = c as TextConfig;
    const steps = ov.epochs ?? t.steps!;
    if (t.warmupSteps !== undefined && t.warmupSteps > steps - 1)
      problems.push(
        `config.warmupSteps: expected an integer >= 2 <= ${steps - 1} (fewer than steps), got number ${t.warmupSteps}`,
      );
  }
  if (problems.length) throw new CliError(problemsMessage(problems));
  return c as T;
}

/** A config whose data is {"type": "text"} (or whose model is {"type": "gpt"}) trains a GPT. */
export function isTextConfig(config: unknown): boolean {
  const c = (config ?? {}) as Record<string, { type?: unknown } | undefined>;
  return c["data"]?.type === "text" || c["model"]?.type === "gpt";
}

/** The "model" object of a config (predict and export read only the model), or a CliError. */
export function modelSection(config: unknown): { input?: unknown; layers?: unknown } & Obj {
  const m = (config as Obj | null)?.model;
  if (config === null || typeof config !== "object" || Array.isArray(config))
    throw new CliError(`config: expected an object, got ${describe(config)}`);
  if (m === null || typeof m !== "object" || Array.isArray(m))
    throw new CliError(`config.model: expected an object {"input": [...], "layers": [...]}, got ${describe(m)}`);
  return m as Obj;
}

// ---------------------------------------------------------------------------------------------
// Layers

/**
 * The nn.Sequential described by layers, for samples of shape input (no batch dim). The layers are
 * checked against the schema first (every problem at once); then each is built from its registry
 * entry and run on a dummy batch of two zeros as it is added, so sizes are inferred and a layer
 * whose input does not fit is named with both shapes. Returns the model and its output shape per sample.
 */
export function buildModel(
  layersRaw: unknown,
  input: readonly number[],
  path = "config.model.layers",
): { model: nn.Sequential; outputShape: number[] } {
  const layers = withoutNulls(layersRaw);
  const problems = configProblems(layers, "layers", path);
  if (problems.length) throw new CliError(problemsMessage(problems));
  const modules: nn.Module[] = [];
  let shape = [...input];
  noGrad(() => {
    let x: Tensor = zeros([2, ...shape]);
    (layers as Obj[]).forEach((raw, i) => {
      const at = `${path}[${i}]`;
      const type = normalizeName(raw.type as string, true);
      const layer = buildLayer(raw, type, at, shape);
      layer.eval();
      try {
        x = (layer.forward as (t: Tensor) => Tensor)(x);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new CliError(
          `${at} (${String(raw.type)}): does not fit its input of per-sample shape [${shape.join(", ")}]: ${why}`,
        );
      }
      layer.train();
      shape = x.shape.slice(1);
      if (shape.some((d) => d === 0))
        throw new CliError(
          `${at} (${String(raw.type)}): its output is empty (shape [${shape.join(", ")}]); the input is too small for it`,
        );
      modules.push(layer);
    });
  });
  return { model: new nn.Sequential(...modules), outputShape: shape };
}

/** One validated layer from its registry entry, after the checks against its input shape. */
function buildLayer(raw: Obj, type: string, at: string, shape: readonly number[]): nn.Module {
  const entry = LAYERS[type]!;
  const fail = (key: string, what: string): never => {
    throw new CliError(`${at}.${key}: expected ${what}, got ${describe(raw[key])}`);
  };
  if (entry.needs && !entry.needs.ranks.includes(shape.length)) {
    const hint =
      shape.length === 1 && type.startsWith("conv")
        ? '; give "model.input" as [channels, height, width]'
        : type === "linear" && shape.length > 1
          ? '; add {"type": "flatten"} before it'
          : "";
    throw new CliError(
      `${at} (${type}): expects ${entry.needs.what}, but its input has per-sample shape [${shape.join(", ")}]${hint}`,
    );
  }
  const r = entry.restates;
  if (r && raw[r.key] !== undefined) {
    const inferred = r.dim === "channels" ? shape[0]! : shape[shape.length - 1]!;
    if (raw[r.key] !== inferred)
      throw new CliError(
        `${at}.${r.key}: the layer gets ${inferred} from the previous layer (per-sample shape [${shape.join(", ")}]), but the config says ${String(raw[r.key])}`,
      );
  }
  try {
    return entry.build(raw as LayerFields, { path: at, shape, fail });
  } catch (e) {
    if (e instanceof DescentError && !(e instanceof CliError)) throw new CliError(`${at} (${type}): ${e.message}`);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Loss, optimizer, schedule (from validated sections)

export type LossName = (typeof LOSSES)[number];

/** The canonical loss name of a validated "loss" ("CrossEntropyLoss" and "cross_entropy" are "crossentropy"). */
export function lossName(raw: string | Section | undefined): LossName {
  const t = typeof raw === "string" ? raw : (raw?.type ?? "crossentropy");
  return normalizeName(t, true).replace(/loss$/, "") as LossName;
}

/** True for the losses that take class indices as targets (accuracy and argmax predictions apply). */
export function isClassification(loss: LossName): boolean {
  return loss === "crossentropy" || loss === "nll";
}

export function buildLoss(raw: string | Section | undefined): {
  loss: nn.Module & { forward(o: Tensor, t: Tensor): Tensor };
  name: LossName;
} {
  const name = lossName(raw);
  const o = (typeof raw === "object" ? raw : {}) as Obj & { [k: string]: never };
  const make: Record<LossName, () => nn.Module> = {
    crossentropy: () => new nn.CrossEntropyLoss({ labelSmoothing: o.labelSmoothing }),
    nll: () => new nn.NLLLoss(),
    mse: () => new nn.MSELoss(),
    l1: () => new nn.L1Loss(),
    huber: () => new nn.HuberLoss({ delta: o.delta }),
    smoothl1: () => new nn.SmoothL1Loss({ beta: o.beta }),
    bce: () => new nn.BCELoss(),
    bcewithlogits: () => new nn.BCEWithLogitsLoss(),
  };
  return { loss: make[name]() as nn.Module & { forward(o: Tensor, t: Tensor): Tensor }, name };
}

export function buildOptimizer(
  raw: Section | undefined,
  params: nn.Parameter[],
  path = "config.optimizer",
): optim.Optimizer {
  const o = (raw ?? { type: "adam" }) as Section & { [k: string]: never };
  const common = { lr: o.lr, weightDecay: o.weightDecay };
  const make: Record<string, () => optim.Optimizer> = {
    sgd: () => new optim.SGD(params, { ...common, lr: o.lr, momentum: o.momentum, nesterov: o.nesterov }),
    adam: () => new optim.Adam(params, { ...common, betas: o.betas, eps: o.eps }),
    adamw: () => new optim.AdamW(params, { ...common, betas: o.betas, eps: o.eps }),
    rmsprop: () => new optim.RMSprop(params, { ...common, momentum: o.momentum, alpha: o.alpha }),
    adagrad: () => new optim.Adagrad(params, common),
  };
  try {
    return make[o.type.toLowerCase()]!();
  } catch (e) {
    if (e instanceof DescentError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
}

export type Scheduler = optim.lrScheduler.LRScheduler | optim.lrScheduler.ReduceLROnPlateau;

/** The schedule (or null), given the number of epochs and of batches per epoch (for OneCycleLR). */
export function buildScheduler(
  raw: Section | undefined,
  optimizer: optim.Optimizer,
  epochs: number,
  stepsPerEpoch: number,
): Scheduler | null {
  if (raw === undefined) return null;
  const o = raw as Section & { [k: string]: never };
  const S = optim.lrScheduler;
  const make: Record<string, () => Scheduler> = {
    step: () => new S.StepLR(optimizer, o.stepSize!, { gamma: o.gamma }),
    multistep: () => new S.MultiStepLR(optimizer, o.milestones!, { gamma: o.gamma }),
    exponential: () => new S.ExponentialLR(optimizer, o.gamma!),
    cosine: () => new S.CosineAnnealingLR(optimizer, o.tMax ?? epochs, { etaMin: o.etaMin }),
    linear: () =>
      new S.LinearLR(optimizer, {
        startFactor: o.startFactor,
        endFactor: o.endFactor,
        totalIters: o.totalIters ?? epochs,
      }),
    onecycle: () => new S.OneCycleLR(optimizer, o.maxLr!, { epochs, stepsPerEpoch, pctStart: o.pctStart }),
    plateau: () => new S.ReduceLROnPlateau(optimizer, { factor: o.factor, patience: o.patience }),
  };
  return make[o.type.toLowerCase()]!();
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
