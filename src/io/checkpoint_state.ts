// Checkpoints: everything needed to resume training exactly, in one safetensors file. The model's
// state dict goes under "model.<name>", the optimizer's state tensors under
// "optimizer.state.<param index>.<key>"; the rest (the optimizer's other state and parameter
// groups, the scheduler's state, the default generator's state, epoch, step, extra) is JSON in
// __metadata__. JSON cannot hold NaN, ±Infinity or -0, which schedulers do use (ReduceLROnPlateau
// starts from best = Infinity), so those are written as {"$number": "Infinity"} and restored.
// Loading restores the model, optimizer, scheduler and the default generator, so the next batch
// order and dropout masks are those the uninterrupted run would have drawn; a checkpoint written in
// the middle of an epoch also holds the loader's order and position ("loader"), restored into the
// loader given, so the epoch finishes with the batches it would have had.
// Platform-free: checkpoint.ts reads and writes files with it, bytes.ts bytes (in browsers too).

import { DescentError } from "../core/errors.js";
import { Generator, defaultGenerator, type GeneratorState } from "../core/random.js";
import { checkOptions, keysOf } from "../core/options.js";
import type { Module } from "../nn/module.js";
import type { Optimizer, OptimizerStateDict, ParamState } from "../optim/optimizer.js";
import { Tensor } from "../tensor/tensor.js";
import type { SafetensorsFile } from "./safetensors_read.js";

/** What a scheduler must offer to be checkpointed (every optim.lrScheduler class does). */
export interface CheckpointableScheduler {
  /** The scheduler's state, saved as the checkpoint's JSON. */
  stateDict(): Record<string, unknown>;
  /** Restores a state that stateDict() returned. */
  loadStateDict(sd: Record<string, unknown>): void;
  /** Throws what loadStateDict would throw, changing nothing (every optim.lrScheduler class has it). */
  checkStateDict?(sd: Record<string, unknown>): void;
}

/** What a data loader must offer for a mid-epoch checkpoint (a DataLoader does). */
export interface CheckpointableLoader {
  /** The loader's position in its current iteration. */
  stateDict(): unknown;
  /** Restores a position that stateDict() returned. */
  loadStateDict(st: never): void;
  /** Throws what loadStateDict would throw, changing nothing. */
  checkStateDict(st: never): void;
}

/**
 * What saveCheckpoint writes: the model's and optimizer's state dicts, a scheduler's and loader's
 * state, counters and extra JSON (PyTorch's usual `torch.save({"model": ..., "optimizer": ...})` dict).
 */
export interface CheckpointContents {
  /** The model whose stateDict() is saved. */
  model: Module;
  /** The optimizer whose state (moments, step counts, groups) is saved. */
  optimizer?: Optimizer;
  /** A learning-rate scheduler whose state is saved. */
  scheduler?: CheckpointableScheduler;
  /** A loader in the middle of an epoch: its order and position are saved, so the epoch can be finished after a restart. */
  loader?: CheckpointableLoader;
  /** The epoch reached (default 0). */
  epoch?: number;
  /** The optimizer step reached (default 0). */
  step?: number;
  /** Anything JSON can hold (numbers may be NaN or infinite). */
  extra?: Record<string, unknown>;
}

/** The keys of CheckpointContents, for checkOptions. */
const CONTENTS_KEYS = keysOf<CheckpointContents>()({
  model: true,
  optimizer: true,
  scheduler: true,
  loader: true,
  epoch: true,
  step: true,
  extra: true,
});

/** Where loadCheckpoint restores a checkpoint into (the same objects, freshly built, as were saved). */
export interface CheckpointTargets {
  /** Receives the saved model state (loadStateDict). */
  model: Module;
  /** Receives the saved optimizer state. */
  optimizer?: Optimizer;
  /** Receives the saved scheduler state. */
  scheduler?: CheckpointableScheduler;
  /** Restored when the checkpoint holds a loader state (its next iteration continues the saved one); untouched otherwise. */
  loader?: CheckpointableLoader;
  /**
   * Called with epoch, step and extra once the whole file is read and checked, before anything is
   * loaded: throwing refuses the checkpoint with nothing changed (fit checks its own record here).
   */
  check?: (info: CheckpointInfo) => void;
}

/** The keys of CheckpointTargets, for checkOptions. */
const TARGETS_KEYS = keysOf<CheckpointTargets>()({
  model: true,
  optimizer: true,
  scheduler: true,
  loader: true,
  check: true,
});

/** What loadCheckpoint returns besides the restored objects: the counters and the extra JSON. */
export interface CheckpointInfo {
  /** The saved epoch. */
  epoch: number;
  /** The saved step. */
  step: number;
  /** The saved extra JSON ({} when none). */
  extra: Record<string, unknown>;
}

const FORMAT = "descent-checkpoint";
const VERSION = "1";

/** JSON that keeps NaN, ±Infinity and -0; refuses values JSON cannot hold (functions, tensors, …). */
function encode(op: string, what: string, v: unknown): unknown {
  if (typeof v === "number") {
    if (Number.isFinite(v) && !Object.is(v, -0)) return v;
    return { $number: Object.is(v, -0) ? "-0" : String(v) };
  }
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (Array.isArray(v)) return v.map((x, i) => encode(op, `${what}[${i}]`, x));
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x !== undefined) out[k] = encode(op, `${what}.${k}`, x);
    }
    return out;
  }
  throw new DescentError(
    `${op}: ${what} is ${v instanceof Tensor ? "a Tensor" : typeof v}, which a checkpoint cannot hold`,
  );
}

function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === "$number" && typeof o.$number === "string") {
      return o.$number === "-0" ? -0 : Number(o.$number);
    }
    return Object.fromEntries(keys.map((k) => [k, decode(o[k])]));
  }
  return v;
}

function toJson(op: string, what: string, v: unknown): string {
  return JSON.stringify(encode(op, what, v));
}

/** The tensors and metadata strings of a checkpoint of c (op names the caller in errors). */
export function checkpointParts(
  op: string,
  c: CheckpointContents,
): { tensors: Record<string, Tensor>; meta: Record<string, string> } {
  if (!c || typeof c !== "object" || typeof c.model?.stateDict !== "function") {
    throw new DescentError(`${op}: expected {model, optimizer?, scheduler?, epoch?, step?, extra?}`);
  }
  checkOptions(op, c, CONTENTS_KEYS);
  const tensors: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(c.model.stateDict())) tensors[`model.${k}`] = t;
  const meta: Record<string, string> = {
    format: FORMAT,
    version: VERSION,
    epoch: toJson(op, "epoch", c.epoch ?? 0),
    step: toJson(op, "step", c.step ?? 0),
    rng: toJson(op, "rng", defaultGenerator.getState()),
    extra: toJson(op, "extra", c.extra ?? {}),
  };
  if (c.optimizer) {
    const sd = c.optimizer.stateDict();
    const state: Record<string, Record<string, unknown>> = {};
    for (const [i, st] of Object.entries(sd.state)) {
      const entry: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(st as ParamState)) {
        if (v instanceof Tensor) {
          const name = `optimizer.state.${i}.${k}`;
          tensors[name] = v;
          entry[k] = { $tensor: name };
        } else entry[k] = encode(op, `optimizer state ${i}.${k}`, v);
      }
      state[i] = entry;
    }
    meta.optimizer = JSON.stringify({
      type: c.optimizer.constructor.name,
      state,
      param_groups: encode(op, "param_groups", sd.param_groups),
    });
  }
  if (c.loader) meta.loader = toJson(op, "loader state", c.loader.stateDict());
  if (c.scheduler) {
    meta.scheduler = JSON.stringify({
      type: c.scheduler.constructor.name,
      state: encode(op, "scheduler state", c.scheduler.stateDict()),
    });
  }
  return { tensors, meta };
}

function parseMeta(where: string, meta: Record<string, string>, key: string): unknown {
  const text = meta[key];
  if (text === undefined) throw new DescentError(`${where}: the checkpoint has no ${key}`);
  try {
    return decode(JSON.parse(text));
  } catch {
    throw new DescentError(`${where}: the checkpoint's ${key} is not valid JSON`);
  }
}

function checkRng(where: string, v: unknown): GeneratorState {
  // A scratch generator checks the state exactly as the default one will take it, changing nothing.
  try {
    new Generator().setState(v as GeneratorState);
  } catch (e) {
    throw new DescentError(`${where}: the checkpoint's rng state is malformed (${(e as Error).message})`);
  }
  return v as GeneratorState;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Keys that would reach Object.prototype when assigned to a plain object. */
const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Refuses targets that are not {model, ...} before any file is read. */
export function checkTargets(op: string, t: CheckpointTargets): void {
  if (!t || typeof t !== "object" || typeof t.model?.loadStateDict !== "function") {
    throw new DescentError(`${op}: expected {model, optimizer?, scheduler?}`);
  }
  checkOptions(op, t, TARGETS_KEYS);
}

/**
 * Restores a read checkpoint into the given model (strictly: every key, every shape), optimizer and
 * scheduler, and the default generator; returns epoch, step and extra. Everything is checked
 * before anything is changed, apart from what the optimizer or scheduler themselves refuse.
 */
export function restoreCheckpoint(where: string, file: SafetensorsFile, t: CheckpointTargets): CheckpointInfo {
  const { tensors, metadata } = file;
  if (metadata.format !== FORMAT)
    throw new DescentError(`${where}: not a Descent checkpoint (no format "${FORMAT}" in its metadata)`);
  if (metadata.version !== VERSION)
    throw new DescentError(`${where}: checkpoint version ${metadata.version} is not supported (expected ${VERSION})`);
  const epoch = parseMeta(where, metadata, "epoch");
  const step = parseMeta(where, metadata, "step");
  const extra = parseMeta(where, metadata, "extra");
  const rng = checkRng(where, parseMeta(where, metadata, "rng"));
  for (const [name, v] of [
    ["epoch", epoch],
    ["step", step],
  ] as const) {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
      throw new DescentError(`${where}: ${name} must be a non-negative integer, got ${JSON.stringify(v) ?? String(v)}`);
  }
  if (!isRecord(extra)) throw new DescentError(`${where}: the checkpoint's extra is not an object`);

  const model: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(tensors)) {
    if (k.startsWith("model.")) {
      model[k.slice(6)] = v;
    }
  }

  let optSd: OptimizerStateDict | null = null;
  if (t.optimizer) {
    const o = parseMeta(where, metadata, "optimizer") as {
      type?: unknown;
      state?: Record<string, Record<string, unknown>>;
      param_groups?: OptimizerStateDict["param_groups"];
    };
    const name = t.optimizer.constructor.name;
    if (o?.type !== name)
      throw new DescentError(`${where}: the checkpoint holds the state of ${String(o?.type)}, not ${name}`);
    if (!o.state || typeof o.state !== "object" || !Array.isArray(o.param_groups)) {
      throw new DescentError(`${where}: the checkpoint's optimizer state is malformed`);
    }
    const state: Record<number, ParamState> = {};
    for (const [i, st] of Object.entries(o.state)) {
      if (!/^\d+$/.test(i) || !isRecord(st))
        throw new DescentError(`${where}: the optimizer state ${JSON.stringify(i)} is malformed`);
      const out: ParamState = {};
      for (const [k, v] of Object.entries(st)) {
        if (UNSAFE_KEYS.has(k))
          throw new DescentError(`${where}: optimizer state ${i} has the key ${JSON.stringify(k)}`);
        const ref = (v as { $tensor?: unknown } | null)?.$tensor;
        if (typeof ref === "string") {
          const tensor = Object.prototype.hasOwnProperty.call(tensors, ref) ? tensors[ref] : undefined;
          if (!tensor) throw new DescentError(`${where}: the optimizer state refers to a missing tensor "${ref}"`);
          out[k] = tensor;
        } else if (v === null || typeof v === "number") out[k] = v;
        else throw new DescentError(`${where}: optimizer state ${i}.${k} is malformed`);
      }
      state[Number(i)] = out;
    }
    optSd = { state, param_groups: o.param_groups };
  }
  let schedSd: Record<string, unknown> | null = null;
  if (t.scheduler) {
    const s = parseMeta(where, metadata, "scheduler") as { type?: unknown; state?: unknown };
    const name = t.scheduler.constructor.name;
    if (s?.type !== name)
      throw new DescentError(`${where}: the checkpoint holds the state of ${String(s?.type)}, not ${name}`);
    if (!s.state || typeof s.state !== "object")
      throw new DescentError(`${where}: the checkpoint's scheduler state is malformed`);
    schedSd = s.state as Record<string, unknown>;
  }

  // Check every part before changing any, so that a refused checkpoint leaves model, optimizer,
  // scheduler and generator as they were. The model's loadStateDict checks all keys and shapes
  // before it copies; after it, nothing can throw.
  const loaderSd = t.loader && metadata.loader !== undefined ? parseMeta(where, metadata, "loader") : undefined;
  t.check?.({ epoch: epoch as number, step: step as number, extra });
  if (t.loader && loaderSd !== undefined) t.loader.checkStateDict(loaderSd as never);
  if (t.optimizer && optSd) t.optimizer.checkStateDict(optSd);
  if (t.scheduler && schedSd) t.scheduler.checkStateDict?.(schedSd);
  t.model.loadStateDict(model, { strict: true });
  if (t.optimizer && optSd) t.optimizer.loadStateDict(optSd);
  if (t.scheduler && schedSd) t.scheduler.loadStateDict(schedSd);
  if (t.loader && loaderSd !== undefined) t.loader.loadStateDict(loaderSd as never);
  defaultGenerator.setState(rng);
  return {
    epoch: epoch as number,
    step: step as number,
    extra,
  };
}
