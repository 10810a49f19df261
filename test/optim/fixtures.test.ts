// PyTorch parity for optim: every case of test/fixtures/optim.json (scripts/fixtures_optim.py,
// PyTorch 1.13) replayed through Descent. Optimizers: the parameters after each of 10 steps on the
// tanh MLP, and the state after the last; schedulers: the lr (and cycled momentum) sequences.
// Tolerances: float64 rtol 1e-10 / atol 1e-12 (PyTorch fuses p + α·x into one FMA and V8's pow/cos
// may differ from glibc's by an ulp; nothing else differs), float32 rtol 1e-5 / atol 1e-6.
// The largest deviations are printed as test diagnostics.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Tensor, zeros } from "../../src/index.js";
import { ReduceLROnPlateau } from "../../src/optim/lr_scheduler.js";
import { assertAllclose } from "../helpers/allclose.js";
import { Deviations, FIX, makeOptimizer, makeScheduler, setup } from "./common.js";

const TOL = { float64: { rtol: 1e-10, atol: 1e-12 }, float32: { rtol: 1e-5, atol: 1e-6 } } as const;
const SCHED_TOL = { rtol: 1e-12, atol: 1e-15 }; // plain double arithmetic on both sides

describe("optimizers match PyTorch step by step", () => {
  const dev = new Deviations();
  for (const c of FIX.optimizers) {
    test(c.name, () => {
      const { params, opt, train } = setup(c);
      const tol = TOL[c.dtype];
      train(0, 10, (k) => {
        params.forEach((p, j) => {
          const expected = c.params[k + 1]![j]!;
          dev.add(`${c.optimizer} ${c.dtype}`, c.dtype, p.toFlatArray(), expected);
          assertAllclose(p, expected, { ...tol, message: `${c.name}: parameter ${j} after step ${k + 1}` });
        });
      });
      // The state PyTorch holds after 10 steps: same keys, same values.
      const state = opt.stateDict().state;
      assert.deepEqual(Object.keys(state).sort(), Object.keys(c.state).sort(), `${c.name}: parameters with state`);
      for (const [i, expected] of Object.entries(c.state)) {
        const actual = state[Number(i)]!;
        assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${c.name}: state keys of ${i}`);
        for (const [k, v] of Object.entries(expected)) {
          const a = actual[k];
          if (Array.isArray(v)) {
            assert.ok(a instanceof Tensor, `${c.name}: state ${i}.${k} is a tensor`);
            dev.add(`${c.optimizer} ${c.dtype} (state)`, c.dtype, a.toFlatArray(), v);
            assertAllclose(a, v, { ...tol, message: `${c.name}: state ${i}.${k}` });
          } else {
            assert.equal(a, v, `${c.name}: state ${i}.${k}`);
          }
        }
      }
    });
  }
  test("largest deviation from PyTorch per optimizer", (t) => {
    for (const line of dev.table().split("\n")) t.diagnostic(line);
  });
});

describe("schedulers match PyTorch's learning-rate sequences", () => {
  const dev = new Deviations();
  for (const c of FIX.schedulers) {
    test(c.name, () => {
      const params = c.groupLrs.map(() => zeros([1], { requiresGrad: true }));
      const groups = c.groupLrs.map((lr, i) => ({ params: [i], lr }));
      const opt = makeOptimizer(c.optimizer, c.options, params, groups);
      const sched = makeScheduler(opt, c);
      const momenta = () =>
        opt.paramGroups.map((g) => {
          const o = g as unknown as { betas?: number[]; momentum?: number };
          return o.betas ? o.betas[0]! : (o.momentum ?? 0);
        });
      const got = [sched.getLastLr()];
      const gotM = [momenta()];
      for (let k = 0; k < c.steps; k++) {
        opt.step();
        if (sched instanceof ReduceLROnPlateau) sched.step(c.metrics![k]!);
        else sched.step();
        got.push(sched.getLastLr());
        gotM.push(momenta());
      }
      dev.add(c.kind, "float64", got.flat(), c.lrs.flat());
      assertAllclose(got.flat(), c.lrs.flat(), { ...SCHED_TOL, message: `${c.name}: lr sequence` });
      if (c.momenta) {
        dev.add(`${c.kind} (momentum)`, "float64", gotM.flat(), c.momenta.flat());
        assertAllclose(gotM.flat(), c.momenta.flat(), { ...SCHED_TOL, message: `${c.name}: momentum sequence` });
      }
    });
  }
  test("largest deviation from PyTorch per scheduler", (t) => {
    for (const line of dev.table().split("\n")) t.diagnostic(line);
  });
});
