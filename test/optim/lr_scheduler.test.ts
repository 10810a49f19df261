// Scheduler behaviour beyond the PyTorch sequences: initialLr bookkeeping, exact resumption from
// the optimizer's and the scheduler's state dicts, metrics given as tensors, and the errors.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { DescentError, tensor, zeros } from "../../src/index.js";
import * as optim from "../../src/optim/index.js";
import { FIX, makeOptimizer, makeScheduler } from "./common.js";

const { lrScheduler } = optim;
const sgd = (lrs = [0.1, 0.05], opts: Record<string, unknown> = { momentum: 0.9 }) =>
  new optim.SGD(
    lrs.map((lr) => ({ params: [zeros([1], { requiresGrad: true })], lr })),
    { lr: 0.1, ...opts },
  );

describe("scheduler state dicts resume a schedule exactly", () => {
  for (const c of FIX.schedulers) {
    test(c.name, () => {
      const build = () => {
        const params = c.groupLrs.map(() => zeros([1], { requiresGrad: true }));
        const opt = makeOptimizer(
          c.optimizer,
          c.options,
          params,
          c.groupLrs.map((lr, i) => ({ params: [i], lr })),
        );
        return { opt, sched: makeScheduler(opt, c) };
      };
      const run = (s: ReturnType<typeof build>, from: number, to: number, out: number[][]) => {
        for (let k = from; k < to; k++) {
          s.opt.step();
          if (s.sched instanceof lrScheduler.ReduceLROnPlateau) s.sched.step(tensor(c.metrics![k]!));
          else s.sched.step();
          out.push(s.sched.getLastLr());
        }
      };
      const full: number[][] = [];
      run(build(), 0, c.steps, full);
      const split: number[][] = [];
      const a = build();
      run(a, 0, 12, split);
      const optSd = a.opt.stateDict();
      const schedSd = a.sched.stateDict();
      run(a, 12, 15, []); // moving on must not change the snapshots
      const b = build();
      b.opt.loadStateDict(optSd);
      b.sched.loadStateDict(schedSd);
      run(b, 12, c.steps, split);
      assert.deepEqual(split, full);
    });
  }
});

describe("scheduler behaviour", () => {
  test("constructing a scheduler records initialLr once and takes the first step", () => {
    const opt = sgd();
    const s1 = new lrScheduler.ExponentialLR(opt, 0.5);
    assert.deepEqual(
      opt.paramGroups.map((g) => g.initialLr),
      [0.1, 0.05],
    );
    assert.equal(s1.lastEpoch, 0);
    s1.step();
    assert.deepEqual(s1.getLastLr(), [0.05, 0.025]);
    const s2 = new lrScheduler.StepLR(opt, 2);
    assert.deepEqual(s2.baseLrs, [0.1, 0.05], "initialLr is not overwritten (PyTorch's setdefault)");
  });

  test("OneCycleLR sets initialLr, maxLr, minLr and cycles Adam's beta1", () => {
    const opt = new optim.Adam([zeros([1], { requiresGrad: true })], { betas: [0.5, 0.99] });
    const s = new lrScheduler.OneCycleLR(opt, 0.4, { totalSteps: 10 });
    const g = opt.paramGroups[0]!;
    assert.deepEqual([g.initialLr, g.maxLr, g.minLr], [0.4 / 25, 0.4, 0.4 / 25 / 1e4]);
    assert.deepEqual(g.betas, [0.95, 0.99]);
    assert.ok(Math.abs(s.getLastLr()[0]! - 0.4 / 25) < 1e-15); // cos annealing at pct 0, rounded as PyTorch
    for (let i = 0; i < 10; i++) s.step();
    assert.throws(
      () => s.step(),
      /^DescentError: OneCycleLR: tried to step 12 times; the schedule has totalSteps = 10/,
    );
  });

  test("ReduceLROnPlateau reports the lrs before its first step", () => {
    const s = new lrScheduler.ReduceLROnPlateau(sgd([0.3]));
    assert.deepEqual(s.getLastLr(), [0.3]);
  });
});

describe("scheduler errors", () => {
  const cases: [string, () => unknown, RegExp][] = [
    ["not an optimizer", () => new lrScheduler.StepLR({} as never, 1), /^StepLR: expected an optimizer/],
    ["StepLR stepSize", () => new lrScheduler.StepLR(sgd(), 0), /^StepLR: stepSize must be a positive integer, got 0/],
    [
      "MultiStepLR",
      () => new lrScheduler.MultiStepLR(sgd(), [1.5]),
      /^MultiStepLR: milestones must be a list of integers/,
    ],
    ["ExponentialLR", () => new lrScheduler.ExponentialLR(sgd(), NaN), /^ExponentialLR: gamma must be a finite number/],
    [
      "Cosine tMax",
      () => new lrScheduler.CosineAnnealingLR(sgd(), -3),
      /^CosineAnnealingLR: tMax must be a positive integer, got -3/,
    ],
    [
      "LinearLR start",
      () => new lrScheduler.LinearLR(sgd(), { startFactor: 0 }),
      /^LinearLR: startFactor must be in \(0, 1\], got 0/,
    ],
    [
      "LinearLR end",
      () => new lrScheduler.LinearLR(sgd(), { endFactor: 2 }),
      /^LinearLR: endFactor must be in \[0, 1\], got 2/,
    ],
    [
      "OneCycle steps",
      () => new lrScheduler.OneCycleLR(sgd(), 1),
      /^OneCycleLR: give either totalSteps or both epochs and stepsPerEpoch/,
    ],
    [
      "OneCycle pct",
      () => new lrScheduler.OneCycleLR(sgd(), 1, { totalSteps: 5, pctStart: 1.5 }),
      /^OneCycleLR: pctStart must be between 0 and 1, got 1.5/,
    ],
    [
      "OneCycle anneal",
      () => new lrScheduler.OneCycleLR(sgd(), 1, { totalSteps: 5, annealStrategy: "exp" as never }),
      /^OneCycleLR: annealStrategy must be "cos" or "linear"/,
    ],
    [
      "OneCycle maxLr list",
      () => new lrScheduler.OneCycleLR(sgd(), [1, 2, 3], { totalSteps: 5 }),
      /^OneCycleLR: expected 2 values for maxLr \(one per group\)/,
    ],
    [
      "OneCycle momentum",
      () => new lrScheduler.OneCycleLR(new optim.Adagrad([zeros([1], { requiresGrad: true })]), 1, { totalSteps: 5 }),
      /^OneCycleLR: the optimizer has no momentum or betas to cycle/,
    ],
    [
      "Plateau factor",
      () => new lrScheduler.ReduceLROnPlateau(sgd(), { factor: 1 }),
      /^ReduceLROnPlateau: factor must be < 1, got 1/,
    ],
    [
      "Plateau mode",
      () => new lrScheduler.ReduceLROnPlateau(sgd(), { mode: "avg" as never }),
      /^ReduceLROnPlateau: mode must be "min" or "max"/,
    ],
    [
      "Plateau threshold mode",
      () => new lrScheduler.ReduceLROnPlateau(sgd(), { thresholdMode: "x" as never }),
      /^ReduceLROnPlateau: thresholdMode must be "rel" or "abs"/,
    ],
    [
      "Plateau minLr",
      () => new lrScheduler.ReduceLROnPlateau(sgd(), { minLr: [0.1] }),
      /^ReduceLROnPlateau: expected 2 values for minLr/,
    ],
    [
      "unknown state key",
      () => new lrScheduler.StepLR(sgd(), 2).loadStateDict({ stepsize: 3 }),
      /^StepLR\.loadStateDict: unexpected keys stepsize/,
    ],
    // Issue 11 #9: an empty or malformed state used to be accepted silently.
    ["empty state", () => new lrScheduler.StepLR(sgd(), 2).loadStateDict({}), /^StepLR\.loadStateDict: missing keys /],
    [
      "NaN in state",
      () => {
        const s = new lrScheduler.StepLR(sgd(), 2);
        s.loadStateDict({ ...s.stateDict(), gamma: NaN });
      },
      /^StepLR\.loadStateDict: gamma is NaN/,
    ],
    [
      "fractional counter",
      () => {
        const s = new lrScheduler.StepLR(sgd(), 2);
        s.loadStateDict({ ...s.stateDict(), lastEpoch: 1.5 });
      },
      /^StepLR\.loadStateDict: lastEpoch must be an integer >= -1, got 1\.5/,
    ],
    [
      "wrong kind and length",
      () => {
        const s = new lrScheduler.StepLR(sgd(), 2);
        s.loadStateDict({ ...s.stateDict(), baseLrs: [0.1] });
      },
      /^StepLR\.loadStateDict: baseLrs has 1 entries, this scheduler 2/,
    ],
    [
      "Plateau best as a string",
      () => {
        const s = new lrScheduler.ReduceLROnPlateau(sgd());
        s.loadStateDict({ ...s.stateDict(), best: "0" });
      },
      /^ReduceLROnPlateau\.loadStateDict: best must be number, got "0"/,
    ],
  ];
  for (const [name, fn, re] of cases) {
    test(name, () => assert.throws(fn, (e: unknown) => e instanceof DescentError && re.test(e.message)));
  }
});
