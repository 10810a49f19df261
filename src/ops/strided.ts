// Two ops that are one strided layout away from their input: Diagonal (a view that merges dims of
// equal size, einsum's repeated subscripts `ii->i`) and ConstantPad (a fill plus one strided copy
// into the interior, nn.functional.pad's constant mode). Both are built from the required `copy`
// and `fill` kernels, so every backend has them; the tensor layer checks their arguments.

import type { Tensor } from "../tensor/tensor.js";
import { alloc, kernels, view, type OpDef, type RawTensor } from "./op.js";

/** For each output dim, the input dims it walks together (same size; strides add up). */
export type DiagonalGroups = readonly (readonly number[])[];

function diagonalOf(x: RawTensor | Tensor, groups: DiagonalGroups): { shape: number[]; strides: number[] } {
  return {
    shape: groups.map((g) => x.shape[g[0]!]!),
    strides: groups.map((g) => g.reduce((s, d) => s + x.strides[d]!, 0)),
  };
}

/** out[i, j] = x[i, i, j] for groups [[0, 1], [2]]: a view, as torch.diagonal. */
export const Diagonal: OpDef<DiagonalGroups> = {
  name: "diagonal",
  forward([x], groups) {
    const { shape, strides } = diagonalOf(x!, groups);
    return view(x!, shape, strides);
  },
  // The gradient is g on the diagonal of zeros: written through the same view of a fresh buffer.
  backward(g, [x], _y, groups) {
    const full = g.newZeros(x!.shape);
    const { shape, strides } = diagonalOf(full, groups);
    full.wrapRaw(view(full, shape, strides)).copy_(g);
    return [full];
  },
  freshGrads: true,
};

export interface PadParams {
  /** Elements added before and after each dim (non-negative: the tensor layer crops first). */
  readonly before: readonly number[];
  readonly after: readonly number[];
  readonly value: number;
}

/** x surrounded by `value`: one fill of the output, one strided copy into its interior. */
export const ConstantPad: OpDef<PadParams> = {
  name: "pad",
  forward([x], { before, after, value }) {
    const shape = x!.shape.map((s, i) => s + before[i]! + after[i]!);
    const out = alloc(x!.dtype, shape);
    if (value !== 0) kernels().fill(out, value); // alloc's storage is zeroed
    if (x!.size > 0) {
      const offset = before.reduce((o, b, i) => o + b * out.strides[i]!, 0);
      kernels().copy(x!, { ...out, shape: [...x!.shape], offset });
    }
    return out;
  },
  // The gradient is the interior of g (a view): the padding held constants.
  backward: (g, [x], _y, { before }) => [x!.shape.reduce((v: Tensor, s, i) => v.narrow(i, before[i]!, s), g)],
};
