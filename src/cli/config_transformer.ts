// The CLI's Transformer layers (config.ts's "transformerencoderlayer" and "transformerencoder"
// cases): a batch-first encoder layer, or a stack of numLayers of them, over per-sample sequences
// [seq, dModel]. Kept apart so config.ts's layer switch stays one line per case.

import { nn } from "../index.js";
import type { Fields } from "./config.js";

/** Fields: "nhead" (required), "dimFeedforward", "dropout", "activation", "layerNormEps", "normFirst" (+ "numLayers"). */
export function transformerFromFields(f: Fields, stack: boolean, dModel: number): nn.Module {
  const layer = new nn.TransformerEncoderLayer(dModel, f.reqNum("nhead", { int: true, min: 1 }), {
    dimFeedforward: f.num("dimFeedforward", { int: true, min: 1 }),
    dropout: f.num("dropout", { min: 0, max: 1 }),
    activation: f.oneOf("activation", ["relu", "gelu"] as const),
    layerNormEps: f.num("layerNormEps", { above: 0 }),
    normFirst: f.bool("normFirst"),
    batchFirst: true,
  });
  return stack ? new nn.TransformerEncoder(layer, f.reqNum("numLayers", { int: true, min: 1 })) : layer;
}
