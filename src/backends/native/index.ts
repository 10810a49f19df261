// The native backend: the js backend's kernels, with those the Node-API addon (native/, built by
// `npm install` into build/Release) implements swapped in: matmul here, and the element-wise and
// window (im2col, col2im, max pooling) kernels of the files beside it; its accelerations are the
// fused optimizer updates, softmax, ReLU backward (fused.ts) and RNN cells (rnn.ts). int32, mixed dtypes and calls too small to repay the
// crossing stay in JS. The addon reads and writes the tensors' own typed arrays, walking strides
// itself, so views cost no copy.

import { allocArray, arrayOver, DTYPE_BYTES, type DType, type TypedArray } from "../../core/dtype.js";
import { DescentError } from "../../core/errors.js";
import { packageFile } from "../../core/package_files.js";
import {
  setNativeNormalFill,
  setNativeUniformFill,
  type NativeNormalFill,
  type NativeUniformFill,
} from "../../core/random.js";
import type { Backend, View } from "../backend.js";
import { jsBackend } from "../js/index.js";
import { matmulSizes } from "../js/matmul.js";
import { hostStorage } from "../storage.js";
import { windowKernels, type WindowAddon } from "./window.js";
import { nativeFused, type FusedAddon } from "./fused.js";
import { nativeRnnKernels, type RnnAddon } from "./rnn.js";
import { nativeAttention, type AttentionAddon } from "./attention.js";
import { nativeNorm, type NormAddon } from "./norm.js";
import { nativeGelu, type GeluAddon } from "./gelu.js";
import { fallbacks } from "../fallback/index.js";
import { elementwiseKernels, type ElementwiseAddon } from "./elementwise.js";

/** What the addon exports (native/addon.cc, and the kernels of window.cc, fused.cc, elementwise.cc and rnn.cc). */
export interface Addon
  extends WindowAddon, FusedAddon, ElementwiseAddon, RnnAddon, AttentionAddon, NormAddon, GeluAddon {
  /** meta = [nb, M, K, N, aOff, sAm, sAk, bOff, sBk, sBn, cOff, (size, sA, sB) per batch dim]. */
  matmul(
    a: Float32Array | Float64Array,
    b: Float32Array | Float64Array,
    out: Float32Array | Float64Array,
    meta: Float64Array,
  ): void;
  /** The micro-kernel set in use: "avx512", "avx2" or "portable". */
  isa(): string;
  /** Uses a lesser instruction set than the CPU's best (for tests); throws for one it lacks. */
  setIsa(name: "avx512" | "avx2" | "portable"): void;
  /** The generator's bulk uniform fill (native/random.cc): Generator.fillUniform's values and state. */
  fillUniform: NativeUniformFill;
  /** Normal deviates likewise, where the running Node exports V8's Math functions (absent otherwise). */
  fillNormal?: NativeNormalFill;
  /** Threads a large product may use (default: the CPUs in the process's affinity mask). */
  threads(): number;
  setThreads(n: number): void;
}

/**
 * Below this many multiply-adds a product stays in JS. Measured with bench/native_matmul.ts here
 * (float32, n×n·n×n): a native call costs ~0.6 µs; at n = 4 js took 0.42 µs and native 0.97, at
 * n = 8 js 1.76 µs and native 1.08, at 16 js 4.2 and native 1.25.
 */
export const NATIVE_MIN_WORK = 512;

/** Loads build/Release/descent_native.node (from the package root: src/ and the dist/ bundle alike), or says why not. */
export function loadAddon(): { addon: Addon } | { error: string } {
  // process.dlopen, Node's own loader of addon files (require's, without its resolution: ~0.5 ms of W6).
  const proc = (globalThis as { process?: { dlopen?: (m: { exports: unknown }, file: string) => void } }).process;
  if (typeof proc?.dlopen !== "function") return { error: "native addons load only under Node" };
  try {
    const m = { exports: {} as unknown };
    proc.dlopen(m, packageFile("build/Release/descent_native.node"));
    return { addon: m.exports as Addon };
  } catch (e) {
    return { error: e instanceof Error ? e.message.split("\n")[0]! : String(e) };
  }
}

/** The native Backend over a loaded addon; products under `minWork` multiply-adds run in JS. */
export function nativeBackend(addon: Addon, minWork = NATIVE_MIN_WORK): Backend {
  const js = jsBackend.kernels;
  let meta = new Float64Array(11 + 3 * 8);

  function matmul(a: View, b: View, out: View): void {
    const c = out.data;
    const { nd, batch, M, K, N } = matmulSizes(a, b);
    const float = c instanceof Float32Array || c instanceof Float64Array;
    if (!float || a.data.constructor !== c.constructor || b.data.constructor !== c.constructor) {
      js.matmul(a, b, out);
      return;
    }
    if (batch * M * N * K < minWork) {
      js.matmul(a, b, out);
      return;
    }
    const nb = nd - 2;
    if (meta.length < 11 + 3 * nb) meta = new Float64Array(11 + 3 * nb);
    meta[0] = nb;
    meta[1] = M;
    meta[2] = K;
    meta[3] = N;
    meta[4] = a.offset;
    meta[5] = a.strides[nd - 2]!;
    meta[6] = a.strides[nd - 1]!;
    meta[7] = b.offset;
    meta[8] = b.strides[nd - 2]!;
    meta[9] = b.strides[nd - 1]!;
    meta[10] = out.offset;
    for (let d = 0; d < nb; d++) {
      meta[11 + 3 * d] = a.shape[d]!;
      meta[12 + 3 * d] = a.strides[d]!;
      meta[13 + 3 * d] = b.strides[d]!;
    }
    addon.matmul(a.data as Float32Array | Float64Array, b.data as Float32Array | Float64Array, c, meta);
  }

  const kernels = { ...js, ...elementwiseKernels(addon, js), matmul, ...windowKernels(addon, js) };
  // A linear too small for the addon runs op by op on these kernels.
  const small = fallbacks({ kernels, alloc: hostStorage.alloc });
  return {
    name: "native",
    kernels,
    accelerations: {
      ...nativeFused(addon),
      ...nativeRnnKernels(addon),
      ...nativeAttention(addon),
      ...nativeNorm(addon, small, minWork),
      ...nativeGelu(addon),
    },
    threads: { get: () => addon.threads(), set: (n) => addon.setThreads(n) },
    ...hostStorage, // the addon works on the host typed arrays themselves
    allocEmpty,
  };
}

/** Below this many bytes allocEmpty zeroes (cheap there), and Node would pool an unsafe buffer. */
const EMPTY_MIN_BYTES = 64 * 1024;

/**
 * Host storage left unzeroed (Buffer.allocUnsafeSlow: malloc instead of calloc, its own ArrayBuffer).
 * Zeroing a 1024² float32 output costs ~0.12 ms, and the product writes it all over again: at 2
 * threads (~6 ms a product) a fresh output each call ran at 322 GFLOP/s zeroed, 342 unzeroed,
 * 352 into one reused output (bench/native_matmul.ts, Zen 5).
 */
function allocEmpty(dtype: DType, n: number): TypedArray {
  const bytes = n * DTYPE_BYTES[dtype];
  return bytes < EMPTY_MIN_BYTES ? allocArray(dtype, n) : arrayOver(dtype, Buffer.allocUnsafeSlow(bytes).buffer, n);
}

let loaded: Addon | undefined;

/**
 * Loads the addon once and returns the native backend, or undefined when it is not built (the js
 * backend then serves). `required` (DESCENT_BACKEND=native) turns a failed load into an error.
 * `load` replaces the loader (tests).
 */
export function initNative(required: boolean, load = loadAddon): Backend | undefined {
  const r = loaded && load === loadAddon ? { addon: loaded } : load();
  if ("error" in r) {
    if (!required) return undefined;
    throw new DescentError(
      `DESCENT_BACKEND=native: the native addon did not load (${r.error}). Build it with \`npm rebuild descent-nn\` ` +
        "(needs a C++ compiler, make and python3), or unset DESCENT_BACKEND to use the js backend.",
    );
  }
  loaded = r.addon;
  // Generators' float fills run in the addon from now on (the same values, sooner).
  if (typeof r.addon.fillUniform === "function") setNativeUniformFill(r.addon.fillUniform);
  if (typeof r.addon.fillNormal === "function") setNativeNormalFill(r.addon.fillNormal);
  return nativeBackend(r.addon);
}

/**
 * The addon (loaded here if no op has loaded it yet), or undefined when it is not built: for tests
 * and benchmarks that steer its instruction set or thread count before the first op.
 */
export function nativeAddon(): Addon | undefined {
  if (!loaded) {
    const r = loadAddon();
    if ("addon" in r) loaded = r.addon;
  }
  return loaded;
}
