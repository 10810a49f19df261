// The generator's uniform and normal fills in the native addon (native/random.cc, registered by
// initNative): the same values and the same state (and Box-Muller spare) afterwards as the
// WebAssembly module's fill and as one Generator.uniform() / normal() call per element (the
// JavaScript definition), for float32 and float64, with and without scale and offset, at sizes
// around the module's block (8192) and the thresholds (32, 4096), odd and even, with a spare pending
// or not, from several seeds; float fills of 32 values or more go to the addon once the native
// backend is initialised; bad arguments are refused. The normal fill exists where the running Node
// exports V8's Math functions (Node on Linux): its test says so and skips elsewhere. Skipped, saying
// so, when the addon was not built.

import { test } from "node:test";
import assert from "node:assert/strict";
import { Generator, setNativeNormalFill, setNativeUniformFill, type NativeNormalFill } from "../../src/core/random.js";
import { initNative, nativeAddon, loadAddon, type Addon } from "../../src/backends/native/index.js";
import { rand, randn } from "../../src/tensor/creation.js";

const addon = nativeAddon();
const skip = addon ? false : "native addon not built (npm install could not compile native/); js backend only";

type Floats = Float32Array | Float64Array;

/** out[i] = g.uniform() (× scale + offset), one call per element: the JavaScript definition. */
function byCalls(g: Generator, out: Floats, scale?: number, offset?: number): void {
  const affine = scale !== undefined || offset !== undefined;
  for (let i = 0; i < out.length; i++) out[i] = affine ? g.uniform() * (scale ?? 1) + (offset ?? 0) : g.uniform();
}

test(
  "the addon's uniform fill equals the WebAssembly fill and one uniform() per element, values and state",
  { skip },
  () => {
    const params: [number | undefined, number | undefined][] = [
      [undefined, undefined],
      [0.0714, undefined],
      [undefined, -3.5],
      [2 * 0.0357142857, -0.0357142857], // Linear(784, ·)'s kaiming bound
      [1e-30, 1e30],
    ];
    try {
      for (const seed of [0, 1, 12345, 2 ** 40 + 7])
        for (const n of [32, 33, 4095, 4096, 8192, 8193, 70001])
          for (const Ctor of [Float32Array, Float64Array])
            for (const [scale, offset] of params) {
              const what = `seed ${seed}, n ${n}, ${Ctor.name}, scale ${scale}, offset ${offset}`;
              const native = new Ctor(n),
                wasm = new Ctor(n),
                calls = new Ctor(n);
              const gn = new Generator(seed),
                gw = new Generator(seed),
                gc = new Generator(seed);
              gn.normal(); // a Box-Muller spare pending: a uniform fill leaves it as it is
              gw.normal();
              gc.normal();
              setNativeUniformFill(addon!.fillUniform);
              gn.fillUniform(native, scale, offset);
              setNativeUniformFill(null);
              gw.fillUniform(wasm, scale, offset);
              byCalls(gc, calls, scale, offset);
              assert.deepEqual(native, calls, what);
              assert.deepEqual(wasm, calls, what);
              assert.deepEqual(gn.getState(), gc.getState(), what);
              assert.deepEqual(gw.getState(), gc.getState(), what);
            }
    } finally {
      setNativeUniformFill(addon?.fillUniform ?? null);
    }
  },
);

test(
  "the addon's normal fill equals the WebAssembly fill and one normal() per element, values, state and spare",
  {
    skip:
      skip || (addon!.fillNormal ? false : "this Node exports no v8::base::ieee754 functions: no native normal fill"),
  },
  () => {
    const params: [number | undefined, number | undefined][] = [
      [undefined, undefined],
      [0.02, undefined],
      [undefined, 1.5],
      [0.37, -2.25],
    ];
    try {
      for (const seed of [0, 7, 2 ** 33 + 5])
        for (const n of [32, 33, 4095, 8192, 8193, 20001])
          for (const Ctor of [Float32Array, Float64Array])
            for (const spare of [false, true])
              for (const [std, mean] of params) {
                const what = `seed ${seed}, n ${n}, ${Ctor.name}, spare ${spare}, std ${std}, mean ${mean}`;
                const native = new Ctor(n),
                  wasm = new Ctor(n),
                  calls = new Ctor(n);
                const gn = new Generator(seed),
                  gw = new Generator(seed),
                  gc = new Generator(seed);
                if (spare) for (const g of [gn, gw, gc]) g.normal();
                setNativeNormalFill(addon!.fillNormal!);
                gn.fillNormal(native, std, mean);
                setNativeNormalFill(null);
                gw.fillNormal(wasm, std, mean);
                const affine = std !== undefined || mean !== undefined;
                for (let i = 0; i < n; i++) calls[i] = affine ? gc.normal() * (std ?? 1) + (mean ?? 0) : gc.normal();
                assert.deepEqual(native, calls, what);
                assert.deepEqual(wasm, calls, what);
                assert.deepEqual(gn.getState(), gc.getState(), what);
                assert.deepEqual(gw.getState(), gc.getState(), what);
              }
    } finally {
      setNativeNormalFill(addon?.fillNormal ?? null);
    }
  },
);

test("a normal fill that draws other values than normal() is not taken", () => {
  const fills: number[] = [];
  // normal()'s values but for one last bit (as a libm cosine would differ from V8's), in JavaScript.
  const offByOne: NativeNormalFill = (out, offset, pairs, state, a, b, affine) => {
    fills.push(pairs);
    const g = new Generator(0);
    g.setState({ s: [state[0]!, state[1]!, state[2]!, state[3]!], spare: null });
    const exact = Float64Array.from({ length: 2 * pairs }, () => (affine ? g.normal() * a + b : g.normal()));
    state.set(g.getState().s);
    const bits = new DataView(exact.buffer);
    bits.setUint32(8 * 300, bits.getUint32(8 * 300, true) ^ 1, true);
    out.set(exact, offset);
  };
  try {
    setNativeNormalFill(offByOne);
    assert.deepEqual(fills, [256], "the check drew its 256 pairs through the candidate");
    const out = new Float64Array(1000);
    new Generator(11).fillNormal(out);
    assert.deepEqual(fills, [256], "refused: later fills do not reach it");
    const g = new Generator(11);
    assert.ok(out.every((v) => v === g.normal()));
  } finally {
    setNativeNormalFill(addon?.fillNormal ?? null);
  }
});

test("once the native backend is initialised, float fills of 32 values or more run in the addon", { skip }, () => {
  const sizes: number[] = [];
  const real = loadAddon();
  assert.ok("addon" in real);
  const fillUniform: Addon["fillUniform"] = (out, state, a, b, affine) => {
    sizes.push(out.length);
    real.addon.fillUniform(out, state, a, b, affine);
  };
  // The addon's other functions through the prototype (its own properties are read-only).
  const normals: number[] = [];
  const fillNormal: NonNullable<Addon["fillNormal"]> = (out, offset, pairs, state, a, b, affine) => {
    normals.push(pairs);
    real.addon.fillNormal!(out, offset, pairs, state, a, b, affine);
  };
  const spy = Object.create(real.addon, {
    fillUniform: { value: fillUniform },
    ...(real.addon.fillNormal ? { fillNormal: { value: fillNormal } } : {}),
  }) as Addon;
  try {
    initNative(true, () => ({ addon: spy }));
    rand([1]); // the first op initialises the backend (over the same addon): its fills register again
    sizes.length = 0;
    normals.length = 0;
    rand([31]); // below the threshold: JavaScript
    rand([32]);
    rand([100, 50], { dtype: "float64" });
    new Generator(3).fillUniform(new Int32Array(64)); // not a float array: never the addon
    randn([31]);
    randn([65]);
  } finally {
    initNative(true, () => real); // the real addon again
  }
  assert.deepEqual(sizes, [32, 5000]);
  if (real.addon.fillNormal) assert.deepEqual(normals, [32]); // randn([65]): 32 pairs, the last value by normal()
});

test("the addon's uniform fill refuses what it cannot fill", { skip }, () => {
  const state = new Uint32Array([1, 2, 3, 4]);
  assert.throws(() => addon!.fillUniform(new Int32Array(64) as never, state, 1, 0, false), {
    name: "TypeError",
    message: "fillUniform: expected out: Float32Array or Float64Array",
  });
  assert.throws(() => addon!.fillUniform(new Float32Array(64), new Uint32Array(3), 1, 0, false), {
    message: "fillUniform: expected state: Uint32Array(4)",
  });
  assert.throws(() => addon!.fillUniform(new Float32Array(64), new Int32Array(4) as never, 1, 0, false), {
    message: "fillUniform: expected state: Uint32Array(4)",
  });
  if (addon!.fillNormal) {
    assert.throws(() => addon!.fillNormal!(new Float32Array(64), 40, 13, state, 1, 0, false), {
      message: "fillNormal: offset + 2 * pairs must lie inside out",
    });
    assert.throws(() => addon!.fillNormal!(new Float32Array(64), -1, 2, state, 1, 0, false), {
      message: "fillNormal: offset + 2 * pairs must lie inside out",
    });
  }
  assert.deepEqual([...state], [1, 2, 3, 4], "a refused call leaves the state as it was");
});
