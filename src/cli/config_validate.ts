// Checks a config (or a part of it, such as the layers alone) against the schema of
// config_schema.ts, and words ajv's findings for a person: one line per problem naming the JSON
// path ("config.model.layers[3].kernel: expected an integer >= 1 or a pair of them, got number
// -1"), the nearest known name for a typo, all problems at once up to a cap. The validators are
// ajv's standalone code, compiled ahead of time (config_validators.cjs; npm run schema), so a run
// does not compile the schema.

import { createRequire } from "node:module";
import type { ErrorObject, ValidateFunction } from "ajv";
import { packageFile, runningFromSources } from "../core/package_files.js";
import type { Schema } from "./schema_parts.js";

/** More problems than this are counted, not listed: the first ones are enough to start fixing. */
export const MAX_PROBLEMS = 20;

/** The parts of the schema a config is checked against: the whole config, or its layers alone. */
export type ConfigPart = "config" | "layers";

let validators: Record<ConfigPart, ValidateFunction> | undefined;

/** The compiled validator of `part`. */
function validator(part: ConfigPart): ValidateFunction {
  // Loaded on first use (~600 kB of code), so commands that read no config do not pay for it:
  // beside this file under tsx, dist/cli/config_validators.cjs (its bundle, scripts/build.mjs) in
  // the build, where this code sits in a bundle chunk.
  validators ??= createRequire(import.meta.url)(
    runningFromSources() ? "./config_validators.cjs" : packageFile("dist/cli/config_validators.cjs"),
  ) as Record<ConfigPart, ValidateFunction>;
  return validators[part];
}

/** How a value is named in a message ("number -1", "an object", "nothing"). */
export function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array (${JSON.stringify(v).slice(0, 60)})`;
  if (typeof v === "object") return "an object";
  const text = JSON.stringify(v);
  return `${typeof v} ${text.length > 80 ? `${text.slice(0, 60)}… (${text.length} characters)` : text}`;
}

/** What a schema wants, in words: "an integer >= 1", "one of "sgd", "adam"", "true or false". */
export function expected(s: Schema): string {
  if (typeof s["x-expect"] === "string") return s["x-expect"];
  if (Array.isArray(s.anyOf)) return (s.anyOf as Schema[]).map(expected).filter(Boolean).join(" or ");
  if (Array.isArray(s.enum)) return `one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}`;
  if (s.const !== undefined) return JSON.stringify(s.const);
  switch (s.type) {
    case "integer":
    case "number": {
      const b = (k: string, op: string) => (typeof s[k] === "number" ? `${op} ${s[k] as number}` : "");
      return [
        s.type === "integer" ? "an integer" : "a number",
        b("exclusiveMinimum", ">"),
        b("minimum", ">="),
        b("maximum", "<="),
        b("exclusiveMaximum", "<"),
      ]
        .filter(Boolean)
        .join(" ");
    }
    case "boolean":
      return "true or false";
    case "string":
      return "a non-empty string";
    case "object":
      return "an object";
    case "array":
      return "an array";
  }
  return "";
}

/** Optimal string alignment distance (edits and swaps of neighbours), case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[a.length]![b.length]!;
}

/** The candidate nearest to `word`, if it is near enough to be the likely meaning. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(1, Math.floor(word.length / 3)) + 1;
  const w = word.replace(/[_-]/g, "");
  for (const c of candidates) {
    const k = c.replace(/[_-]/g, "");
    // The distance is at least the difference in length: a long string is compared with nothing.
    if (Math.abs(w.length - k.length) >= bestD) continue;
    const dd = distance(w, k);
    if (dd < bestD) [best, bestD] = [c, dd];
  }
  return best;
}

/** The names an enum-like schema lists (for "did you mean"). */
function enumOf(s: Schema): string[] {
  const list = Array.isArray(s.enum) ? s.enum : ((s.anyOf as Schema[] | undefined)?.find((b) => b.enum)?.enum ?? []);
  return (list as unknown[]).filter((x): x is string => typeof x === "string");
}

/** `prefix` plus the JSON pointer as JS-like access: config.model.layers[3].kernel. */
function pathOf(prefix: string, pointer: string, data: unknown): string {
  let out = prefix;
  let cur = data;
  for (const raw of pointer.split("/").slice(1)) {
    const k = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    out += key(k, Array.isArray(cur));
    cur = cur !== null && typeof cur === "object" ? (cur as Record<string, unknown>)[k] : undefined;
  }
  return out;
}

const key = (k: string, index = false) =>
  index ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;

/** One message for one ajv error, and the key under which it counts once. */
function word(e: ErrorObject, prefix: string, value: unknown): [string, string] {
  const at = pathOf(prefix, e.instancePath, value);
  const parent = (e.parentSchema ?? {}) as Schema;
  if (e.keyword === "required") {
    const name = String((e.params as { missingProperty: string }).missingProperty);
    const s = ((parent.properties as Record<string, Schema> | undefined)?.[name] ?? {}) as Schema;
    const p = at + key(name);
    const full = expected(s);
    const coarse = s.type === "integer" || s.type === "number" ? "a number" : full;
    return [p, `${p}: expected ${coarse} (required)${coarse !== full && full ? `: ${full}` : ""}`];
  }
  if (e.keyword === "additionalProperties") {
    const name = String((e.params as { additionalProperty: string }).additionalProperty);
    const known = Object.keys((parent.properties as Record<string, Schema> | undefined) ?? {});
    const near = nearest(name, known);
    const hint = near
      ? `did you mean ${JSON.stringify(near)}?`
      : `expected ${known.length ? known.map((k) => JSON.stringify(k)).join(", ") : "no fields"}`;
    return [`${at}\0${name}`, `${at}: unknown field ${JSON.stringify(name)}; ${hint}`];
  }
  const near = typeof e.data === "string" ? nearest(e.data, enumOf(parent)) : undefined;
  const hint = near && near !== e.data ? `; did you mean ${JSON.stringify(near)}?` : "";
  return [at, `${at}: expected ${expected(parent)}, got ${describe(e.data)}${hint}`];
}

/**
 * The problems of `value` against the schema part `part`, as messages whose paths start with
 * `prefix`; empty when it is valid. Errors inside a union's branches are summed up by the union's
 * own message, and a field is reported once however many of its rules it breaks.
 */
export function configProblems(value: unknown, part: ConfigPart = "config", prefix = "config"): string[] {
  const v = validator(part);
  if (v(value)) return [];
  const errors = v.errors ?? [];
  const unions = errors.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf").map((e) => e.schemaPath + "/");
  const seen = new Map<string, string>();
  for (const e of errors) {
    if (e.keyword === "if" || unions.some((u) => e.schemaPath.startsWith(u))) continue;
    const [k, message] = word(e, prefix, value);
    if (!seen.has(k)) seen.set(k, message);
  }
  return [...seen.values()];
}

/** The problems as one message: the single problem itself, or a count and one per line (capped). */
export function problemsMessage(problems: readonly string[], what = "the config"): string {
  if (problems.length === 1) return problems[0]!;
  const shown = problems.slice(0, MAX_PROBLEMS);
  const more = problems.length - shown.length;
  return [
    `${problems.length} problems in ${what}:`,
    ...shown.map((p, i) => `  ${p}${i < shown.length - 1 || more ? ";" : ""}`),
    ...(more ? [`  and ${more} more`] : []),
  ].join("\n");
}
