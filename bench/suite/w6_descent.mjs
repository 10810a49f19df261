// W6 of the benchmark suite for Descent: a fresh process that imports the compiled package (dist/,
// `npm run build`), builds the W2 MLP and takes one Adam training step. bench/suite.ts times the
// whole process from spawn to exit; DESCENT_BACKEND (js | native) picks the backend. Plain
// JavaScript on purpose: no TypeScript loader on the clock, as a user's `node app.js`.

import { nn, optim, randint, randn } from "../../dist/index.js";

const model = new nn.Sequential(
  new nn.Linear(784, 256),
  new nn.ReLU(),
  new nn.Linear(256, 128),
  new nn.ReLU(),
  new nn.Linear(128, 10),
);
const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
const x = randn([128, 784]);
const y = randint(0, 10, [128]);
opt.zeroGrad();
const loss = nn.functional.crossEntropy(model.forward(x), y);
loss.backward();
opt.step();
loss.item();
