// Autoregressive generation for the GPT: a prompt is run once through the model (filling a
// key/value cache), then each new token costs one position. Past the context window the model is
// re-run, uncached, on the last contextLength tokens for every further token, exactly as nanoGPT
// crops its input (absolute position embeddings make a sliding cache wrong: the cached keys were
// made at other positions). Sampling: logits / temperature, optional top-k, softmax, then one
// seeded draw per row from our own Generator (temperature 0 takes the argmax).

import { DescentError, shapeStr } from "../../core/errors.js";
import { Generator } from "../../core/random.js";
import { checkOptions, keysOf } from "../../core/options.js";
import { noGrad } from "../../autograd/graph.js";
import { tensor } from "../../tensor/creation.js";
import { cat, Tensor } from "../../tensor/tensor.js";
import type { GPT, KVCache } from "./gpt.js";

/** Options of GPT.generate: how many tokens, and how they are drawn. */
export interface GenerateOptions {
  /** Tokens to append after the prompt. */
  maxNewTokens: number;
  /** Divides the logits; 0 picks the most likely token (greedy). Default 1. */
  temperature?: number;
  /** Sample only among the k most likely tokens. Default: all. */
  topK?: number;
  /** Seed of the sampler's own generator (the default generator is left alone). Default 0. */
  seed?: number;
  /** Use the key/value cache (default true); false re-runs the whole window for every token. */
  useCache?: boolean;
  /** Called with each step's last-position logits [B, vocabSize] (tests compare them). */
  onLogits?: (logits: Tensor) => void;
}

/** The keys of GenerateOptions, for checkOptions. */
const GENERATE_KEYS = keysOf<GenerateOptions>()({
  maxNewTokens: true,
  temperature: true,
  topK: true,
  seed: true,
  useCache: true,
  onLogits: true,
});

/** Draws one token per row of logits [B, V] (host-side, in float64). */
export function sampleLogits(logits: Tensor, opts: { temperature?: number; topK?: number }, gen: Generator): number[] {
  const [b, v] = logits.shape as [number, number];
  const temperature = opts.temperature ?? 1;
  const flat = logits.toFlatArray();
  const out: number[] = [];
  for (let r = 0; r < b; r++) {
    const row = Array.from(flat.subarray(r * v, (r + 1) * v));
    if (temperature === 0) {
      let best = 0;
      for (let i = 1; i < v; i++) if (row[i]! > row[best]!) best = i;
      out.push(best);
      continue;
    }
    let cut = -Infinity;
    if (opts.topK !== undefined && opts.topK < v) cut = [...row].sort((x, y) => y - x)[opts.topK - 1]!;
    const max = row.reduce((m, x) => (x > m ? x : m), -Infinity);
    const w = row.map((x) => (x >= cut ? Math.exp((x - max) / temperature) : 0));
    const total = w.reduce((s, x) => s + x, 0);
    let u = gen.uniform() * total;
    let pick = v - 1;
    for (let i = 0; i < v; i++) {
      u -= w[i]!;
      if (u < 0 && w[i]! > 0) {
        pick = i;
        break;
      }
    }
    while (w[pick] === 0 && pick > 0) pick--; // rounding left u ≥ 0: take the last token with weight
    out.push(pick);
  }
  return out;
}

function checkGenerateOptions(o: GenerateOptions, vocab: number): void {
  const op = "GPT.generate";
  checkOptions(op, o, GENERATE_KEYS);
  if (o === undefined) throw new DescentError(`${op}: options { maxNewTokens } are required`);
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0)
    throw new DescentError(`${op}: maxNewTokens must be a non-negative integer, got ${o.maxNewTokens}`);
  const t = o.temperature ?? 1;
  if (typeof t !== "number" || !(t >= 0) || !Number.isFinite(t))
    throw new DescentError(`${op}: temperature must be a finite number >= 0, got ${t}`);
  if (o.topK !== undefined && (!Number.isInteger(o.topK) || o.topK < 1))
    throw new DescentError(`${op}: topK must be a positive integer, got ${o.topK} (vocabulary size ${vocab})`);
}

/** prompt: token ids (one sequence) or int32 [B, T]; returns int32 [B, T + maxNewTokens]. */
export function generate(model: GPT, prompt: Tensor | readonly number[], opts: GenerateOptions): Tensor {
  const { vocabSize, contextLength } = model.config;
  checkGenerateOptions(opts, vocabSize);
  let idx = prompt instanceof Tensor ? prompt : tensor(Int32Array.from(prompt), { shape: [1, prompt.length] });
  if (idx.ndim !== 2 || idx.dtype !== "int32" || idx.shape[1] === 0)
    throw new DescentError(`GPT.generate: the prompt must be int32 ids [B, T] with T >= 1, got ${shapeStr(idx.shape)}`);
  const ids = idx.toFlatArray();
  for (const id of ids)
    if (!(id >= 0 && id < vocabSize))
      throw new DescentError(`GPT.generate: prompt token ${id} is outside the vocabulary [0, ${vocabSize})`);
  const gen = new Generator(opts.seed ?? 0);
  const b = idx.shape[0]!;
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => {
      let cache: KVCache | null = null;
      for (let s = 0; s < opts.maxNewTokens; s++) {
        const t = idx.shape[1]!;
        let logits: Tensor;
        if (opts.useCache !== false && cache && cache.length + 1 <= contextLength) {
          logits = model.forward(idx.slice(1, t - 1, t), cache);
        } else {
          // First step, or past the window (crop and recompute), or no cache wanted.
          const fits = t <= contextLength;
          cache = opts.useCache !== false && fits ? model.newCache() : null;
          logits = model.forward(fits ? idx : idx.slice(1, t - contextLength, t), cache ?? undefined);
        }
        const last = logits.select(1, logits.shape[1]! - 1); // [B, V]
        opts.onLogits?.(last);
        const next = sampleLogits(last, opts, gen);
        idx = cat([idx, tensor(Int32Array.from(next), { shape: [b, 1] })], 1);
      }
      return idx;
    });
  } finally {
    model.train(wasTraining);
  }
}
