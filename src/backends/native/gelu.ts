// The native backend's fused GELU (native/gelu.cc); tensors under GELU_MIN_ELEMENTS or of mixed
// dtypes run the js kernel instead.

import { sizeOf } from "../../core/shape.js";
import type { Accelerations } from "../accelerations.js";
import type { View } from "../backend.js";
import { geluKernels } from "../js/gelu.js";

type F = Float32Array | Float64Array;

/** What native/gelu.cc adds to the addon: g null for the forward; meta = [n, xOff, gOff, outOff, tanh]. */
export interface GeluAddon {
  gelu(x: F, g: F | null, out: F, meta: Float64Array): void;
}

/** Below this many elements the crossing costs more than js's loop (erf or tanh per element either way). */
export const GELU_MIN_ELEMENTS = 64;

export function nativeGelu(addon: GeluAddon): Pick<Accelerations, "gelu" | "geluBackward"> {
  const meta = new Float64Array(5);
  const ok = (out: View, ...rest: View[]) =>
    sizeOf(out.shape) >= GELU_MIN_ELEMENTS &&
    (out.data instanceof Float32Array || out.data instanceof Float64Array) &&
    rest.every((v) => v.data.constructor === out.data.constructor);
  function call(x: View, g: View | null, tanh: boolean, out: View): void {
    meta[0] = sizeOf(x.shape);
    meta[1] = x.offset;
    meta[2] = g ? g.offset : 0;
    meta[3] = out.offset;
    meta[4] = tanh ? 1 : 0;
    addon.gelu(x.data as F, g ? (g.data as F) : null, out.data as F, meta);
  }
  return {
    gelu: (x, tanh, out) => (ok(out, x) ? call(x, null, tanh, out) : geluKernels.gelu(x, tanh, out)),
    geluBackward: (g, x, tanh, out) =>
      ok(out, x, g) ? call(x, g, tanh, out) : geluKernels.geluBackward(g, x, tanh, out),
  };
}
