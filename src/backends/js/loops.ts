// Strided loops for the js kernels. A kernel is a one-line body (`b0[p0] = Math.exp(b1[p1])`)
// compiled once into a loop over any number of operands, each with its own strides: operand 0 is
// written, the rest are read. The loop walks the last dim in its inner loop and carries the outer
// positions in counters, so views (transposed, sliced, broadcast with stride 0) cost no copy.
// Bodies are compiled with `new Function` from constant strings in this folder (never user input),
// which gives every op its own monomorphic loop that V8 can optimise.

import type { TypedArray } from "../../core/dtype.js";
import type { View } from "../backend.js";

/** One operand as a loop sees it: buffer, strides (one per loop dim) and start offset. */
export interface Operand {
  readonly data: TypedArray;
  readonly strides: readonly number[];
  readonly offset: number;
}

export type Loop = (shape: readonly number[], ops: readonly Operand[], extra?: readonly number[]) => void;

export interface LoopSpec {
  /** Number of operands (the first is written). */
  readonly arity: number;
  /** Statement run per element; sees b0..bk (buffers), p0..pk (positions), e0.. (extra numbers), H (helpers). */
  readonly body: string;
  /**
   * When set and operand 0's innermost stride is 0 (a reduction along the inner dim), this
   * statement runs instead, folding into the local `acc`, which starts as b0[p0] and is stored after.
   */
  readonly fold?: string;
}

const cache = new Map<string, Loop>();

/**
 * compileLoop deferred to the loop's first call: for the loops modules build at their top level,
 * each of which was a `new Function` parse on every import of the package (issue 15).
 */
export function lazyLoop(spec: LoopSpec, helpers?: object): Loop {
  let compiled: Loop | undefined;
  return (shape, ops, extra) => (compiled ??= compileLoop(spec, helpers))(shape, ops, extra);
}

/** Compiles (once) the loop for a body. `helpers` are functions the body may call as H.name(...). */
export function compileLoop(spec: LoopSpec, helpers: object = {}): Loop {
  const key = `${spec.arity}|${spec.body}|${spec.fold ?? ""}`;
  let loop = cache.get(key);
  if (loop) return loop;
  const k = [...Array(spec.arity).keys()];
  const list = (f: (i: number) => string, sep = ", ") => k.map(f).join(sep);
  // Unit inner strides everywhere (the common case) get a loop on one counter, which V8 compiles
  // to plain indexed loads; anything else steps each operand by its own stride.
  const unit = list((i) => `i${i} === 1`, " && ");
  const dense = `{ ${list((i) => `const q${i} = p${i};`, " ")} for (let i = 0; i < n; i++) { ${list((i) => `const p${i} = q${i} + i;`, " ")} ${spec.body}; } }`;
  const strided = `for (let i = 0; i < n; i++) { ${spec.body}; ${list((i) => `p${i} += i${i};`, " ")} }`;
  const inner = `if (${unit}) ${dense} else ${strided}`;
  const fold = spec.fold
    ? `if (i0 === 0) { let acc = b0[p0]; for (let i = 0; i < n; i++) { ${spec.fold}; ${list((i) => (i === 0 ? "" : `p${i} += i${i};`), " ")} } b0[p0] = acc; } else `
    : "";
  const src = `
    return function loop(shape, ops, extra) {
      ${list((i) => `const b${i} = ops[${i}].data, s${i} = ops[${i}].strides; let o${i} = ops[${i}].offset;`, "\n")}
      const e0 = extra ? extra[0] : 0, e1 = extra ? extra[1] : 0;
      const nd = shape.length;
      if (nd === 0) { ${list((i) => `const p${i} = o${i};`, " ")} const n = 1, i = 0; ${spec.body}; return; }
      const n = shape[nd - 1];
      ${list((i) => `const i${i} = s${i}[nd - 1];`, " ")}
      let rows = 1;
      for (let d = 0; d < nd - 1; d++) rows *= shape[d];
      if (n === 0 || rows === 0) return;
      const idx = new Int32Array(nd);
      for (let r = 0; r < rows; r++) {
        ${list((i) => `let p${i} = o${i};`, " ")}
        ${fold}{ ${inner} }
        for (let d = nd - 2; d >= 0; d--) {
          ${list((i) => `o${i} += s${i}[d];`, " ")}
          if (++idx[d] < shape[d]) break;
          idx[d] = 0;
          ${list((i) => `o${i} -= s${i}[d] * shape[d];`, " ")}
        }
      }
    };`;
  loop = new Function("H", src)(helpers) as Loop;
  cache.set(key, loop);
  return loop;
}

/**
 * Simplifies a loop over `shape` for the given operands: drops size-1 dims, optionally orders dims
 * by the strides of operand `orderBy` (largest first, so the inner loop walks its memory), and merges
 * neighbouring dims that every operand steps through evenly. The result runs the same elements.
 */
export function collapse(
  shape: readonly number[],
  views: readonly Operand[],
  orderBy = -1,
): { shape: number[]; ops: Operand[] } {
  let dims = [...shape.keys()].filter((d) => shape[d] !== 1);
  if (orderBy >= 0) {
    const st = views[orderBy]!.strides;
    dims = dims.sort((a, b) => Math.abs(st[b]!) - Math.abs(st[a]!) || a - b);
  }
  const outShape: number[] = [];
  const outStrides: number[][] = views.map(() => []);
  for (const d of dims) {
    const size = shape[d]!;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && views.every((v, i) => outStrides[i]![last] === v.strides[d]! * size);
    if (mergeable) {
      outShape[last]! *= size;
      views.forEach((v, i) => (outStrides[i]![last] = v.strides[d]!));
    } else {
      outShape.push(size);
      views.forEach((v, i) => outStrides[i]!.push(v.strides[d]!));
    }
  }
  return { shape: outShape, ops: views.map((v, i) => ({ data: v.data, strides: outStrides[i]!, offset: v.offset })) };
}

/** Runs a compiled loop over views that share `shape`, after collapsing their dims. */
export function run(
  loop: Loop,
  shape: readonly number[],
  views: readonly Operand[],
  extra?: readonly number[],
  orderBy = -1,
): void {
  for (const d of shape) if (d === 0) return;
  const c = collapse(shape, views, orderBy);
  loop(c.shape, c.ops, extra);
}

/** A view's operand with the strides of some dims replaced (e.g. zeroed for a reduction). */
export function withStrides(v: View, strides: readonly number[]): Operand {
  return { data: v.data, strides, offset: v.offset };
}
