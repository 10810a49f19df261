// Scaling numbers for the README's note on data-parallel training (run under mpirun):
//   mpirun -np 2 --oversubscribe node --import tsx bench/distributed.ts [bucketCapMb, default 25]
// Times, on each world size, (a) a blocking all-reduce of the demo MLP's gradient bytes and (b) a
// training step of the demo MLP (784-256-128-10, batch 64 per rank, Adam) with and without DDP.

import { distributed, nn, optim, randn, randint, type Tensor } from "../src/index.js";

const { rank, worldSize } = distributed.init();
const model = new nn.Sequential(
  new nn.Linear(784, 256),
  new nn.ReLU(),
  new nn.Linear(256, 128),
  new nn.ReLU(),
  new nn.Linear(128, 10),
);
const nParams = model.parameters().reduce((n, p) => n + p.size, 0);
const time = (reps: number, fn: () => void): number => {
  fn();
  distributed.barrier();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t0) / reps;
};
const grads = randn([nParams]);
const reduceMs = time(50, () => distributed.allReduce(grads, "mean"));
const x = randn([64, 784]);
const y = randint(0, 10, [64]);
const step = (m: nn.Module, opt: optim.Optimizer) => () => {
  opt.zeroGrad();
  nn.functional.crossEntropy((m.forward as (t: Tensor) => Tensor)(x), y).backward();
  opt.step();
};
const localMs = time(30, step(model, new optim.Adam(model.parameters())));
const ddp = new distributed.DistributedDataParallel(model, { bucketCapMb: Number(process.argv[2] ?? 25) });
const ddpMs = time(30, step(ddp, new optim.Adam(model.parameters())));
if (rank === 0)
  process.stdout.write(
    `ranks ${worldSize}: ${nParams} parameters, ${(nParams * 4) / 1e6} MB all-reduced per step in buckets of [${ddp.bucketSizes().join(", ")}] floats; ` +
      `allReduce ${reduceMs.toFixed(2)} ms; step ${localMs.toFixed(2)} ms local, ${ddpMs.toFixed(2)} ms with DDP\n`,
  );
