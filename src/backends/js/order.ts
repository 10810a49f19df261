// The js backend's order kernels: sort (the int32 permutation that sorts each row along a dim)
// and scan (running sums and products along a dim). Neither is an element-wise body, so each walks
// its rows itself: for every position of the other dims, one pass along `dim` through the strides.

import type { TypedArray } from "../../core/dtype.js";
import type { Kernels, ScanOp, View } from "../backend.js";

/** Calls f(xStart, outStart) for every row along `dim` (all other dims fixed), in row-major order. */
function forEachRow(x: View, out: View, dim: number, f: (xAt: number, outAt: number) => void): void {
  const nd = x.shape.length;
  const outer = x.shape.map((d, i) => (i === dim ? 1 : d));
  if (outer.some((d) => d === 0)) return;
  const idx = new Array<number>(nd).fill(0);
  let xAt = x.offset;
  let outAt = out.offset;
  for (;;) {
    f(xAt, outAt);
    let k = nd - 1;
    for (; k >= 0; k--) {
      if (++idx[k]! < outer[k]!) {
        xAt += x.strides[k]!;
        outAt += out.strides[k]!;
        break;
      }
      xAt -= (outer[k]! - 1) * x.strides[k]!;
      outAt -= (outer[k]! - 1) * out.strides[k]!;
      idx[k] = 0;
    }
    if (k < 0) return;
  }
}

/**
 * One row's stable sorting permutation by an LSD radix sort on order-preserving unsigned keys (4
 * byte passes on 32-bit keys, 8 on float64's two words), linear in the row: a comparator sort cost
 * ~40 ns a comparison here, 10-20x this. Keys: IEEE bits with the sign flipped (negatives all bits
 * flipped), int32 with the sign bit flipped; every NaN the largest key, -0 the key of 0; descending
 * inverts every key, so NaN comes first. LSD passes keep equal keys in input order (stable).
 */
class RowSorter {
  private readonly lo: Uint32Array;
  private readonly hi: Uint32Array;
  private a: Int32Array;
  private b: Int32Array;
  private readonly count = new Int32Array(257);
  private readonly f64 = new Float64Array(1);
  private readonly f32 = new Float32Array(this.f64.buffer, 0, 1);
  private readonly words = new Uint32Array(this.f64.buffer); // little-endian: [low, high] of f64, [bits] of f32

  constructor(
    private readonly n: number,
    private readonly kind: "float32" | "float64" | "int32",
  ) {
    this.lo = new Uint32Array(n);
    this.hi = new Uint32Array(kind === "float64" ? n : 0);
    this.a = new Int32Array(n);
    this.b = new Int32Array(n);
  }

  /** Reads element i of the row from get(i), then writes the permutation through put(k, i). */
  sort(get: (i: number) => number, descending: boolean, put: (k: number, i: number) => void): void {
    const { n, lo, hi, kind, words } = this;
    const flip = descending ? 0xffffffff : 0;
    for (let i = 0; i < n; i++) {
      const v = get(i);
      if (kind === "int32") lo[i] = (v ^ 0x80000000 ^ flip) >>> 0;
      else if (v !== v) {
        lo[i] = ~flip >>> 0;
        if (kind === "float64") hi[i] = ~flip >>> 0;
      } else if (kind === "float32") {
        this.f32[0] = v === 0 ? 0 : v;
        const w = words[0]!;
        lo[i] = ((w & 0x80000000 ? ~w : w | 0x80000000) ^ flip) >>> 0;
      } else {
        this.f64[0] = v === 0 ? 0 : v;
        const l = words[0]!;
        const h = words[1]!;
        const neg = (h & 0x80000000) !== 0;
        lo[i] = ((neg ? ~l : l) ^ flip) >>> 0;
        hi[i] = ((neg ? ~h : h | 0x80000000) ^ flip) >>> 0;
      }
      this.a[i] = i;
    }
    for (let shift = 0; shift < 32; shift += 8) this.pass(lo, shift);
    if (kind === "float64") for (let shift = 0; shift < 32; shift += 8) this.pass(hi, shift);
    const perm = this.a;
    for (let k = 0; k < n; k++) put(k, perm[k]!);
  }

  /** One stable counting pass on byte `shift` of keys, from this.a into this.b (then swapped). */
  private pass(keys: Uint32Array, shift: number): void {
    const { n, count } = this;
    const from = this.a;
    const to = this.b;
    count.fill(0);
    for (let k = 0; k < n; k++) count[((keys[from[k]!]! >>> shift) & 255) + 1]!++;
    for (let d = 1; d <= 256; d++) if (count[d] === n) return; // one digit everywhere: order unchanged
    for (let d = 1; d <= 256; d++) count[d]! += count[d - 1]!;
    for (let k = 0; k < n; k++) {
      const i = from[k]!;
      to[count[(keys[i]! >>> shift) & 255]!++] = i;
    }
    this.a = to;
    this.b = from;
  }
}

export const orderKernels: Pick<Kernels, "sort" | "scan"> = {
  sort(x, dim, descending, out) {
    const n = x.shape[dim]!;
    const xs = x.strides[dim]!;
    const os = out.strides[dim]!;
    const src = x.data as TypedArray;
    const dst = out.data as Int32Array;
    const kind = src instanceof Float64Array ? "float64" : src instanceof Float32Array ? "float32" : "int32";
    const row = new RowSorter(n, kind);
    let xAt = 0;
    let outAt = 0;
    const get = (i: number) => src[xAt + i * xs]!;
    const put = (k: number, i: number) => {
      dst[outAt + k * os] = i;
    };
    forEachRow(x, out, dim, (xa, oa) => {
      xAt = xa;
      outAt = oa;
      row.sort(get, descending, put);
    });
  },
  scan(op, x, dim, out) {
    const n = x.shape[dim]!;
    const xs = x.strides[dim]!;
    const os = out.strides[dim]!;
    const src = x.data as TypedArray;
    const dst = out.data as TypedArray;
    const int = dst instanceof Int32Array;
    // Floats accumulate in a float64 number (PyTorch's CPU scan accumulates float32 in double too);
    // int32 wraps as C's int32 arithmetic does.
    const step: (acc: number, v: number) => number = scanStep(op, int);
    forEachRow(x, out, dim, (xAt, outAt) => {
      let acc = op === "sum" ? 0 : 1;
      for (let i = 0; i < n; i++) {
        acc = step(acc, src[xAt + i * xs]!);
        dst[outAt + i * os] = acc;
      }
    });
  },
};

function scanStep(op: ScanOp, int: boolean): (acc: number, v: number) => number {
  if (op === "sum") return int ? (a, v) => (a + v) | 0 : (a, v) => a + v;
  return int ? (a, v) => Math.imul(a, v) : (a, v) => a * v;
}
