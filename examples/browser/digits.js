// The digits MLP of the browser demo, shared by the worker that trains it (worker.js), the page that
// runs it on a drawn digit (main.js) and the test that checks it (test/browser/demo.test.ts). Plain
// JavaScript over the descent-nn API passed in as `d`, so it runs unchanged in a page, a worker and
// Node. A model `descent demo` or `descent train` saved is rebuilt from the config in its metadata
// (modelFromFile), so the page keeps no copy of the CLI's layers.
/* global performance */

/**
 * What the page trains: an MLP on the digits averaged down to 14x14 (2x2 pooling inside the
 * model, so it still takes the 784 pixels), 196-256-10 with dropout 0.2: a quarter of the work of
 * 784-256-10 per digit. In Node on the js backend (shared 2-core machine) eight epochs reached
 * 95.65% held-out accuracy; without dropout it stalled at 95.1%, 784-128-10 at 94.7%.
 */
export const PAGE_LAYERS = [
  { type: "unflatten", sizes: [1, 28, 28] },
  { type: "avgpool2d", kernel: 2 },
  { type: "flatten" },
  { type: "linear", out: 256 },
  { type: "relu" },
  { type: "dropout", p: 0.2 },
  { type: "linear", out: 10 },
];

/**
 * The nn.Sequential of a `descent train` config's layers for flat inputs of `inputs` values (the
 * kinds an MLP uses); the indices, and so the state-dict keys, are those the CLI gives.
 */
export function buildMlp(d, layers, inputs = 784) {
  const mods = [];
  let shape = [inputs]; // per sample
  const size = () => shape.reduce((a, b) => a * b, 1);
  for (const l of layers) {
    if (l.type === "linear") {
      if (shape.length !== 1) throw new Error(`a linear layer needs flat inputs; add {"type": "flatten"} before it`);
      mods.push(new d.nn.Linear(shape[0], l.out, { bias: l.bias ?? true }));
      shape = [l.out];
    } else if (l.type === "relu") mods.push(new d.nn.ReLU());
    else if (l.type === "tanh") mods.push(new d.nn.Tanh());
    else if (l.type === "sigmoid") mods.push(new d.nn.Sigmoid());
    else if (l.type === "dropout") mods.push(new d.nn.Dropout(l.p ?? 0.5));
    else if (l.type === "flatten") {
      mods.push(new d.nn.Flatten());
      shape = [size()];
    } else if (l.type === "unflatten" && (l.dim ?? 1) === 1) {
      mods.push(new d.nn.Unflatten(1, l.sizes));
      shape = [...l.sizes];
    } else if (l.type === "avgpool2d" && typeof l.kernel === "number" && shape.length === 3) {
      mods.push(new d.nn.AvgPool2d(l.kernel));
      shape = [shape[0], Math.floor(shape[1] / l.kernel), Math.floor(shape[2] / l.kernel)];
    } else throw new Error(`this demo builds MLPs only; it cannot build ${JSON.stringify(l)}`);
  }
  return new d.nn.Sequential(...mods);
}

/**
 * The model a `descent train` run saved (model.safetensors: weights plus the run's config in its
 * metadata), rebuilt and loaded; refuses what the page cannot feed (inputs other than 784 pixels).
 */
export function modelFromFile(d, file) {
  const config = JSON.parse(file.metadata["descent.config"] ?? "null");
  const pre = JSON.parse(file.metadata["descent.preprocess"] ?? "null");
  if (!config?.model?.layers) throw new Error("not a model saved by `descent train` (no descent.config metadata)");
  const inputs = (config.model.input ?? [784]).reduce((a, b) => a * b, 1);
  if (inputs !== 784) throw new Error(`the model takes ${inputs} inputs; the drawing box gives 784 (28x28)`);
  const model = buildMlp(d, config.model.layers, inputs);
  model.loadStateDict(file.tensors);
  model.eval();
  return { model, preprocess: { scale: pre?.scale ?? 1, mean: pre?.mean ?? 0, std: pre?.std ?? 1 } };
}

/** The 10,000 digits of /digits.bin (serve.mjs): per digit 784 bytes of pixels (0-255) then its label. */
export function parseDigits(d, bytes) {
  const n = bytes.length / 785;
  const x = new Float32Array(n * 784);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 784; j++) x[i * 784 + j] = bytes[i * 785 + j] / 255;
    y[i] = bytes[i * 785 + 784];
  }
  return { x: d.tensor(x, { shape: [n, 784] }), y: d.tensor(y), n };
}

/** The pixel statistics of MNIST, the usual normalisation (the page's drawing goes through it too). */
export const MEAN = 0.1307;
export const STD = 0.3081;

/** A seeded split: the first 80% of a shuffled order trains, the rest is the held-out test set. */
export function split(d, data, seed = 0) {
  // MNIST's mean and std: centred inputs let Adam take larger steps from the start.
  data = { ...data, x: data.x.sub(MEAN).div(STD) };
  d.manualSeed(seed);
  const perm = d.randperm ? d.randperm(data.n) : d.rand([data.n]).argsort();
  const nTest = Math.round(data.n * 0.2);
  const trainIdx = perm.slice(0, 0, data.n - nTest);
  const testIdx = perm.slice(0, data.n - nTest, data.n);
  const take = (idx) => [data.x.indexSelect(0, idx), data.y.indexSelect(0, idx)];
  return { train: take(trainIdx), test: take(testIdx) };
}

/** Fraction of `x`'s rows the model classifies as `y` (eval mode, no graph). */
export function accuracy(d, model, x, y) {
  model.eval();
  const pred = d.noGrad(() => model.forward(x).argmax(1));
  model.train();
  return pred.eq(y).float().mean().item();
}

/**
 * Trains an MLP of `layers` (Adam with a one-cycle schedule to maxLr, batches of 64), calling report(event) with
 * {type: "loss", step, loss} every `every` steps and {type: "epoch", epoch, accuracy, seconds} at
 * each epoch's end; awaits `pause()` between batches so a worker can take messages. Returns the model.
 */
export async function train(
  d,
  data,
  {
    layers = PAGE_LAYERS,
    epochs = 8,
    batchSize = 32,
    maxLr = 0.003,
    every = 10,
    seed = 0,
    report,
    pause,
    onModel,
  } = {},
) {
  const {
    train: [xTrain, yTrain],
    test: [xTest, yTest],
  } = split(d, data, seed);
  d.manualSeed(seed);
  const model = buildMlp(d, layers);
  onModel?.(model);
  const opt = new d.optim.Adam(model.parameters(), { lr: 0.001 });
  const loader = new d.data.DataLoader(new d.data.TensorDataset(xTrain, yTrain), { batchSize, shuffle: true });
  const sched = new d.optim.lrScheduler.OneCycleLR(opt, maxLr, { totalSteps: epochs * loader.length });
  const lossFn = new d.nn.CrossEntropyLoss();
  const t0 = performance.now();
  let step = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (const [x, y] of loader) {
      opt.zeroGrad();
      const loss = lossFn.forward(model.forward(x), y);
      loss.backward();
      opt.step();
      sched.step();
      if (++step % every === 0) report?.({ type: "loss", step, loss: loss.item() });
      if (pause) await pause();
    }
    const acc = accuracy(d, model, xTest, yTest);
    report?.({ type: "epoch", epoch, accuracy: acc, seconds: (performance.now() - t0) / 1000 });
  }
  return model;
}
