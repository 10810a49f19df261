// gradcheck: compares the analytical Jacobian that backward() produces with a numerical one from
// central differences, in float64, as PyTorch's torch.autograd.gradcheck does. Inputs keep their
// layout: each element is perturbed in place in the input's own storage (through the public
// `data` buffer), so a transposed or sliced view passed as an input reaches the op as that view.
// Also exports a seeded float64 generator so test inputs are reproducible without the core's RNG.

import { noGrad, tensor, type Tensor } from "../../src/index.js";

export interface GradcheckOptions {
  /** Central-difference step. */
  eps?: number;
  atol?: number;
  rtol?: number;
}

export interface GradcheckMismatch {
  /** Position of the input in `inputs`. */
  input: number;
  /** Multi-index of the input element that was perturbed. */
  element: number[];
  /** Multi-index of the output element. */
  output: number[];
  analytic: number;
  numeric: number;
  /** |analytic - numeric| - (atol + rtol·|numeric|); > 0 means a failure. */
  excess: number;
}

export interface GradcheckReport {
  ok: boolean;
  /** The worst entry over all Jacobians (null when every Jacobian is empty). */
  worst: GradcheckMismatch | null;
  /** Entries compared. */
  checked: number;
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k]!;
    idx[k] = d === 0 ? 0 : i % d;
    i = d === 0 ? 0 : Math.floor(i / d);
  }
  return idx;
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Storage positions of every logical element (row-major order) of a strided view. */
function storagePositions(t: Tensor): number[] {
  const n = numel(t.shape);
  const pos = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, t.shape);
    let p = t.offset;
    for (let k = 0; k < idx.length; k++) p += idx[k]! * t.strides[k]!;
    pos[i] = p;
  }
  return pos;
}

function fmtShape(s: readonly number[]): string {
  return `[${s.join(",")}]`;
}

function oneHot(shape: readonly number[], k: number): Tensor {
  const a = new Float64Array(numel(shape));
  a[k] = 1;
  return tensor(a, { shape: [...shape], dtype: "float64" });
}

/** Runs the check and returns the worst entry instead of throwing. */
export function gradcheckReport(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: GradcheckOptions = {},
): GradcheckReport {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  const checkedInputs = inputs.map((t) => t.requiresGrad);
  if (!checkedInputs.some((b) => b)) throw new Error("gradcheck: no input requires grad");
  inputs.forEach((t, i) => {
    if (t.requiresGrad && t.dtype !== "float64") {
      throw new Error(`gradcheck: input ${i} requires grad but is ${t.dtype}; gradcheck needs float64`);
    }
  });

  // Detached views share storage and layout with the inputs; they are perturbed in place.
  const bases = inputs.map((t) => t.detach());
  const positions = bases.map((b, i) => {
    if (!checkedInputs[i]) return [];
    const pos = storagePositions(b);
    if (new Set(pos).size !== pos.length) {
      throw new Error(
        `gradcheck: input ${i} (shape ${fmtShape(b.shape)}, strides ${fmtShape(b.strides)}) has overlapping memory; ` +
          "pass a tensor without stride-0 dims and expand inside fn",
      );
    }
    return pos;
  });

  const out0 = noGrad(() => fn(...bases));
  if (out0.dtype !== "float64") throw new Error(`gradcheck: fn returned ${out0.dtype}, expected float64`);
  const outShape = [...out0.shape];
  const nOut = numel(outShape);

  // Analytical Jacobians, one row per output element: a fresh graph and one-hot upstream gradient each time.
  const analytic: Float64Array[][] = bases.map((b) => {
    const rows: Float64Array[] = [];
    for (let k = 0; k < nOut; k++) rows.push(new Float64Array(numel(b.shape)));
    return rows;
  });
  for (let k = 0; k < nOut; k++) {
    const leaves = bases.map((b, i) => (checkedInputs[i] ? b.detach().requiresGrad_(true) : b));
    const out = fn(...leaves);
    if (!out.requiresGrad) throw new Error("gradcheck: fn's output does not require grad");
    if (out.shape.join(",") !== outShape.join(","))
      throw new Error("gradcheck: fn's output shape changed between calls");
    out.backward(oneHot(outShape, k));
    leaves.forEach((leaf, i) => {
      if (!checkedInputs[i]) return;
      const g = leaf.grad;
      if (g === null) return; // the output does not depend on this input: a zero row
      if (g.shape.join(",") !== leaf.shape.join(",")) {
        throw new Error(
          `gradcheck: grad of input ${i} has shape ${fmtShape(g.shape)}, expected ${fmtShape(leaf.shape)}`,
        );
      }
      if (g.dtype !== "float64") throw new Error(`gradcheck: grad of input ${i} is ${g.dtype}, expected float64`);
      analytic[i]![k]!.set(g.toFlatArray());
    });
  }

  // Numerical Jacobians by central differences, perturbing each storage element in place.
  let worst: GradcheckMismatch | null = null;
  let checked = 0;
  noGrad(() => {
    bases.forEach((b, i) => {
      if (!checkedInputs[i]) return;
      const data = b.data as Float64Array;
      const pos = positions[i]!;
      for (let j = 0; j < pos.length; j++) {
        const p = pos[j]!;
        const orig = data[p]!;
        data[p] = orig + eps;
        if (j === 0 && b.toFlatArray()[0] !== orig + eps) {
          data[p] = orig;
          throw new Error("gradcheck: writing to .data did not change the tensor (is .data a copy?)");
        }
        let plus: ArrayLike<number>;
        let minus: ArrayLike<number>;
        try {
          plus = fn(...bases).toFlatArray();
          data[p] = orig - eps;
          minus = fn(...bases).toFlatArray();
        } finally {
          data[p] = orig; // the caller's tensor is left as it was, even if fn throws
        }
        for (let k = 0; k < nOut; k++) {
          const numeric = (plus[k]! - minus[k]!) / (2 * eps);
          const a = analytic[i]![k]![j]!;
          const diff = Math.abs(a - numeric);
          const excess = Number.isNaN(diff) ? Infinity : diff - (atol + rtol * Math.abs(numeric));
          checked++;
          if (worst === null || excess > worst.excess) {
            worst = {
              input: i,
              element: unravel(j, b.shape),
              output: unravel(k, outShape),
              analytic: a,
              numeric,
              excess,
            };
          }
        }
      }
    });
  });
  const w = worst as GradcheckMismatch | null;
  return { ok: w === null || w.excess <= 0, worst: w, checked };
}

/**
 * Throws an Error describing the worst mismatch when the analytical and numerical Jacobians differ
 * beyond `atol + rtol·|numeric|` anywhere (PyTorch's gradcheck raises the same way; it returns nothing here
 * so that `test(name, () => gradcheck(...))` type-checks).
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): void {
  const r = gradcheckReport(fn, inputs, opts);
  if (!r.ok && r.worst !== null) {
    const w = r.worst;
    throw new Error(
      `gradcheck failed: input ${w.input} element ${fmtShape(w.element)} -> output ${fmtShape(w.output)}: ` +
        `analytic ${w.analytic} vs numeric ${w.numeric} (excess ${w.excess.toExponential(3)}, ${r.checked} entries checked)`,
    );
  }
}

// ---- Reproducible float64 inputs ------------------------------------------------------------

/** mulberry32: a tiny seeded PRNG, independent of the core's generator. */
export function makeRng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface DoubleOpts {
  lo?: number;
  hi?: number;
  seed?: number;
  /** Random sign flips: values in ±[lo, hi] (keeps |x| away from 0 when lo > 0). */
  signed?: boolean;
  requiresGrad?: boolean;
}

/** A float64 tensor with values uniform in [lo, hi] (default [-1, 1]), reproducible by seed. */
export function dtensor(shape: number[], opts: DoubleOpts = {}): Tensor {
  const lo = opts.lo ?? -1;
  const hi = opts.hi ?? 1;
  const rng = makeRng(opts.seed ?? 1234 + numel(shape) * 7 + shape.length);
  const a = new Float64Array(numel(shape));
  for (let i = 0; i < a.length; i++) {
    const v = lo + (hi - lo) * rng();
    a[i] = opts.signed && rng() < 0.5 ? -v : v;
  }
  return tensor(a, { shape, dtype: "float64", requiresGrad: opts.requiresGrad ?? true });
}

/**
 * A float64 tensor whose values are all distinct and at least `gap` apart (a shuffled ramp), so max,
 * min, sort-like ops and kinks at ties are far from any central-difference step.
 */
export function distinctTensor(
  shape: number[],
  opts: { seed?: number; gap?: number; requiresGrad?: boolean } = {},
): Tensor {
  const n = numel(shape);
  const gap = opts.gap ?? 0.1;
  const rng = makeRng(opts.seed ?? 99 + n);
  const vals = Array.from({ length: n }, (_, i) => (i - n / 2) * gap + 0.013);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = vals[i]!;
    vals[i] = vals[j]!;
    vals[j] = t;
  }
  return tensor(Float64Array.from(vals), { shape, dtype: "float64", requiresGrad: opts.requiresGrad ?? true });
}
