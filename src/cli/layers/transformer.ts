// Layer registry entries: a batch-first Transformer encoder layer, or a stack of numLayers of
// them, over per-sample sequences [seq, dModel] (see registry.ts).

import { nn } from "../../index.js";
import { bool, int, names, num, unit, type Schema } from "../schema_parts.js";
import type { LayerEntry, LayerFields } from "./registry.js";

const FIELDS: Record<string, Schema> = {
  nhead: int("Attention heads; must divide dModel (the last input dim)", 1),
  dimFeedforward: int("Width of the feed-forward block (default 2048)", 1),
  dropout: unit("Dropout probability (default 0.1)"),
  activation: names('"relu" (default) or "gelu"', ["relu", "gelu"]),
  layerNormEps: num("LayerNorm eps (default 1e-5)", { above: 0 }),
  normFirst: bool("Pre-norm (LayerNorm before attention and feed-forward; default false)"),
};

function encoderLayer(o: LayerFields, dModel: number): nn.TransformerEncoderLayer {
  return new nn.TransformerEncoderLayer(dModel, o.nhead!, {
    dimFeedforward: o.dimFeedforward,
    dropout: o.dropout,
    activation: (o.activation as string | undefined)?.toLowerCase() as never,
    layerNormEps: o.layerNormEps,
    normFirst: o.normFirst,
    batchFirst: true,
  });
}

const SEQ = { ranks: [2], what: "sequences [seq, dModel]" } as const;

export const TRANSFORMER_LAYERS: Record<string, LayerEntry> = {
  transformerencoderlayer: {
    description: "Self-attention + feed-forward block over sequences [seq, dModel]",
    fields: FIELDS,
    required: ["nhead"],
    needs: SEQ,
    build: (o, c) => encoderLayer(o, c.shape[1]!),
  },
  transformerencoder: {
    description: "A stack of numLayers Transformer encoder layers",
    fields: { ...FIELDS, numLayers: int("How many layers", 1) },
    required: ["nhead", "numLayers"],
    needs: SEQ,
    build: (o, c) => new nn.TransformerEncoder(encoderLayer(o, c.shape[1]!), o.numLayers!),
  },
};
