// Max pooling as a primitive. Pooling through im2col + argmax + gather materialised every window
// (kh·kw times the input) and sent the gradient back through scatterAdd + col2im; this op scans
// the windows in place and keeps only each window's winner, which its gradient op (MaxUnpool2d)
// scatters to. The two are adjoint in the winner positions, so each is the other's backward.

import type { Window2d } from "../backends/index.js";
import { alloc, kernels, need, type OpDef, type RawTensor } from "./op.js";

export interface MaxPoolParams extends Window2d {
  /** Output size [oh, ow]: set by the caller, since ceil mode adds windows the floor formula omits. */
  readonly out: readonly [number, number];
  /** Filled by the forward: int32 [N, C, oh, ow], each window's winner as y·W + x (H·W: padding). */
  readonly saved: { indices?: RawTensor };
}

/** [N, C, H, W] → [N, C, oh, ow], each the max of its window; outside the image counts as -Inf. */
export const MaxPool2d: OpDef<MaxPoolParams> = {
  name: "maxPool2d",
  forward([x], p) {
    const shape = [x!.shape[0]!, x!.shape[1]!, p.out[0], p.out[1]];
    const out = alloc(x!.dtype, shape);
    const indices = alloc("int32", shape);
    kernels().maxPool2d(x!, p, out, indices);
    p.saved.indices = indices;
    return out;
  },
  // d max / d x_k = 1 for the winner k of the window, 0 elsewhere.
  backward: (g, [x], _y, p) => [g.maxUnpool2d(p.saved.indices!, [x!.shape[2]!, x!.shape[3]!])],
};

/** g [N, C, oh, ow] added at `indices` (int32, g's shape) into zeros [N, C, ...size]; index H·W goes nowhere. */
export const MaxUnpool2d: OpDef<{ readonly size: readonly [number, number] }> = {
  name: "maxUnpool2d",
  saves: "inputs",
  forward([g, indices], { size }) {
    const out = alloc(g!.dtype, [g!.shape[0]!, g!.shape[1]!, size[0], size[1]]);
    kernels().maxPool2dBackward(g!, indices!, out);
    return out;
  },
  // The adjoint of a scatter is the gather at the same positions (0 where the index went nowhere).
  backward: (gg, [g, indices], _y, { size }) => [
    need(g!, () => {
      const [n, c, oh, ow] = g!.shape as [number, number, number, number];
      const plane = size[0] * size[1];
      const flat = indices!.reshape([n, c, oh * ow]);
      return gg
        .reshape([n, c, plane])
        .gather(2, flat.minimum(Math.max(plane - 1, 0)))
        .maskedFill(flat.ge(plane), 0)
        .reshape(g!.shape);
    }),
    null,
  ],
};
