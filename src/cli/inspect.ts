// `descent inspect <file.safetensors> [--json]`: tensor names, dtypes, shapes, the parameter count
// and the metadata of a safetensors file (weights or a checkpoint).

import { existsSync } from "node:fs";
import type { Tensor } from "../index.js";
import { loadFile } from "../io/index.js";
import { CliError } from "./config.js";

export interface InspectResult {
  tensors: { name: string; dtype: string; shape: number[]; size: number }[];
  parameters: number;
  metadata: Record<string, string>;
}

export function runInspect(path: string): InspectResult {
  if (!existsSync(path)) throw new CliError(`file not found: ${path}`);
  let loaded: { tensors: Record<string, Tensor>; metadata: Record<string, string> };
  try {
    loaded = loadFile(path);
  } catch (e) {
    throw new CliError(`${path}: ${(e as Error).message}`);
  }
  const tensors = Object.entries(loaded.tensors).map(([name, t]) => ({
    name,
    dtype: t.dtype,
    shape: [...t.shape],
    size: t.size,
  }));
  return { tensors, parameters: tensors.reduce((a, t) => a + t.size, 0), metadata: loaded.metadata ?? {} };
}

/** The human-readable report: a table, the total and the metadata (long JSON values shortened). */
export function formatInspect(path: string, r: InspectResult): string[] {
  const lines = [`${path}: ${r.tensors.length} tensors, ${r.parameters.toLocaleString("en-US")} values`];
  const nameW = Math.max(4, ...r.tensors.map((t) => t.name.length));
  const shapeW = Math.max(5, ...r.tensors.map((t) => `[${t.shape.join(", ")}]`.length));
  lines.push(`  ${"name".padEnd(nameW)}  dtype    ${"shape".padEnd(shapeW)}  values`);
  for (const t of r.tensors) {
    lines.push(
      `  ${t.name.padEnd(nameW)}  ${t.dtype.padEnd(7)}  ${`[${t.shape.join(", ")}]`.padEnd(shapeW)}  ${t.size.toLocaleString("en-US")}`,
    );
  }
  const floats = r.tensors.filter((t) => t.dtype.startsWith("float")).reduce((a, t) => a + t.size, 0);
  lines.push(`parameters (floating-point values): ${floats.toLocaleString("en-US")}`);
  const keys = Object.keys(r.metadata);
  lines.push(keys.length ? "metadata:" : "metadata: none");
  for (const k of keys) {
    const v = r.metadata[k]!;
    lines.push(`  ${k}: ${v.length > 200 ? `${v.slice(0, 200)}… (${v.length} chars)` : v}`);
  }
  return lines;
}
