// nn.functional.oneHot: int32 class indices to int32 one-hot rows (PyTorch's one_hot, int64 there).

import { DescentError, shapeStr } from "../../core/errors.js";
import { arange } from "../../tensor/creation.js";
import type { Tensor } from "../../tensor/tensor.js";

/**
 * [...indices.shape, numClasses] holding 1 at each index and 0 elsewhere. numClasses -1 (the
 * default) means one more than the largest index, which an empty tensor cannot tell.
 */
export function oneHot(indices: Tensor, numClasses = -1): Tensor {
  if (indices.dtype !== "int32")
    throw new DescentError(`oneHot: indices must be int32 class indices, got ${indices.dtype}`);
  if (!Number.isInteger(numClasses) || numClasses < -1)
    throw new DescentError(`oneHot: numClasses must be -1 or a non-negative integer, got ${numClasses}`);
  const empty = indices.size === 0;
  if (empty && numClasses === -1)
    throw new DescentError(
      `oneHot: cannot infer numClasses from an empty tensor (shape ${shapeStr(indices.shape)}); pass numClasses`,
    );
  const lo = empty ? 0 : indices.amin().item();
  const hi = empty ? -1 : indices.amax().item();
  if (lo < 0) throw new DescentError(`oneHot: class index ${lo} is negative (indices ${shapeStr(indices.shape)})`);
  const n = numClasses === -1 ? hi + 1 : numClasses;
  if (hi >= n)
    throw new DescentError(
      `oneHot: class index ${hi} is out of range for numClasses ${n} (indices ${shapeStr(indices.shape)})`,
    );
  return indices.unsqueeze(-1).eq(arange(0, n, 1, { dtype: "int32" }));
}
