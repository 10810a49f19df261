// Building one batch from a dataset (the work a DataLoader worker does) and moving tensors between
// threads. A TensorDataset's batch is gathered with one indexSelect per tensor (copies, as
// PyTorch's collate makes); other datasets are stacked example by example. Tensors cross threads
// as {dtype, shape, values}: a batch's values are fresh arrays the worker gives up (transferred,
// not copied), a TensorDataset's values go once into SharedArrayBuffers every worker reads.

import { DescentError } from "../core/errors.js";
import type { DType, TypedArray } from "../core/dtype.js";
import { Tensor, fromArray, fromHost, stack } from "../tensor/tensor.js";
import { TensorDataset, type Dataset } from "./dataset.js";

/** A tensor's values and shape, as postMessage carries them. */
export interface PackedTensor {
  dtype: DType;
  shape: number[];
  values: TypedArray;
}

/** The batch of the examples at `part` (dataset indices), one tensor per field. */
export function gather(ds: Dataset, part: Int32Array): Tensor[] {
  if (ds instanceof TensorDataset) {
    const index = fromArray("int32", [part.length], (i) => part[i]!);
    return ds.tensors.map((t) => t.indexSelect(0, index));
  }
  const examples = Array.from(part, (i) => ds.get(i));
  const fields = examples[0]!.length;
  for (const [k, ex] of examples.entries()) {
    if (!Array.isArray(ex) || ex.length !== fields || !ex.every((t) => t instanceof Tensor)) {
      throw new DescentError(
        `DataLoader: dataset.get(${part[k]}) returned ${Array.isArray(ex) ? `${ex.length} item(s)` : typeof ex}; expected ${fields} tensor(s) like dataset.get(${part[0]})`,
      );
    }
  }
  return Array.from({ length: fields }, (_, f) => {
    try {
      return stack(examples.map((ex) => ex[f]!));
    } catch (e) {
      throw new DescentError(`DataLoader: cannot stack field ${f} of a batch: ${(e as Error).message}`);
    }
  });
}

/** Tensors as messages plus the buffers to transfer: toFlatArray gives fresh arrays the sender owns. */
export function pack(ts: readonly Tensor[]): { packed: PackedTensor[]; transfer: ArrayBuffer[] } {
  const packed = ts.map((t) => ({ dtype: t.dtype, shape: [...t.shape], values: t.toFlatArray() }));
  return { packed, transfer: packed.map((p) => p.values.buffer as ArrayBuffer) };
}

/** The tensors back from pack's messages; the values are adopted, not copied. */
export function unpack(ps: readonly PackedTensor[]): Tensor[] {
  return ps.map((p) => fromHost(p.values, p.shape));
}

/**
 * A TensorDataset's tensors in SharedArrayBuffers: one copy however many workers read it (a
 * transfer would take the values from the main thread and could go to one worker only; a
 * structured clone would make one copy per worker).
 */
export function share(ds: TensorDataset): PackedTensor[] {
  return ds.tensors.map((t) => {
    const flat = t.toFlatArray();
    const Ctor = flat.constructor as new (b: SharedArrayBuffer) => TypedArray;
    const values = new Ctor(new SharedArrayBuffer(flat.byteLength));
    values.set(flat);
    return { dtype: t.dtype, shape: [...t.shape], values };
  });
}
