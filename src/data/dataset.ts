// Datasets: anything with a length and a get(i) that returns the i-th example as a list of tensors
// (features, target, …). TensorDataset wraps tensors that share their first dimension; DataLoader
// gathers its batches with one indexSelect per tensor instead of stacking examples one by one.

import { DescentError, shapeStr } from "../core/errors.js";
import { Tensor } from "../tensor/tensor.js";

/** A map-style dataset: `length` examples, each a list of tensors. */
export interface Dataset {
  /** The number of examples. */
  readonly length: number;
  /** The i-th example as a list of tensors (features, target, …). */
  get(i: number): Tensor[];
}

/** Examples are the rows (along dim 0) of the given tensors: `get(i)` is `[t0[i], t1[i], …]`. */
export class TensorDataset implements Dataset {
  /** The wrapped tensors, sharing their first dimension. */
  readonly tensors: readonly Tensor[];

  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) throw new DescentError("TensorDataset: expected at least one tensor");
    for (const [i, t] of tensors.entries()) {
      if (!(t instanceof Tensor)) throw new DescentError(`TensorDataset: argument ${i} is not a Tensor`);
      if (t.ndim === 0)
        throw new DescentError(`TensorDataset: tensor ${i} is 0-d; every tensor needs a first dimension`);
    }
    const n = tensors[0]!.shape[0]!;
    const bad = tensors.findIndex((t) => t.shape[0] !== n);
    if (bad >= 0) {
      throw new DescentError(
        `TensorDataset: tensors must have the same size in dim 0; tensor 0 has shape ${shapeStr(tensors[0]!.shape)}, tensor ${bad} ${shapeStr(tensors[bad]!.shape)}`,
      );
    }
    this.tensors = tensors;
  }

  /** The number of examples (the tensors' first dimension). */
  get length(): number {
    return this.tensors[0]!.shape[0]!;
  }

  /** The i-th example (negative i counts from the end); the tensors are views of the dataset's. */
  get(i: number): Tensor[] {
    const n = this.length;
    if (!Number.isInteger(i) || i < -n || i >= n) {
      throw new DescentError(`TensorDataset.get: index ${i} is out of range for a dataset of ${n} examples`);
    }
    return this.tensors.map((t) => t.select(0, i < 0 ? i + n : i));
  }
}
