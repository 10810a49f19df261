// The storage door's optional allocEmpty (src/backends/storage.ts): the matmul and unfold (im2col)
// ops take their outputs unzeroed, which is only right because every backend's matmul and im2col
// kernels write all of `out`. Each
// available backend is run with a poisoned allocEmpty (NaN, or a sentinel for int32) against
// itself with zeroed outputs, over the products that take different kernel paths (js fallback
// below the native threshold, small path, blocked GEMM on two threads, K = 0, batches, broadcast
// and transposed operands, float64, int32; im2col with padding, stride, dilation and a strided
// input): a value the kernel skipped would show the poison.

import { test } from "node:test";
import assert from "node:assert/strict";
import { availableBackends, randn, setBackend, tensor, type Tensor } from "../../src/index.js";
import { backend, registerBackend, type Backend } from "../../src/backends/index.js";
import { allocArray, type DType } from "../../src/core/dtype.js";

const POISON_INT = 0x7eadbeef;

function poisoned(b: Backend, calls: { n: number }): Backend {
  return {
    ...b,
    name: `${b.name}-poisoned`,
    allocEmpty: (dtype: DType, n: number) => {
      calls.n++;
      const s = allocArray(dtype, n);
      s.fill(dtype === "int32" ? POISON_INT : Number.NaN);
      return s;
    },
  };
}

function zeroing(b: Backend): Backend {
  const plain: Backend = { ...b, name: `${b.name}-zeroing` };
  delete plain.allocEmpty;
  return plain;
}

function ints(shape: number[], seed: number): Tensor {
  const n = shape.reduce((x, y) => x * y, 1);
  return tensor(
    Int32Array.from({ length: n }, (_, i) => ((i * 7919 + seed) % 13) - 6),
    { shape },
  );
}

/** [label, a, b] products that reach the kernels' different paths. */
function cases(): [string, () => [Tensor, Tensor]][] {
  return [
    ["tiny (js below the native threshold)", () => [randn([3, 4]), randn([4, 5])]],
    ["64³", () => [randn([64, 64]), randn([64, 64])]],
    ["300² on threads", () => [randn([300, 300]), randn([300, 300])]],
    ["ragged 257×129·129×70", () => [randn([257, 129]), randn([129, 70])]],
    ["row vector", () => [randn([1, 300]), randn([300, 257])]],
    ["column vector", () => [randn([257, 300]), randn([300, 1])]],
    ["K = 0", () => [randn([5, 0]), randn([0, 7])]],
    ["M = 0", () => [randn([0, 6]), randn([6, 7])]],
    ["batched with broadcast", () => [randn([2, 3, 33, 40]), randn([40, 17])]],
    ["transposed operands", () => [randn([90, 70]).transpose(0, 1), randn([120, 90]).transpose(0, 1)]],
    ["float64", () => [randn([70, 80], { dtype: "float64" }), randn([80, 90], { dtype: "float64" })]],
    ["int32", () => [ints([6, 7], 1), ints([7, 8], 2)]],
    ["int32 large", () => [ints([40, 50], 3), ints([50, 60], 4)]],
  ];
}

/**
 * For every available backend, each case's inputs made there and its op run twice: on the backend
 * with zeroed outputs and on the poisoned one, which must hand the op exactly one allocEmpty.
 */
function compareOnEveryBackend<I>(op: string, list: [string, () => I][], run: (inputs: I) => Tensor): void {
  const start = backend().name;
  try {
    for (const name of availableBackends()) {
      if (name.endsWith("-poisoned") || name.endsWith("-zeroing")) continue;
      setBackend(name);
      const calls = { n: 0 };
      registerBackend(poisoned(backend(), calls));
      registerBackend(zeroing(backend()));
      for (const [label, make] of list) {
        setBackend(name);
        const inputs = make();
        setBackend(`${name}-zeroing`);
        const want = run(inputs).toFlatArray();
        setBackend(`${name}-poisoned`);
        const before = calls.n;
        const got = run(inputs).toFlatArray();
        assert.equal(calls.n, before + 1, `${name} ${label}: the ${op} op takes its output from allocEmpty`);
        if (label.includes("padding"))
          assert.ok(
            want.some((v) => v === 0),
            `${label}: the case has padding zeros`,
          );
        assert.deepEqual([...got], [...want], `${name} ${label}`);
      }
    }
  } finally {
    setBackend(start);
  }
}

test("every backend's matmul writes all of its output: poisoned allocEmpty gives the zeroed result", () => {
  compareOnEveryBackend("matmul", cases(), ([a, b]) => a.matmul(b));
});

/** [label, x, window] for im2col: padding (zeros the kernel must write), stride, dilation, a strided input, float64. */
type Window = Parameters<Tensor["im2col"]>[0];
const win = (w: Partial<Window> & Pick<Window, "kernel">): Window => ({
  stride: [1, 1],
  padding: [0, 0],
  dilation: [1, 1],
  ...w,
});

function windows(): [string, () => Tensor, Window][] {
  return [
    ["3×3, padding 1", () => randn([2, 3, 9, 8]), win({ kernel: [3, 3], padding: [1, 1] })],
    ["5×3, stride 2, padding 2", () => randn([1, 2, 11, 7]), win({ kernel: [5, 3], stride: [2, 2], padding: [2, 2] })],
    ["dilation 2, padding 3", () => randn([2, 2, 10, 10]), win({ kernel: [3, 3], dilation: [2, 2], padding: [3, 3] })],
    ["large (native threads)", () => randn([8, 16, 30, 30]), win({ kernel: [3, 3], padding: [1, 1] })],
    ["strided input", () => randn([2, 9, 8, 3]).permute([0, 3, 1, 2]), win({ kernel: [2, 2], padding: [1, 0] })],
    ["float64", () => randn([1, 2, 6, 7], { dtype: "float64" }), win({ kernel: [3, 2], padding: [2, 1] })],
  ];
}

test("every backend's im2col writes all of its output, padding zeros included", () => {
  const list = windows().map(([label, make, window]): [string, () => [Tensor, Window]] => [
    label,
    () => [make(), window],
  ]);
  compareOnEveryBackend("unfold", list, ([x, window]) => x.im2col(window));
});

test("the gradient products also run on unzeroed outputs and match the zeroed ones", () => {
  const start = backend().name;
  try {
    for (const name of availableBackends()) {
      if (name.endsWith("-poisoned") || name.endsWith("-zeroing")) continue;
      const grads = (suffix: string): number[][] => {
        setBackend(`${name}${suffix}`);
        const a = tensor(
          Float32Array.from({ length: 48 * 40 }, (_, i) => Math.sin(i)),
          { shape: [48, 40] },
        );
        const w = tensor(
          Float32Array.from({ length: 30 * 40 }, (_, i) => Math.cos(i)),
          { shape: [30, 40] },
        );
        a.requiresGrad = true;
        w.requiresGrad = true;
        a.matmul(w.transpose(0, 1)).square().sum().backward();
        return [[...a.grad!.toFlatArray()], [...w.grad!.toFlatArray()]];
      };
      setBackend(name);
      registerBackend(poisoned(backend(), { n: 0 }));
      registerBackend(zeroing(backend()));
      assert.deepEqual(grads("-poisoned"), grads("-zeroing"), name);
    }
  } finally {
    setBackend(start);
  }
});

test(
  "native allocEmpty: right dtype and length, its own buffer; small ones zeroed",
  { skip: !availableBackends().includes("native") },
  () => {
    const start = backend().name;
    try {
      setBackend("native");
      const b = backend();
      assert.ok(b.allocEmpty, "the native backend offers allocEmpty");
      for (const [dtype, Ctor] of [
        ["float32", Float32Array],
        ["float64", Float64Array],
        ["int32", Int32Array],
      ] as const) {
        for (const n of [0, 5, 100_000]) {
          const s = b.allocEmpty!(dtype, n);
          assert.ok(s instanceof Ctor, `${dtype} ${n}`);
          assert.equal(s.length, n);
          assert.equal(s.byteOffset, 0);
          assert.equal(s.buffer.byteLength, s.byteLength, "not a slice of a shared pool");
          if (n * s.BYTES_PER_ELEMENT < 64 * 1024)
            assert.ok(
              s.every((v) => v === 0),
              "small ones are zeroed",
            );
        }
      }
    } finally {
      setBackend(start);
    }
  },
);
