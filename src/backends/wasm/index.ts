// The WebAssembly backend: the js backend's kernels with the costly float32 ones (matrix product,
// im2col, col2im) compiled from wasm/*.c to wasm32 + SIMD128 (wasm/descent.wasm, built by
// `node wasm/build.mjs` and shipped in the package). It runs wherever WebAssembly does: in Node the
// module is read and compiled synchronously at the first backend() call; a browser calls
// `initWasm(url or bytes)` first. Storage is hostStorage (heap.ts copies operands in per call), so
// tensors move between js, native and wasm for free. Large products also run on worker threads
// (threads.ts) with descent-mt.wasm over a shared memory: in Node, and in a browser page or worker
// that is cross-origin isolated (SharedArrayBuffer); elsewhere on one thread.

import { DescentError } from "../../core/errors.js";
import { packageFile } from "../../core/package_files.js";
import type { Backend } from "../backend.js";
import { jsBackend } from "../js/index.js";
import { hostStorage } from "../storage.js";
import { Heap, webAssembly, type WasmExports, type WasmMemory, type WasmModule } from "./heap.js";
import { wasmKernels, type WasmLimits } from "./kernels.js";
import { canThread, ThreadPool } from "./threads.js";

/** Where the modules live, from src/backends/wasm/ and from dist/backends/wasm/ alike. */
export const WASM_URL = new URL("../../../wasm/descent.wasm", import.meta.url);
/** The threaded module's file name: a browser fetches it from beside descent.wasm's URL. */
const MT_NAME = "descent-mt.wasm";
/** A browser's default thread count at most (hardwareConcurrency counts SMT siblings; column splits stop paying beyond). */
const MAX_WEB_THREADS = 8;
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
  /** Threads counting the caller (default: the CPUs Node may use, or navigator.hardwareConcurrency up to 8); setNumThreads changes it. */
  readonly threads?: number;
  /** Size thresholds (tests set them to 0 to reach the wasm code at every size). */
  readonly limits?: Partial<WasmLimits>;
}

/** The wasm backend; `pool.jobs` counts the products its worker threads took part in (tests read it). */
export type WasmBackend = Backend & { readonly pool?: { readonly jobs: number } };

/** The wasm Backend over a compiled descent.wasm (or, `threaded`, descent-mt.wasm) module. */
export function wasmBackend(module: WasmModule, opts: WasmOptions = {}): WasmBackend {
  const api = wasmApi();
  let memory: WasmMemory | undefined;
  if (opts.threaded) memory = new api.Memory({ ...MT_PAGES, shared: true });
  const exports = new api.Instance(module, memory ? { env: { memory } } : {}).exports as unknown as WasmExports;
  const heap = new Heap(exports, memory ?? exports.memory!);
  const pool = memory ? new ThreadPool(heap, module, opts.threads ?? defaultThreads()) : undefined;
  // A browser starts workers asynchronously: start them soon, so they are up by the first large
  // product (after a task, so that a setNumThreads count applied at registration comes first).
  if (pool && !globalThis.process?.getBuiltinModule) setTimeout(() => pool.warm(), 0);
  const js = jsBackend.kernels;
  return {
    name: "wasm",
    kernels: { ...js, ...wasmKernels(heap, js, pool, opts.limits) },
    accelerations: jsBackend.accelerations, // the js fused kernels work on the same host arrays
    threads: pool
      ? {
          get: () => pool.threads,
          set: (n) => {
            pool.threads = n;
            if (!globalThis.process?.getBuiltinModule) pool.warm();
          },
        }
      : undefined,
    pool,
    ...hostStorage,
  };
}

function defaultThreads(): number {
  const os = globalThis.process?.getBuiltinModule?.("node:os");
  if (os) return os.availableParallelism();
  const cpus = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return Math.max(1, Math.min(cpus ?? 1, MAX_WEB_THREADS));
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
  const mt = canThread() ? readWasm(undefined, MT_NAME) : undefined;
  if (mt && "module" in mt && (loaded = tryThreaded(mt.module))) return loaded;
  const r = readWasm();
  if ("error" in r) failure = r.error;
  else loaded = wasmBackend(r.module);
  return loaded;
}

/** What initWasm compiles from: the module's bytes, a Response, or a URL (default: the module beside the package). */
export type WasmSource = ArrayBuffer | ArrayBufferView | Response | URL | string;

/**
 * Compiles the wasm backend's module (wasm/descent.wasm) asynchronously, for browsers, where there is
 * no synchronous file access and a large synchronous compile is refused on the main thread. Where
 * the page or worker is cross-origin isolated, it compiles descent-mt.wasm instead (`threaded`; by
 * default fetched from beside a URL source, and skipped when that fails or the source was bytes),
 * so large products run on Web Workers. After it resolves, `setBackend("wasm")` works. Node needs
 * no call (the module loads on first use, threaded there).
 */
export async function compileWasm(source?: WasmSource, threaded?: WasmSource | false): Promise<void> {
  if (loaded) return;
  const api = wasmApi();
  if (threaded !== false && !globalThis.process?.getBuiltinModule && canThread()) {
    const beside = source === undefined || typeof source === "string" || source instanceof URL;
    const mt = threaded ?? (beside ? new URL(MT_NAME, new URL(String(source ?? WASM_URL), baseUrl())) : undefined);
    // The default location may simply not be served: then one thread, as without isolation.
    const module = mt && (await bytesOf(mt).then((b) => api.compile(b), threaded ? undefined : () => undefined));
    // A shared memory reserves its maximum (2 GiB) of address space up front: where that fails, one thread.
    loaded = module ? tryThreaded(module) : undefined;
    if (loaded) {
      failure = undefined;
      return;
    }
  }
  loaded = wasmBackend(await api.compile(await bytesOf(source ?? WASM_URL)));
  failure = undefined;
}

/** The threaded backend, or undefined where its shared memory cannot be made (then one thread). */
function tryThreaded(module: WasmModule): Backend | undefined {
  try {
    return wasmBackend(module, { threaded: true });
  } catch {
    return undefined;
  }
}

async function bytesOf(source: WasmSource): Promise<ArrayBuffer | ArrayBufferView> {
  if (typeof source === "string" || source instanceof URL) {
    const res = await fetch(source);
    if (!res.ok) throw new DescentError(`initWasm: fetching ${String(source)} gave HTTP ${res.status}`);
    return res.arrayBuffer();
  }
  return source instanceof Response ? source.arrayBuffer() : source;
}

/** The URL relative module URLs resolve against (the page's or worker's location). */
function baseUrl(): string | undefined {
  return (globalThis as { location?: { href: string } }).location?.href;
}

/** The error for a wasm backend that did not load (DESCENT_BACKEND=wasm, setBackend("wasm")). */
export function wasmUnavailable(op: string, why = failure ?? "not loaded"): DescentError {
  return new DescentError(
    `${op}: the wasm backend is unavailable: wasm/descent.wasm did not load (${why}). ` +
      "Build it with `node wasm/build.mjs` (needs clang and lld: apt install clang lld), or in a browser call " +
      "`await initWasm(urlOrBytes)` first.",
  );
}
