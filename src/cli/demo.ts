// `descent demo`: trains a small MLP on two interleaved spirals with nothing but tensors and
// autograd, printing progress, so a fresh install shows the whole loop working end to end.

import { cat, full, manualSeed, noGrad, randn, tensor, type Tensor } from "../index.js";

/** n points per class on two spirals, with a little noise: a problem no linear model solves. */
function spirals(n: number): { x: Tensor; y: Tensor } {
  const pts: number[] = [];
  const labels: number[] = [];
  const noise = randn([2 * n, 2])
    .mul(0.08)
    .toFlatArray();
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < n; i++) {
      const r = 0.1 + (0.9 * i) / n;
      const t = (3.5 * Math.PI * i) / n + c * Math.PI; // 1.75 turns per arm
      const k = c * n + i;
      pts.push(r * Math.cos(t) + noise[2 * k]!, r * Math.sin(t) + noise[2 * k + 1]!);
      labels.push(c);
    }
  }
  return { x: tensor(new Float32Array(pts), { shape: [2 * n, 2] }), y: tensor(new Int32Array(labels)) };
}

/** He-initialised weights (fan-in scaling keeps ReLU activations from shrinking layer by layer). */
function layer(inputs: number, outputs: number): [Tensor, Tensor] {
  return [
    randn([inputs, outputs])
      .mul(Math.sqrt(2 / inputs))
      .requiresGrad_(),
    full([outputs], 0).requiresGrad_(),
  ];
}

export function demo(log: (line: string) => void = console.log): {
  accuracy: number;
  testAccuracy: number;
  loss: number;
} {
  manualSeed(0);
  const { x, y } = spirals(200);
  const test = spirals(100); // fresh noise: points the network never trained on
  const params = [...layer(2, 64), ...layer(64, 64), ...layer(64, 2)];
  const [w1, b1, w2, b2, w3, b3] = params as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
  const forward = (inp: Tensor) => inp.matmul(w1).add(b1).relu().matmul(w2).add(b2).relu().matmul(w3).add(b3);
  const velocity = params.map((p) => p.newZeros(p.shape));
  const steps = 1000;
  const peakLr = 0.1;
  log(
    `Descent demo: a 2-64-64-2 ReLU network learns two spirals (${x.shape[0]} points), SGD with momentum and a decaying learning rate`,
  );
  const started = Date.now();
  let loss = NaN;
  let accuracy = 0;
  for (let step = 1; step <= steps; step++) {
    const logits = forward(x);
    const nll = logits.logSoftmax(1).gather(1, y.unsqueeze(1)).neg().mean();
    params.forEach((p) => p.zeroGrad());
    nll.backward();
    const lr = peakLr * (1 - (step - 1) / steps); // linear decay: large steps early, fine ones late
    noGrad(() => params.forEach((p, i) => p.sub_(velocity[i]!.mul_(0.9).add_(p.grad!).mul(lr))));
    if (step % 100 === 0 || step === 1) {
      loss = nll.item();
      accuracy = logits.argmax(1).eq(y).float().mean().item();
      const bar = "#".repeat(Math.round(accuracy * 20)).padEnd(20, ".");
      log(
        `step ${String(step).padStart(4)}/${steps}  loss ${loss.toFixed(4)}  accuracy [${bar}] ${(accuracy * 100).toFixed(1)}%`,
      );
    }
  }
  const secs = (Date.now() - started) / 1000;
  const testAccuracy = noGrad(() => forward(test.x).argmax(1).eq(test.y).float().mean().item());
  log(
    `done in ${secs.toFixed(1)} s: training accuracy ${(accuracy * 100).toFixed(1)}%, held-out accuracy ${(testAccuracy * 100).toFixed(1)}% (${test.x.shape[0]} new points), final loss ${loss.toFixed(4)}`,
  );
  const probe = noGrad(() => forward(cat([tensor([[0.0, 0.1]]), tensor([[0.5, -0.3]])])).softmax(1));
  log(`class probabilities at (0, 0.1) and (0.5, -0.3):\n${probe.toString()}`);
  return { accuracy, testAccuracy, loss };
}
