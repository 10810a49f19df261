// Exploding gradients in a plain tanh RNN, and how gradient-norm clipping tames them.
//
//   node --import tsx examples/rnn_clipping.ts
//
// The RNN is built from raw tensors, h_t = tanh(x_t W + h_{t-1} U + b), run over sequences of 100
// steps, and trained with SGD to output the (scaled) sum of the first input feature over the last
// 3 steps. The recurrent matrix U starts with a spectral radius near 2, so the backward pass
// multiplies the gradient by Jacobians whose norm can exceed 1 about a hundred times: some batches
// produce gradients thousands of times larger than others. Two runs start from the same weights
// and see the same batches; the only difference is nn.utils.clipGradNorm_(params, 1) before each
// optimizer step. The printed gradient norm is always the norm *before* clipping.

import { manualSeed, nn, optim, randn, zeros, type Tensor } from "descent-nn";

const T = 100; // sequence length
const BATCH = 32;
const INPUT = 2;
const HIDDEN = 16;
const STEPS = 60;
const LR = 0.3;
const MAX_NORM = 1;
const LAST = 3; // the target depends on the last LAST inputs

function train(clip: boolean): { norms: number[]; losses: number[] } {
  manualSeed(0); // the same initial weights and batches in both runs
  const W = randn([INPUT, HIDDEN]).mul(0.5).requiresGrad_();
  const U = randn([HIDDEN, HIDDEN])
    .mul(2 / Math.sqrt(HIDDEN))
    .requiresGrad_();
  const b = zeros([HIDDEN], { requiresGrad: true });
  const V = randn([HIDDEN, 1])
    .mul(1 / Math.sqrt(HIDDEN))
    .requiresGrad_();
  const params = [W, U, b, V];
  const opt = new optim.SGD(params, { lr: LR });
  const norms: number[] = [];
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const x = randn([T, BATCH, INPUT]);
    const y = x
      .slice(0, T - LAST, T)
      .select(2, 0)
      .sum(0)
      .unsqueeze(1)
      .mul(1 / Math.sqrt(LAST));
    opt.zeroGrad();
    let h: Tensor = zeros([BATCH, HIDDEN]);
    for (let t = 0; t < T; t++) h = x.select(0, t).matmul(W).add(h.matmul(U)).add(b).tanh();
    const loss = h.matmul(V).sub(y).square().mean();
    loss.backward();
    // With maxNorm = Infinity clipGradNorm_ only measures (the scale factor is 1).
    norms.push(nn.utils.clipGradNorm_(params, clip ? MAX_NORM : Infinity));
    losses.push(loss.item());
    opt.step();
  }
  return { norms, losses };
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toExponential(2) : String(v)).padStart(10);
/** A log-scale bar for the loss: one character per factor of 10 above 0.01 (clamped at 40). */
const bar = (loss: number) =>
  Number.isFinite(loss) ? "#".repeat(Math.max(1, Math.min(40, Math.round(3 * Math.log10(loss / 0.01))))) : "(NaN/Inf)";

const plain = train(false);
const clipped = train(true);

console.log(
  `tanh RNN, T=${T}, hidden=${HIDDEN}, SGD lr=${LR}; clipping: nn.utils.clipGradNorm_(params, ${MAX_NORM})\n`,
);
console.log(
  `${"step".padStart(4)} | ${"grad norm".padStart(10)} ${"loss".padStart(10)}  (no clipping)   | ${"grad norm".padStart(10)} ${"loss".padStart(10)}  (clipped)`,
);
for (let s = 0; s < STEPS; s++) {
  console.log(
    `${String(s).padStart(4)} | ${fmt(plain.norms[s]!)} ${fmt(plain.losses[s]!)}                 | ${fmt(clipped.norms[s]!)} ${fmt(clipped.losses[s]!)}`,
  );
}

console.log("\nloss curves (log scale, one # per factor of 10^(1/3) above 0.01):");
for (const [name, run] of [
  ["no clipping", plain],
  ["clipped", clipped],
] as const) {
  console.log(`\n${name}:`);
  for (let s = 0; s < STEPS; s += 3) console.log(`${String(s).padStart(4)} ${bar(run.losses[s]!)}`);
}

const maxOf = (xs: number[]) => Math.max(...xs.filter(Number.isFinite)); // the largest finite value
const tail = (xs: number[]) => xs.slice(-10).reduce((a, v) => a + v, 0) / 10;
const firstBad = plain.losses.findIndex((l) => !Number.isFinite(l));
console.log(
  `\nlargest finite gradient norm: ${fmt(maxOf(plain.norms))} without clipping, ${fmt(maxOf(clipped.norms))} with`,
);
console.log(
  `mean loss over the last 10 steps: ${fmt(tail(plain.losses))} without clipping, ${fmt(tail(clipped.losses))} with`,
);
if (firstBad >= 0) console.log(`without clipping the loss became ${plain.losses[firstBad]} at step ${firstBad}`);
console.log(
  "\nWithout clipping, one exploding gradient makes an update thousands of times too large; the weights leave\n" +
    "the region where training works and the loss diverges. Clipping keeps each update at most lr·maxNorm\n" +
    "long (the direction is unchanged), so the same spikes do no harm and the loss keeps falling.",
);
