// Which backend runs the kernels. The choice is one of the two pieces of global state DESIGN.md
// allows; ops read it through `backend()` on every call, so switching takes effect at once.
// Importing this file does nothing: the first `backend()`, `setBackend` or `availableBackends`
// reads DESCENT_BACKEND and tries to load the native addon. In a browser (no addon, no environment)
// the default is js until a "wasm" backend registers, which then becomes the default unless the
// page chose a backend itself.

import { DescentError } from "../core/errors.js";
import { env, isNode } from "../core/platform.js";
import type { Accelerations } from "./accelerations.js";
import type { Backend } from "./backend.js";
import { fallbacks } from "./fallback/index.js";
import { jsBackend } from "./js/index.js";
import { initNative } from "./native/index.js";
import { compileWasm, loadWasm, wasmUnavailable, type WasmSource } from "./wasm/index.js";
export type { WasmSource } from "./wasm/index.js";

const registry = new Map<string, Backend>();
let current: Backend | undefined;
let currentAccel: Accelerations | undefined;
/** Whether the current backend was named (setBackend, DESCENT_BACKEND) rather than defaulted to. */
let named = false;
/** The last setNumThreads count, for a backend that registers later (wasm loads on first ask). */
let numThreads: number | undefined;
const resolved = new WeakMap<Backend, Accelerations>();
const opByOp = new WeakMap<Backend, Accelerations>();

/**
 * DESCENT_BACKEND=js|native|wasm picks the backend at first use; unset, it is native when the addon
 * loads and js otherwise (in a browser: wasm once initWasm() ran, else js). Asking for native when the addon does not load is an error, not a
 * silent fallback.
 */
function init(): Backend {
  const wanted = env("DESCENT_BACKEND") ?? "";
  named = wanted !== "";
  if (wanted !== "" && wanted !== "js" && wanted !== "native" && wanted !== "wasm")
    throw new DescentError(`DESCENT_BACKEND: unknown backend "${wanted}" (expected "js", "native" or "wasm")`);
  const native = initNative(wanted === "native");
  if (!registry.has("js")) registry.set("js", jsBackend);
  if (native && !registry.has(native.name)) registry.set(native.name, native);
  if (wanted === "wasm") return withWasm() ?? throwError(wasmUnavailable("DESCENT_BACKEND=wasm"));
  // In a browser the default is wasm once initWasm() has compiled it (registerBackend switches later).
  if (!isNode && wanted === "") return withWasm() ?? jsBackend;
  return wanted === "js" || !native ? jsBackend : native;
}

/**
 * Registers the wasm backend if its module loads (read and compiled once, on first ask, so start-up
 * pays nothing when it is not used; after a browser's `await initWasm()` it is found here too).
 */
function withWasm(): Backend | undefined {
  const w = registry.get("wasm") ?? loadWasm();
  if (w && !registry.has("wasm")) add(w);
  return w;
}

/** Puts a backend in the registry, with the thread count setNumThreads asked for before it came. */
function add(b: Backend): void {
  registry.set(b.name, b);
  if (numThreads !== undefined) b.threads?.set(numThreads);
}

function throwError(e: Error): never {
  throw e;
}

function use(b: Backend): Backend {
  current = b;
  currentAccel = accelerationsOf(b);
  return b;
}

export function backend(): Backend {
  return current ?? use(init());
}

/** Every acceleration of the current backend: its own kernel where it registered one, else the fallback. */
export function accelerations(): Accelerations {
  if (!current) use(init());
  return currentAccel!;
}

/** A backend's accelerations resolved against the fallbacks (once per backend). */
export function accelerationsOf(b: Backend): Accelerations {
  let a = resolved.get(b);
  if (!a) resolved.set(b, (a = { ...fallbacksOf(b), ...b.accelerations }));
  return a;
}

/** A backend's op-by-op fallbacks alone: for views an acceleration does not take (any strides, aliasing). */
export function fallbacksOf(b: Backend = backend()): Accelerations {
  let a = opByOp.get(b);
  if (!a) opByOp.set(b, (a = fallbacks(b)));
  return a;
}

/**
 * Selects the compute backend by name: "native" (the C++ addon), "wasm" (WebAssembly kernels) or
 * "js" (the pure-TypeScript reference). DESCENT_BACKEND=js|native|wasm picks it at start-up; unset,
 * native when the addon loaded.
 */
export function setBackend(name: string): void {
  if (!current) use(init());
  if (name === "wasm" && !withWasm()) throw wasmUnavailable("setBackend");
  const b = registry.get(name);
  if (!b)
    throw new DescentError(`setBackend: unknown backend "${name}" (available: ${[...registry.keys()].join(", ")})`);
  named = true;
  use(b);
}

/**
 * Adds a backend (the native one is added when its addon loads). Outside Node, a "wasm" backend
 * registered while the js one runs by default becomes the default: the browser's best backend.
 */
export function registerBackend(b: Backend): void {
  if (!current) use(init());
  add(b);
  if (!isNode && b.name === "wasm" && !named && current === jsBackend) use(b);
}

/**
 * Compiles the wasm backend's module (wasm/descent.wasm) asynchronously, for browsers, where there is
 * no synchronous file access and a large synchronous compile is refused on the main thread: from its
 * bytes, a Response, or a URL. Cross-origin isolated, it compiles the threaded descent-mt.wasm instead
 * (`threaded`: its source, by default beside a URL source; false: one thread). After it resolves,
 * `setBackend("wasm")` works, and in a browser wasm becomes the default backend unless one was named.
 * Node needs no call (the module loads on first use).
 */
export async function initWasm(source?: WasmSource, threaded?: WasmSource | false): Promise<void> {
  await compileWasm(source, threaded);
  const w = loadWasm();
  if (w) registerBackend(w);
}

/** The names of the backends that can be selected ("js"; "native" and "wasm" when they loaded). */
export function availableBackends(): string[] {
  if (!current) use(init());
  withWasm();
  return [...registry.keys()];
}

/**
 * Sets the intra-op thread count of every backend that has a pool (native; wasm where it has
 * threads; js runs on the calling thread), also of one that loads later, as torch.set_num_threads.
 * n must be a positive integer.
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new DescentError(`setNumThreads: expected a whole number from 1 to 1024, got ${String(n)}`);
  if (!current) use(init());
  numThreads = n;
  for (const b of registry.values()) b.threads?.set(n);
}

/** The intra-op thread count of the current backend (1 for js), as torch.get_num_threads. */
export function getNumThreads(): number {
  return backend().threads?.get() ?? 1;
}

export { fallbacks } from "./fallback/index.js";
export type { Storage, StorageDoor } from "./storage.js";
export type { Backend, View, Kernels, KernelName, UnaryOp, BinaryOp, ReduceOp, ScanOp, Window2d } from "./backend.js";
export type {
  Accelerations,
  AccelName,
  AdamConsts,
  SgdConsts,
  RmspropConsts,
  AdagradConsts,
  AttentionConsts,
} from "./accelerations.js";
export { UNARY_OPS, BINARY_OPS, REDUCE_OPS } from "./op_list.js";
