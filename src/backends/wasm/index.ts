// The WebAssembly backend: the js backend's kernels with the costly float32 ones (matrix product,
// im2col, col2im) compiled from wasm/*.c to wasm32 + SIMD128 (wasm/descent.wasm, built by
// `node wasm/build.mjs` and shipped in the package). It runs wherever WebAssembly does: in Node the
// module is read and compiled synchronously at the first backend() call; a browser calls
// `initWasm(url or bytes)` first. Storage is hostStorage (heap.ts copies operands in per call), so
// tensors move between js, native and wasm for free. In Node large products also run on worker
// threads (threads.ts) with descent-mt.wasm over a shared memory; elsewhere on one thread.

import { DescentError } from "../../core/errors.js";
import { packageFile } from "../../core/package_files.js";
import type { Backend } from "../backend.js";
import { jsBackend } from "../js/index.js";
import { hostStorage } from "../storage.js";
import { Heap, webAssembly, type WasmExports, type WasmMemory, type WasmModule } from "./heap.js";
import { wasmKernels, type WasmLimits } from "./kernels.js";
import { ThreadPool } from "./threads.js";

/** Where the modules live, from src/backends/wasm/ and from dist/backends/wasm/ alike. */
export const WASM_URL = new URL("../../../wasm/descent.wasm", import.meta.url);
/** The shared memory's limits in 64 KiB pages: the module needs ~1.4 MB to start; 2 GiB at most (its --max-memory). */
const MT_PAGES = { initial: 64, maximum: 32768 };

let loaded: Backend | undefined;

function wasmApi(): NonNullable<typeof webAssembly> {
  if (!webAssembly) throw new DescentError("wasm backend: this JavaScript runtime has no WebAssembly");
  return webAssembly;
}
let failure: string | undefined;

export interface WasmOptions {
  /** The module is descent-mt.wasm: instantiate it on a shared memory and run large products on `threads` threads. */
  readonly threaded?: boolean;
  /** Threads counting the caller (default: the CPUs Node may use); setNumThreads changes it. */
  readonly threads?: number;
  /** Size thresholds (tests set them to 0 to reach the wasm code at every size). */
  readonly limits?: Partial<WasmLimits>;
}

/** The wasm Backend over a compiled descent.wasm (or, `threaded`, descent-mt.wasm) module. */
export function wasmBackend(module: WasmModule, opts: WasmOptions = {}): Backend {
  const api = wasmApi();
  let memory: WasmMemory | undefined;
  if (opts.threaded) memory = new api.Memory({ ...MT_PAGES, shared: true });
  const exports = new api.Instance(module, memory ? { env: { memory } } : {}).exports as unknown as WasmExports;
  const heap = new Heap(exports, memory ?? exports.memory!);
  const pool = memory ? new ThreadPool(heap, module, opts.threads ?? defaultThreads()) : undefined;
  const js = jsBackend.kernels;
  return {
    name: "wasm",
    kernels: { ...js, ...wasmKernels(heap, js, pool, opts.limits) },
    accelerations: jsBackend.accelerations, // the js fused kernels work on the same host arrays
    threads: pool ? { get: () => pool.threads, set: (n) => (pool.threads = n) } : undefined,
    ...hostStorage,
  };
}

function defaultThreads(): number {
  return globalThis.process?.getBuiltinModule?.("node:os")?.availableParallelism() ?? 1;
}

/**
 * Reads and compiles a module file synchronously (Node: node:fs without a static import, so bundles for
 * browsers need no shim). By default the file is found from the package root (wasm/descent.wasm): the
 * calling module sits at another depth in src/ and in the dist/ bundle.
 */
export function readWasm(from?: URL, name = "descent.wasm"): { module: WasmModule } | { error: string } {
  try {
    const fs = globalThis.process?.getBuiltinModule?.("node:fs");
    const url = globalThis.process?.getBuiltinModule?.("node:url");
    if (!fs || !url) throw new Error("no synchronous file access here: call initWasm(url or bytes) first");
    const path = from ? url.fileURLToPath(from) : packageFile(`wasm/${name}`);
    return { module: new (wasmApi().Module)(fs.readFileSync(path)) };
  } catch (e) {
    return { error: e instanceof Error ? e.message.split("\n")[0]! : String(e) };
  }
}

/** wasm/descent.wasm's backend, read and compiled once (Node); undefined when it cannot load (wasmUnavailable says why). */
export function loadWasm(): Backend | undefined {
  if (loaded || failure !== undefined) return loaded;
  const mt = canThread() ? readWasm(undefined, "descent-mt.wasm") : undefined;
  if (mt && "module" in mt) return (loaded = wasmBackend(mt.module, { threaded: true }));
  const r = readWasm();
  if ("error" in r) failure = r.error;
  else loaded = wasmBackend(r.module);
  return loaded;
}

/** Worker threads and shared memory exist here (Node; a browser page would also need cross-origin isolation). */
function canThread(): boolean {
  return typeof SharedArrayBuffer === "function" && !!globalThis.process?.getBuiltinModule?.("node:worker_threads");
}

/**
 * Compiles the wasm backend's module (wasm/descent.wasm) asynchronously, for browsers, where there is
 * no synchronous file access and a large synchronous compile is refused on the main thread: from its
 * bytes, a Response, or a URL (default: the module beside the package). After it resolves,
 * `setBackend("wasm")` works. Node needs no call (the module loads on first use); there it does nothing.
 */
export async function compileWasm(source?: ArrayBuffer | ArrayBufferView | Response | URL | string): Promise<void> {
  if (loaded) return;
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
}

/** The error for a wasm backend that did not load (DESCENT_BACKEND=wasm, setBackend("wasm")). */
export function wasmUnavailable(op: string, why = failure ?? "not loaded"): DescentError {
  return new DescentError(
    `${op}: the wasm backend is unavailable: wasm/descent.wasm did not load (${why}). ` +
      "Build it with `node wasm/build.mjs` (needs clang and lld: apt install clang lld), or in a browser call " +
      "`await initWasm(urlOrBytes)` first.",
  );
}
