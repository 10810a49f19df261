// The CLI's layer registry: one entry per layer type of config.model.layers, holding the JSON
// Schema of its fields (validation, the shipped config.schema.json, `descent help layers`) and its
// builder. Adding a layer type is adding one entry to a family file below.

import type { nn } from "../../index.js";
import type { Schema } from "../schema_parts.js";
import { BASIC_LAYERS } from "./basic.js";
import { CONV_LAYERS } from "./conv.js";
import { NORM_LAYERS } from "./norm.js";
import { RESHAPE_LAYERS } from "./reshape.js";
import { TRANSFORMER_LAYERS } from "./transformer.js";

/**
 * A layer's fields after validation against its schema. Typed `never` so a builder can hand a
 * field straight to the constructor option it was validated for (absent fields are undefined).
 */
export type LayerFields = { readonly [k: string]: never };

/** What a builder knows besides its fields: where it is and its input's per-sample shape. */
export interface BuildContext {
  /** "config.model.layers[3]", for messages. */
  path: string;
  /** Per-sample input shape (no batch dim). */
  shape: readonly number[];
  /** A config error naming `${path}.${key}`: "expected <expected>, got <the value>". */
  fail(key: string, expected: string): never;
}

export interface LayerEntry {
  /** One line for editors and `descent help layers`. */
  description: string;
  /** The fields besides "type", as JSON Schema. */
  fields: Record<string, Schema>;
  required?: readonly string[];
  /** The per-sample input ranks the layer takes, and how to say them in an error. */
  needs?: { ranks: readonly number[]; what: string };
  /** A field that may restate the size the layer infers from its input: the channels (dim 0) or the last dim. */
  restates?: { key: string; dim: "channels" | "last" };
  build(o: LayerFields, c: BuildContext): nn.Module;
}

/** Every layer type by its canonical name (lower case, no "_" or "-"). */
export const LAYERS: Readonly<Record<string, LayerEntry>> = {
  ...BASIC_LAYERS,
  ...CONV_LAYERS,
  ...NORM_LAYERS,
  ...RESHAPE_LAYERS,
  ...TRANSFORMER_LAYERS,
};

/** Each layer type: what it does and the fields it accepts (besides "type"), for the help text. */
export const LAYER_TYPES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(LAYERS).map(([t, e]) => {
    const fields = Object.keys(e.fields).map((k) => `"${k}"${e.required?.includes(k) ? " (required)" : ""}`);
    return [t, `${e.description}${fields.length ? `; fields ${fields.join(", ")}` : ""}`];
  }),
);
