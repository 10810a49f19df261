// Fuzz target `ops`: random op cases (shapes with empty and 0-d tensors, transposed / stepped /
// expanded views, float32 and float64, NaN / ±Inf / huge / tiny values) run on the js backend and
// on the native backend, results compared. Tolerances follow the parity tests: + − × ÷ sqrt,
// selections and comparisons exact; transcendentals a few ulp; sums and products within
// (n + 2)·eps·Σ|terms|; non-finite results must agree, except in matmul / conv where Σ|a·b| passes
// the dtype's range (native float32 accumulates in float32, as PyTorch; FMA: issue 11, item 7).
// A disagreement throws FuzzMismatch; an error on one backend only is a mismatch too.

import { DescentError, nn, setBackend, tensor, where, type Tensor } from "../../../src/index.js";
import { initNative } from "../../../src/backends/native/index.js";
import type { Rng } from "../rng.js";

export class FuzzMismatch extends Error {
  override name = "FuzzMismatch";
}

type DType = "float32" | "float64";
const F = nn.functional;
const FLT_MAX = 3.4028234663852886e38;

/** How an op's results are compared: exact, ulp-relative, or scaled by a magnitude (sums, products). */
type Cmp =
  | { kind: "exact" }
  | { kind: "rel"; ulps: number }
  | { kind: "sum"; mag: (xs: Tensor[]) => Tensor; n: number; accF32?: boolean };

interface Input {
  shape: number[];
  stored: number[];
  view: string;
  values: Float64Array;
}

interface Case {
  inputs: Input[];
  dtype: DType;
  label: string;
  run: (xs: Tensor[]) => Tensor;
  cmp: Cmp;
}

const UNARY_EXACT = ["neg", "abs", "relu", "floor", "ceil", "round", "sign", "sqrt", "square", "isNan"] as const;
const UNARY_REL = [
  "exp",
  "log",
  "sigmoid",
  "tanh",
  "sin",
  "cos",
  "erf",
  "rsqrt",
  "reciprocal",
  "gelu",
  "silu",
  "elu",
] as const;
const BINARY_EXACT = ["add", "sub", "mul", "div", "maximum", "minimum", "eq", "lt", "ge"] as const;
const SIZES = [0, 1, 1, 2, 3, 5, 8, 17, 33, 64, 130];

function drawValues(rng: Rng, n: number): Float64Array {
  const scale = rng.pick([1, 1, 1, 10, 1e-30, 1e30, 1e38, 3e38, 1e300]);
  const special = rng.pick([0, 0, 0.02, 0.2]);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++)
    out[i] = rng.chance(special) ? rng.pick([NaN, Infinity, -Infinity, -0, 0, 5e-324, 1e-40]) : rng.normal() * scale;
  return out;
}

function drawShape(rng: Rng, rank: number, cap = 6000): number[] {
  for (;;) {
    const s = Array.from({ length: rank }, () => rng.pick(SIZES));
    if (s.reduce((a, b) => a * b, 1) <= cap) return s;
  }
}

/** An input of `shape` reached through a view: stored transposed, stepped, or expanded from size 1. */
function input(rng: Rng, shape: number[]): Input {
  const view = shape.length === 0 ? "plain" : rng.pick(["plain", "plain", "transposed", "stepped", "expanded"]);
  const stored =
    view === "expanded"
      ? shape.map((d) => (rng.chance(0.5) ? 1 : d))
      : view === "stepped"
        ? shape.map((d) => 2 * d)
        : view === "transposed"
          ? [...shape].reverse()
          : shape;
  return {
    shape,
    stored,
    view,
    values: drawValues(
      rng,
      stored.reduce((a, b) => a * b, 1),
    ),
  };
}

function build(inp: Input, dtype: DType): Tensor {
  const { shape, stored, view, values } = inp;
  const nd = shape.length;
  const t = tensor(Float64Array.from(values), { shape: stored, dtype });
  if (view === "transposed") return t.permute(...Array.from({ length: nd }, (_, i) => nd - 1 - i));
  if (view === "expanded") return t.expand(shape);
  if (view === "stepped") {
    let v = t;
    for (let d = 0; d < nd; d++) v = v.slice(d, 1, undefined, 2);
    return v;
  }
  return t;
}

function makeCase(rng: Rng): Case {
  const dtype: DType = rng.pick(["float32", "float64"]);
  const kind = rng.int(0, 9);
  const abs = (x: Tensor) => x.double().abs();
  if (kind <= 1) {
    const name = rng.pick([...UNARY_EXACT, ...UNARY_REL]);
    const exact = (UNARY_EXACT as readonly string[]).includes(name);
    return {
      inputs: [input(rng, drawShape(rng, rng.int(0, 4)))],
      dtype,
      label: name,
      run: ([x]) => (x as unknown as Record<string, () => Tensor>)[name]!.call(x),
      // gelu = x·(1 + erf(x/√2))/2 cancels for x < 0: its error is relative to |x|, not to the result.
      cmp: exact
        ? { kind: "exact" }
        : name === "gelu"
          ? { kind: "sum", n: 64, mag: ([x]) => abs(x!) }
          : { kind: "rel", ulps: name === "erf" ? 64 : 8 },
    };
  }
  if (kind <= 3) {
    const name = rng.pick([...BINARY_EXACT, "pow"]);
    const shape = drawShape(rng, rng.int(0, 4));
    const other = rng.chance(0.3) ? shape.map((d) => (rng.chance(0.5) ? 1 : d)).slice(rng.int(0, shape.length)) : shape;
    return {
      inputs: [input(rng, shape), input(rng, other)],
      dtype,
      label: name,
      run: ([a, b]) => (a as unknown as Record<string, (o: Tensor) => Tensor>)[name]!.call(a, b!),
      cmp: name === "pow" ? { kind: "rel", ulps: 8 } : { kind: "exact" },
    };
  }
  if (kind === 4) {
    const shape = drawShape(rng, rng.int(0, 3));
    return {
      inputs: [input(rng, shape), input(rng, shape), input(rng, shape)],
      dtype,
      label: "where",
      run: ([c, a, b]) => where(c!.gt(0), a!, b!),
      cmp: { kind: "exact" },
    };
  }
  if (kind <= 6) {
    const rank = rng.int(0, 4);
    const shape = drawShape(rng, rank);
    const dims = rank === 0 ? [] : [...new Set(Array.from({ length: rng.int(1, rank) }, () => rng.int(0, rank - 1)))];
    const keep = rng.chance(0.5);
    const name = rng.pick(["sum", "mean", "amax", "amin", "argmax", "softmax", "logSoftmax", "logSumExp"]);
    const n = dims.reduce((a, d) => a * shape[d]!, 1);
    const d0 = dims[0] ?? 0;
    const ops: Record<string, [(x: Tensor) => Tensor, Cmp]> = {
      sum: [(x) => x.sum(dims, keep), { kind: "sum", n, mag: ([x]) => abs(x!).sum(dims, keep) }],
      mean: [(x) => x.mean(dims, keep), { kind: "sum", n, mag: ([x]) => abs(x!).mean(dims, keep) }],
      amax: [(x) => x.amax(dims, keep), { kind: "exact" }],
      amin: [(x) => x.amin(dims, keep), { kind: "exact" }],
      argmax: [(x) => x.argmax(rank ? d0 : undefined, keep), { kind: "exact" }],
      softmax: [(x) => x.softmax(rank ? d0 : 0), { kind: "sum", n: n + 8, mag: ([x]) => x!.double().mul(0).add(1) }],
      logSoftmax: [
        (x) => x.logSoftmax(rank ? d0 : 0),
        {
          kind: "sum",
          n: n + 8,
          mag: ([x]) =>
            x!
              .double()
              .logSoftmax(rank ? d0 : 0)
              .abs()
              .add(1),
        },
      ],
      logSumExp: [
        (x) => x.logSumExp(dims, keep),
        { kind: "sum", n: n + 8, mag: ([x]) => x!.double().logSumExp(dims, keep).abs().add(1) },
      ],
    };
    const [run, cmp] = ops[name]!;
    return {
      inputs: [input(rng, shape)],
      dtype,
      label: `${name}(${JSON.stringify(dims)}, ${keep})`,
      run: ([x]) => run(x!),
      cmp,
    };
  }
  if (kind <= 8) {
    const batch = drawShape(rng, rng.int(0, 2), 8);
    const [M, K, N] = [rng.pick(SIZES), rng.pick([...SIZES, 300]), rng.pick(SIZES)];
    const bBatch = rng.chance(0.3) ? batch.map(() => 1) : batch;
    return {
      inputs: [input(rng, [...batch, M, K]), input(rng, [...bBatch, K, N])],
      dtype,
      label: `matmul ${JSON.stringify(batch)} ${M}x${K}x${N}`,
      run: ([a, b]) => a!.matmul(b!),
      cmp: { kind: "sum", n: K, accF32: true, mag: ([a, b]) => abs(a!).matmul(abs(b!)) },
    };
  }
  // conv2d / pooling on [N, C, H, W]
  const [Nb, C, H, W] = [rng.int(1, 3), rng.int(1, 3), rng.int(1, 12), rng.int(1, 12)];
  const k = rng.int(1, 3);
  const stride = rng.int(1, 2);
  const pad = rng.int(0, Math.floor(k / 2));
  const which = rng.pick(["conv2d", "maxPool2d", "avgPool2d"]);
  if (which === "conv2d") {
    const O = rng.int(1, 4);
    return {
      inputs: [input(rng, [Nb, C, H, W]), input(rng, [O, C, k, k])],
      dtype,
      label: `conv2d k${k} s${stride} p${pad}`,
      run: ([x, w]) => F.conv2d(x!, w!, null, { stride, padding: pad }),
      cmp: {
        kind: "sum",
        n: C * k * k,
        accF32: true,
        mag: ([x, w]) => F.conv2d(abs(x!), abs(w!), null, { stride, padding: pad }),
      },
    };
  }
  return {
    inputs: [input(rng, [Nb, C, H, W])],
    dtype,
    label: `${which} k${k} s${stride} p${pad}`,
    run: ([x]) =>
      which === "maxPool2d"
        ? F.maxPool2d(x!, k, { stride, padding: pad })
        : F.avgPool2d(x!, k, { stride, padding: pad }),
    cmp:
      which === "maxPool2d"
        ? { kind: "exact" }
        : { kind: "sum", n: k * k, mag: ([x]) => F.avgPool2d(abs(x!), k, { stride, padding: pad }) },
  };
}

function runOn(backend: string, c: Case): { out?: Float64Array; err?: unknown; xs: Tensor[] } {
  setBackend(backend);
  const xs = c.inputs.map((i) => build(i, c.dtype));
  try {
    return { out: Float64Array.from(c.run(xs).toFlatArray() as ArrayLike<number>), xs };
  } catch (e) {
    return { err: e, xs };
  }
}

let native: boolean | undefined;

export function fuzzOps(rng: Rng): () => void {
  native ??= initNative(false) !== undefined;
  if (!native) throw new Error("ops: the native addon is not built (npm install); nothing to compare");
  const c = makeCase(rng);
  return () => compare(c);
}

function compare(c: Case): void {
  const js = runOn("js", c);
  const nat = runOn("native", c);
  const what = `${c.label} ${c.dtype} inputs ${c.inputs.map((i) => `${JSON.stringify(i.shape)}:${i.view}`).join(", ")}`;
  if (js.err || nat.err) {
    if (js.err instanceof DescentError && nat.err instanceof DescentError) throw js.err;
    if (js.err && nat.err && !(js.err instanceof DescentError)) throw js.err;
    throw new FuzzMismatch(`${what}: js ${js.err ? String(js.err) : "ok"}, native ${nat.err ? String(nat.err) : "ok"}`);
  }
  const [g, w] = [nat.out!, js.out!];
  if (g.length !== w.length) throw new FuzzMismatch(`${what}: native gave ${g.length} values, js ${w.length}`);
  const eps = c.dtype === "float32" ? 2 ** -24 : 2 ** -53;
  const tiny = c.dtype === "float32" ? 2 ** -126 : 2 ** -1022;
  let mag: Float64Array | undefined;
  if (c.cmp.kind === "sum") {
    setBackend("js");
    mag = Float64Array.from(c.cmp.mag(js.xs).toFlatArray() as ArrayLike<number>);
  }
  for (let i = 0; i < g.length; i++) {
    const [a, b] = [g[i]!, w[i]!];
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      // Where Σ|terms| passes the dtype's range, the order of additions, FMA and (native float32)
      // float32 accumulation decide between ±Inf, NaN and finite: both answers are accepted.
      const max = c.dtype === "float32" ? FLT_MAX : Number.MAX_VALUE;
      const accepted = c.cmp.kind === "sum" && c.cmp.accF32 && !(mag![i]! * (1 + (c.cmp.n + 2) * eps) <= max);
      if (accepted) continue;
      throw new FuzzMismatch(`${what}: element ${i}: native ${a}, js ${b}`);
    }
    let tol = 0;
    if (c.cmp.kind === "rel") tol = c.cmp.ulps * eps * 2 * Math.abs(b) + c.cmp.ulps * tiny;
    else if (c.cmp.kind === "sum") tol = (c.cmp.n + 2) * 2 * eps * mag![i]! + tiny + eps * Math.abs(b);
    if (!(Math.abs(a - b) <= tol))
      throw new FuzzMismatch(`${what}: element ${i}: native ${a}, js ${b}, tolerance ${tol}`);
  }
}
