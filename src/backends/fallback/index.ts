// Every acceleration's op-by-op fallback over one backend's required kernels: what runs where the
// backend registers no fused kernel, and the definition the fused ones are tested against.

import type { Accelerations } from "../accelerations.js";
import type { Backend } from "../backend.js";
import { attentionFallbacks } from "./attention.js";
import { calc } from "./calc.js";
import { geluFallbacks } from "./gelu.js";
import { normFallbacks } from "./norm.js";
import { optimFallbacks } from "./optim.js";
import { rnnFallbacks } from "./rnn.js";
import { softmaxFallbacks } from "./softmax.js";

export function fallbacks(b: Pick<Backend, "kernels" | "alloc">): Accelerations {
  const c = calc(b);
  return {
    ...optimFallbacks(c),
    ...softmaxFallbacks(c),
    ...rnnFallbacks(c),
    ...attentionFallbacks(c),
    ...normFallbacks(c),
    ...geluFallbacks(c),
  };
}
