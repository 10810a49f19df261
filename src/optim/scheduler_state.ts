// A scheduler's state dict (PyTorch's __dict__ minus the optimizer): every own field of the
// scheduler, copied out, and loaded back only after every field is checked against the
// scheduler's own (same keys, same kinds, no NaN, integer counters), so a bad state changes nothing.

import { DescentError } from "../core/errors.js";

/** A scheduler's state: every field but the optimizer (PyTorch's __dict__ minus optimizer). */
export type SchedulerStateDict = Record<string, unknown>;

function copy(v: unknown): unknown {
  return Array.isArray(v) ? v.map(copy) : v;
}

/** The fields of o that a state dict holds (everything but the optimizer). */
export function fieldsOf(o: object): SchedulerStateDict {
  const out: SchedulerStateDict = {};
  for (const [k, v] of Object.entries(o)) if (k !== "optimizer") out[k] = copy(v);
  return out;
}

/** What kind of JSON value v is, for comparing a loaded state with the scheduler's own. */
function kindOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** Fields that count steps: integers from -1 (lastEpoch before the first step) up. */
const COUNTERS = new Set(["lastEpoch", "stepCount", "numBadEpochs", "cooldownCounter"]);

/**
 * Refuses a state dict unless it has exactly o's fields, each of the same kind (number, string,
 * array of the same length, …), with no NaN and integer counters; changes nothing.
 */
export function checkFields(name: string, o: object, sd: SchedulerStateDict): void {
  const where = `${name}.loadStateDict`;
  if (sd === null || typeof sd !== "object" || Array.isArray(sd))
    throw new DescentError(`${where}: expected an object as made by stateDict(), got ${kindOf(sd)}`);
  const mine = fieldsOf(o);
  const unknown = Object.keys(sd).filter((k) => !Object.prototype.hasOwnProperty.call(mine, k));
  if (unknown.length) throw new DescentError(`${where}: unexpected keys ${unknown.join(", ")}`);
  const missing = Object.keys(mine).filter(
    (k) => mine[k] !== undefined && !Object.prototype.hasOwnProperty.call(sd, k),
  );
  if (missing.length) throw new DescentError(`${where}: missing keys ${missing.join(", ")}`);
  const same = (path: string, want: unknown, got: unknown): void => {
    if (kindOf(want) !== kindOf(got))
      throw new DescentError(`${where}: ${path} must be ${kindOf(want)}, got ${JSON.stringify(got) ?? kindOf(got)}`);
    if (typeof got === "number" && Number.isNaN(got)) throw new DescentError(`${where}: ${path} is NaN`);
    if (Array.isArray(want)) {
      const g = got as unknown[];
      if (g.length !== want.length)
        throw new DescentError(`${where}: ${path} has ${g.length} entries, this scheduler ${want.length}`);
      want.forEach((w, i) => same(`${path}[${i}]`, w, g[i]));
    } else if (kindOf(want) === "object") {
      const w = want as Record<string, unknown>;
      const g = got as Record<string, unknown>;
      const keys = Object.keys(w);
      if (keys.sort().join() !== Object.keys(g).sort().join())
        throw new DescentError(
          `${where}: ${path} has the keys ${Object.keys(g).join(", ")}, expected ${keys.join(", ")}`,
        );
      for (const k of keys) same(`${path}.${k}`, w[k], g[k]);
    }
  };
  for (const [k, v] of Object.entries(sd)) {
    same(k, mine[k], v);
    if (COUNTERS.has(k) && (!Number.isInteger(v) || (v as number) < -1))
      throw new DescentError(`${where}: ${k} must be an integer >= -1, got ${String(v)}`);
  }
}

/** Copies a state dict's fields into o once all of them are checked. */
export function loadFields(name: string, o: object, sd: SchedulerStateDict): void {
  checkFields(name, o, sd);
  for (const [k, v] of Object.entries(sd)) (o as Record<string, unknown>)[k] = copy(v);
}
