// Layer registry entries: upsampling, unflatten and pixel (un)shuffle (see registry.ts).

import { nn } from "../../index.js";
import { bool, int, names, type Schema } from "../schema_parts.js";
import type { LayerEntry } from "./registry.js";

const IMAGES = { ranks: [3], what: "images [channels, height, width]" } as const;

/** A number or one per spatial dim: integers >= 1 for size, numbers > 0 for scaleFactor. */
function perDim(description: string, integer: boolean): Schema {
  const one = integer ? { type: "integer", minimum: 1 } : { type: "number", exclusiveMinimum: 0 };
  const what = integer ? "an integer >= 1" : "a number > 0";
  return {
    description,
    anyOf: [one, { type: "array", items: one, minItems: 1 }],
    "x-expect": `${what} or an array of them (one per spatial dim)`,
  };
}

const shuffle = (un: boolean): LayerEntry => ({
  description: un
    ? "[C, H·r, W·r] → [C·r², H, W] (inverse of pixelshuffle)"
    : "[C·r², H, W] → [C, H·r, W·r] (sub-pixel upsampling)",
  fields: { factor: int("The factor r", 1) },
  required: ["factor"],
  needs: IMAGES,
  build: (o) => (un ? new nn.PixelUnshuffle(o.factor!) : new nn.PixelShuffle(o.factor!)),
});

export const RESHAPE_LAYERS: Record<string, LayerEntry> = {
  upsample: {
    description: 'Resizes sequences or images; give exactly one of "size" and "scaleFactor"',
    fields: {
      size: perDim("Output size: one integer, or one per spatial dim", true),
      scaleFactor: perDim("Scale: one number, or one per spatial dim", false),
      mode: names('"nearest" (default), "linear" (sequences) or "bilinear" (images)', [
        "nearest",
        "linear",
        "bilinear",
      ]),
      alignCorners: bool("Align the corner pixels of input and output (linear modes)"),
    },
    needs: { ranks: [2, 3], what: "sequences [channels, length] or images [channels, height, width]" },
    build: (o, c) => {
      if ((o.size === undefined) === (o.scaleFactor === undefined))
        c.fail("size", 'exactly one of "size" and "scaleFactor"');
      const nd = c.shape.length - 1;
      for (const [k, int] of [
        ["size", true],
        ["scaleFactor", false],
      ] as const) {
        const v = o[k] as number | number[] | undefined;
        if (Array.isArray(v) && v.length !== nd)
          c.fail(k, `${int ? "an integer >= 1" : "a number > 0"} or ${nd} of them (one per spatial dim)`);
      }
      const mode = (o.mode as string | undefined)?.toLowerCase() as never;
      return new nn.Upsample({ size: o.size, scaleFactor: o.scaleFactor, mode, alignCorners: o.alignCorners });
    },
  },
  unflatten: {
    description: "Splits one dimension into several",
    fields: {
      sizes: {
        type: "array",
        description: "The new sizes; one may be -1 (inferred)",
        items: { type: "integer", minimum: -1, maximum: 2147483647 },
        minItems: 1,
        "x-expect": "a non-empty array of integers (one may be -1), e.g. [1, 28, 28]",
      },
      dim: int("The dimension to split, counting the batch dim as 0 (default 1)"),
    },
    required: ["sizes"],
    build: (o) => new nn.Unflatten(o.dim ?? 1, o.sizes!),
  },
  pixelshuffle: shuffle(false),
  pixelunshuffle: shuffle(true),
};
