// Layer registry entries: batch, layer, group and instance normalisation (see registry.ts).

import { nn } from "../../index.js";
import { bool, int, num, unit } from "../schema_parts.js";
import type { LayerEntry } from "./registry.js";

const eps = num("Added to the variance for stability (default 1e-5)", { above: 0 });
const momentum = unit("Weight of the newest batch in the running statistics (default 0.1)");
const features = int("Channels; inferred from the previous layer, checked when given", 1);

export const NORM_LAYERS: Record<string, LayerEntry> = {
  batchnorm1d: {
    description: "Batch normalisation of features [F] or sequences [channels, length]",
    fields: { features, momentum, eps },
    needs: { ranks: [1, 2], what: "features [F] or [channels, length]" },
    restates: { key: "features", dim: "channels" },
    build: (o, c) => new nn.BatchNorm1d(c.shape[0]!, { momentum: o.momentum, eps: o.eps }),
  },
  batchnorm2d: {
    description: "Batch normalisation of images [channels, height, width]",
    fields: { features, momentum, eps },
    needs: { ranks: [3], what: "images [channels, height, width]" },
    restates: { key: "features", dim: "channels" },
    build: (o, c) => new nn.BatchNorm2d(c.shape[0]!, { momentum: o.momentum, eps: o.eps }),
  },
  layernorm: {
    description: "Layer normalisation over the last dimension",
    fields: { eps },
    build: (o, c) => new nn.LayerNorm(c.shape[c.shape.length - 1]!, { eps: o.eps }),
  },
  groupnorm: {
    description: "Group normalisation: channels split into groups, each normalised",
    fields: {
      channels: features,
      groups: int("Number of groups; must divide the channels", 1),
      eps,
      affine: bool("Learn a per-channel scale and shift (default true)"),
    },
    required: ["groups"],
    needs: { ranks: [1, 2, 3], what: "features [channels, ...]" },
    restates: { key: "channels", dim: "channels" },
    build: (o, c) => {
      const channels = c.shape[0]!;
      const groups: number = o.groups!;
      if (channels % groups !== 0) c.fail("groups", `a divisor of the layer's ${channels} input channels`);
      return new nn.GroupNorm(groups, channels, { eps: o.eps, affine: o.affine });
    },
  },
  instancenorm2d: {
    description: "Instance normalisation of images (each sample and channel on its own)",
    fields: {
      features,
      eps,
      momentum,
      affine: bool("Learn a per-channel scale and shift (default false)"),
      trackRunningStats: bool("Keep running statistics for evaluation (default false)"),
    },
    needs: { ranks: [3], what: "images [channels, height, width]" },
    restates: { key: "features", dim: "channels" },
    build: (o, c) =>
      new nn.InstanceNorm2d(c.shape[0]!, {
        eps: o.eps,
        momentum: o.momentum,
        affine: o.affine,
        trackRunningStats: o.trackRunningStats,
      }),
  },
};
