// Run by loader_workers.test.ts as its own process: leaves persistent DataLoader workers running
// mid-iteration and never calls close(); the process must still exit by itself.

import { randn } from "../../src/index.js";
import { DataLoader, TensorDataset } from "../../src/data/index.js";

const loader = new DataLoader(new TensorDataset(randn([64, 4])), {
  batchSize: 4,
  numWorkers: 2,
  persistentWorkers: true,
});
const it = loader[Symbol.iterator]();
const first = it.next();
process.stdout.write(`got ${first.done ? "nothing" : first.value[0]!.shape.join("x")}\n`);
