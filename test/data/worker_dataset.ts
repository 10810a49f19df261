// A dataset for the DataLoader worker tests (loaded by the workers through opts.workerDataset):
// each example is its index plus noise drawn from the default generator, as a random
// augmentation would, so a test sees whose generator and which seed built a batch. get(fail)
// throws, to test how a worker's error reaches the main thread.

import { randn, tensor, type Tensor } from "../../src/index.js";

export class NoisyDataset {
  constructor(
    readonly length: number,
    private readonly fail = -1,
  ) {}

  get(i: number): Tensor[] {
    if (i === this.fail) throw new Error(`boom at example ${i}`);
    return [tensor([i, 2 * i]).add(randn([2])), tensor([i % 3], { dtype: "int32" })];
  }
}
