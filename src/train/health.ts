// Gradient health. GradientMonitor records, per training step, every parameter's gradient norm and
// update-to-weight ratio and every activation module's fraction of dead (ReLU) or saturated
// (sigmoid/tanh) units, then diagnoses vanishing, exploding, dead and saturated in plain words with
// the remedies the seed gives. withModuleContext runs code under detectAnomaly and says in which
// module the first NaN/Inf appeared.

import { DescentError } from "../core/errors.js";
import { detectAnomaly, isGradEnabled } from "../autograd/graph.js";
import type { TypedArray } from "../core/dtype.js";
import { checkOptions, keysOf } from "../core/options.js";
import { Tensor, type HookHandle } from "../tensor/tensor.js";
import { Module, type Parameter } from "../nn/module.js";
import { ReLU, Sigmoid, Tanh } from "../nn/layers/activation.js";

/** The limits GradientMonitor.diagnose() flags against (see DEFAULT_THRESHOLDS). */
export interface HealthThresholds {
  /** Largest/smallest weight gradient norm above this (orders of magnitude apart) is flagged. Default 1e3. */
  vanishingRatio: number;
  /** A weight gradient norm below this is vanishing whatever the others do. Default 1e-6. */
  vanishingNorm: number;
  /** A total gradient norm above this is exploding. Default 1e3. */
  explodingNorm: number;
  /** A ReLU module with more dead units than this fraction is flagged. Default 0.4. */
  deadFraction: number;
  /** A sigmoid/tanh module with more saturated outputs than this fraction is flagged. Default 0.4. */
  saturatedFraction: number;
  /** An output within this distance of its activation's bound counts as saturated. Default 0.02. */
  saturationMargin: number;
  /** ‖Δw‖/‖w‖ per step above this is too large (about 1e-3 is typical). Default 0.1. */
  updateRatioHigh: number;
  /** ‖Δw‖/‖w‖ per step below this means the weight has stopped learning. Default 1e-7. */
  updateRatioLow: number;
}

/** The keys of HealthThresholds, for checkOptions. */
const THRESHOLD_KEYS = keysOf<HealthThresholds>()({
  vanishingRatio: true,
  vanishingNorm: true,
  explodingNorm: true,
  deadFraction: true,
  saturatedFraction: true,
  saturationMargin: true,
  updateRatioHigh: true,
  updateRatioLow: true,
});

/** The default HealthThresholds (each field's default is in its comment). */
export const DEFAULT_THRESHOLDS: Readonly<HealthThresholds> = Object.freeze({
  vanishingRatio: 1e3,
  vanishingNorm: 1e-6,
  explodingNorm: 1e3,
  deadFraction: 0.4,
  saturatedFraction: 0.4,
  saturationMargin: 0.02,
  updateRatioHigh: 0.1,
  updateRatioLow: 1e-7,
});

/** Options of GradientMonitor. */
export interface GradientMonitorOptions {
  /** Record every k-th step (steps s with s % every === 0). Default 1. */
  every?: number;
  /** Overrides of DEFAULT_THRESHOLDS. */
  thresholds?: Partial<HealthThresholds>;
  /** How many of the latest records the per-layer diagnoses take the median over. Default 10. */
  window?: number;
}

/** The keys of GradientMonitorOptions, for checkOptions. */
const MONITOR_KEYS = keysOf<GradientMonitorOptions>()({ every: true, thresholds: true, window: true });

/** What one recorded step saw. Keys are PyTorch's dotted names (parameters and modules). */
export interface HealthRecord {
  /** The training step recorded. */
  step: number;
  /** ‖grad‖₂ per parameter that had a gradient. */
  gradNorms: Record<string, number>;
  /** ‖grad‖₂ over all parameters together (what clipGradNorm_ would see). */
  totalNorm: number;
  /** ‖w‖₂ per parameter, before the step. */
  weightNorms: Record<string, number>;
  /** ‖Δw‖/‖w‖ per parameter, filled in by recordUpdate. */
  updateRatios: Record<string, number>;
  /** Fraction of units that were zero for every sample of the batch, per ReLU module. */
  dead: Record<string, number>;
  /** Fraction of outputs within the margin of their bounds, per sigmoid/tanh module. */
  saturated: Record<string, number>;
}

/** What a Diagnosis is about. */
export type DiagnosisKind =
  "vanishing" | "exploding" | "non-finite" | "dead" | "saturated" | "large-updates" | "small-updates";

/** One finding in plain words, with the numbers behind it and what to try. */
export class Diagnosis {
  constructor(
    /** What was found. */
    readonly kind: DiagnosisKind,
    /** How bad it is. */
    readonly severity: "warning" | "critical",
    /** The finding in plain words, with the numbers. */
    readonly message: string,
    /** What to try. */
    readonly remedies: readonly string[],
    /** The step it was seen at, if one. */
    readonly step?: number,
    /** The parameter or module (dotted name), if one. */
    readonly layer?: string,
    /** The measured value behind it. */
    readonly value?: number,
  ) {}

  /** The message and the remedies, one per line. */
  toString(): string {
    return [`[${this.severity}] ${this.message}`, ...this.remedies.map((r) => `    - ${r}`)].join("\n");
  }
}

const REMEDY = {
  relu: "use a ReLU-family activation (ReLU, LeakyReLU, ELU, GELU) in hidden layers instead of sigmoid or tanh",
  leaky: "use LeakyReLU or ELU, which keep a gradient for negative inputs, so units can come back to life",
  init: "initialise for the activation: He (Kaiming) for the ReLU family, Xavier (Glorot) for sigmoid and tanh (nn.init)",
  initSmall: "initialise with He (Kaiming) or Xavier (Glorot) scaling instead of large weights (nn.init)",
  bias: "start biases at zero or slightly positive, not negative",
  batchNorm: "add BatchNorm (or LayerNorm) before the activations to keep pre-activations centred and scaled",
  clip: "clip gradients: nn.utils.clipGradNorm_(model.parameters(), 1) before optimizer.step() (fit's clipGradNorm option)",
  lowerLr: "lower the learning rate (or warm it up)",
  raiseLr: "raise the learning rate once the gradients themselves are healthy",
  lstm: "for recurrent networks, use LSTM or GRU instead of a plain RNN",
  inputs: "normalise the inputs (zero mean, unit variance)",
  anomaly:
    "run one step under withModuleContext(model, fn) (detectAnomaly) to find the op and module that first produced NaN or Inf",
  logs: "look for log(0), division by zero or overflowing exp in the loss and inputs",
};

type ActivationKind = { kind: "dead" } | { kind: "saturated"; lo: number; hi: number };

function activationKind(m: Module): ActivationKind | null {
  if (m instanceof ReLU) return { kind: "dead" };
  if (m instanceof Sigmoid) return { kind: "saturated", lo: 0, hi: 1 };
  if (m instanceof Tanh) return { kind: "saturated", lo: -1, hi: 1 };
  return null;
}

/** The elements of t in order: a host copy through the storage door. */
function values(t: Tensor): TypedArray {
  return t.toFlatArray();
}

function sumSquares(a: TypedArray): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return s;
}

/** Fraction of units (positions after the batch dim) that are 0 for every sample. */
function deadFraction(t: Tensor): number {
  const a = values(t);
  const n = t.ndim >= 2 ? t.shape[0]! : 1;
  const units = n > 0 ? a.length / n : 0;
  if (units === 0) return 0;
  let dead = 0;
  for (let u = 0; u < units; u++) {
    let alive = false;
    for (let i = 0; i < n && !alive; i++) alive = a[i * units + u] !== 0;
    if (!alive) dead++;
  }
  return dead / units;
}

function saturatedFraction(t: Tensor, lo: number, hi: number, margin: number): number {
  const a = values(t);
  if (a.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) if (a[i]! <= lo + margin || a[i]! >= hi - margin) s++;
  return s / a.length;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** 1.2e-7 style: numbers in messages are read by people, three significant digits are plenty. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const ax = Math.abs(x);
  return ax >= 1e4 || ax < 1e-3 ? x.toExponential(1).replace("e+", "e") : String(Number(x.toPrecision(3)));
}

const pct = (f: number) => `${Math.round(f * 100)}%`;

/**
 * Watches a model's gradients. Create it before training; after loss.backward() call
 * recordGradients(step), and after optimizer.step() call recordUpdate(step). diagnose() then
 * says what is wrong, if anything. detach() removes the forward hooks it installed.
 */
export class GradientMonitor {
  /** Records every k-th step. */
  readonly every: number;
  /** Records the per-layer diagnoses take the median over. */
  readonly window: number;
  /** The thresholds in use. */
  readonly thresholds: Readonly<HealthThresholds>;
  /** One record per recorded step. */
  readonly records: HealthRecord[] = [];
  /** The watched activation modules: dotted name, class name, what is measured. */
  readonly activations: { name: string; type: string; measures: "dead" | "saturated" }[] = [];
  private handles: HookHandle[] = [];
  private pending = new Map<string, { sum: number; count: number }>();
  private snapshot: { step: number; record: HealthRecord; weights: Map<string, Float64Array> } | null = null;
  private nextStep = 0;

  constructor(
    /** The watched model. */
    readonly model: Module,
    opts: GradientMonitorOptions = {},
  ) {
    checkOptions("GradientMonitor", opts, MONITOR_KEYS);
    checkOptions("GradientMonitor: thresholds", opts.thresholds, THRESHOLD_KEYS);
    this.every = opts.every ?? 1;
    this.window = opts.window ?? 10;
    if (!Number.isInteger(this.every) || this.every < 1)
      throw new DescentError(`GradientMonitor: every must be a positive integer, got ${this.every}`);
    if (!Number.isInteger(this.window) || this.window < 1)
      throw new DescentError(`GradientMonitor: window must be a positive integer, got ${this.window}`);
    this.thresholds = Object.freeze({ ...DEFAULT_THRESHOLDS, ...opts.thresholds });
    for (const [k, v] of Object.entries(this.thresholds))
      if (typeof v !== "number" || Number.isNaN(v) || v < 0)
        throw new DescentError(`GradientMonitor: threshold ${k} must be a non-negative number, got ${String(v)}`);
    for (const [name, m] of model.namedModules()) {
      const kind = activationKind(m);
      if (!kind) continue;
      const label = name || "(model)";
      this.activations.push({ name: label, type: m.constructor.name, measures: kind.kind });
      this.handles.push(
        m.registerForwardHook((mod, _inputs, out) => {
          // Only training forwards of steps that will be recorded: evaluation passes say nothing
          // about the gradients of the step.
          if (!mod.training || !isGradEnabled() || !(out instanceof Tensor) || !this.wants(this.nextStep)) return;
          const f =
            kind.kind === "dead"
              ? deadFraction(out)
              : saturatedFraction(out, kind.lo, kind.hi, this.thresholds.saturationMargin);
          const p = this.pending.get(label) ?? { sum: 0, count: 0 };
          p.sum += f;
          p.count++;
          this.pending.set(label, p);
        }),
      );
    }
  }

  /** Names of the parameters in registration order (the order charts and diagnoses use). */
  get parameterNames(): string[] {
    return this.model.namedParameters().map(([n]) => n);
  }

  private wants(step: number): boolean {
    return step % this.every === 0;
  }

  /**
   * Records the gradients now in .grad (call after backward, before the optimizer step) and
   * snapshots the weights for recordUpdate. step defaults to a counter starting at 0. Returns
   * whether this step was recorded (every k-th step is).
   */
  recordGradients(step?: number): boolean {
    const s = step ?? this.nextStep;
    this.nextStep = s + 1;
    const pending = this.pending;
    this.pending = new Map();
    this.snapshot = null;
    if (!this.wants(s)) return false;
    const rec: HealthRecord = {
      step: s,
      gradNorms: {},
      totalNorm: 0,
      weightNorms: {},
      updateRatios: {},
      dead: {},
      saturated: {},
    };
    const weights = new Map<string, Float64Array>();
    let total = 0;
    for (const [name, p] of this.model.namedParameters()) {
      const w = values(p);
      rec.weightNorms[name] = Math.sqrt(sumSquares(w));
      weights.set(name, Float64Array.from(w));
      if (!p.grad) continue;
      const sq = sumSquares(values(p.grad));
      rec.gradNorms[name] = Math.sqrt(sq);
      total += sq;
    }
    rec.totalNorm = Math.sqrt(total);
    for (const a of this.activations) {
      const p = pending.get(a.name);
      if (p) (a.measures === "dead" ? rec.dead : rec.saturated)[a.name] = p.sum / p.count;
    }
    this.records.push(rec);
    this.snapshot = { step: s, record: rec, weights };
    return true;
  }

  /** Records ‖Δw‖/‖w‖ per parameter against the snapshot of recordGradients (call after optimizer.step()). */
  recordUpdate(step?: number): boolean {
    const snap = this.snapshot;
    if (!snap || (step !== undefined && step !== snap.step)) return false;
    this.snapshot = null;
    const params = new Map<string, Parameter>(this.model.namedParameters());
    for (const [name, before] of snap.weights) {
      const p = params.get(name);
      const w0 = Math.sqrt(sumSquares(before));
      if (!p || w0 === 0 || p.size !== before.length) continue; // ratio undefined for zero-initialised biases
      const w = values(p);
      let d = 0;
      for (let i = 0; i < w.length; i++) d += (w[i]! - before[i]!) ** 2;
      snap.record.updateRatios[name] = Math.sqrt(d) / w0;
    }
    return true;
  }

  /** Removes the forward hooks; the records stay. */
  detach(): void {
    for (const h of this.handles) h.remove();
    this.handles = [];
  }

  /** The findings, most serious first; empty when nothing crosses a threshold. */
  diagnose(): Diagnosis[] {
    const out: Diagnosis[] = [];
    if (this.records.length === 0) return out;
    const t = this.thresholds;
    const recent = this.records.slice(-this.window);
    const lastStep = recent[recent.length - 1]!.step;

    // Non-finite gradients: the first step that had them.
    const bad = this.records.find((r) => !Number.isFinite(r.totalNorm));
    if (bad) {
      const names = Object.entries(bad.gradNorms).filter(([, v]) => !Number.isFinite(v));
      const listed = names.slice(0, 3).map(([n, v]) => `${n} (${fmt(v)})`);
      out.push(
        new Diagnosis(
          "non-finite",
          "critical",
          `non-finite gradients: NaN or Inf in ${names.length} parameter${names.length === 1 ? "" : "s"} at step ${bad.step}: ${listed.join(", ")}${names.length > 3 ? ", …" : ""}`,
          [REMEDY.lowerLr, REMEDY.clip, REMEDY.anomaly, REMEDY.logs],
          bad.step,
          names[0]?.[0],
          bad.totalNorm,
        ),
      );
    }

    // Exploding: the largest finite total norm above the threshold.
    const big = this.records.filter((r) => Number.isFinite(r.totalNorm) && r.totalNorm > t.explodingNorm);
    if (big.length > 0) {
      const worst = big.reduce((a, b) => (b.totalNorm > a.totalNorm ? b : a));
      out.push(
        new Diagnosis(
          "exploding",
          "critical",
          `exploding gradients: total norm ${fmt(worst.totalNorm)} at step ${worst.step} (above ${fmt(t.explodingNorm)} in ${big.length} of ${this.records.length} recorded steps)`,
          [REMEDY.clip, REMEDY.lowerLr, REMEDY.initSmall, REMEDY.batchNorm, REMEDY.lstm],
          worst.step,
          undefined,
          worst.totalNorm,
        ),
      );
    }

    // Per-layer comparisons over the recent window use weight matrices only (ndim >= 2): a bias
    // feeding a BatchNorm legitimately gets a zero gradient, and 1-D parameters scale differently.
    const weights = new Set(
      this.model
        .namedParameters()
        .filter(([, p]) => p.ndim >= 2)
        .map(([n]) => n),
    );
    const order = this.parameterNames;
    const med = (key: "gradNorms" | "updateRatios", name: string) => {
      const xs = recent.map((r) => r[key][name]).filter((v): v is number => v !== undefined);
      return xs.length > 0 && xs.every(Number.isFinite) ? median(xs) : undefined;
    };
    const norms = order.flatMap((n) => {
      const v = weights.has(n) ? med("gradNorms", n) : undefined;
      return v === undefined ? [] : [{ name: n, v }];
    });
    if (norms.length > 0) {
      const lo = norms.reduce((a, b) => (b.v < a.v ? b : a));
      const hi = norms.reduce((a, b) => (b.v > a.v ? b : a));
      const ratio = hi.v / lo.v;
      const orders = lo.v === 0 ? Infinity : Math.round(Math.log10(ratio));
      const apart = lo.v === 0 ? "no gradient reaches it at all" : `${orders} orders below ${hi.name}'s (${fmt(hi.v)})`;
      const towardsInput = order.indexOf(lo.name) < order.indexOf(hi.name);
      if (hi.v > 0 && ratio > t.vanishingRatio && !towardsInput) {
        out.push(
          new Diagnosis(
            "exploding",
            "warning",
            `exploding gradients: gradient norms grow towards the input: layer ${hi.name}'s is ${fmt(hi.v)}, ${Math.round(Math.log10(ratio))} orders above ${lo.name}'s (${fmt(lo.v)}) (median of the last ${recent.length} recorded steps)`,
            [REMEDY.initSmall, REMEDY.batchNorm, REMEDY.clip, REMEDY.lowerLr, REMEDY.lstm],
            lastStep,
            hi.name,
            ratio,
          ),
        );
      } else if ((hi.v > 0 && ratio > t.vanishingRatio) || lo.v < t.vanishingNorm) {
        const why =
          hi.v > 0 && ratio > t.vanishingRatio
            ? apart
            : `below ${fmt(t.vanishingNorm)} (largest: ${hi.name}'s ${fmt(hi.v)})`;
        out.push(
          new Diagnosis(
            "vanishing",
            "warning",
            `vanishing gradients: layer ${lo.name}'s gradient norm is ${fmt(lo.v)}, ${why} (median of the last ${recent.length} recorded steps)`,
            [REMEDY.relu, REMEDY.init, REMEDY.batchNorm, REMEDY.lstm],
            lastStep,
            lo.name,
            lo.v,
          ),
        );
      }
    }

    for (const a of this.activations) {
      const key = a.measures;
      const xs = recent.map((r) => r[key][a.name]).filter((v): v is number => v !== undefined);
      if (xs.length === 0) continue;
      const f = median(xs);
      if (key === "dead" && f > t.deadFraction) {
        out.push(
          new Diagnosis(
            "dead",
            "warning",
            `${pct(f)} of units in ${a.name} (${a.type}) are dead: their output is 0 for every sample of the batch, so no gradient flows through them`,
            [REMEDY.leaky, REMEDY.lowerLr, REMEDY.init, REMEDY.bias, REMEDY.batchNorm],
            lastStep,
            a.name,
            f,
          ),
        );
      } else if (key === "saturated" && f > t.saturatedFraction) {
        out.push(
          new Diagnosis(
            "saturated",
            "warning",
            `${pct(f)} of outputs of ${a.name} (${a.type}) are saturated (within ${fmt(t.saturationMargin)} of the bounds), where the derivative is nearly 0`,
            [REMEDY.relu, REMEDY.init, REMEDY.batchNorm, REMEDY.inputs],
            lastStep,
            a.name,
            f,
          ),
        );
      }
    }

    // Update-to-weight ratios, weight matrices only (see above).
    const ratios = order.flatMap((n) => {
      const v = weights.has(n) ? med("updateRatios", n) : undefined;
      return v === undefined ? [] : [{ name: n, v }];
    });
    const large = ratios.filter((r) => r.v > t.updateRatioHigh);
    if (large.length > 0) {
      const w = large.reduce((a, b) => (b.v > a.v ? b : a));
      out.push(
        new Diagnosis(
          "large-updates",
          "warning",
          `large updates: each step changes ${w.name} by ${fmt(w.v)} of its norm (‖Δw‖/‖w‖; about 1e-3 is typical)${large.length > 1 ? `, and ${large.length - 1} other weight${large.length > 2 ? "s" : ""} above ${fmt(t.updateRatioHigh)}` : ""}`,
          [REMEDY.lowerLr, REMEDY.clip],
          lastStep,
          w.name,
          w.v,
        ),
      );
    }
    const small = ratios.filter((r) => r.v < t.updateRatioLow);
    if (small.length > 0) {
      const w = small.reduce((a, b) => (b.v < a.v ? b : a));
      out.push(
        new Diagnosis(
          "small-updates",
          "warning",
          w.v === 0
            ? `stalled learning: the steps do not change ${w.name} at all (‖Δw‖/‖w‖ = 0, the update is below float precision; about 1e-3 is typical)`
            : `stalled learning: each step changes ${w.name} by only ${fmt(w.v)} of its norm (‖Δw‖/‖w‖; about 1e-3 is typical)`,
          [REMEDY.raiseLr, REMEDY.relu, REMEDY.init, REMEDY.batchNorm],
          lastStep,
          w.name,
          w.v,
        ),
      );
    }
    const rank = { critical: 0, warning: 1 };
    return out.sort((a, b) => rank[a.severity] - rank[b.severity]);
  }

  /** The diagnoses as text, or a line saying that none of the thresholds was crossed. */
  summary(): string {
    const d = this.diagnose();
    if (this.records.length === 0) return "gradient health: nothing recorded yet";
    return d.length === 0
      ? `gradient health: no problems found in ${this.records.length} recorded steps`
      : d.map(String).join("\n");
  }
}

// ---- where an anomaly happened ----

const located = new WeakSet<Error>();
const inContext = new WeakSet<Module>();

function relabel(err: DescentError, where: string): DescentError {
  const e = new DescentError(`${err.message} ${where}`);
  e.cause = err;
  e.stack = `${e.name}: ${e.message}\n${(err.stack ?? "").split("\n").slice(1).join("\n")}`;
  located.add(e);
  return e;
}

const moduleLabel = (name: string, m: Module) =>
  name ? `module "${name}" (${m.constructor.name})` : `the model's own forward (${m.constructor.name})`;

const CONTEXT_KEYS: ReadonlySet<string> = new Set(["anomaly"]);

/**
 * Runs fn (synchronously) under detectAnomaly (unless anomaly is false) with every module of model
 * instrumented, so that a DescentError thrown inside a module's forward, e.g. the first NaN/Inf,
 * says in which module it happened: `... in module "3" (Linear)`. For an anomaly in a backward the
 * op is named as detectAnomaly names it, plus the module whose output gradient arrived last, which
 * is the module being back-propagated through when the network is a chain.
 */
export function withModuleContext<T>(model: Module, fn: () => T, opts: { anomaly?: boolean } = {}): T {
  checkOptions("withModuleContext", opts, CONTEXT_KEYS);
  if (inContext.has(model)) return fn();
  const trail: string[] = [];
  const restore: (() => void)[] = [];
  for (const [name, m] of model.namedModules()) {
    // Make Module install its own hook-running forward (a no-op hook), then wrap that one: hooks
    // registered while we run still go through Module's wrapper, which reads its hook list live.
    const noop = m.registerForwardHook(() => undefined);
    const inner = (m as unknown as { forward: (...a: unknown[]) => unknown }).forward;
    const label = moduleLabel(name, m);
    Object.defineProperty(m, "forward", {
      value: (...inputs: unknown[]): unknown => {
        if (m === model) trail.length = 0; // a new forward: earlier backward passes say nothing
        let out: unknown;
        try {
          out = inner(...inputs);
        } catch (err) {
          if (err instanceof DescentError && !located.has(err)) throw relabel(err, `in ${label}`);
          throw err;
        }
        if (out instanceof Tensor && out.requiresGrad) {
          out.registerHook(() => {
            trail.push(label);
          });
        }
        return out;
      },
      writable: true,
      enumerable: false,
      configurable: true,
    });
    restore.push(() => {
      Object.defineProperty(m, "forward", { value: inner, writable: true, enumerable: false, configurable: true });
      noop.remove();
    });
  }
  inContext.add(model);
  try {
    return opts.anomaly === false ? fn() : detectAnomaly(fn);
  } catch (err) {
    if (err instanceof DescentError && !located.has(err) && err.message.includes("the backward of") && trail.length) {
      throw relabel(err, `while back-propagating through ${trail[trail.length - 1]}`);
    }
    throw err;
  } finally {
    inContext.delete(model);
    for (const r of restore.reverse()) r();
  }
}
