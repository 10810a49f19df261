// Compiled inference plans (src/compile makes them): the instruction set (steps.ts) and the two
// executors, picked by the current backend: native runs each run of known steps as one addon
// call (native.ts), js runs closures over preallocated slots (js.ts).

import { backend } from "../index.js";
import { jsRunner } from "./js.js";
import { nativeRunner, planAddon } from "./native.js";
import type { PlanRunner, PlanSpec } from "./steps.js";

export type * from "./steps.js";
export { PLAN_UNARY, PLAN_BINARY } from "./steps.js";

/** A runner for spec on the current backend: the addon's executor on native (when built with it), else JS. */
export function planRunner(spec: PlanSpec): PlanRunner {
  const addon = backend().name === "native" ? planAddon() : undefined;
  const allF32 = spec.slots.every((s) => s === null || s instanceof Float32Array);
  return addon && allF32 ? nativeRunner(spec, addon) : jsRunner(spec);
}
