// `descent export <model.safetensors | run folder> <out.onnx> [--config c.json]`: rebuilds the
// model as `descent predict` does (the config saved in the weights' metadata by `descent train`,
// a run folder's model.safetensors, or --config), loads the weights and writes it as ONNX with a
// dynamic batch dim. The input ("x") gets the shape the model was trained on, the output is "y".
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { zeros, onnx, type Tensor } from "../index.js";
import { loadFile } from "../io/index.js";
import { CliError, buildModel, modelSection, readJson } from "./config.js";

export interface ExportArgs {
  source: string;
  out: string;
  config?: string;
}

function metaJson(file: string, meta: Record<string, string>, key: string): unknown {
  try {
    return JSON.parse(meta[key]!) as unknown;
  } catch (e) {
    throw new CliError(`${file}: its metadata "${key}" is not valid JSON (${(e as Error).message}); pass --config`);
  }
}

export function runExport(a: ExportArgs, say: (line: string) => void): void {
  if (!existsSync(a.source)) throw new CliError(`export: not found: ${a.source}`);
  const weights = statSync(a.source).isDirectory() ? join(a.source, "model.safetensors") : a.source;
  if (!existsSync(weights)) throw new CliError(`export: ${a.source} is a folder without model.safetensors`);
  let loaded: { tensors: Record<string, Tensor>; metadata: Record<string, string> };
  try {
    loaded = loadFile(weights);
  } catch (e) {
    throw new CliError(`${weights}: ${(e as Error).message}`);
  }
  const meta = loaded.metadata ?? {};
  let config: unknown;
  if (a.config) config = readJson(a.config, "config file");
  else if (meta["descent.config"]) config = metaJson(weights, meta, "descent.config");
  else throw new CliError(`${weights} holds no model config in its metadata; pass --config <config.json>`);
  const modelF = modelSection(config);
  let input = modelF.input as number[] | undefined;
  if (!input && meta["descent.preprocess"]) {
    const pre = metaJson(weights, meta, "descent.preprocess") as { input?: unknown };
    if (Array.isArray(pre.input) && pre.input.every((d) => Number.isInteger(d) && d > 0)) input = pre.input as number[];
  }
  if (!input) throw new CliError(`export: the config gives no model.input shape; add "input": [...] to its "model"`);
  const { model } = buildModel(modelF.layers, input);
  // A checkpoint stores the model under "model."; plain weight files store it at the top level.
  let state = loaded.tensors;
  const keys = Object.keys(state);
  if (keys.some((k) => k.startsWith("model.")))
    state = Object.fromEntries(keys.filter((k) => k.startsWith("model.")).map((k) => [k.slice(6), state[k]!]));
  try {
    model.loadStateDict(state);
  } catch (e) {
    throw new CliError(`${weights} does not match the model of the config: ${(e as Error).message}`);
  }
  const bytes = onnx.export(model, zeros([1, ...input]), a.out, { inputNames: ["x"], outputNames: ["y"] });
  say(`wrote ${a.out} (${bytes.length} bytes, ONNX opset 17, input x [batch, ${input.join(", ")}])`);
}
