// Resident memory over a long run: W2's MLP trained step after step on the current backend, with a
// 1024² product every 10 steps (outputs large enough for native/gemm.cc's keep_freed_memory), the
// RSS and V8's external memory printed at every tenth of the run. Flat is the pass mark: run it
// as is and with DESCENT_KEEP_FREED_MEMORY=0 to compare. `node --import tsx bench/rss_flat.ts [steps]`.

import { nn, optim, randn, randint } from "../src/index.js";
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
const big = randn([1024, 1024]);
const steps = Number(process.argv[2] ?? 20000);
const t0 = performance.now();
for (let s = 1; s <= steps; s++) {
  opt.zeroGrad();
  const l = nn.functional.crossEntropy(model.forward(x), y);
  l.backward();
  opt.step();
  l.item();
  if (s % 10 === 0) big.matmul(big);
  if (s % (steps / 10) === 0)
    console.log(
      s,
      "rss MiB",
      (process.memoryUsage().rss / 2 ** 20).toFixed(0),
      "ext MiB",
      (process.memoryUsage().external / 2 ** 20).toFixed(0),
      ((performance.now() - t0) / 1000).toFixed(1),
      "s",
    );
}
