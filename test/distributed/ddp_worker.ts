// One rank of the MPI tests (run by test/distributed/mpi.test.ts under mpirun). argv[2] is the
// mode: "ddp" trains mlp_case's model with DistributedDataParallel and prints rank 0's weights;
// "kill" does the same, but rank 1 kills itself with SIGKILL at the second step; "throw": rank 1
// throws an Error there instead (an uncaught exception: Node exits with code 1).

import { distributed, tensor, type nn } from "../../src/index.js";
import { makeData, makeModel, train, weights } from "./mlp_case.js";

const mode = process.argv[2] ?? "ddp";
const steps = Number(process.argv[3] ?? 4);
const perRank = Number(process.argv[4] ?? 3);
const { rank, worldSize } = distributed.init();

// The collectives, checked against values every rank can compute.
const t = tensor([rank + 1, -(rank + 1)]);
distributed.allReduce(t);
const sum = (worldSize * (worldSize + 1)) / 2;
const checks: Record<string, boolean> = { sum: Array.from(t.toFlatArray()).join() === [sum, -sum].join() };
const m = tensor([rank]);
distributed.allReduce(m, "max");
checks.max = m.item() === worldSize - 1;
distributed.allReduce(m.fill_(rank), "min");
checks.min = m.item() === 0;
const mean = tensor([2 * rank]);
distributed.allReduce(mean, "mean");
checks.mean = mean.item() === worldSize - 1;
const b = tensor([rank === 1 ? 42 : 0, rank]);
distributed.broadcast(b, 1);
checks.broadcast = Array.from(b.toFlatArray()).join() === "42,1";
distributed.barrier();

// Different seeds per rank: the constructor's broadcast must give every rank rank 0's weights.
const model = makeModel(100 + rank);
const ddp = new distributed.DistributedDataParallel(model, { bucketCapMb: 200 / (1024 * 1024) });
const data = makeData(steps, perRank * worldSize);
if (mode === "kill" || mode === "throw") {
  const forward = ddp.forward.bind(ddp);
  let calls = 0;
  ddp.forward = ((...a: never[]) => {
    if (++calls === 2 && rank === 1) {
      if (mode === "kill") process.kill(process.pid, "SIGKILL");
      throw new Error("rank 1 fails on purpose");
    }
    return forward(...a);
  }) as typeof ddp.forward;
}
train(ddp as nn.Module, data, steps, perRank * worldSize, rank * perRank, (rank + 1) * perRank);
if (rank === 0)
  process.stdout.write(
    `RESULT ${JSON.stringify({ worldSize, checks, buckets: ddp.bucketSizes(), weights: weights(model) })}\n`,
  );
