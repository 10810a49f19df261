// Small builders of JSON Schema (draft-07) fragments for the CLI's config schema: each field of
// the config language is written once with these, and the same objects are both the shipped
// schema/config.schema.json (editor completion) and what ajv validates a config against.
// "x-expect" is our annotation: the words an error uses for what the field wants, where the
// structure alone would read badly; editors ignore it.

/** A JSON Schema fragment. */
export type Schema = { [k: string]: unknown };

/** Integers in the config (sizes, counts, epochs) become int32 tensor dims and counters. */
const INT32_MAX = 2147483647;

/** An integer (>= min when given, <= max or int32's maximum). */
export function int(description: string, min?: number, max = INT32_MAX): Schema {
  return { type: "integer", description, ...(min !== undefined ? { minimum: min } : {}), maximum: max };
}

/** A number with bounds: `above` is exclusive, `min` and `max` inclusive. */
export function num(description: string, b: { min?: number; max?: number; above?: number } = {}): Schema {
  return {
    type: "number",
    description,
    ...(b.above !== undefined ? { exclusiveMinimum: b.above } : {}),
    ...(b.min !== undefined ? { minimum: b.min } : {}),
    ...(b.max !== undefined ? { maximum: b.max } : {}),
  };
}

/** A probability-like number in [0, 1]. */
export const unit = (description: string): Schema => num(description, { min: 0, max: 1 });

export const bool = (description: string): Schema => ({ type: "boolean", description });

export const str = (description: string): Schema => ({ type: "string", minLength: 1, description });

/** An integer >= min, or a pair [a, b] of them (kernel sizes, strides, paddings of 2-D layers). */
export function pair(description: string, min = 1): Schema {
  const one = { type: "integer", minimum: min, maximum: INT32_MAX };
  return {
    description,
    anyOf: [one, { type: "array", items: one, minItems: 2, maxItems: 2 }],
    "x-expect": `an integer >= ${min} or a pair of them`,
  };
}

/** An integer >= min only, for the 1-D layers that share a field name with a 2-D one. */
export function scalar(description: string, layer: string, min = 1): Schema {
  return { type: "integer", minimum: min, maximum: INT32_MAX, description, "x-expect": `an integer for ${layer}` };
}

/**
 * A regular expression accepting `name` in any letter case; with `loose`, also with "_" and "-"
 * anywhere (so "conv_transpose2d" and "ConvTranspose2d" name "convtranspose2d"), the spelling
 * that normalizeName maps back.
 */
export function namePattern(name: string, loose: boolean): string {
  const sep = loose ? "[_-]*" : "";
  const chars = [...name].map((c) =>
    /[a-z]/.test(c) ? `[${c}${c.toUpperCase()}]` : c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
  );
  return sep + chars.join(sep) + sep;
}

/** The canonical form of a name the config accepts in any case (and, loose, with "_" and "-"). */
export function normalizeName(s: string, loose: boolean): string {
  const low = s.toLowerCase();
  return loose ? low.replace(/[_-]/g, "") : low;
}

/**
 * One of `names`, in any letter case (and, loose, with "_"/"-" anywhere; `suffix` is an optional
 * tail such as "loss"). The enum is there for editors to complete; the pattern accepts the rest.
 */
export function names(description: string, list: readonly string[], loose = false, suffix = ""): Schema {
  const tail = suffix ? `(?:${namePattern(suffix, loose)})?` : "";
  return {
    type: "string",
    description,
    anyOf: [{ enum: [...list] }, { pattern: `^(?:${list.map((n) => namePattern(n, loose)).join("|")})${tail}$` }],
    "x-expect": `one of ${list.map((n) => JSON.stringify(n)).join(", ")}`,
  };
}

/** An object with exactly these properties (an unknown key is an error naming the nearest one). */
export function obj(description: string, properties: Record<string, Schema>, required: string[] = []): Schema {
  return {
    type: "object",
    ...(description ? { description } : {}),
    properties,
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
}
