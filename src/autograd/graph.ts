// The recorded graph and the two modes that steer recording: grad mode (noGrad) and anomaly
// detection. Grad mode is one of the two pieces of global state DESIGN.md allows; anomaly mode
// is a debugging switch of the same kind, always restored by the function that set it.

import type { Storage, View } from "../backends/index.js";
import type { OpDef } from "../ops/op.js";
import type { Tensor } from "../tensor/tensor.js";

/** How a non-leaf tensor was made: its op, the inputs and params the op saw. */
export interface Node {
  /** The op's name, as PyTorch's grad_fn names it (without the Backward suffix). */
  readonly name: string;
  /** The op's definition (its forward and backward). */
  readonly op: OpDef<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The op's tensor inputs. */
  readonly inputs: readonly Tensor[];
  /** The op's non-tensor arguments. */
  readonly params: unknown;
  /** The tensors the op's backward reads, with their buffers' versions when the forward ran. */
  readonly saved: readonly { readonly tensor: Tensor; readonly version: number }[];
  /** Set after a backward without retainGraph: a second walk through it is refused, as in PyTorch. */
  freed: boolean;
}

// In-place ops bump the version of the storage they write (shared by every view of it), so a
// backward can tell that a tensor it saved was overwritten, as PyTorch's version counters do.
// Keyed by the backend's storage handle, which every view of it shares.
const versions = new WeakMap<Storage, number>();

/** The version of the storage under t (any view of it). */
export function versionOf(t: View): number {
  return versions.get(t.data) ?? 0;
}

export function bumpVersion(t: View): void {
  versions.set(t.data, versionOf(t) + 1);
}

/** True when a and b are views of one storage. */
export function sameStorage(a: View, b: View): boolean {
  return a.data === b.data;
}

let gradEnabled = true;
let anomalyEnabled = false;

/** Whether ops record the graph now: false inside noGrad (torch.is_grad_enabled). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

export function isAnomalyEnabled(): boolean {
  return anomalyEnabled;
}

function withMode<T>(set: (v: boolean) => boolean, value: boolean, fn: () => T): T {
  const prev = set(value);
  try {
    return fn();
  } finally {
    set(prev);
  }
}

const setGrad = (v: boolean) => {
  const prev = gradEnabled;
  gradEnabled = v;
  return prev;
};

const setAnomaly = (v: boolean) => {
  const prev = anomalyEnabled;
  anomalyEnabled = v;
  return prev;
};

/** Runs fn (synchronously) with gradient recording off and returns its result. */
export function noGrad<T>(fn: () => T): T {
  return withMode(setGrad, false, fn);
}

/** Runs fn with recording on, e.g. inside a noGrad region. */
export function enableGrad<T>(fn: () => T): T {
  return withMode(setGrad, true, fn);
}

/**
 * Runs fn so that the first NaN or Inf produced by an op's forward, or by an op's backward,
 * throws a DescentError naming that op and its input shapes. Slow: every result is scanned.
 */
export function detectAnomaly<T>(fn: () => T): T {
  return withMode(setAnomaly, true, fn);
}

/** Runs an op's backward unchecked: backward() checks its result and names that op instead. */
export function withoutAnomaly<T>(fn: () => T): T {
  return withMode(setAnomaly, false, fn);
}
