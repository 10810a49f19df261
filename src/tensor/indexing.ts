// Indexing: gather, scatterAdd and indexSelect, which read or add elements at int32 indices
// along one dim (src/ops/indexing.ts checks the index values against the dim's size).

import { DescentError, shapeStr } from "../core/errors.js";
import { normDim } from "../core/shape.js";
import { Gather, ScatterAdd, checkIndexRange } from "../ops/indexing.js";
import { keptShape } from "../ops/reduce.js";
import { apply } from "./apply.js";
import type { Tensor } from "./tensor.js";

export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  return apply(Gather, [x, index], normDim("gather", dim, x.ndim));
}

export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  return apply(ScatterAdd, [x, index, src.to(x.dtype)], normDim("scatterAdd", dim, x.ndim));
}

/** indexSelect as a gather with the 1-D index broadcast (stride 0) over the other dims. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normDim("indexSelect", dim, x.ndim);
  if (index.dtype !== "int32") throw new DescentError(`indexSelect: index must be int32, got ${index.dtype}`);
  checkIndexRange("indexSelect", index, x.ndim === 0 ? 1 : x.shape[d]!, d, x.shape);
  if (index.ndim > 1)
    throw new DescentError(`indexSelect: index must be 0-d or 1-D, got shape ${shapeStr(index.shape)}`);
  if (x.ndim === 0) return gather(x.reshape([1]), 0, index.reshape([-1])).reshape(index.ndim === 0 ? [] : [-1]);
  const n = index.size;
  const shape = x.shape.map((s, i) => (i === d ? n : s));
  const idx = index
    .reshape(
      keptShape(
        shape,
        shape.map((_, i) => i).filter((i) => i !== d),
      ),
    )
    .expand(shape);
  return gather(x, d, idx);
}
