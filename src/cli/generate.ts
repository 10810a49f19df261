// `descent generate <model folder or .safetensors> --prompt "…" --tokens N --temperature T
// --top-k K [--seed S]`: loads a character GPT saved by `descent train` (text config) or
// examples/char_gpt.ts and prints the prompt followed by N sampled characters.

import { CliError } from "./config.js";
import { loadGPT } from "./gpt_files.js";

export interface GenerateArgs {
  model: string;
  prompt: string;
  tokens: number;
  temperature: number;
  topK?: number;
  seed: number;
}

export function runGenerate(a: GenerateArgs): string {
  const { model, vocab } = loadGPT(a.model);
  if (!(a.temperature >= 0) || !Number.isFinite(a.temperature))
    throw new CliError(`generate: --temperature must be a number >= 0, got ${a.temperature}`);
  const prompt = Array.from(vocab.encode(a.prompt.length > 0 ? a.prompt : "\n"));
  const out = model.generate(prompt, {
    maxNewTokens: a.tokens,
    temperature: a.temperature,
    topK: a.topK,
    seed: a.seed,
  });
  return a.prompt + vocab.decode(out.toFlatArray().subarray(prompt.length));
}
