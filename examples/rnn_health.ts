// Seeing exploding gradients in a recurrent network, and what clipping does about them.
//
//   node --import tsx examples/rnn_health.ts [output-dir]
//
// An nn.RNN (tanh, hidden 16) reads sequences of 100 steps and a linear head predicts the scaled
// sum of the first input feature over the last 3 steps. Its recurrent matrix starts with a spectral
// radius near 2, so the backward pass multiplies the gradient by a hundred Jacobians whose norm can
// exceed 1: some batches produce gradients thousands of times larger than others. Two runs start
// from the same weights and see the same batches; the second calls
// nn.utils.clipGradNorm_(params, 1) before every optimizer step. A GradientMonitor watches both and
// each run writes an HTML report (open it in any browser; it needs no network).
//
// The monitor records the gradients the optimizer is given: in the clipped run that is after
// clipping (the norm before clipping is what clipGradNorm_ returns, printed below), so its report
// shows what the remedy changed: bounded gradient norms and update-to-weight ratios, and a loss that
// keeps falling instead of diverging.

import { join } from "node:path";
import { manualSeed, nn, optim, randn, train, type Tensor } from "descent-nn";

const T = 100;
const BATCH = 32;
const INPUT = 2;
const HIDDEN = 16;
const STEPS = 60;
const LR = 0.3;
const MAX_NORM = 1;
const LAST = 3;
const EPOCH = 5; // steps per point of the report's loss curve

/** The RNN and a linear head on its last hidden state. */
class Regressor extends nn.Module {
  readonly rnn = new nn.RNN(INPUT, HIDDEN);
  readonly head = new nn.Linear(HIDDEN, 1);

  constructor() {
    super();
    // Recurrent weights N(0, (2/√H)²): spectral radius ≈ 2, built to explode.
    const whh = this.rnn.namedParameters().find(([name]) => name === "weight_hh_l0")![1];
    nn.init.normal_(whh, 0, 2 / Math.sqrt(HIDDEN));
  }

  forward(x: Tensor): Tensor {
    const [, h] = this.rnn.forward(x);
    return this.head.forward(h.select(0, 0));
  }
}

function run(clip: boolean, dir: string): void {
  manualSeed(0); // the same initial weights and batches in both runs
  const model = new Regressor();
  const params = model.parameters();
  const monitor = new train.GradientMonitor(model);
  const opt = new optim.SGD(params, { lr: LR });
  const history = { loss: [] as number[], lr: [] as number[] };
  const rawNorms: number[] = [];
  let sum = 0;
  for (let step = 0; step < STEPS; step++) {
    const x = randn([T, BATCH, INPUT]);
    const y = x
      .slice(0, T - LAST, T)
      .select(2, 0)
      .sum(0)
      .unsqueeze(1)
      .mul(1 / Math.sqrt(LAST));
    opt.zeroGrad();
    const loss = model.forward(x).sub(y).square().mean();
    loss.backward();
    // maxNorm = Infinity only measures (the scale factor is 1).
    rawNorms.push(nn.utils.clipGradNorm_(params, clip ? MAX_NORM : Infinity));
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
  const name = clip ? "clipped" : "unclipped";
  const path = join(dir, `rnn_health_${name}.html`);
  const { bytes } = train.writeReport(path, {
    history,
    monitor,
    title: clip ? `tanh RNN, clipGradNorm_(params, ${MAX_NORM})` : "tanh RNN, no clipping",
  });
  const finite = rawNorms.filter(Number.isFinite);
  console.log(`\n== ${name}: loss over the last ${EPOCH} steps ${history.loss.at(-1)!.toPrecision(3)}`);
  console.log(
    `   gradient norm before clipping: median ${finite.sort((a, b) => a - b)[finite.length >> 1]!.toExponential(1)}, ` +
      `largest ${Math.max(...finite).toExponential(1)}${finite.length < rawNorms.length ? ", then NaN/Inf" : ""}`,
  );
  console.log(monitor.summary());
  console.log(`   report: ${path} (${(bytes / 1024).toFixed(0)} KiB)`);
  monitor.detach();
}

const dir = process.argv[2] ?? ".";
run(false, dir);
run(true, dir);
