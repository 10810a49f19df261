// checkOp: replays one PyTorch-made fixture case (scripts/make_fixtures.py -> test/fixtures/*.json)
// through Descent. It builds the input tensors (requiresGrad where PyTorch recorded a gradient),
// runs fn(...inputs), compares the output's shape, dtype and values, then calls
// out.backward(upstream) and compares every input's .grad with PyTorch's. Also the fixture loader.
//
// Default tolerances, by the dtype of the tensor compared (stated once, here):
//   float64: rtol 1e-10, atol 1e-12  (PyTorch computed in float64; only libm ulps and summation order differ)
//   float32: rtol 1e-5,  atol 1e-6   (a few float32 ulps of rounding and accumulation order)
//   int32:   exact

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { tensor, type Tensor } from "../../src/index.js";
import { compare, describeComparison, type Tolerance } from "./allclose.js";

export type FixtureDType = "float32" | "float64" | "int32";

export interface FixtureTensor {
  shape: number[];
  dtype: FixtureDType;
  /** Flat, row-major; "nan"/"inf"/"-inf" in the file are decoded to numbers by the loader. */
  values: number[];
}

/** One step of a view applied to a leaf before the op (e.g. a transpose), to feed non-contiguous inputs. */
export interface FixtureStep {
  op: string;
  args?: Record<string, unknown>;
}

export interface FixtureInput extends FixtureTensor {
  requiresGrad: boolean;
  view?: FixtureStep[];
}

export interface FixtureCase {
  name: string;
  op: string;
  args: Record<string, unknown>;
  inputs: FixtureInput[];
  output: FixtureTensor;
  /** The gradient handed to out.backward(); absent for forward-only cases. */
  upstream?: FixtureTensor;
  /** PyTorch's .grad of each input (null where the input does not require grad). */
  grads?: (FixtureTensor | null)[];
}

export interface FixtureFile {
  generator: string;
  torch: string;
  cases: FixtureCase[];
}

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures");

const SPECIAL: Record<string, number> = { nan: NaN, inf: Infinity, "-inf": -Infinity };

/** Replaces the strings "nan" / "inf" / "-inf" by numbers, anywhere in a parsed JSON value. */
export function decodeSpecials(v: unknown): unknown {
  if (typeof v === "string") return v in SPECIAL ? SPECIAL[v] : v;
  if (Array.isArray(v)) return v.map(decodeSpecials);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = decodeSpecials(x);
    return out;
  }
  return v;
}

/** Loads test/fixtures/<file> (or an absolute path) with special values decoded. */
export function loadFixtures(file: string): FixtureFile {
  const path = file.startsWith("/") ? file : join(FIXTURE_DIR, file);
  const raw = JSON.parse(readFileSync(path, "utf8")) as { generator: string; torch: string; cases: unknown[] };
  return { generator: raw.generator, torch: raw.torch, cases: raw.cases.map((c) => decodeSpecials(c) as FixtureCase) };
}

/** The fixture files whose names match `pattern` (default: every tensor_*.json), sorted. */
export function fixtureFiles(pattern: RegExp = /^tensor_.*\.json$/): string[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => pattern.test(f))
    .sort();
}

export function typedArray(dtype: FixtureDType, values: readonly number[]): Float32Array | Float64Array | Int32Array {
  if (dtype === "float32") return Float32Array.from(values);
  if (dtype === "float64") return Float64Array.from(values);
  return Int32Array.from(values);
}

/** A Descent tensor holding a fixture tensor's values. */
export function toTensor(t: FixtureTensor, requiresGrad = false): Tensor {
  const opts = requiresGrad
    ? { shape: t.shape, dtype: t.dtype, requiresGrad: true }
    : { shape: t.shape, dtype: t.dtype };
  return tensor(typedArray(t.dtype, t.values), opts);
}

export interface Tolerances extends Tolerance {
  /** For gradients; default: the same as the forward's rtol/atol, or the dtype default. */
  gradRtol?: number;
  gradAtol?: number;
}

export function defaultTolerance(dtype: FixtureDType): Required<Tolerance> {
  if (dtype === "float64") return { rtol: 1e-10, atol: 1e-12 };
  if (dtype === "float32") return { rtol: 1e-5, atol: 1e-6 };
  return { rtol: 0, atol: 0 };
}

function check(what: string, actual: Tensor | null, expected: FixtureTensor, tol: Required<Tolerance>): void {
  assert.ok(actual !== null && actual !== undefined, `${what}: is null, expected shape [${expected.shape.join(",")}]`);
  assert.deepEqual(
    [...actual.shape],
    expected.shape,
    `${what}: shape [${actual.shape.join(",")}] != [${expected.shape.join(",")}]`,
  );
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype ${actual.dtype} != ${expected.dtype}`);
  const c = compare(actual.toFlatArray(), expected.values, tol, expected.shape);
  if (!c.ok) {
    assert.fail(`${what}: ${describeComparison(c, expected.values.length)} (rtol ${tol.rtol}, atol ${tol.atol})`);
  }
}

/**
 * Replays `c`: builds its inputs, runs `fn(...inputs)`, compares the output and, for cases with an
 * upstream gradient, each input's .grad after out.backward(upstream). Integer tensors compare exactly;
 * float tensors with `tol` when given, else the dtype defaults above.
 */
export function checkOp(c: FixtureCase, fn: (...inputs: Tensor[]) => Tensor, tol: Tolerances = {}): void {
  const pick = (dtype: FixtureDType, grad: boolean): Required<Tolerance> => {
    const d = defaultTolerance(dtype);
    if (dtype === "int32") return d;
    const rtol = grad ? (tol.gradRtol ?? tol.rtol) : tol.rtol;
    const atol = grad ? (tol.gradAtol ?? tol.atol) : tol.atol;
    return { rtol: rtol ?? d.rtol, atol: atol ?? d.atol };
  };
  const inputs = c.inputs.map((x) => toTensor(x, x.requiresGrad));
  const out = fn(...inputs);
  check(`${c.name}: output`, out, c.output, pick(c.output.dtype, false));
  if (!c.upstream || !c.grads) return;
  out.backward(toTensor(c.upstream));
  c.grads.forEach((g, i) => {
    if (g === null) return;
    check(`${c.name}: grad of input ${i}`, inputs[i]!.grad, g, pick(g.dtype, true));
  });
}
