// Fused optimizer updates on tensors' storage, for src/optim/ (which may not reach the backends):
// each runs one backend kernel that updates a parameter and its state tensors in place in one
// pass, with the version bumps in-place ops make. They apply only to dense contiguous float
// tensors of one dtype, none sharing storage with another, outside grad mode (what in-place ops
// would refuse); otherwise they return false and the optimizer runs its op-by-op form, which
// gives the same numbers (see src/backends/js/fused.ts).

import { isFloat } from "../core/dtype.js";
import { sameShape } from "../core/shape.js";
import { backend, type AdagradConsts, type AdamConsts, type RmspropConsts, type SgdConsts } from "../backends/index.js";
import { bumpVersion, isGradEnabled } from "../autograd/graph.js";
import type { Tensor } from "./tensor.js";

export type { AdagradConsts, AdamConsts, RmspropConsts, SgdConsts };

/** True when the fused kernels may update `written` in place reading `read` too (see the header). */
function fusable(written: readonly Tensor[], read: readonly Tensor[]): boolean {
  if (isGradEnabled()) return false;
  const p = written[0]!;
  if (!isFloat(p.dtype)) return false;
  const all = [...written, ...read];
  const buffers = new Set(all.map((t) => t.data));
  if (buffers.size !== all.length) return false;
  for (const t of all) if (t.dtype !== p.dtype || !sameShape(t.shape, p.shape) || !t.isContiguous()) return false;
  for (const t of written) bumpVersion(t.data);
  return true;
}

/** Adam/AdamW on p with moments m, v (and vmax with amsgrad); false: not done, use the op-by-op form. */
export function adamUpdate_(
  p: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  vmax: Tensor | null,
  c: AdamConsts,
): boolean {
  if (!fusable(vmax ? [p, m, v, vmax] : [p, m, v], [grad])) return false;
  backend().kernels.adamStep(p, grad, m, v, vmax, c);
  return true;
}

/** SGD on p with its momentum buffer (null without momentum). */
export function sgdUpdate_(p: Tensor, grad: Tensor, buf: Tensor | null, c: SgdConsts): boolean {
  if (!fusable(buf ? [p, buf] : [p], [grad])) return false;
  backend().kernels.sgdStep(p, grad, buf, c);
  return true;
}

/** RMSprop on p with its square average, the centered variant's gradient average and the momentum buffer. */
export function rmspropUpdate_(
  p: Tensor,
  grad: Tensor,
  sq: Tensor,
  gradAvg: Tensor | null,
  buf: Tensor | null,
  c: RmspropConsts,
): boolean {
  const written = [p, sq, ...(gradAvg ? [gradAvg] : []), ...(buf ? [buf] : [])];
  if (!fusable(written, [grad])) return false;
  backend().kernels.rmspropStep(p, grad, sq, gradAvg, buf, c);
  return true;
}

/** Adagrad on p with its running sum of squares. */
export function adagradUpdate_(p: Tensor, grad: Tensor, sum: Tensor, c: AdagradConsts): boolean {
  if (!fusable([p, sum], [grad])) return false;
  backend().kernels.adagradStep(p, grad, sum, c);
  return true;
}
