// Shared by the optim tests: the fixture file made by scripts/fixtures_optim.py (PyTorch 1.13), and
// the code that rebuilds its cases in Descent — the tanh MLP from raw tensors, an optimizer with the
// case's options and groups, a scheduler from {kind, args} — and trains for a number of steps.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { tensor, type Tensor } from "../../src/index.js";
import { Adagrad } from "../../src/optim/adagrad.js";
import { Adam, AdamW } from "../../src/optim/adam.js";
import type { Optimizer, ParamsArg } from "../../src/optim/optimizer.js";
import { RMSprop } from "../../src/optim/rmsprop.js";
import { SGD } from "../../src/optim/sgd.js";
import * as lrs from "../../src/optim/lr_scheduler.js";

export type DT = "float32" | "float64";
export type Options = Record<string, unknown>;

export interface SchedulerSpec {
  kind: string;
  args: Options;
}

export interface OptimizerCase {
  name: string;
  optimizer: string;
  options: Options;
  dtype: DT;
  groups?: ({ params: number[] } & Options)[];
  scheduler?: SchedulerSpec;
  /** params[k][j]: parameter j after k steps, flat. */
  params: number[][][];
  state: Record<string, Record<string, number[] | number | null>>;
}

export interface SchedulerCase extends SchedulerSpec {
  name: string;
  optimizer: string;
  options: Options;
  groupLrs: number[];
  steps: number;
  metrics?: number[];
  lrs: number[][];
  momenta?: number[][];
}

export interface OptimFixtures {
  model: {
    params: { name: string; shape: number[] }[];
    x: { shape: number[]; values: number[] };
    y: { shape: number[]; values: number[] };
  };
  optimizers: OptimizerCase[];
  schedulers: SchedulerCase[];
}

const FILE = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "optim.json");
export const FIX = JSON.parse(readFileSync(FILE, "utf8")) as OptimFixtures;

const CLASSES: Record<string, new (params: ParamsArg<never>, opts: never) => Optimizer> = {
  SGD: SGD as never,
  Adam: Adam as never,
  AdamW: AdamW as never,
  RMSprop: RMSprop as never,
  Adagrad: Adagrad as never,
};

const arr = (dtype: DT, v: readonly number[]) => (dtype === "float32" ? Float32Array.from(v) : Float64Array.from(v));

/** The case's parameters [W1, b1, W2, b2, u] at their step-0 values, as leaves that require grad. */
export function makeParams(c: OptimizerCase, step = 0): Tensor[] {
  return FIX.model.params.map((p, j) =>
    tensor(arr(c.dtype, c.params[step]![j]!), { shape: p.shape, dtype: c.dtype, requiresGrad: true }),
  );
}

/** The optimizer a case describes, over `params` (grouped as the case says). */
export function makeOptimizer(name: string, options: Options, params: Tensor[], groups?: OptimizerCase["groups"]) {
  const cls = CLASSES[name];
  if (!cls) throw new Error(`unknown optimizer ${name}`);
  const arg = groups ? groups.map((g) => ({ ...g, params: g.params.map((i) => params[i]!) })) : params;
  return new cls(arg as never, options as never);
}

export function makeScheduler(opt: Optimizer, spec: SchedulerSpec): lrs.LRScheduler | lrs.ReduceLROnPlateau {
  type Args = { stepSize: number; milestones: number[]; gamma: number; tMax: number; maxLr: number | number[] };
  const { stepSize, milestones, gamma, tMax, maxLr, ...other } = spec.args as Args & Options;
  const rest = other as never;
  switch (spec.kind) {
    case "StepLR":
      return new lrs.StepLR(opt, stepSize, { gamma });
    case "MultiStepLR":
      return new lrs.MultiStepLR(opt, milestones, { gamma });
    case "ExponentialLR":
      return new lrs.ExponentialLR(opt, gamma);
    case "CosineAnnealingLR":
      return new lrs.CosineAnnealingLR(opt, tMax, rest);
    case "LinearLR":
      return new lrs.LinearLR(opt, rest);
    case "OneCycleLR":
      return new lrs.OneCycleLR(opt, maxLr, rest);
    case "ReduceLROnPlateau":
      return new lrs.ReduceLROnPlateau(opt, rest);
  }
  throw new Error(`unknown scheduler ${spec.kind}`);
}

/** Everything a training run needs, built from a case; `step` is the parameters' starting step. */
export function setup(c: OptimizerCase, step = 0) {
  const params = makeParams(c, step);
  const opt = makeOptimizer(c.optimizer, c.options, params, c.groups);
  const sched = c.scheduler ? (makeScheduler(opt, c.scheduler) as lrs.LRScheduler) : null;
  const x = tensor(arr(c.dtype, FIX.model.x.values), { shape: FIX.model.x.shape, dtype: c.dtype });
  const y = tensor(arr(c.dtype, FIX.model.y.values), { shape: FIX.model.y.shape, dtype: c.dtype });
  /** Runs training steps k = from … to-1 (step k uses batch k % 2), calling after(k) after each. */
  const train = (from: number, to: number, after?: (k: number) => void) => {
    const [W1, b1, W2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
    for (let k = from; k < to; k++) {
      const r = 8 * (k % 2);
      opt.zeroGrad();
      const out = x
        .slice(0, r, r + 8)
        .matmul(W1)
        .add(b1)
        .tanh()
        .matmul(W2)
        .add(b2);
      out
        .sub(y.slice(0, r, r + 8))
        .square()
        .mean()
        .backward();
      opt.step();
      sched?.step();
      after?.(k);
    }
  };
  return { params, opt, sched, train };
}

/** Largest absolute and relative (over |expected| > 1e-3) deviation seen, per key. */
export class Deviations {
  readonly worst = new Map<string, { abs: number; rel: number; dtype: string }>();
  add(key: string, dtype: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
    const w = this.worst.get(key) ?? { abs: 0, rel: 0, dtype };
    for (let i = 0; i < expected.length; i++) {
      const d = Math.abs(actual[i]! - expected[i]!);
      w.abs = Math.max(w.abs, d);
      if (Math.abs(expected[i]!) > 1e-3) w.rel = Math.max(w.rel, d / Math.abs(expected[i]!));
    }
    this.worst.set(key, w);
  }
  table(): string {
    const rows = [...this.worst].map(
      ([k, w]) => `${k.padEnd(40)} ${w.dtype.padEnd(8)} abs ${w.abs.toExponential(2)}  rel ${w.rel.toExponential(2)}`,
    );
    return rows.join("\n");
  }
}
