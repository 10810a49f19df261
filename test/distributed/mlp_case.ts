// The training case shared by the MPI tests: a small MLP (no BatchNorm) trained with SGD on fixed
// data. ddp_worker.ts runs it under mpirun, each rank on its slice of every global batch; the test
// runs it in one process on the whole global batch, and the weights must agree.

import { manualSeed, nn, optim, randn, type Tensor } from "../../src/index.js";

export const IN = 8;
export const HIDDEN = 16;
export const OUT = 4;

export function makeModel(seed: number): nn.Module {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(IN, HIDDEN), new nn.Tanh(), new nn.Linear(HIDDEN, OUT));
}

/** steps global batches of `global` examples each. */
export function makeData(steps: number, global: number): { x: Tensor; y: Tensor } {
  manualSeed(7);
  return { x: randn([steps * global, IN]), y: randn([steps * global, OUT]) };
}

/** SGD steps; step s uses rows [s*global + lo, s*global + hi) of the data. */
export function train(
  model: nn.Module,
  data: { x: Tensor; y: Tensor },
  steps: number,
  global: number,
  lo: number,
  hi: number,
): void {
  const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  for (let s = 0; s < steps; s++) {
    const a = s * global;
    const x = data.x.slice(0, a + lo, a + hi);
    const y = data.y.slice(0, a + lo, a + hi);
    opt.zeroGrad();
    const loss = nn.functional.mseLoss((model.forward as (t: Tensor) => Tensor)(x), y);
    loss.backward();
    opt.step();
  }
}

export function weights(model: nn.Module): number[][] {
  return model.parameters().map((p) => Array.from(p.toFlatArray()));
}
