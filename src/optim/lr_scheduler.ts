// Learning-rate schedules (optim.lrScheduler), each as PyTorch 1.13's: constructing one records
// every group's initialLr (PyTorch's initial_lr) and takes the first step (epoch 0); step() moves to
// the next epoch and writes the new lr into every parameter group; the schedules that PyTorch
// computes recursively from the current lr (StepLR, CosineAnnealingLR, …) are recursive here too, so
// they compose with other changes to lr in the same way. ReduceLROnPlateau steps on a metric.

import { DescentError } from "../core/errors.js";
import { checkFinite, checkOptions, keysOf } from "../core/options.js";
import { Tensor } from "../tensor/tensor.js";
import { Optimizer, type ParamGroup } from "./optimizer.js";
import { checkFields, fieldsOf, loadFields, type SchedulerStateDict } from "./scheduler_state.js";

export type { SchedulerStateDict } from "./scheduler_state.js";

// The keys of the schedules whose options are written inline.
const GAMMA_KEYS: ReadonlySet<string> = new Set(["gamma"]);
const COSINE_KEYS: ReadonlySet<string> = new Set(["etaMin"]);
const LINEAR_KEYS: ReadonlySet<string> = new Set(["startFactor", "endFactor", "totalIters"]);

function checkOptimizer(name: string, optimizer: unknown): Optimizer {
  if (!(optimizer instanceof Optimizer))
    throw new DescentError(`${name}: expected an optimizer, got ${String(optimizer)}`);
  return optimizer as Optimizer;
}

/** The base of every epoch-driven schedule (PyTorch's _LRScheduler). */
export abstract class LRScheduler {
  /** The optimizer whose groups' lr this schedule sets. */
  readonly optimizer: Optimizer;
  /** Each group's initialLr when the schedule began. */
  baseLrs: number[] = [];
  /** The epoch (step) the current lr belongs to; 0 after construction. */
  lastEpoch = -1;
  protected stepCount = 0;
  protected lastLr: number[] = [];

  protected constructor(
    protected readonly schedulerName: string,
    optimizer: Optimizer,
  ) {
    this.optimizer = checkOptimizer(schedulerName, optimizer);
    Object.defineProperty(this, "schedulerName", { enumerable: false });
  }

  /** Called by each subclass at the end of its constructor, once its own fields are set. */
  protected start(): void {
    for (const g of this.optimizer.paramGroups) g.initialLr ??= g.lr;
    this.baseLrs = this.optimizer.paramGroups.map((g) => g.initialLr!);
    this.step();
  }

  /** Advances one epoch and sets every group's lr. */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    const lrs = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = lrs[i]!));
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lr of each parameter group after the last step(). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The schedule's state (PyTorch's state_dict()), for checkpoints. */
  stateDict(): SchedulerStateDict {
    return fieldsOf(this);
  }

  /** Restores a state from stateDict() (PyTorch's load_state_dict()); throws a DescentError on a mismatch. */
  loadStateDict(sd: SchedulerStateDict): void {
    loadFields(this.schedulerName, this, sd);
  }

  /** Throws what loadStateDict would throw for sd, changing nothing. */
  checkStateDict(sd: SchedulerStateDict): void {
    checkFields(this.schedulerName, this, sd);
  }

  /** The lrs for epoch lastEpoch (the current ones are in the groups). */
  protected abstract getLr(): number[];

  protected get groups(): ParamGroup[] {
    return this.optimizer.paramGroups;
  }
}

function positiveInt(name: string, what: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new DescentError(`${name}: ${what} must be a positive integer, got ${v}`);
  return v;
}

/** Multiplies lr by gamma every stepSize epochs. `new StepLR(opt, stepSize, {gamma = 0.1})`. */
export class StepLR extends LRScheduler {
  /** Epochs between decays. */
  stepSize: number;
  /** Multiplier applied at each decay (default 0.1). */
  gamma: number;
  constructor(optimizer: Optimizer, stepSize: number, opts: { gamma?: number } = {}) {
    super("StepLR", optimizer);
    checkOptions("StepLR", opts, GAMMA_KEYS);
    this.stepSize = positiveInt("StepLR", "stepSize", stepSize);
    this.gamma = opts.gamma ?? 0.1;
    checkFinite("StepLR", "gamma", this.gamma);
    this.start();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }
}

/** Multiplies lr by gamma at each milestone epoch (a repeated milestone, once per repeat). */
export class MultiStepLR extends LRScheduler {
  /** Epochs at which lr is multiplied by gamma, ascending. */
  milestones: number[];
  /** Multiplier applied at each milestone (default 0.1). */
  gamma: number;
  constructor(optimizer: Optimizer, milestones: readonly number[], opts: { gamma?: number } = {}) {
    super("MultiStepLR", optimizer);
    checkOptions("MultiStepLR", opts, GAMMA_KEYS);
    if (!Array.isArray(milestones) || milestones.some((m) => !Number.isInteger(m))) {
      throw new DescentError(`MultiStepLR: milestones must be a list of integers, got ${String(milestones)}`);
    }
    this.milestones = [...milestones].sort((a, b) => a - b);
    this.gamma = opts.gamma ?? 0.1;
    checkFinite("MultiStepLR", "gamma", this.gamma);
    this.start();
  }
  protected getLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (hits === 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma ** hits);
  }
}

/** Multiplies lr by gamma every epoch. */
export class ExponentialLR extends LRScheduler {
  /** Multiplier applied every epoch. */
  gamma: number;
  constructor(optimizer: Optimizer, gamma: number) {
    super("ExponentialLR", optimizer);
    if (typeof gamma !== "number" || !Number.isFinite(gamma))
      throw new DescentError(`ExponentialLR: gamma must be a finite number, got ${gamma}`);
    this.gamma = gamma;
    this.start();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }
}

/**
 * Cosine annealing from each group's initial lr to etaMin over tMax epochs, then back up (the
 * schedule keeps following the cosine), in PyTorch's recursive form.
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Epochs of one half cosine period. */
  tMax: number;
  /** The lowest lr (default 0). */
  etaMin: number;
  constructor(optimizer: Optimizer, tMax: number, opts: { etaMin?: number } = {}) {
    super("CosineAnnealingLR", optimizer);
    checkOptions("CosineAnnealingLR", opts, COSINE_KEYS);
    this.tMax = positiveInt("CosineAnnealingLR", "tMax", tMax);
    this.etaMin = opts.etaMin ?? 0;
    checkFinite("CosineAnnealingLR", "etaMin", this.etaMin);
    this.start();
  }
  protected getLr(): number[] {
    const { lastEpoch: e, tMax: T, etaMin } = this;
    if (e === 0) return this.groups.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0) {
      return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    }
    if ((e - 1 - T) % (2 * T) === 0) {
      return this.groups.map((g, i) => g.lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return this.groups.map(
      (g) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin,
    );
  }
}

/** Scales lr linearly from startFactor to endFactor over totalIters epochs, then keeps it. */
export class LinearLR extends LRScheduler {
  /** Factor of the initial lr at epoch 0 (default 1/3). */
  startFactor: number;
  /** Factor reached after totalIters epochs (default 1). */
  endFactor: number;
  /** Epochs of the ramp (default 5). */
  totalIters: number;
  constructor(optimizer: Optimizer, opts: { startFactor?: number; endFactor?: number; totalIters?: number } = {}) {
    super("LinearLR", optimizer);
    checkOptions("LinearLR", opts, LINEAR_KEYS);
    this.startFactor = opts.startFactor ?? 1 / 3;
    this.endFactor = opts.endFactor ?? 1;
    this.totalIters = opts.totalIters ?? 5;
    // startFactor 0 would divide by zero in the recursive form (later PyTorch refuses it too).
    if (!(this.startFactor > 0 && this.startFactor <= 1))
      throw new DescentError(`LinearLR: startFactor must be in (0, 1], got ${this.startFactor}`);
    if (!(this.endFactor >= 0 && this.endFactor <= 1))
      throw new DescentError(`LinearLR: endFactor must be in [0, 1], got ${this.endFactor}`);
    positiveInt("LinearLR", "totalIters", this.totalIters);
    this.start();
  }
  protected getLr(): number[] {
    const { lastEpoch: e, startFactor: s, endFactor: f, totalIters: n } = this;
    if (e === 0) return this.groups.map((g) => g.lr * s);
    if (e > n) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * (1 + (f - s) / (n * s + (e - 1) * (f - s))));
  }
}

/** Options of OneCycleLR (torch.optim.lr_scheduler.OneCycleLR's keyword arguments, camelCased). */
export interface OneCycleOptions {
  /** Steps in the cycle; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  /** Epochs in the cycle (with stepsPerEpoch). */
  epochs?: number;
  /** Steps per epoch (with epochs). */
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent raising lr (default 0.3). */
  pctStart?: number;
  /** Annealing shape (default "cos"). */
  annealStrategy?: "cos" | "linear";
  /** Cycle momentum (or Adam's beta1) inversely to lr (default true). */
  cycleMomentum?: boolean;
  /** Lowest momentum, per group or for all (default 0.85). */
  baseMomentum?: number | readonly number[];
  /** Highest momentum, per group or for all (default 0.95). */
  maxMomentum?: number | readonly number[];
  /** initial lr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** final lr = initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Use a third phase that anneals to the final lr (fast.ai style; default false). */
  threePhase?: boolean;
}

/** The keys of OneCycleOptions, for checkOptions. */
const ONE_CYCLE_KEYS = keysOf<OneCycleOptions>()({
  totalSteps: true,
  epochs: true,
  stepsPerEpoch: true,
  pctStart: true,
  annealStrategy: true,
  cycleMomentum: true,
  baseMomentum: true,
  maxMomentum: true,
  divFactor: true,
  finalDivFactor: true,
  threePhase: true,
});

/** One phase of OneCycleLR's schedule: the step it ends at and the group keys it anneals between. */
export interface Phase {
  /** The step the phase ends at. */
  endStep: number;
  /** The group key holding the lr at the phase's start. */
  startLr: "initialLr" | "maxLr" | "minLr";
  /** The group key holding the lr at the phase's end. */
  endLr: "initialLr" | "maxLr" | "minLr";
  /** The group key holding the momentum at the phase's start. */
  startMomentum: "maxMomentum" | "baseMomentum";
  /** The group key holding the momentum at the phase's end. */
  endMomentum: "maxMomentum" | "baseMomentum";
}

/**
 * The 1cycle policy (fastai's two phases, or the paper's three with threePhase): lr rises from
 * maxLr/divFactor to maxLr over pctStart of totalSteps, then anneals to initialLr/finalDivFactor,
 * while momentum (or Adam's beta1) moves inversely between maxMomentum and baseMomentum.
 * `new OneCycleLR(opt, maxLr, {totalSteps} | {epochs, stepsPerEpoch}, …)`; step once per batch.
 */
export class OneCycleLR extends LRScheduler {
  /** Steps in the cycle. */
  totalSteps: number;
  /** Annealing shape. */
  annealStrategy: "cos" | "linear";
  /** Whether momentum cycles. */
  cycleMomentum: boolean;
  /** True for optimizers with betas (Adam): the cycled momentum is beta1. */
  useBeta1: boolean;
  /** The phases of the cycle (two, or three with threePhase). */
  schedulePhases: Phase[];

  constructor(optimizer: Optimizer, maxLr: number | readonly number[], opts: OneCycleOptions = {}) {
    super("OneCycleLR", optimizer);
    checkOptions("OneCycleLR", opts, ONE_CYCLE_KEYS);
    const name = "OneCycleLR";
    if (opts.totalSteps !== undefined) {
      this.totalSteps = positiveInt(name, "totalSteps", opts.totalSteps);
    } else if (opts.epochs !== undefined && opts.stepsPerEpoch !== undefined) {
      this.totalSteps =
        positiveInt(name, "epochs", opts.epochs) * positiveInt(name, "stepsPerEpoch", opts.stepsPerEpoch);
    } else {
      throw new DescentError(`${name}: give either totalSteps or both epochs and stepsPerEpoch`);
    }
    const pct = opts.pctStart ?? 0.3;
    if (!(pct >= 0 && pct <= 1)) throw new DescentError(`${name}: pctStart must be between 0 and 1, got ${pct}`);
    const t = this.totalSteps;
    this.schedulePhases = opts.threePhase
      ? [
          {
            endStep: pct * t - 1,
            startLr: "initialLr",
            endLr: "maxLr",
            startMomentum: "maxMomentum",
            endMomentum: "baseMomentum",
          },
          {
            endStep: 2 * pct * t - 2,
            startLr: "maxLr",
            endLr: "initialLr",
            startMomentum: "baseMomentum",
            endMomentum: "maxMomentum",
          },
          {
            endStep: t - 1,
            startLr: "initialLr",
            endLr: "minLr",
            startMomentum: "maxMomentum",
            endMomentum: "maxMomentum",
          },
        ]
      : [
          {
            endStep: pct * t - 1,
            startLr: "initialLr",
            endLr: "maxLr",
            startMomentum: "maxMomentum",
            endMomentum: "baseMomentum",
          },
          {
            endStep: t - 1,
            startLr: "maxLr",
            endLr: "minLr",
            startMomentum: "baseMomentum",
            endMomentum: "maxMomentum",
          },
        ];
    const strategy = opts.annealStrategy ?? "cos";
    if (strategy !== "cos" && strategy !== "linear")
      throw new DescentError(`${name}: annealStrategy must be "cos" or "linear", got ${String(strategy)}`);
    this.annealStrategy = strategy;

    const groups = this.groups;
    const divFactor = opts.divFactor ?? 25;
    const finalDivFactor = opts.finalDivFactor ?? 1e4;
    const maxLrs = perGroup(name, "maxLr", maxLr, groups.length);
    groups.forEach((g, i) => {
      g.initialLr = maxLrs[i]! / divFactor;
      g.maxLr = maxLrs[i]!;
      g.minLr = g.initialLr / finalDivFactor;
    });

    this.cycleMomentum = opts.cycleMomentum ?? true;
    const defaults = optimizer.defaults as unknown as Record<string, unknown>;
    this.useBeta1 = "betas" in defaults;
    if (this.cycleMomentum) {
      if (!("momentum" in defaults) && !this.useBeta1)
        throw new DescentError(`${name}: the optimizer has no momentum or betas to cycle; pass cycleMomentum: false`);
      const maxM = perGroup(name, "maxMomentum", opts.maxMomentum ?? 0.95, groups.length);
      const baseM = perGroup(name, "baseMomentum", opts.baseMomentum ?? 0.85, groups.length);
      groups.forEach((g, i) => {
        this.setMomentum(g, maxM[i]!);
        g.maxMomentum = maxM[i]!;
        g.baseMomentum = baseM[i]!;
      });
    }
    this.start();
  }

  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new DescentError(
        `OneCycleLR: tried to step ${stepNum + 1} times; the schedule has totalSteps = ${this.totalSteps}`,
      );
    }
    const anneal = this.annealStrategy === "cos" ? annealCos : annealLinear;
    return this.groups.map((g) => {
      let startStep = 0;
      const phases = this.schedulePhases;
      for (const [i, ph] of phases.entries()) {
        if (stepNum <= ph.endStep || i === phases.length - 1) {
          const pct = (stepNum - startStep) / (ph.endStep - startStep);
          if (this.cycleMomentum) this.setMomentum(g, anneal(g[ph.startMomentum]!, g[ph.endMomentum]!, pct));
          return anneal(g[ph.startLr]!, g[ph.endLr]!, pct);
        }
        startStep = ph.endStep;
      }
      return g.lr; // unreachable: the last phase always matches
    });
  }

  private setMomentum(g: ParamGroup, m: number): void {
    const o = g as unknown as { betas?: number[]; momentum?: number };
    if (this.useBeta1) o.betas = [m, ...(o.betas ?? []).slice(1)];
    else o.momentum = m;
  }
}

function annealCos(start: number, end: number, pct: number): number {
  return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
}

function annealLinear(start: number, end: number, pct: number): number {
  return (end - start) * pct + start;
}

function perGroup(name: string, what: string, v: number | readonly number[], n: number): number[] {
  if (typeof v === "number") return new Array<number>(n).fill(v);
  if (!Array.isArray(v) || v.length !== n)
    throw new DescentError(`${name}: expected ${n} values for ${what} (one per group), got ${String(v)}`);
  return [...(v as number[])];
}

/** Options of ReduceLROnPlateau (PyTorch's keyword arguments, camelCased). */
export interface ReduceLROnPlateauOptions {
  /** Whether the metric should go down ("min", default) or up. */
  mode?: "min" | "max";
  /** Multiplier of lr on a plateau (default 0.1). */
  factor?: number;
  /** Epochs without improvement tolerated (default 10). */
  patience?: number;
  /** Smallest change counted as improvement (default 1e-4). */
  threshold?: number;
  /** threshold relative to the best value ("rel", default) or absolute. */
  thresholdMode?: "rel" | "abs";
  /** Epochs to wait after a reduction (default 0). */
  cooldown?: number;
  /** Lowest lr, per group or for all (default 0). */
  minLr?: number | readonly number[];
  /** Smallest lr change applied (default 1e-8). */
  eps?: number;
}

/** The keys of ReduceLROnPlateauOptions, for checkOptions. */
const PLATEAU_KEYS = keysOf<ReduceLROnPlateauOptions>()({
  mode: true,
  factor: true,
  patience: true,
  threshold: true,
  thresholdMode: true,
  cooldown: true,
  minLr: true,
  eps: true,
});

/**
 * Multiplies lr by factor when the metric given to step(metric) has not improved (by threshold,
 * relative or absolute) for more than patience epochs; then waits cooldown epochs. lr never goes
 * below minLr, and a decrease smaller than eps is skipped.
 */
export class ReduceLROnPlateau {
  /** The optimizer whose lr is reduced. */
  readonly optimizer: Optimizer;
  /** See ReduceLROnPlateauOptions.mode. */
  mode: "min" | "max";
  /** See ReduceLROnPlateauOptions.factor. */
  factor: number;
  /** See ReduceLROnPlateauOptions.patience. */
  patience: number;
  /** See ReduceLROnPlateauOptions.threshold. */
  threshold: number;
  /** See ReduceLROnPlateauOptions.thresholdMode. */
  thresholdMode: "rel" | "abs";
  /** See ReduceLROnPlateauOptions.cooldown. */
  cooldown: number;
  /** The lowest lr of each group. */
  minLrs: number[];
  /** See ReduceLROnPlateauOptions.eps. */
  eps: number;
  /** The best metric so far. */
  best: number;
  /** Epochs since the last improvement. */
  numBadEpochs = 0;
  /** Cooldown epochs left. */
  cooldownCounter = 0;
  /** The number of step() calls so far. */
  lastEpoch = 0;
  protected lastLr: number[];

  constructor(optimizer: Optimizer, opts: ReduceLROnPlateauOptions = {}) {
    checkOptions("ReduceLROnPlateau", opts, PLATEAU_KEYS);
    const name = "ReduceLROnPlateau";
    this.optimizer = checkOptimizer(name, optimizer);
    this.factor = opts.factor ?? 0.1;
    if (!(this.factor < 1)) throw new DescentError(`${name}: factor must be < 1, got ${this.factor}`);
    this.mode = opts.mode ?? "min";
    if (this.mode !== "min" && this.mode !== "max")
      throw new DescentError(`${name}: mode must be "min" or "max", got ${String(this.mode)}`);
    this.thresholdMode = opts.thresholdMode ?? "rel";
    if (this.thresholdMode !== "rel" && this.thresholdMode !== "abs")
      throw new DescentError(`${name}: thresholdMode must be "rel" or "abs", got ${String(this.thresholdMode)}`);
    this.patience = opts.patience ?? 10;
    this.threshold = opts.threshold ?? 1e-4;
    this.cooldown = opts.cooldown ?? 0;
    this.eps = opts.eps ?? 1e-8;
    this.minLrs = perGroup(name, "minLr", opts.minLr ?? 0, optimizer.paramGroups.length);
    this.best = this.mode === "min" ? Infinity : -Infinity;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  /** Records one epoch's metric (a number or a one-element tensor) and lowers lr if it has plateaued. */
  step(metric: number | Tensor): void {
    const current = metric instanceof Tensor ? metric.item() : Number(metric);
    this.lastEpoch++;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0; // bad epochs in cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const newLr = Math.max(g.lr * this.factor, this.minLrs[i]!);
        if (g.lr - newLr > this.eps) g.lr = newLr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lr of each parameter group after the last step(). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The scheduler's state (PyTorch's state_dict()), for checkpoints. */
  stateDict(): SchedulerStateDict {
    return fieldsOf(this);
  }

  /** Restores a state from stateDict(); throws a DescentError on a mismatch. */
  loadStateDict(sd: SchedulerStateDict): void {
    loadFields("ReduceLROnPlateau", this, sd);
  }

  /** Throws what loadStateDict would throw for sd, changing nothing. */
  checkStateDict(sd: SchedulerStateDict): void {
    checkFields("ReduceLROnPlateau", this, sd);
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === "min")
      return this.thresholdMode === "rel" ? a < best * (1 - this.threshold) : a < best - this.threshold;
    return this.thresholdMode === "rel" ? a > best * (this.threshold + 1) : a > best + this.threshold;
  }
}
