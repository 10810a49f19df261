// The WebAssembly backend: the js backend's kernels with the costly float32 ones (matrix product,
// im2col, col2im) compiled from wasm/*.c to wasm32 + SIMD128 (wasm/descent.wasm, built by
// `node wasm/build.mjs` and shipped in the package). It runs wherever WebAssembly does: in Node the
// module is read and compiled synchronously at the first backend() call; a browser calls
// `initWasm(url or bytes)` first. Storage is hostStorage (heap.ts copies operands in per call), so
// tensors move between js, native and wasm for free. Single-threaded: a worker pool over a shared
// memory is the next step (README, "wasm").

import { DescentError } from "../../core/errors.js";
import type { Backend } from "../backend.js";
import { jsBackend } from "../js/index.js";
import { hostStorage } from "../storage.js";
import { Heap, webAssembly, type WasmExports, type WasmModule } from "./heap.js";
import { wasmKernels, type WasmLimits } from "./kernels.js";

/** Where the module lives, from src/backends/wasm/ and from dist/backends/wasm/ alike. */
export const WASM_URL = new URL("../../../wasm/descent.wasm", import.meta.url);

let loaded: Backend | undefined;

function wasmApi(): NonNullable<typeof webAssembly> {
  if (!webAssembly) throw new DescentError("wasm backend: this JavaScript runtime has no WebAssembly");
  return webAssembly;
}
let failure: string | undefined;

/** The wasm Backend over a compiled descent.wasm module; `limits` moves the size thresholds (tests: 0). */
export function wasmBackend(module: WasmModule, limits?: WasmLimits): Backend {
  const instance = new (wasmApi().Instance)(module, {});
  const heap = new Heap(instance.exports as unknown as WasmExports);
  const js = jsBackend.kernels;
  return {
    name: "wasm",
    kernels: { ...js, ...wasmKernels(heap, js, limits) },
    accelerations: jsBackend.accelerations, // the js fused kernels work on the same host arrays
    ...hostStorage,
  };
}

/** Reads and compiles a module file synchronously (Node: node:fs without a static import, so bundles for browsers need no shim). */
export function readWasm(from: URL = WASM_URL): { module: WasmModule } | { error: string } {
  try {
    const fs = globalThis.process?.getBuiltinModule?.("node:fs");
    const url = globalThis.process?.getBuiltinModule?.("node:url");
    if (!fs || !url) throw new Error("no synchronous file access here: call initWasm(url or bytes) first");
    return { module: new (wasmApi().Module)(fs.readFileSync(url.fileURLToPath(from))) };
  } catch (e) {
    return { error: e instanceof Error ? e.message.split("\n")[0]! : String(e) };
  }
}

/** wasm/descent.wasm's backend, read and compiled once (Node); undefined when it cannot load (wasmUnavailable says why). */
export function loadWasm(): Backend | undefined {
  if (loaded || failure !== undefined) return loaded;
  const r = readWasm();
  if ("error" in r) failure = r.error;
  else loaded = wasmBackend(r.module);
  return loaded;
}

/**
 * Compiles descent.wasm asynchronously (browsers, where a large synchronous compile is refused on
 * the main thread) from bytes, a Response, or a URL (default: the module beside the package); after
 * it resolves, setBackend("wasm") works. Returns the backend.
 */
export async function initWasm(source?: ArrayBuffer | ArrayBufferView | Response | URL | string): Promise<Backend> {
  if (loaded) return loaded;
  let bytes: ArrayBuffer | ArrayBufferView;
  if (source === undefined || typeof source === "string" || source instanceof URL) {
    const res = await fetch(source ?? WASM_URL);
    if (!res.ok) throw new DescentError(`initWasm: fetching ${String(source ?? WASM_URL)} gave HTTP ${res.status}`);
    bytes = await res.arrayBuffer();
  } else if (source instanceof Response) {
    bytes = await source.arrayBuffer();
  } else {
    bytes = source;
  }
  loaded = wasmBackend(await wasmApi().compile(bytes));
  failure = undefined;
  return loaded;
}

/** The error for a wasm backend that did not load (DESCENT_BACKEND=wasm, setBackend("wasm")). */
export function wasmUnavailable(op: string, why = failure ?? "not loaded"): DescentError {
  return new DescentError(
    `${op}: the wasm backend is unavailable: ${WASM_URL.pathname} did not load (${why}). ` +
      "Build it with `node wasm/build.mjs` (needs clang and lld: apt install clang lld), or in a browser call " +
      "`await initWasm(urlOrBytes)` first.",
  );
}
