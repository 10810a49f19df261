// Constant padding at the tensor layer: negative amounts crop first (a narrow view), the rest is
// the ConstantPad op (ops/strided.ts: one fill, one strided copy). nn.functional.pad checks the
// user's arguments and builds the other modes from indexSelect.

import { ConstantPad } from "../ops/strided.js";
import { apply } from "./apply.js";
import type { Tensor } from "./tensor.js";

/** x with before[d] / after[d] elements of `value` added on each side of dim d (negative: removed). */
export function constantPad(x: Tensor, before: readonly number[], after: readonly number[], value: number): Tensor {
  const cropped = x.shape.reduce(
    (v: Tensor, s, d) =>
      before[d]! < 0 || after[d]! < 0
        ? v.narrow(d, Math.max(-before[d]!, 0), s - Math.max(-before[d]!, 0) - Math.max(-after[d]!, 0))
        : v,
    x,
  );
  return apply(ConstantPad, [cropped], {
    before: before.map((b) => Math.max(b, 0)),
    after: after.map((a) => Math.max(a, 0)),
    value,
  });
}
