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
import { CliError, Fields } from "./config.js";
import { saveGPT } from "./gpt_files.js";
import { RunLog, prepareRunFolder, writeRunFile } from "./run_folder.js";
import type { Console, TrainOverrides } from "./train.js";

/** A config whose data is {"type": "text"} (or whose model is {"type": "gpt"}) trains a GPT. */
export function isTextConfig(config: unknown): boolean {
  const c = (config ?? {}) as Record<string, { type?: unknown } | undefined>;
  return c["data"]?.type === "text" || c["model"]?.type === "gpt";
}

export interface TextTrainResult {
  modelPath: string;
  valLoss: number;
  unigram: number;
  seconds: number;
}

export function runTextTraining(config: unknown, ov: TrainOverrides, con: Console): TextTrainResult {
  const f = Fields.of("config", config);
  const dataF = f.sub("data") ?? f.fail("data", '{"type": "text", "dir": "<folder of text files>"}');
  if (dataF.oneOf("type", ["text"]) !== "text") dataF.fail("type", '"text"');
  const dir = dataF.reqStr("dir");
  const valEvery = dataF.num("valEvery", { int: true, min: 2 });
  dataF.done();
  const mF = f.sub("model") ?? f.fail("model", '{"type": "gpt", "contextLength": …, "dModel": …, …}');
  if (mF.oneOf("type", ["gpt"]) !== "gpt") mF.fail("type", '"gpt"');
  const int = { int: true, min: 1 };
  const contextLength = mF.reqNum("contextLength", int);
  const shape = {
    contextLength,
    dModel: mF.reqNum("dModel", int),
    nHeads: mF.reqNum("nHeads", int),
    nLayers: mF.reqNum("nLayers", int),
    dropout: mF.num("dropout", { min: 0, max: 1 }) ?? 0,
  };
  mF.done();
  const steps = ov.epochs ?? f.reqNum("steps", { int: true, min: 3 });
  const batchSize = f.num("batchSize", int) ?? 32;
  const lr = f.num("lr", { above: 0 }) ?? 3e-3;
  const warmupSteps =
    f.num("warmupSteps", { int: true, min: 2, max: steps - 1 }) ?? Math.max(2, Math.floor(steps / 20));
  const weightDecay = f.num("weightDecay", { min: 0 }) ?? 0.1;
  const clip = f.num("clipGradNorm", { min: 0 }) ?? 1;
  const evalEvery = f.num("evalEvery", { int: true, min: 0 }) ?? 100;
  const nVal = f.num("valBatches", int) ?? 8;
  const seed = ov.seed ?? f.num("seed", { int: true, min: 0 }) ?? 0;
  const output = resolve(ov.output ?? f.str("output") ?? "runs/gpt");
  f.done();
  if (ov.resume) throw new CliError("--resume is not supported for text (GPT) configs yet");

  let split;
  try {
    split = readTextSplit(dir, { valEvery });
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
