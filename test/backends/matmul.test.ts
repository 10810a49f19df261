// Tests of the js backend's matmul kernel against a naive triple loop in float64 that reads every
// operand through its strides. Inputs are hand-built views: transposed (strides swapped over a
// transposed buffer), offset into a NaN-filled buffer (so a stray read shows), and batched with
// stride-0 broadcast dims. Sizes cover 0, 1, odd and just-past-a-block (65, 257) shapes, so the
// small-product path, the packed GEMM, its ragged edges and its K/M/N blocking are all reached.
//
// Tolerance, per element: |got − want| ≤ γ · Σ_p |a_ip·b_pj| (the standard bound for a dot product
// computed in another order). float64: γ = 2K·2⁻⁵³ (K roundings of a double sum, ×2 for slack);
// float32: the inputs are exact doubles and the sum is a double, so what remains is the rounding of
// the result to float32 (2⁻²⁴), once per K block of 256 that is added into the float32 output:
// γ = (⌈K/256⌉ + 1)·2⁻²⁴. int32 must be exact, wrapping modulo 2³² as C does.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { TypedArray } from "../../src/core/dtype.js";
import { allocArray, dtypeOfArray } from "../../src/core/dtype.js";
import { Generator } from "../../src/core/random.js";
import { viewMaker, type Layout } from "../helpers/views.js";
import type { View } from "../../src/backends/backend.js";
import { matmul } from "../../src/backends/js/matmul.js";

const gen = new Generator(1234);
const makeView = viewMaker(gen);

function at(v: View, index: readonly number[]): number {
  let p = v.offset;
  index.forEach((x, d) => (p += x * v.strides[d]!));
  return v.data[p]!;
}

/** For each output element: the float64 sum and Σ|a·b|, the scale its rounding error is bounded by. */
function reference(a: View, b: View): { want: Float64Array; scale: Float64Array } {
  const nd = a.shape.length;
  const [M, K, N] = [a.shape[nd - 2]!, a.shape[nd - 1]!, b.shape[nd - 1]!];
  const batch = a.shape.slice(0, nd - 2).reduce((x, y) => x * y, 1);
  const want = new Float64Array(batch * M * N);
  const scale = new Float64Array(batch * M * N);
  for (let t = 0; t < batch; t++) {
    // Row-major multi-index of batch matrix t.
    const bi = a.shape
      .slice(0, nd - 2)
      .map((_, d) => Math.floor(t / a.shape.slice(d + 1, nd - 2).reduce((x, y) => x * y, 1)) % a.shape[d]!);
    const aBase = bi.reduce((o, x, d) => o + x * a.strides[d]!, a.offset);
    const bBase = bi.reduce((o, x, d) => o + x * b.strides[d]!, b.offset);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        let abs = 0;
        for (let p = 0; p < K; p++) {
          const x =
            a.data[aBase + i * a.strides[nd - 2]! + p * a.strides[nd - 1]!]! *
            b.data[bBase + p * b.strides[nd - 2]! + j * b.strides[nd - 1]!]!;
          s += x;
          abs += Math.abs(x);
        }
        want[(t * M + i) * N + j] = s;
        scale[(t * M + i) * N + j] = abs;
      }
    }
  }
  return { want, scale };
}

/** Runs the kernel into a NaN-prefilled output (so "overwrite, not accumulate" is checked too). */
function run(a: View, b: View, outOffset = 0): TypedArray {
  const nd = a.shape.length;
  const shape = [...a.shape.slice(0, nd - 1), b.shape[nd - 1]!];
  const size = shape.reduce((x, y) => x * y, 1);
  const data = allocArray(dtypeOfArray(a.data), outOffset + size);
  data.fill(data instanceof Int32Array ? 12345 : NaN);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((x, y) => x * y, 1));
  matmul(a, b, { data, shape, strides, offset: outOffset });
  return data.subarray(outOffset);
}

function check(a: View, b: View, label: string, outOffset = 0): void {
  const got = run(a, b, outOffset);
  const { want, scale } = reference(a, b);
  const K = a.shape[a.shape.length - 1]!;
  const gamma = { float64: 2 * K * 2 ** -53, float32: (Math.ceil(K / 256) + 1) * 2 ** -24, int32: 0 }[
    dtypeOfArray(a.data)
  ];
  assert.equal(got.length, want.length, label);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w)) {
      assert.ok(Number.isNaN(g), `${label}: element ${i} is ${g}, expected NaN`);
      continue;
    }
    const err = Math.abs(g - w);
    if (!(err <= gamma * scale[i]! || g === w)) {
      assert.fail(`${label}: element ${i} is ${g}, expected ${w} (error ${err} > ${gamma * scale[i]!})`);
    }
  }
}

const SIZES: readonly (readonly [number, number, number])[] = [
  [0, 3, 4],
  [3, 0, 4],
  [3, 4, 0],
  [1, 1, 1],
  [1, 17, 9],
  [17, 1, 9],
  [3, 3, 3],
  [17, 17, 17],
  [5, 64, 64],
  [64, 64, 64],
  [65, 63, 65],
  [33, 65, 257],
  [130, 9, 31],
];

for (const dtype of ["float32", "float64"] as const) {
  test(`matmul ${dtype}: sizes 0, 1, odd and block edges, all four transpose combinations`, () => {
    for (const [M, N, K] of SIZES) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const a = makeView(dtype, [M, K], { transpose: ta, offset: 5 });
          const b = makeView(dtype, [K, N], { transpose: tb, offset: 2 });
          check(a, b, `${dtype} [${M},${K}]${ta ? "ᵀ" : ""} @ [${K},${N}]${tb ? "ᵀ" : ""}`, 3);
        }
      }
    }
  });
}

test("matmul float32: sizes past every cache block (M > 128, K > 256, N > 2048)", () => {
  check(makeView("float32", [257, 300]), makeView("float32", [300, 70], { transpose: true }), "[257,300]@[300,70]ᵀ");
  check(makeView("float32", [5, 3]), makeView("float32", [3, 2049]), "[5,3]@[3,2049]");
});

test("matmul: batched, with stride-0 broadcast batch dims on either side", () => {
  for (const dtype of ["float32", "float64", "int32"] as const) {
    const draw = dtype === "int32" ? () => gen.randint(11) - 5 : undefined;
    const a = makeView(dtype, [2, 3, 9, 7], { broadcast: [1], offset: 1 }, draw);
    const b = makeView(dtype, [2, 3, 7, 21], { broadcast: [0], transpose: true }, draw);
    check(a, b, `${dtype} batched small`);
    const a2 = makeView(dtype, [3, 2, 40, 33], { broadcast: [0, 1], transpose: true }, draw);
    const b2 = makeView(dtype, [3, 2, 33, 20], { offset: 7 }, draw);
    check(a2, b2, `${dtype} batched gemm`, 2);
  }
});

test("matmul: sliced (step 2) and stride-0 row/column views, through every loop order", () => {
  // The small-product path picks its loop order from the strides, so each order gets odd strides.
  for (const [M, N, K] of [
    [3, 3, 3],
    [1, 5, 4],
    [5, 1, 4],
    [6, 7, 5],
    [20, 19, 21],
  ] as const) {
    for (const dtype of ["float32", "float64"] as const) {
      const layouts: [Layout, Layout][] = [
        [{ step: 2 }, { step: 2, offset: 1 }],
        [{ step: 2, transpose: true }, { step: 3 }],
        [{ step: 2 }, { step: 2, transpose: true }],
        [
          { step: 3, transpose: true },
          { step: 2, transpose: true },
        ],
        [{ broadcast: [1] }, { broadcast: [1] }],
        [
          { broadcast: [0], transpose: true },
          { broadcast: [0], step: 2 },
        ],
      ];
      for (const [la, lb] of layouts) {
        const a = makeView(dtype, [M, K], la);
        const b = makeView(dtype, [K, N], lb);
        check(a, b, `${dtype} [${M},${K}] ${JSON.stringify(la)} @ [${K},${N}] ${JSON.stringify(lb)}`);
      }
    }
  }
});

test("matmul: an empty batch or K = 0 writes what it should", () => {
  const empty = run(makeView("float32", [0, 4, 3]), makeView("float32", [0, 3, 5]));
  assert.equal(empty.length, 0);
  for (const dtype of ["float32", "float64", "int32"] as const) {
    const zeros = run(makeView(dtype, [2, 4, 0]), makeView(dtype, [2, 0, 5]));
    assert.deepEqual(Array.from(zeros), new Array(40).fill(0), dtype);
  }
});

test("matmul int32: exact, wrapping modulo 2^32 like C", () => {
  const big = () => (gen.nextUint32() | 0) >> gen.randint(31);
  for (const [M, N, K] of [
    [3, 5, 7],
    [20, 33, 17],
    [1, 9, 40],
  ] as const) {
    for (const tb of [false, true]) {
      const a = makeView("int32", [M, K], { offset: 2 }, big);
      const b = makeView("int32", [K, N], { transpose: tb }, big);
      const got = run(a, b);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0n;
          for (let p = 0; p < K; p++) s += BigInt(at(a, [i, p])) * BigInt(at(b, [p, j]));
          assert.equal(got[i * N + j], Number(BigInt.asIntN(32, s)), `[${M},${K}]@[${K},${N}] at ${i},${j}`);
        }
      }
    }
  }
});

test("matmul: NaN and ±Infinity propagate as in the naive product", () => {
  for (const [M, N, K] of [
    [3, 4, 5],
    [20, 19, 21],
  ] as const) {
    const a = makeView("float64", [M, K]);
    const b = makeView("float32", [K, N]);
    a.data[a.offset + 1] = Infinity;
    a.data[a.offset + K + 2] = NaN;
    b.data[b.offset + 3] = -Infinity;
    check(
      a,
      makeView("float64", [K, N], {}, () => gen.uniform()),
      `float64 [${M},${K}] with Inf/NaN`,
    );
    const a32 = makeView("float32", [M, K]);
    a32.data[a32.offset] = -Infinity;
    check(a32, b, `float32 [${M},${K}] with ±Inf`);
  }
});
