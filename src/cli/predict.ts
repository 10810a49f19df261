// `descent predict <model.safetensors> <input> [--config c.json] [--labels file] [--out f.csv|f.json]`:
// rebuilds the model from the config saved in the weights' metadata (or --config), runs it on an
// IDX, CSV or JSON input file in eval mode, and prints or writes the predictions.

import { existsSync } from "node:fs";
import { extname } from "node:path";
import { tensor, type Tensor } from "../index.js";
import { loadFile } from "../io/index.js";
import { writeTextAtomic } from "../io/atomic.js";
import { predict } from "../train/fit.js";
import { correctCount } from "../train/metrics.js";
import { CliError, buildModel, isClassification, modelSection, readJson, type LossName } from "./config.js";
import { applyPreprocess, readCsvSplit, type Preprocess } from "./datasets.js";
import { readIdx } from "../data/index.js";

export interface PredictArgs {
  weights: string;
  input: string;
  config?: string;
  labels?: string;
  out?: string;
  batchSize?: number;
}

function readInput(
  path: string,
  cfg: Record<string, unknown> | undefined,
  expected: number | null,
): { x: Tensor; y: Tensor | null; integer: boolean } {
  if (!existsSync(path)) throw new CliError(`input file not found: ${path}`);
  const ext = extname(path).toLowerCase();
  if (ext === ".csv" || ext === ".tsv" || ext === ".txt") {
    const data = cfg?.data as Record<string, unknown> | undefined;
    const header = typeof data?.header === "boolean" ? data.header : true;
    const lc = data?.labelColumn;
    const labelColumn = typeof lc === "string" || typeof lc === "number" ? lc : header ? "label" : -1;
    const delimiter = typeof data?.delimiter === "string" ? data.delimiter : ext === ".tsv" ? "\t" : ",";
    // Files in the training format carry the label column (used for accuracy); others may not: a
    // file with exactly one column more than the model takes has it.
    const plain = readCsvSplit(path, "input", { header, delimiter }, false);
    const cols = plain.x.shape[1] ?? 0;
    const hasLabels = expected === null ? header : cols === expected + 1;
    const s = hasLabels ? readCsvSplit(path, "input", { header, delimiter, labelColumn }, false) : plain;
    return { x: s.x, y: s.y, integer: false };
  }
  if (ext === ".json") {
    const raw = readJson(path, "input file");
    if (!Array.isArray(raw) || raw.length === 0)
      throw new CliError(`input ${path}: expected a JSON array of samples (each a number array), got ${typeof raw}`);
    try {
      return { x: tensor(raw as never).float(), y: null, integer: false };
    } catch (e) {
      throw new CliError(`input ${path}: ${(e as Error).message}`);
    }
  }
  try {
    const x = readIdx(path);
    return { x, y: null, integer: x.dtype === "int32" };
  } catch (e) {
    throw new CliError(`input ${path}: not a CSV/JSON file and not a valid IDX file: ${(e as Error).message}`);
  }
}

/** A JSON metadata value of a weights file (written by `descent train`, but the file may come from anywhere). */
function parseMeta(file: string, meta: Record<string, string>, key: string): unknown {
  try {
    return JSON.parse(meta[key]!) as unknown;
  } catch (e) {
    throw new CliError(
      `${file}: its metadata "${key}" is not valid JSON (${(e as Error).message}); pass --config <config.json>`,
    );
  }
}

/** The saved preprocessing, checked field by field: a hostile file must not reach the tensors. */
function checkPreprocess(file: string, meta: Record<string, string>): Preprocess {
  const p = parseMeta(file, meta, "descent.preprocess") as Record<string, unknown> | null;
  const bad = (what: string) =>
    new CliError(`${file}: its metadata "descent.preprocess" ${what}; pass --config <config.json>`);
  if (p === null || typeof p !== "object" || Array.isArray(p))
    throw bad(
      `is ${p === null ? "null" : Array.isArray(p) ? "an array" : typeof p}, expected an object {input, scale, mean, std}`,
    );
  const { input, scale, mean, std } = p;
  if (!Array.isArray(input) || input.length === 0 || !input.every((d) => Number.isSafeInteger(d) && (d as number) > 0))
    throw bad(`has input ${JSON.stringify(input)}, expected a list of positive integers`);
  for (const [k, v] of [
    ["scale", scale],
    ["mean", mean],
    ["std", std],
  ] as const) {
    if (typeof v !== "number" || !Number.isFinite(v) || ((k === "scale" || k === "std") && v === 0))
      throw bad(`has ${k} ${JSON.stringify(v)}, expected a finite${k === "mean" ? "" : " non-zero"} number`);
  }
  return { input: input as number[], scale: scale as number, mean: mean as number, std: std as number };
}

export interface PredictResult {
  predictions: number[] | number[][];
  confidence: number[] | null;
  accuracy: number | null;
  lines: string[];
}

export function runPredict(a: PredictArgs, say: (line: string) => void, print: (line: string) => void): PredictResult {
  if (!existsSync(a.weights)) throw new CliError(`weights file not found: ${a.weights}`);
  let loaded: { tensors: Record<string, Tensor>; metadata: Record<string, string> };
  try {
    loaded = loadFile(a.weights);
  } catch (e) {
    throw new CliError(`${a.weights}: ${(e as Error).message}`);
  }
  const meta = loaded.metadata ?? {};
  let config: unknown;
  if (a.config) config = readJson(a.config, "config file");
  else if (meta["descent.config"]) config = parseMeta(a.weights, meta, "descent.config");
  else throw new CliError(`${a.weights} holds no model config in its metadata; pass --config <config.json>`);
  const modelF = modelSection(config);
  const f = config as Record<string, unknown>;
  const lossRaw = f.loss as { type?: unknown } | string | undefined;
  const lossName = (
    meta["descent.loss"] ??
    (typeof lossRaw === "string"
      ? lossRaw
      : typeof lossRaw === "object" && lossRaw && !Array.isArray(lossRaw)
        ? String(lossRaw.type)
        : "crossentropy")
  )
    .toLowerCase()
    .replace(/[_-]/g, "")
    .replace(/loss$/, "") as LossName;

  const saved = meta["descent.preprocess"] && !a.config ? checkPreprocess(a.weights, meta) : null;
  const given = saved?.input ?? (modelF.input as number[] | undefined) ?? null;
  const input = readInput(a.input, f, given ? given.reduce((p, q) => p * q, 1) : null);
  let pre: Preprocess;
  if (saved) pre = saved;
  else {
    const data = (f.data ?? {}) as Record<string, unknown>;
    const norm = (data.normalize ?? {}) as Record<string, unknown>;
    pre = {
      input: (modelF.input as number[] | undefined) ?? input.x.shape.slice(1),
      scale: typeof data.scale === "number" ? data.scale : input.integer ? 255 : 1,
      mean: typeof norm.mean === "number" ? norm.mean : 0,
      std: typeof norm.std === "number" ? norm.std : 1,
    };
  }
  const x = applyPreprocess(input.x, pre, `input ${a.input}`);
  const { model } = buildModel(modelF.layers, pre.input);
  // A checkpoint stores the model under "model."; plain weight files store it at the top level.
  let state = loaded.tensors;
  const keys = Object.keys(state);
  if (keys.some((k) => k.startsWith("model.")) && !keys.every((k) => !k.startsWith("model."))) {
    state = Object.fromEntries(keys.filter((k) => k.startsWith("model.")).map((k) => [k.slice(6), loaded.tensors[k]!]));
  }
  try {
    model.loadStateDict(state);
  } catch (e) {
    throw new CliError(`${a.weights} does not match the model of the config: ${(e as Error).message}`);
  }
  let labels = input.y;
  if (a.labels) {
    if (!existsSync(a.labels)) throw new CliError(`labels file not found: ${a.labels}`);
    let l: Tensor;
    try {
      l = a.labels.toLowerCase().endsWith(".csv")
        ? readCsvSplit(a.labels, "--labels", { header: false, delimiter: "," }, false).x
        : readIdx(a.labels);
    } catch (e) {
      throw new CliError(`--labels ${a.labels}: ${(e as Error).message}`);
    }
    if (l.size !== x.shape[0]) throw new CliError(`--labels: ${l.size} labels for ${x.shape[0]} input samples`);
    labels = l.reshape(l.size);
  }
  const out = predict(model, x, { batchSize: a.batchSize ?? 256 });
  const classification = isClassification(lossName);
  const n = x.shape[0]!;
  let predictions: number[] | number[][];
  let confidence: number[] | null = null;
  let accuracy: number | null = null;
  const lines: string[] = [];
  if (classification && out.ndim === 2) {
    const probs = lossName === "nll" ? out.exp() : out.softmax(1);
    predictions = Array.from(out.argmax(1).toFlatArray());
    const p = probs.max(1).toFlatArray();
    confidence = Array.from(p, (v) => Number(v.toFixed(6)));
    lines.push(labels ? "index,prediction,confidence,label" : "index,prediction,confidence");
    const lab = labels?.toFlatArray();
    for (let i = 0; i < n; i++) lines.push(`${i},${predictions[i]},${confidence[i]}${lab ? `,${lab[i]}` : ""}`);
    if (labels) accuracy = correctCount(out, labels.int()) / n;
  } else {
    const rows = out.reshape(n, -1).toArray() as number[][];
    predictions = rows;
    lines.push(["index", ...rows[0]!.map((_, j) => `output${j}`)].join(","));
    rows.forEach((r, i) => lines.push([i, ...r].join(",")));
  }
  if (a.out) {
    // Atomic, like every file the CLI writes: a symlink at --out is replaced, not written through,
    // and a directory there is a one-line error.
    const text = a.out.toLowerCase().endsWith(".json")
      ? JSON.stringify({ predictions, confidence, accuracy }) + "\n"
      : lines.join("\n") + "\n";
    writeTextAtomic("--out", a.out, text);
    say(`wrote ${n} predictions to ${a.out}`);
  } else {
    for (const l of lines) print(l);
  }
  if (accuracy !== null) say(`accuracy: ${(accuracy * 100).toFixed(2)}% (${n} samples)`);
  return { predictions, confidence, accuracy, lines };
}
