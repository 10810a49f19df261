// Tensor printing: reproduces PyTorch 1.13's repr (torch/_tensor_str.py) with its default print
// options, so `tensor.toString()` reads exactly as a PyTorch user expects: one number format for
// the whole tensor, common width, nested brackets, summarisation, line wrapping and suffixes.

import type { DType } from "../core/dtype.js";
import { DescentError, shapeStr } from "../core/errors.js";

const PRECISION = 4;
const THRESHOLD = 1000; // more elements than this are summarised
const EDGEITEMS = 3;
const LINEWIDTH = 80;
const PREFIX = "tensor(";

/**
 * Formats a tensor as PyTorch's repr does. `values` are the elements in row-major order; `extras`
 * are suffixes such as "dtype=float64" or "requires_grad=True", printed after the data.
 */
export function formatTensor(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType,
  extras: readonly string[],
): string {
  const numel = shape.reduce((a, b) => a * b, 1);
  if (values.length !== numel) {
    throw new DescentError(`format: ${values.length} values for shape ${shapeStr(shape)} (expected ${numel})`);
  }
  // Show float32 elements as the float32 they are, whatever array they arrive in.
  const at =
    dtype === "float32"
      ? (i: number): number => Math.fround(values[i] ?? NaN)
      : (i: number): number => values[i] ?? NaN;
  const suffixes: string[] = [];
  let body: string;
  if (numel === 0) {
    body = "[]";
    // Like NumPy, PyTorch names the shape of an empty tensor unless it is (0,).
    if (shape.length !== 1) suffixes.push(`size=(${shape.join(", ")})`);
  } else {
    const strides = rowMajorStrides(shape);
    const summarize = numel > THRESHOLD;
    // The number format is chosen from the elements that will be shown, as PyTorch does.
    const shown: number[] = [];
    const collect = (d: number, off: number): void => {
      if (d === shape.length) shown.push(at(off));
      else for (const i of shownIndices(shape[d] ?? 0, summarize)) collect(d + 1, off + i * (strides[d] ?? 0));
    };
    collect(0, 0);
    const fmt = dtype === "int32" ? intFormatter(shown) : floatFormatter(shown);
    const render = (d: number, off: number, indent: number): string => {
      const items = shownIndices(shape[d] ?? 0, summarize, true);
      if (d === shape.length - 1)
        return vectorStr(
          items.map((i) => (i < 0 ? " ..." : fmt.format(at(off + i)))),
          fmt.width,
          indent,
        );
      const slices = items.map((i) => (i < 0 ? "..." : render(d + 1, off + i * (strides[d] ?? 0), indent + 1)));
      const sep = "," + "\n".repeat(shape.length - d - 1) + " ".repeat(indent + 1);
      return "[" + slices.join(sep) + "]";
    };
    body = shape.length === 0 ? fmt.format(at(0)) : render(0, 0, PREFIX.length);
  }
  return addSuffixes(PREFIX + body, [...suffixes, ...extras]);
}

interface Formatter {
  width: number;
  format(v: number): string;
}

function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = (strides[d + 1] ?? 1) * (shape[d + 1] ?? 1);
  return strides;
}

/** Indices shown along a dimension of size n; with `gap`, -1 marks where "..." goes. */
function shownIndices(n: number, summarize: boolean, gap = false): number[] {
  if (!summarize || n <= 2 * EDGEITEMS) return Array.from({ length: n }, (_, i) => i);
  const head = Array.from({ length: EDGEITEMS }, (_, i) => i);
  const tail = head.map((i) => n - EDGEITEMS + i);
  return gap ? [...head, -1, ...tail] : [...head, ...tail];
}

/** One row: as many elements per line as fit in the line width after the indent. */
function vectorStr(data: string[], width: number, indent: number): string {
  const perLine = Math.max(1, Math.floor((LINEWIDTH - indent) / (width + 2)));
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += perLine) lines.push(data.slice(i, i + perLine).join(", "));
  return "[" + lines.join(",\n" + " ".repeat(indent + 1)) + "]";
}

/**
 * Suffixes go after a comma on the last line, or on a line of their own when they would pass the
 * line width. PyTorch measures `dtype=torch.float64`; we print `dtype=float64` but measure the
 * PyTorch spelling so that line breaks fall where PyTorch puts them.
 */
function addSuffixes(text: string, suffixes: readonly string[]): string {
  let out = text;
  let lastLineLen = text.length - text.lastIndexOf("\n") + 1; // PyTorch's count, +2 included
  for (const s of suffixes) {
    const len = s.startsWith("dtype=") ? s.length + "torch.".length : s.length;
    if (lastLineLen + len + 2 > LINEWIDTH) {
      out += ",\n" + " ".repeat(PREFIX.length) + s;
      lastLineLen = PREFIX.length + len;
    } else {
      out += ", " + s;
      lastLineLen += len + 2;
    }
  }
  return out + ")";
}

const pad = (s: string, width: number): string => s.padStart(width);

function intFormatter(shown: readonly number[]): Formatter {
  const width = shown.reduce((w, v) => Math.max(w, String(v).length), 1);
  return { width, format: (v) => pad(String(v), width) };
}

/**
 * PyTorch's float rules: integers print as `1.`, otherwise 4 decimals; scientific notation when
 * max/min of the nonzero finite magnitudes exceeds 1000, max exceeds 1e8, or (non-integers only)
 * min is below 1e-4. Zeros and non-finite values take no part in the choice.
 */
function floatFormatter(shown: readonly number[]): Formatter {
  const finite = shown.filter((v) => Number.isFinite(v) && v !== 0);
  let intMode = true;
  let sciMode = false;
  let width = 1;
  if (finite.length > 0) {
    const abs = finite.map(Math.abs);
    const max = abs.reduce((a, b) => Math.max(a, b));
    const min = abs.reduce((a, b) => Math.min(a, b));
    intMode = finite.every((v) => v === Math.ceil(v));
    sciMode = max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4);
    for (const v of finite) {
      const len = sciMode
        ? toExponential(v, PRECISION).length
        : intMode
          ? toFixed(v, 0).length + 1
          : toFixed(v, PRECISION).length;
      width = Math.max(width, len);
    }
  }
  const format = (v: number): string => {
    if (!Number.isFinite(v)) return pad(Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf", width);
    if (sciMode) return pad(toExponential(v, PRECISION), width);
    return pad(intMode ? toFixed(v, 0) + "." : toFixed(v, PRECISION), width);
  };
  return { width, format };
}

// Python's "{:.4f}" and "{:.4e}" round the exact binary value half to even; JavaScript's toFixed
// and toExponential round ties away from zero (1.03125 -> "1.0313", Python "1.0312"), and write
// "e+5" where Python writes "e+05". So we round exactly, in BigInt arithmetic.

/** |x| as an exact fraction num/den of BigInts (x finite). */
function toRational(x: number): [bigint, bigint] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const biased = hi >>> 20;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  if (biased !== 0) mant |= 1n << 52n;
  const exp = (biased === 0 ? 1 : biased) - 1075;
  return exp >= 0 ? [mant << BigInt(exp), 1n] : [mant, 1n << BigInt(-exp)];
}

/** round(num/den * 10^k), ties to even. */
function roundScaled([num, den]: [bigint, bigint], k: number): bigint {
  const n = k >= 0 ? num * 10n ** BigInt(k) : num;
  const d = k >= 0 ? den : den * 10n ** BigInt(-k);
  const q = n / d;
  const r2 = (n % d) * 2n;
  return r2 > d || (r2 === d && q % 2n === 1n) ? q + 1n : q;
}

const sign = (x: number): string => (x < 0 || Object.is(x, -0) ? "-" : "");

function toFixed(x: number, digits: number): string {
  const s = roundScaled(toRational(x), digits)
    .toString()
    .padStart(digits + 1, "0");
  const point = s.length - digits;
  return sign(x) + (digits === 0 ? s : s.slice(0, point) + "." + s.slice(point));
}

function toExponential(x: number, digits: number): string {
  let exp = 0;
  let s = "0".repeat(digits + 1);
  if (x !== 0) {
    const r = toRational(x);
    exp = Math.floor(Math.log10(Math.abs(x)));
    // log10 can be off by one near powers of ten; settle on the exponent that gives digits+1 digits.
    let n = roundScaled(r, digits - exp);
    while (n >= 10n ** BigInt(digits + 1)) n = roundScaled(r, digits - ++exp);
    while (n < 10n ** BigInt(digits)) n = roundScaled(r, digits - --exp);
    s = n.toString();
  }
  const e = `e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  return sign(x) + s.slice(0, 1) + (digits > 0 ? "." + s.slice(1) : "") + e;
}
