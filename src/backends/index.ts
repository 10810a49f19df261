// Which backend runs the kernels. The choice is one of the two pieces of global state DESIGN.md
// allows; ops read it through `backend()` on every call, so switching takes effect at once.

import { DescentError } from "../core/errors.js";
import type { Backend } from "./backend.js";
import { jsBackend } from "./js/index.js";
import { initNative } from "./native/index.js";

const registry = new Map<string, Backend>([["js", jsBackend]]);
let current: Backend = startupBackend();

/**
 * DESCENT_BACKEND=js|native picks the backend at startup; unset, it is native when the addon
 * loaded and js otherwise. Asking for native when the addon did not load is an error, not a
 * silent fallback.
 */
function startupBackend(): Backend {
  const wanted = process.env["DESCENT_BACKEND"] ?? "";
  if (wanted !== "" && wanted !== "js" && wanted !== "native")
    throw new DescentError(`DESCENT_BACKEND: unknown backend "${wanted}" (expected "js" or "native")`);
  const native = initNative(wanted === "native");
  if (native) registry.set(native.name, native);
  return wanted === "js" || !native ? jsBackend : native;
}

export function backend(): Backend {
  return current;
}

export function setBackend(name: string): void {
  const b = registry.get(name);
  if (!b)
    throw new DescentError(`setBackend: unknown backend "${name}" (available: ${[...registry.keys()].join(", ")})`);
  current = b;
}

/** Adds a backend (the native one registers itself when its addon loads). */
export function registerBackend(b: Backend): void {
  registry.set(b.name, b);
}

export function availableBackends(): string[] {
  return [...registry.keys()];
}

export type { Backend, View, Kernels, KernelName, UnaryOp, BinaryOp, ReduceOp, Window2d } from "./backend.js";
export type { AdamConsts, SgdConsts, RmspropConsts, AdagradConsts } from "./backend.js";
