// Optimizer updates on tensors' storage, for src/optim/ (which may not reach the backends): each
// runs one update rule in place on a parameter and its state tensors, with the version bumps
// in-place ops make. The rule is defined once, op by op, in src/backends/fallback/optim.ts; a
// backend's fused acceleration (one pass, no temporaries) gives the same numbers and runs when the
// tensors are dense, contiguous, of one dtype and share no storage; otherwise the op-by-op rule
// runs, which takes any strides.

import { DescentError, shapeStr } from "../core/errors.js";
import { sameShape } from "../core/shape.js";
import {
  accelerations,
  fallbacksOf,
  type Accelerations,
  type AdagradConsts,
  type AdamConsts,
  type RmspropConsts,
  type SgdConsts,
} from "../backends/index.js";
import { bumpVersion, sameStorage } from "../autograd/graph.js";
import type { Tensor } from "./tensor.js";

export type { AdagradConsts, AdamConsts, RmspropConsts, SgdConsts };

/**
 * Checks the state tensors against p, bumps the versions of those written, and picks the fused
 * acceleration or the op-by-op rule. Returns the rules and the gradient in p's dtype.
 */
function prepare(op: string, written: readonly Tensor[], grad: Tensor): [Accelerations, Tensor] {
  const p = written[0]!;
  for (const t of written) {
    if (t.dtype !== p.dtype || !sameShape(t.shape, p.shape))
      throw new DescentError(
        `${op}: a state tensor is ${t.dtype} ${shapeStr(t.shape)}, its parameter ${p.dtype} ${shapeStr(p.shape)}`,
      );
  }
  const g = grad.dtype === p.dtype ? grad : grad.to(p.dtype);
  const all = [...written, g];
  let fused = true;
  for (let i = 0; i < all.length; i++) {
    if (!all[i]!.isContiguous()) fused = false;
    for (let j = 0; j < i; j++) if (sameStorage(all[i]!, all[j]!)) fused = false;
  }
  for (const t of written) bumpVersion(t);
  return [fused ? accelerations() : fallbacksOf(), g];
}

/** Adam/AdamW on p with moments m, v (and vmax with amsgrad). */
export function adamUpdate_(p: Tensor, grad: Tensor, m: Tensor, v: Tensor, vmax: Tensor | null, c: AdamConsts): void {
  const [rules, g] = prepare("adamStep", vmax ? [p, m, v, vmax] : [p, m, v], grad);
  rules.adamStep(p, g, m, v, vmax, c);
}

/** SGD on p with its momentum buffer (null without momentum). */
export function sgdUpdate_(p: Tensor, grad: Tensor, buf: Tensor | null, c: SgdConsts): void {
  const [rules, g] = prepare("sgdStep", buf ? [p, buf] : [p], grad);
  rules.sgdStep(p, g, buf, c);
}

/** RMSprop on p with its square average, the centered variant's gradient average and the momentum buffer. */
export function rmspropUpdate_(
  p: Tensor,
  grad: Tensor,
  sq: Tensor,
  gradAvg: Tensor | null,
  buf: Tensor | null,
  c: RmspropConsts,
): void {
  const [rules, g] = prepare("rmspropStep", [p, sq, ...(gradAvg ? [gradAvg] : []), ...(buf ? [buf] : [])], grad);
  rules.rmspropStep(p, g, sq, gradAvg, buf, c);
}

/** Adagrad on p with its running sum of squares. */
export function adagradUpdate_(p: Tensor, grad: Tensor, sum: Tensor, c: AdagradConsts): void {
  const [rules, g] = prepare("adagradStep", [p, sum], grad);
  rules.adagradStep(p, g, sum, c);
}
