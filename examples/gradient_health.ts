// Seeing vanishing gradients, and their cure.
//
//   node --import tsx examples/gradient_health.ts [output-dir]
//
// A 12-layer MLP with sigmoid activations and PyTorch's default initialisation is trained for a
// few dozen SGD steps on a small regression task while a GradientMonitor records every layer's
// gradient norm. The sigmoid's derivative is at most 1/4, so each layer shrinks the gradient on its
// way back to the input: the first layer's gradient ends up many orders of magnitude below the
// last's and the monitor says so. The same network with ReLU, Kaiming initialisation and BatchNorm
// keeps every layer's gradient within an order or two, and the monitor finds nothing to report.
// Both runs write an HTML report (open it in any browser; it needs no network).

import { join } from "node:path";
import { manualSeed, nn, optim, randn, type Tensor } from "descent-nn";
import { GradientMonitor } from "../src/train/health.js";
import { writeReport } from "../src/train/report.js";

const DEPTH = 12;
const WIDTH = 32;
const STEPS = 60;
const EPOCH = 10; // steps per "epoch" of the report's loss curve

function build(kind: "sigmoid" | "healthy"): nn.Sequential {
  const layers: nn.Module[] = [];
  for (let i = 0; i < DEPTH; i++) {
    const linear = new nn.Linear(WIDTH, WIDTH);
    layers.push(linear);
    if (kind === "healthy") {
      nn.init.kaimingNormal_(linear.weight, { nonlinearity: "relu" });
      nn.init.zeros_(linear.bias!);
      layers.push(new nn.BatchNorm1d(WIDTH), new nn.ReLU());
    } else {
      layers.push(new nn.Sigmoid());
    }
  }
  layers.push(new nn.Linear(WIDTH, 1));
  return new nn.Sequential(...layers);
}

function train(kind: "sigmoid" | "healthy", dir: string): void {
  manualSeed(1); // the same data for both runs
  const x = randn([128, WIDTH]);
  const y = x.slice(1, 0, 1).mul(2).sin(); // a smooth function of the first feature
  const model = build(kind);
  const monitor = new GradientMonitor(model);
  const opt = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  const lossFn = new nn.MSELoss();
  const history = { loss: [] as number[], lr: [] as number[] };
  let sum = 0;
  for (let step = 0; step < STEPS; step++) {
    opt.zeroGrad();
    const loss = lossFn.forward(model.forward(x) as Tensor, y);
    loss.backward();
    monitor.recordGradients(step);
    opt.step();
    monitor.recordUpdate(step);
    sum += loss.item();
    if ((step + 1) % EPOCH === 0) {
      history.loss.push(sum / EPOCH);
      history.lr.push(opt.paramGroups[0]!.lr);
      sum = 0;
    }
  }
  const path = join(dir, `gradient_health_${kind}.html`);
  const { bytes } = writeReport(path, {
    history,
    monitor,
    title: kind === "sigmoid" ? "Deep sigmoid MLP, default init" : "Deep ReLU MLP, Kaiming init + BatchNorm",
  });
  const first = monitor.records[0]!.gradNorms;
  console.log(`\n== ${kind}: final loss ${history.loss.at(-1)!.toFixed(4)}`);
  console.log(
    `   step 0 gradient norms: 0.weight ${first["0.weight"]!.toExponential(1)}, last layer ${Object.entries(first)
      .filter(([k]) => k.endsWith("weight"))
      .at(-1)![1]
      .toExponential(1)}`,
  );
  console.log(monitor.summary());
  console.log(`   report: ${path} (${(bytes / 1024).toFixed(0)} KiB)`);
  monitor.detach();
}

const dir = process.argv[2] ?? ".";
train("sigmoid", dir);
train("healthy", dir);
