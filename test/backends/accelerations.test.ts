// The one parity driver for accelerations (src/backends/accelerations.ts): on every available
// backend, every fused kernel it registers runs against its op-by-op fallback over that backend's
// own required kernels (src/backends/fallback/, the definition), on random inputs of odd sizes
// (below and above the native thresholds) at an offset inside a NaN-padded buffer, so a write
// outside a view shows. The CASES table is typed by AccelName: a new acceleration without a case
// here does not compile.
//
// Tolerances, as the kernels claim them: optimizer updates and ReLU's backward are bit for bit
// everywhere (they round where the fallback rounds), NaN/±Inf gradients included; softmax is bit
// for bit on js and within 2 ulps of max(|y|, 1) (log-softmax: of 1 + log n; gradients: of
// n·max|g|) natively, where the fused exp/log and the element-wise ones are different vectorised
// code. The fused cells compute each element in doubles and round once, the fallback rounds after
// every operation:
// |Δ| ≤ 1e-5·(1 + |ref|) in float32, 1e-12·(1 + |ref|) in float64.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { allocArray } from "../../src/core/dtype.js";
import { Generator } from "../../src/core/random.js";
import type { View } from "../../src/backends/backend.js";
import {
  availableBackends,
  backend,
  fallbacks,
  setBackend,
  type Accelerations,
  type AccelName,
  type Backend,
} from "../../src/backends/index.js";

type DT = "float32" | "float64";
const gen = new Generator(12);

interface Opts {
  scale?: number;
  positive?: boolean;
  hostile?: boolean;
  /** Extra elements after each row of a 2-D view (a row stride above its width). */
  pad?: number;
}

/** A [rows, cols] (or [n]) view at offset 3 in a NaN-padded buffer. */
function view(dtype: DT, shape: number[], o: Opts = {}): View {
  const [rows, cols] = shape.length === 1 ? [1, shape[0]!] : [shape[0]!, shape[1]!];
  const rs = cols + (o.pad ?? 0);
  const data = allocArray(dtype, rows * rs + 7).fill(NaN);
  const scale = o.scale ?? 1;
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const u = gen.uniform();
      data[3 + r * rs + c] = o.positive ? u * scale : (u * 2 - 1) * scale;
    }
  const n = rows * cols;
  if (o.hostile) [NaN, Infinity, -Infinity, -0].forEach((v, i) => i < n && (data[3 + ((i * 5) % n)] = v));
  return { data, shape, strides: shape.length === 1 ? [1] : [rs, 1], offset: 3 };
}
const copy = (v: View | null): View | null => v && { ...v, data: v.data.slice() };

type Tol = { ulps: number; scale: number } | { rel: number };

/** Whole buffers, padding included: bit for bit, or within the tolerance. */
function assertClose(got: View, want: View, what: string, tol: Tol): void {
  const eps = got.data instanceof Float32Array ? 2 ** -23 : 2 ** -52;
  for (let i = 0; i < got.data.length; i++) {
    const x = got.data[i]!;
    const y = want.data[i]!;
    if (Object.is(x, y) || (x !== x && y !== y)) continue;
    const ok =
      "rel" in tol
        ? Math.abs(x - y) <= tol.rel * (1 + Math.abs(y))
        : tol.ulps > 0 && Math.abs(x - y) <= tol.ulps * eps * Math.max(Math.abs(y), tol.scale);
    if (!ok) assert.fail(`${what}: element ${i}: accelerated ${x}, fallback ${y}`);
  }
}

/** One call: the views (written ones included), how to make it on a table, and the tolerance. */
interface Call {
  readonly label: string;
  readonly views: (View | null)[];
  run(a: Accelerations, v: (View | null)[]): void;
  readonly tol: Tol;
}
type Case = (dtype: DT, exactOnly: boolean) => Call[];

const EXACT: Tol = { ulps: 0, scale: 1 };
const OPT_SIZES = [1, 7, 130, 1031];
const CELLS: [number, number][] = [
  [1, 1],
  [3, 5],
  [4, 33],
];
const cellTol = (dtype: DT): Tol => ({ rel: dtype === "float32" ? 1e-5 : 1e-12 });

/** Each optimizer call over sizes, plain and with NaN/±Inf in the gradient. */
function optim(
  dtype: DT,
  states: number,
  make: (n: number) => Omit<Call, "tol" | "views"> & { nulls?: number[] },
): Call[] {
  const out: Call[] = [];
  for (const n of OPT_SIZES)
    for (const hostile of [false, true]) {
      const c = make(n);
      const views: (View | null)[] = [view(dtype, [n]), view(dtype, [n], { scale: 2, hostile })];
      for (let s = 0; s < states; s++)
        views.push(c.nulls?.includes(s) ? null : view(dtype, [n], { scale: 0.5, positive: true }));
      out.push({ ...c, label: `${c.label} n=${n}${hostile ? " NaN/Inf" : ""}`, views, tol: EXACT });
    }
  return out;
}

/** Rows × row length for softmax: one element, odd, and past the native thresholds. */
const SOFTMAX_SHAPES = [
  [1, 1],
  [3, 7],
  [5, 130],
  [2, 257],
] as const;

/** A contiguous view of any shape at offset 3 in a NaN-padded buffer (attention's operands). */
function viewN(dtype: DT, shape: number[], scale = 1): View {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = allocArray(dtype, n + 7).fill(NaN);
  for (let i = 0; i < n; i++) data[3 + i] = (gen.uniform() * 2 - 1) * scale;
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  return { data, shape, strides, offset: 3 };
}

/**
 * A [B, H, rows, cols] view whose last dim is contiguous but the rest is not, in a NaN-padded buffer:
 * "cache" is the prefix of a buffer [B, H, rows + 3, cols + 2] (a preallocated KV cache's filled
 * rows; the +2 tests a row stride above the width), "heads" the [B, rows, H, 3·cols] layout of a fused
 * qkv projection with its middle third taken and dims 1, 2 swapped.
 */
function viewStrided(dtype: DT, [B, H, R, C]: [number, number, number, number], kind: "cache" | "heads"): View {
  const strides =
    kind === "cache" ? [H * (R + 3) * (C + 2), (R + 3) * (C + 2), C + 2, 1] : [R * H * 3 * C, 3 * C, H * 3 * C, 1];
  const offset = 3 + (kind === "heads" ? C : 0);
  const span = kind === "cache" ? B * H * (R + 3) * (C + 2) : B * R * H * 3 * C;
  const data = allocArray(dtype, span + 7).fill(NaN);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let r = 0; r < R; r++)
        for (let c = 0; c < C; c++)
          data[offset + b * strides[0]! + h * strides[1]! + r * strides[2]! + c] = gen.uniform() * 2 - 1;
  return { data, shape: [B, H, R, C], strides, offset };
}

/**
 * Attention [B, H, L, S, E, Ev, mask, causal]: one element, odd sizes, key and query blocks past 64;
 * the mask [1, H, L, S] broadcast over B (stride 0) with some −∞ (never a whole row).
 */
const ATTENTION: [number, number, number, number, number, number, boolean, boolean][] = [
  [1, 1, 1, 1, 1, 1, false, false],
  [2, 3, 5, 7, 4, 3, true, false],
  [1, 2, 9, 9, 5, 6, false, true],
  [2, 1, 70, 131, 16, 8, true, true],
];
function attentionCall(
  dt: DT,
  [B, H, L, S, E, Ev, masked, causal]: (typeof ATTENTION)[number],
  backward: boolean,
  strided = false,
): Call {
  let mask: View | null = null;
  if (masked) {
    const m = viewN(dt, [1, H, L, S], 2);
    for (let i = 0; i < H * L * S; i++) if (i % S !== 0 && gen.uniform() < 0.2) m.data[3 + i] = -Infinity;
    mask = { ...m, shape: [B, H, L, S], strides: [0, L * S, S, 1] };
  }
  const c = { scale: 1 / Math.sqrt(E), causal };
  // Both passes also take views with a contiguous last dim only (q as a fused projection's heads, k
  // and v as a KV cache's prefix).
  const views = strided
    ? [
        viewStrided(dt, [B, H, L, E], "heads"),
        viewStrided(dt, [B, H, S, E], "cache"),
        viewStrided(dt, [B, H, S, Ev], "cache"),
        mask,
      ]
    : [viewN(dt, [B, H, L, E]), viewN(dt, [B, H, S, E]), viewN(dt, [B, H, S, Ev]), mask];
  views.push(viewN(dt, [B, H, L, Ev + 1]));
  if (backward)
    views.push(
      viewN(dt, [B, H, L, Ev + 1]),
      viewN(dt, [B, H, L, E]),
      viewN(dt, [B, H, S, E]),
      viewN(dt, [B, H, S, Ev]),
    );
  return {
    label: `${backward ? "attentionBackward" : "attention"} [${[B, H, L, S, E, Ev]}] mask=${masked} causal=${causal}${strided ? " strided" : ""}`,
    views,
    // The backward starts from the forward's ws, so it runs the forward first (on the same table).
    run: (a, [q, k, v, m, ws, gws, dq, dk, dv]) => {
      a.attention(q!, k!, v!, m ?? null, c, ws!);
      if (backward) a.attentionBackward(q!, k!, v!, m ?? null, c, ws!, gws!, dq!, dk!, dv!);
    },
    // online softmax and blocked sums round differently from the fallback's full rows
    tol: { rel: dt === "float32" ? 2e-5 : 1e-12 },
  };
}

/** LayerNorm rows × features: one element, odd, past the native thresholds; with both, one or no affine. */
const NORM: [number, number][] = [
  [1, 1],
  [3, 7],
  [5, 130],
  [160, 131],
];
const AFFINE = [
  [true, true],
  [false, false],
  [true, false],
  [false, true],
] as const;
function layerNormCall(
  dt: DT,
  [R, N]: [number, number],
  [hw, hb]: readonly [boolean, boolean],
  backward: boolean,
): Call {
  const eps = 1e-5;
  const views = [
    view(dt, [R, N], { scale: 3, pad: 2 }),
    hw ? view(dt, [N]) : null,
    hb ? view(dt, [N]) : null,
    view(dt, [R, N]),
    view(dt, [R, 2]),
  ];
  if (backward) views.push(view(dt, [R, N], { pad: 1 }), view(dt, [R, N]), hw ? view(dt, [N]) : null, view(dt, [N]));
  return {
    label: `${backward ? "layerNormBackward" : "layerNorm"} [${R}, ${N}] weight=${hw} bias=${hb}`,
    views,
    // The backward starts from the forward's statistics, so it runs the forward first (on the same table).
    run: (a, [x, w, b, out, st, g, dx, dw, db]) => {
      a.layerNorm(x!, w ?? null, b ?? null, eps, out!, st!);
      if (backward) a.layerNormBackward(g!, x!, w ?? null, st!, dx!, dw ?? null, db ?? null);
    },
    // fused sums in float64 with one rounding; the fallback rounds after every kernel
    tol: { rel: dt === "float32" ? 2e-5 : 1e-12 },
  };
}
/** Linear [M, K, N]: tiny (op by op natively), odd, a generated token's row, a batch. */
const LINEAR: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [1, 128, 384],
  [37, 33, 70],
];

const CASES: { [K in AccelName]: Case } = {
  gelu: (dt) =>
    [1, 63, 64, 1031, 40000].flatMap((n) =>
      [false, true].map((tanh) => ({
        label: `gelu n=${n} tanh=${tanh}`,
        views: [view(dt, [n], { scale: 4, hostile: n > 1 }), view(dt, [n])],
        run: (a: Accelerations, [x, o]: (View | null)[]) => a.gelu(x!, tanh, o!),
        // one rounding against the fallback's five to eight (and erf from one library either way)
        tol: { rel: dt === "float32" ? 1e-5 : 1e-12 },
      })),
    ),
  geluBackward: (dt) =>
    [1, 63, 64, 1031, 40000].flatMap((n) =>
      [false, true].map((tanh) => ({
        label: `geluBackward n=${n} tanh=${tanh}`,
        views: [view(dt, [n], { scale: 2 }), view(dt, [n], { scale: 4, hostile: n > 1 }), view(dt, [n])],
        run: (a: Accelerations, [g, x, o]: (View | null)[]) => a.geluBackward(g!, x!, tanh, o!),
        tol: { rel: dt === "float32" ? 1e-5 : 1e-12 },
      })),
    ),
  layerNorm: (dt) => NORM.flatMap((s) => AFFINE.map((a) => layerNormCall(dt, s, a, false))),
  layerNormBackward: (dt) => NORM.flatMap((s) => AFFINE.map((a) => layerNormCall(dt, s, a, true))),
  linear: (dt) =>
    LINEAR.flatMap(([M, K, N]) =>
      [true, false].map((hasBias) => ({
        label: `linear [${M}, ${K}] x [${N}, ${K}]ᵀ bias=${hasBias}`,
        views: [view(dt, [M, K], { pad: 3 }), view(dt, [N, K]), hasBias ? view(dt, [N]) : null, view(dt, [M, N])],
        run: (a: Accelerations, [x, w, b, o]: (View | null)[]) => a.linear(x!, w!, b ?? null, o!),
        // the same product (the backend's matmul kernel) and the same float addition
        tol: EXACT,
      })),
    ),
  attention: (dt) => ATTENTION.flatMap((c) => [attentionCall(dt, c, false), attentionCall(dt, c, false, true)]),
  attentionBackward: (dt) => ATTENTION.flatMap((c) => [attentionCall(dt, c, true), attentionCall(dt, c, true, true)]),
  adamStep: (dt) =>
    [
      [1, 0, false, false],
      [1, 0.1, true, true],
      [0.999, 0, false, true],
    ].flatMap(([decay, weightDecay, maximize, ams]) => {
      const c = { decay, weightDecay, beta1: 0.9, beta2: 0.99, eps: 1e-8, negStepSize: -0.01, bc2Sqrt: 0.3, maximize };
      return optim(dt, 3, () => ({
        label: `adam ${JSON.stringify(c)} amsgrad=${ams}`,
        nulls: ams ? [] : [2],
        run: (a, [p, g, m, v, x]) => a.adamStep(p!, g!, m!, v!, x ?? null, c as never),
      }));
    }),
  sgdStep: (dt) =>
    [
      { momentum: 0, dampening: 0, nesterov: false, first: false, wd: 0, max: false },
      { momentum: 0.9, dampening: 0, nesterov: false, first: true, wd: 0.01, max: false },
      { momentum: 0.9, dampening: 0.3, nesterov: false, first: false, wd: 0.02, max: true },
      { momentum: 0.8, dampening: 0, nesterov: true, first: false, wd: 0, max: true },
    ].flatMap((o) => {
      const c = { lr: 0.1, ...o, weightDecay: o.wd, maximize: o.max };
      return optim(dt, 1, () => ({
        label: `sgd ${JSON.stringify(o)}`,
        nulls: o.momentum === 0 ? [0] : [],
        run: (a, [p, g, b]) => a.sgdStep(p!, g!, b ?? null, c),
      }));
    }),
  rmspropStep: (dt) =>
    [
      [false, 0, 0, false],
      [true, 0, 0.1, false],
      [false, 0.5, 0, true],
      [true, 0.5, 0.1, true],
    ].flatMap(([centered, momentum, weightDecay, maximize]) => {
      const c = { lr: 0.01, alpha: 0.9, eps: 1e-4, weightDecay, momentum, maximize } as never;
      return optim(dt, 3, () => ({
        label: `rmsprop centered=${centered} momentum=${momentum} wd=${weightDecay}`,
        nulls: [...(centered ? [] : [1]), ...(momentum ? [] : [2])],
        run: (a, [p, g, s, ga, b]) => a.rmspropStep(p!, g!, s!, ga ?? null, b ?? null, c),
      }));
    }),
  adagradStep: (dt) =>
    [
      [0, false],
      [0.1, true],
    ].flatMap(([weightDecay, maximize]) => {
      const c = { clr: 0.1, weightDecay, eps: 1e-10, maximize } as never;
      return optim(dt, 1, () => ({
        label: `adagrad wd=${weightDecay}`,
        run: (a, [p, g, s]) => a.adagradStep(p!, g!, s!, c),
      }));
    }),
  softmax: (dt, exact) =>
    SOFTMAX_SHAPES.flatMap(([r, n]) =>
      [false, true].map((log) => ({
        label: `softmax log=${log} [${r}, ${n}]`,
        views: [view(dt, [r!, n!], { scale: 20 }), view(dt, [r!, n!])],
        run: (a: Accelerations, [x, y]: (View | null)[]) => a.softmax(x!, log, y!),
        // an ulp of log Σe (≤ log n + 1) moves every log-softmax output by an ulp of it
        tol: exact ? EXACT : { ulps: 2, scale: log ? 1 + Math.log(n!) : 1 },
      })),
    ),
  softmaxBackward: (dt, exact) =>
    SOFTMAX_SHAPES.flatMap(([r, n]) =>
      [false, true].map((log) => ({
        label: `softmaxBackward log=${log} [${r}, ${n}]`,
        views: [view(dt, [r!, n!], { scale: 2 }), view(dt, [r!, n!], { positive: true }), view(dt, [r!, n!])],
        run: (a: Accelerations, [g, y, o]: (View | null)[]) => a.softmaxBackward(g!, y!, log, o!),
        tol: exact ? EXACT : { ulps: 2, scale: 2 * n! },
      })),
    ),
  reluBackward: (dt) =>
    [7, 257].map((n) => ({
      label: `reluBackward n=${n}`,
      views: [view(dt, [n], { scale: 2, hostile: true }), view(dt, [n], { hostile: true }), view(dt, [n])],
      run: (a: Accelerations, [g, y, o]: (View | null)[]) => a.reluBackward(g!, y!, o!),
      tol: EXACT,
    })),
  lstmCell: (dt) =>
    CELLS.map(([B, H]) => ({
      label: `lstmCell B=${B} H=${H}`,
      views: [
        view(dt, [B, 4 * H], { scale: 2, pad: 3 }),
        view(dt, [B, 4 * H], { scale: 2 }),
        view(dt, [B, H]),
        view(dt, [B, 7 * H]),
      ],
      run: (a: Accelerations, [x, h, c, o]: (View | null)[]) => a.lstmCell(x!, h!, c!, o!),
      tol: cellTol(dt),
    })),
  lstmCellBackward: (dt) =>
    CELLS.map(([B, H]) => ({
      label: `lstmCellBackward B=${B} H=${H}`,
      views: [
        view(dt, [B, 7 * H], { positive: true }),
        view(dt, [B, H]),
        view(dt, [B, H], { pad: 2 }),
        view(dt, [B, H]),
        view(dt, [B, 4 * H]),
        view(dt, [B, H]),
      ],
      run: (a: Accelerations, [w, c, dh, dc, dg, dp]: (View | null)[]) =>
        a.lstmCellBackward(w!, c!, dh!, dc!, dg!, dp!),
      tol: cellTol(dt),
    })),
  gruCell: (dt) =>
    CELLS.flatMap(([B, H]) =>
      [false, true].map((bias) => ({
        label: `gruCell B=${B} H=${H} bhn=${bias}`,
        views: [
          view(dt, [B, 3 * H], { scale: 2 }),
          view(dt, [B, 3 * H], { scale: 2, pad: 1 }),
          view(dt, [B, H]),
          bias ? { ...view(dt, [1, H]), shape: [B, H], strides: [0, 1] } : null,
          view(dt, [B, 5 * H]),
        ],
        run: (a: Accelerations, [x, h, s, b, o]: (View | null)[]) => a.gruCell(x!, h!, s!, b ?? null, o!),
        tol: cellTol(dt),
      })),
    ),
  gruCellBackward: (dt) =>
    CELLS.map(([B, H]) => ({
      label: `gruCellBackward B=${B} H=${H}`,
      views: [
        view(dt, [B, 5 * H], { positive: true }),
        view(dt, [B, H]),
        view(dt, [B, H]),
        view(dt, [B, 3 * H]),
        view(dt, [B, 3 * H], { pad: 2 }),
        view(dt, [B, H]),
      ],
      run: (a: Accelerations, [w, h, dh, dx, dy, dp]: (View | null)[]) => a.gruCellBackward(w!, h!, dh!, dx!, dy!, dp!),
      tol: cellTol(dt),
    })),
};

function backends(): Backend[] {
  const before = backend().name;
  const all = availableBackends().map((name) => (setBackend(name), backend()));
  setBackend(before);
  return all;
}

describe("every registered acceleration gives its fallback's numbers", () => {
  for (const b of backends()) {
    const reference = fallbacks(b);
    const names = Object.keys(b.accelerations) as AccelName[];
    test(`${b.name}: registers accelerations (${names.join(", ")})`, () => assert.ok(names.length > 0));
    for (const name of names) {
      test(`${b.name}: ${name}`, () => {
        for (const dtype of ["float32", "float64"] as const) {
          for (const call of CASES[name](dtype, b.name === "js")) {
            const got = call.views.map(copy);
            const want = call.views.map(copy);
            call.run(b.accelerations as Accelerations, got);
            call.run(reference, want);
            got.forEach(
              (v, i) => v && assertClose(v, want[i]!, `${name} ${dtype} ${call.label} operand ${i}`, call.tol),
            );
          }
        }
      });
    }
  }
});
