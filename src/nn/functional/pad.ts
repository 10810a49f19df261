// nn.functional.pad with torch.nn.functional.pad's arguments and rules (PyTorch 1.13): `pad` lists
// (before, after) pairs from the last dim backwards. Constant mode pads any number of dims, and
// negative amounts crop. reflect and replicate pad the last 1, 2 or 3 dims of a tensor with one or
// two more (unbatched or batched); circular only the batched form. Those three join, per padded
// dim, the edge slabs they copy to the input with one cat (replicate: an expanded edge, circular:
// the far slice, reflect: the near slice reversed by a small indexSelect), so the cost is a strided
// copy and the gradient flows back through cat, expand and indexSelect: the padding's gradients add
// into the source elements they copied. A reflect or replicate that also crops takes one
// indexSelect over the whole dim with PyTorch's source index instead.

import { DescentError, shapeStr } from "../../core/errors.js";
import { checkOptions, keysOf } from "../../core/options.js";
import { tensor } from "../../tensor/creation.js";
import { constantPad } from "../../tensor/pad.js";
import { cat, type Tensor } from "../../tensor/tensor.js";

/** How pad fills: with a constant, by reflection, by replicating the edge, or circularly (F.pad's modes). */
export type PadMode = "constant" | "reflect" | "replicate" | "circular";

/** Options of pad (F.pad's keyword arguments). */
export interface PadOptions {
  /** The fill mode (default "constant"). */
  mode?: PadMode;
  /** The fill of constant mode (default 0); other modes refuse a non-zero value, as PyTorch. */
  value?: number;
}

/** The keys of PadOptions, for checkOptions. */
const PAD_KEYS = keysOf<PadOptions>()({ mode: true, value: true });

const MODES: readonly string[] = ["constant", "reflect", "replicate", "circular"];

/** Source in 0..n-1 of position i of a dim that also crops (PyTorch's index rule for these modes). */
const SOURCE = {
  reflect: (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i),
  replicate: (i: number, n: number) => Math.min(Math.max(i, 0), n - 1),
};

/** The `p` elements mode pads along dim d of y before (`lead`) or after it; [] when p is 0. */
function edge(y: Tensor, d: number, mode: Exclude<PadMode, "constant">, p: number, lead: boolean): Tensor[] {
  if (p === 0) return [];
  const n = y.shape[d]!;
  if (mode === "replicate") {
    const shape = y.shape.map((s, i) => (i === d ? p : s));
    return [y.narrow(d, lead ? 0 : n - 1, 1).expand(shape)];
  }
  if (mode === "circular") return [y.narrow(d, lead ? n - p : 0, p)];
  // reflect: y[p..1] before, y[n-2..n-1-p] after (the edge element itself is not repeated).
  const index = Int32Array.from({ length: p }, (_, j) => p - 1 - j);
  return [y.narrow(d, lead ? 1 : n - 1 - p, p).indexSelect(d, tensor(index, { dtype: "int32" }))];
}

/**
 * Pads x (F.pad): pad lists [before, after] amounts for the last dimension first, then the one before,
 * e.g. [1, 1, 2, 2] pads W by 1 and H by 2 on each side of [N, C, H, W]. Negative amounts crop.
 */
export function pad(x: Tensor, pad: readonly number[], opts: PadOptions = {}): Tensor {
  checkOptions("pad", opts, PAD_KEYS);
  const mode = opts.mode ?? "constant";
  const where = `pad [${Array.isArray(pad) ? pad.join(", ") : String(pad)}] of input ${shapeStr(x.shape)}`;
  if (!Array.isArray(pad) || pad.some((p) => !Number.isInteger(p)))
    throw new DescentError(`pad: pad must be an array of integers, got ${where}`);
  if (pad.length % 2 !== 0)
    throw new DescentError(`pad: pad must hold (before, after) pairs, last dim first; got an odd length in ${where}`);
  const k = pad.length / 2;
  if (k > x.ndim) throw new DescentError(`pad: ${k} pairs pad more dims than the input has (${where})`);
  if (!MODES.includes(mode))
    throw new DescentError(`pad: unknown mode "${String(mode)}"; expected one of ${MODES.join(", ")}`);
  const value = opts.value ?? 0;
  if (typeof value !== "number") throw new DescentError(`pad: value must be a number, got ${String(value)}`);
  // Per dim of x: pair j pads dim ndim-1-j.
  const before = x.shape.map((_, d) => (x.ndim - 1 - d < k ? pad[2 * (x.ndim - 1 - d)]! : 0));
  const after = x.shape.map((_, d) => (x.ndim - 1 - d < k ? pad[2 * (x.ndim - 1 - d) + 1]! : 0));
  const outShape = x.shape.map((s, d) => s + before[d]! + after[d]!);
  if (mode === "constant") {
    if (outShape.some((s) => s < 0))
      throw new DescentError(
        `pad: negative padding crops more than the dim holds: output ${shapeStr(outShape)} from ${where}`,
      );
    return constantPad(x, before, after, value);
  }
  if (value !== 0) throw new DescentError(`pad: mode "${mode}" takes no value (got ${value}); use mode "constant"`);
  const ranks = mode === "circular" ? [k + 2] : [k + 1, k + 2];
  if (k < 1 || k > 3 || !ranks.includes(x.ndim))
    throw new DescentError(
      `pad: mode "${mode}" pads the last 1, 2 or 3 dims of a tensor with ${mode === "circular" ? "2 more dims (batch, channel)" : "1 or 2 more dims (unbatched or batched)"}; got ${where}`,
    );
  let y = x;
  for (let d = x.ndim - k; d < x.ndim; d++) {
    let n = x.shape[d]!;
    let [b, a] = [before[d]!, after[d]!];
    const pads = `(${b}, ${a}) for dim ${d} of size ${n} (${where})`;
    if (n === 0) throw new DescentError(`pad: mode "${mode}" cannot pad dim ${d} of size 0 (${where})`);
    if (mode === "reflect" && (b >= n || a >= n))
      throw new DescentError(`pad: reflect padding must be less than the dim's size: ${pads}`);
    if (outShape[d]! < (mode === "circular" ? 0 : 1))
      throw new DescentError(`pad: padding leaves ${outShape[d]} elements: ${pads}`);
    if (mode === "circular" && (b < 0 || a < 0)) {
      // PyTorch crops first and wraps around what is left.
      const [cb, ca] = [Math.max(-b, 0), Math.max(-a, 0)];
      y = y.narrow(d, cb, n - cb - ca);
      [n, b, a] = [n - cb - ca, b + cb, a + ca];
    }
    if (mode === "circular" && (b > n || a > n))
      throw new DescentError(
        `pad: circular padding must be at most the size left after cropping (${n}), or it wraps around more than once: ${pads}`,
      );
    if (b === 0 && a === 0) continue;
    if (b >= 0 && a >= 0) {
      y = cat([...edge(y, d, mode, b, true), y, ...edge(y, d, mode, a, false)], d);
      continue;
    }
    const source = SOURCE[mode as "reflect" | "replicate"]; // circular cropped above
    const index = Int32Array.from({ length: outShape[d]! }, (_, o) => source(o - b, n));
    y = y.indexSelect(d, tensor(index, { dtype: "int32" }));
  }
  return y === x ? x.clone() : y;
}
