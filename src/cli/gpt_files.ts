// The files of a trained character GPT: <dir>/model.safetensors (weights; the GPT config and the
// vocabulary in its metadata, so the file alone is enough) and <dir>/vocab.json (the vocabulary
// again, for other tools). `descent generate` takes the folder or the .safetensors file.

import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { nn, save, loadFile } from "../index.js";
import { CharVocab } from "../data/text.js";
import { writeTextAtomic } from "../io/atomic.js";
import { CliError } from "./config.js";

export const GPT_KIND = "gpt-char";

export function saveGPT(dir: string, model: nn.GPT, vocab: CharVocab): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "model.safetensors");
  save(model.stateDict(), path, {
    "descent.kind": GPT_KIND,
    "descent.gpt": JSON.stringify(model.config),
    "descent.vocab": JSON.stringify(vocab.toJSON()),
  });
  writeTextAtomic("saveGPT", join(dir, "vocab.json"), JSON.stringify(vocab.toJSON()) + "\n");
  return path;
}

function parseMeta(file: string, meta: Record<string, string>, key: string): unknown {
  const raw = meta[key];
  if (raw === undefined) throw new CliError(`${file}: no "${key}" in its metadata; is it a GPT saved by Descent?`);
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw new CliError(`${file}: its metadata "${key}" is not valid JSON (${(e as Error).message})`);
  }
}

/** Loads a folder holding model.safetensors, or the file itself. */
export function loadGPT(where: string): { model: nn.GPT; vocab: CharVocab; file: string } {
  if (!existsSync(where)) throw new CliError(`generate: model not found: ${where}`);
  const file = statSync(where).isDirectory() ? join(where, "model.safetensors") : where;
  if (!existsSync(file)) throw new CliError(`generate: ${where} holds no model.safetensors`);
  const { tensors, metadata } = loadFile(file);
  const meta = metadata ?? {};
  if (meta["descent.kind"] !== GPT_KIND)
    throw new CliError(
      `generate: ${file} is not a character GPT (its metadata "descent.kind" is ${meta["descent.kind"]})`,
    );
  let model: nn.GPT;
  let vocab: CharVocab;
  try {
    model = new nn.GPT(parseMeta(file, meta, "descent.gpt") as nn.GPTConfig);
    vocab = CharVocab.fromJSON(parseMeta(file, meta, "descent.vocab"));
    model.loadStateDict(tensors);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`generate: ${file}: ${(e as Error).message}`);
  }
  if (vocab.size !== model.config.vocabSize)
    throw new CliError(`generate: ${file}: vocabulary of ${vocab.size} but the model has ${model.config.vocabSize}`);
  return { model, vocab, file };
}
