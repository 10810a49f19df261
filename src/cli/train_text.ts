// `descent train` with a text config: a character GPT trained on a folder of text files.
//
//   {"data": {"type": "text", "dir": "/usr/share/games/fortunes", "valEvery": 6},
//    "model": {"type": "gpt", "contextLength": 64, "dModel": 128, "nHeads": 4, "nLayers": 4, "dropout": 0},
//    "steps": 1500, "batchSize": 32, "lr": 0.003, "warmupSteps": 75, "weightDecay": 0.1,
//    "clipGradNorm": 1, "evalEvery": 100, "valBatches": 8, "seed": 1, "output": "runs/gpt"}
//
// Writes model.safetensors + vocab.json (gpt_files.ts), metrics.jsonl (one line per logged step)
// and config.json to the output folder.

import { join, resolve } from "node:path";
import { manualSeed, nn, type Tensor } from "../index.js";
import { CharVocab, TextWindows, readTextSplit, unigramEntropy } from "../data/text.js";
import { trainLanguageModel } from "../train/lm.js";
import { CliError, checkConfig, type TextConfig } from "./config.js";
import { saveGPT } from "./gpt_files.js";
import { RunLog, prepareRunFolder, writeRunFile } from "./run_folder.js";
import type { Console, TrainOverrides } from "./train.js";

export { isTextConfig } from "./config.js";

export interface TextTrainResult {
  modelPath: string;
  valLoss: number;
  unigram: number;
  seconds: number;
}

export function runTextTraining(config: unknown, ov: TrainOverrides, con: Console): TextTrainResult {
  const c = checkConfig<TextConfig>(config, ov);
  const files = c["data"]; // config.data, not a tensor's storage (which the `.data` lint rule guards)
  const dir = files.dir;
  const contextLength = c.model.contextLength;
  const shape = {
    contextLength,
    dModel: c.model.dModel,
    nHeads: c.model.nHeads,
    nLayers: c.model.nLayers,
    dropout: c.model.dropout ?? 0,
  };
  const steps = ov.epochs ?? c.steps!;
  const batchSize = c.batchSize ?? 32;
  const lr = c.lr ?? 3e-3;
  const warmupSteps = c.warmupSteps ?? Math.max(2, Math.floor(steps / 20));
  const weightDecay = c.weightDecay ?? 0.1;
  const clip = c.clipGradNorm ?? 1;
  const evalEvery = c.evalEvery ?? 100;
  const nVal = c.valBatches ?? 8;
  const seed = ov.seed ?? c.seed ?? 0;
  const output = resolve(ov.output ?? c.output ?? "runs/gpt");
  if (ov.resume) throw new CliError("--resume is not supported for text (GPT) configs yet");

  let split;
  try {
    split = readTextSplit(dir, { valEvery: files.valEvery });
  } catch (e) {
    throw new CliError(`config.data.dir: ${(e as Error).message}`);
  }
  const vocab = CharVocab.fromText(split.train);
  const trainIds = vocab.encode(split.train);
  const valIds = vocab.encode(split.val);
  for (const [what, ids] of [
    ["training", trainIds],
    ["validation", valIds],
  ] as const)
    if (ids.length < contextLength + 1)
      throw new CliError(
        `config.data.dir: the ${what} files hold ${ids.length} characters, fewer than contextLength + 1 (${contextLength + 1})`,
      );
  const unigram = unigramEntropy(valIds, vocab.size);
  con.say(`train files: ${split.trainFiles.join(" ")} (${trainIds.length} chars)`);
  con.say(`validation files: ${split.valFiles.join(" ")} (${valIds.length} chars)`);
  con.say(`vocabulary ${vocab.size}; unigram entropy of validation ${unigram.toFixed(3)} nats/char`);

  manualSeed(seed);
  const model = new nn.GPT({ vocabSize: vocab.size, ...shape });
  prepareRunFolder(output);
  writeRunFile(join(output, "config.json"), JSON.stringify(config, null, 2) + "\n");
  const log = new RunLog(join(output, "metrics.jsonl"));
  const trainW = new TextWindows(trainIds, seed);
  const valW = new TextWindows(valIds, seed + 1);
  const valBatches: Tensor[] = Array.from({ length: nVal }, () => valW.sample(batchSize, contextLength));
  const logs = trainLanguageModel(model, {
    steps,
    lr,
    warmupSteps,
    weightDecay,
    clip,
    nextBatch: () => trainW.sample(batchSize, contextLength),
    valBatches,
    evalEvery,
    onStep: (l) => {
      if (l.valLoss === undefined && l.step % 10 !== 0) return;
      log.append(l);
      if (con.mode !== "silent") {
        const val = l.valLoss !== undefined ? ` val ${l.valLoss.toFixed(4)}` : "";
        con.say(`step ${l.step} ${l.seconds.toFixed(1)} s lr ${l.lr.toExponential(2)} loss ${l.loss.toFixed(4)}${val}`);
      }
    },
  });
  log.close();
  const last = logs[logs.length - 1]!;
  const modelPath = saveGPT(output, model, vocab);
  return { modelPath, valLoss: last.valLoss!, unigram, seconds: last.seconds };
}
