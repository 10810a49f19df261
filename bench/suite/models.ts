// The models of the benchmark suite's Descent workloads, shared by Descent's worker (descent.ts) and
// ONNX Runtime's (ort.ts, which exports these very modules with onnx.export so both run the same
// weights). Built with the default generator's default seed, as every worker starts.

import { nn } from "../../src/index.js";

/** The W2/W5 MLP: 784-256-128-10 with ReLU. */
export function mlp(): nn.Sequential {
  return new nn.Sequential(
    new nn.Linear(784, 256),
    new nn.ReLU(),
    new nn.Linear(256, 128),
    new nn.ReLU(),
    new nn.Linear(128, 10),
  );
}

/** The W3 CNN (input [64, 1, 28, 28]): two conv-relu-pool stages, then a 1600-128-10 MLP. */
export function cnn(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 32, 3),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(32, 64, 3),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(64 * 5 * 5, 128),
    new nn.ReLU(),
    new nn.Linear(128, 10),
  );
}
