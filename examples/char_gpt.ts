// A character-level GPT trained from scratch on Debian's `fortunes` (about 2.6 MB of quotations).
//
//   npm run gpt                     (= node --import tsx examples/char_gpt.ts)
//   npm run gpt -- --minutes 15 --out runs/char_gpt   (--steps N fixes the number of steps instead)
//
// The corpus is split by file (the held-out files are listed at the start), the vocabulary is
// every character of the training files plus an unknown one. The model (4 layers, 4 heads,
// d = 128, context 64) trains with AdamW, warm-up then cosine decay and gradient clipping on random
// windows; train and validation loss are printed as it goes, next to the unigram entropy of the
// validation text (what a model that ignores context would reach). At the end it saves
// model.safetensors and vocab.json (`descent generate <out>` reads them) and prints a sample.

import { data, manualSeed, nn, type Tensor } from "descent-nn";
import { blockGradNorms, lmLoss, trainLanguageModel } from "../src/train/lm.js";
import { GradientMonitor } from "../src/train/health.js";
import { saveGPT } from "../src/cli/gpt_files.js";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const outIdx = process.argv.indexOf("--out");
const OUT = outIdx > 0 ? process.argv[outIdx + 1]! : "runs/char_gpt";
const STEPS_FLAG = flag("steps", 0); // 0: as many as fit in --minutes (timed on a few trial steps)
const MINUTES = flag("minutes", 15);
const BATCH = flag("batch", 24);
const CONTEXT = flag("context", 64);
const LR = flag("lr", 4e-3);
const SEED = flag("seed", 1);

let split: data.TextSplit;
try {
  split = data.readTextSplit(data.FORTUNES_DIR);
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
console.log(`train files (${split.trainFiles.length}, ${split.train.length} chars): ${split.trainFiles.join(" ")}`);
console.log(`validation files (${split.valFiles.length}, ${split.val.length} chars): ${split.valFiles.join(" ")}`);
const vocab = data.CharVocab.fromText(split.train);
const trainIds = vocab.encode(split.train);
const valIds = vocab.encode(split.val);
const unigram = data.unigramEntropy(valIds, vocab.size);
console.log(`vocabulary: ${vocab.size} characters; unigram entropy of validation: ${unigram.toFixed(3)} nats/char`);

manualSeed(SEED);
const config = { vocabSize: vocab.size, contextLength: CONTEXT, dModel: 128, nHeads: 4, nLayers: 4, dropout: 0 };
const model = new nn.GPT(config);
const nParams = model.parameters().reduce((s, p) => s + p.size, 0);
const trainWindows = new data.TextWindows(trainIds, SEED);
const valWindows = new data.TextWindows(valIds, 12345);
const valBatches: Tensor[] = Array.from({ length: 4 }, () => valWindows.sample(64, CONTEXT));

/** An estimate of the steps that fit the time budget: four forward/backward passes (no update) are timed. */
function stepsThatFit(): number {
  const pass = () => lmLoss(model, trainWindows.sample(BATCH, CONTEXT)).backward();
  pass(); // the first passes are slow (compilation, the storage pool filling up): not timed
  pass();
  const t0 = performance.now();
  for (let i = 0; i < 4; i++) pass();
  model.zeroGrad();
  const perStep = (performance.now() - t0) / 4000 + 0.02; // + the AdamW step and clipping
  // 10% is kept for evaluation every 100 steps and for the machine being busier later.
  return Math.max(20, Math.floor((0.9 * MINUTES * 60) / perStep));
}
// With a time budget the cosine decay runs on elapsed time (trainLanguageModel's scheduleSeconds), so
// it completes inside --minutes however busy the machine gets; the estimate only sizes the warm-up
// (5% of it) and caps the steps (three times it).
const ESTIMATE = STEPS_FLAG > 0 ? STEPS_FLAG : stepsThatFit();
const STEPS = STEPS_FLAG > 0 ? STEPS_FLAG : 3 * ESTIMATE;
console.log(
  `GPT ${JSON.stringify(config)}: ${nParams} parameters; ` +
    (STEPS_FLAG > 0 ? `${STEPS} steps` : `about ${ESTIMATE} steps in ${MINUTES} min`) +
    ` of ${BATCH}x${CONTEXT}`,
);

// Gradient health every 100 steps: the gradient norm of each block (and the model's diagnoses at the end).
const monitor = new GradientMonitor(model, { every: 100 });
const logs = trainLanguageModel(model, {
  monitor,
  steps: STEPS,
  lr: LR,
  warmupSteps: Math.max(2, Math.round(ESTIMATE / 20)),
  clip: 1,
  nextBatch: () => trainWindows.sample(BATCH, CONTEXT),
  valBatches,
  evalEvery: 100,
  maxSeconds: MINUTES * 60,
  // 2% of the budget is left for the last evaluation, saving and the sample.
  scheduleSeconds: STEPS_FLAG > 0 ? undefined : 0.98 * MINUTES * 60,
  onStep: (l) => {
    if (l.valLoss !== undefined || l.step % 25 === 0) {
      const val = l.valLoss !== undefined ? `  val ${l.valLoss.toFixed(3)}` : "";
      console.log(
        `step ${String(l.step).padStart(5)}  ${l.seconds.toFixed(0).padStart(4)} s  lr ${l.lr.toExponential(2)}  train ${l.loss.toFixed(3)}${val}`,
      );
      const rec = monitor.records[monitor.records.length - 1];
      if (l.valLoss !== undefined && rec) {
        const norms = Object.entries(blockGradNorms(rec)).map(([k, v]) => `${k} ${v.toPrecision(2)}`);
        console.log(`  gradient norms at step ${rec.step}: ${norms.join(", ")}`);
      }
    }
  },
});
const final = logs[logs.length - 1]!;
console.log(
  `final validation loss ${final.valLoss!.toFixed(3)} nats/char after ${final.step + 1} steps, ${final.seconds.toFixed(0)} s (unigram baseline ${unigram.toFixed(3)})`,
);
console.log(monitor.summary());
saveGPT(OUT, model, vocab);
console.log(`saved ${OUT}/model.safetensors and ${OUT}/vocab.json`);
const out = model.generate(Array.from(vocab.encode("\n")), {
  maxNewTokens: 400,
  temperature: 0.8,
  topK: 20,
  seed: SEED,
});
console.log("sample:\n" + vocab.decode(out.toFlatArray().subarray(1)));
