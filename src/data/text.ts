// Character-level text data for language models: a vocabulary of characters (index 0 is the
// unknown character, so text outside the training files still encodes), a folder of text files
// split into training and validation BY FILE (no passage leaks between the two), and a seeded
// source of random [B, T+1] windows (inputs are [:, :T], targets [:, 1:]).

import { existsSync, lstatSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { DescentError } from "../core/errors.js";
import { Generator } from "../core/random.js";
import { readFileLimited } from "../core/files.js";
import { checkOptions } from "../core/options.js";
import { tensor } from "../tensor/creation.js";
import type { Tensor } from "../tensor/tensor.js";

/** Debian's `fortunes` package puts its ~2.6 MB of quotations here. */
export const FORTUNES_DIR = "/usr/share/games/fortunes";
const MAX_CORPUS_BYTES = 256 * 2 ** 20;

/**
 * A character vocabulary for character-level language models: id 0 is the unknown character, the
 * others one Unicode code point each. Saved beside a model as JSON (toJSON / fromJSON).
 * @example
 * const vocab = CharVocab.fromText("hello");
 * vocab.decode(vocab.encode("hole")); // "hole"
 */
export class CharVocab {
  /** chars[0] is the unknown character ("" here, written as U+FFFD when decoded). */
  readonly chars: string[];
  private readonly index = new Map<string, number>();

  constructor(chars: readonly string[]) {
    if (chars[0] !== "") throw new DescentError(`CharVocab: chars[0] must be "" (the unknown character)`);
    this.chars = [...chars];
    this.chars.forEach((c, i) => {
      if (i > 0 && (Array.from(c).length !== 1 || this.index.has(c)))
        throw new DescentError(`CharVocab: entry ${i} (${JSON.stringify(c)}) is not one new character`);
      this.index.set(c, i);
    });
  }

  /** Every distinct character of text (code points, sorted), after the unknown one. */
  static fromText(text: string): CharVocab {
    return new CharVocab(["", ...[...new Set(Array.from(text))].sort()]);
  }

  /** The number of ids (distinct characters + 1 for the unknown one): the model's vocabSize. */
  get size(): number {
    return this.chars.length;
  }

  /** The ids of text's code points; a character not in the vocabulary becomes 0. */
  encode(text: string): Int32Array {
    const cps = Array.from(text);
    const out = new Int32Array(cps.length);
    cps.forEach((c, i) => (out[i] = this.index.get(c) ?? 0));
    return out;
  }

  /** The text of ids; 0 and ids out of range decode as U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    let s = "";
    for (let i = 0; i < ids.length; i++) s += ids[i] === 0 ? "\uFFFD" : (this.chars[ids[i]!] ?? "\uFFFD");
    return s;
  }

  /** `{type: "char", chars}`, what `descent generate` reads from vocab.json. */
  toJSON(): { type: "char"; chars: string[] } {
    return { type: "char", chars: this.chars };
  }

  /** The vocabulary toJSON wrote; a DescentError for anything else. */
  static fromJSON(j: unknown): CharVocab {
    const chars = (j as { chars?: unknown } | null)?.chars;
    if (!Array.isArray(chars) || !chars.every((c) => typeof c === "string"))
      throw new DescentError(
        `CharVocab.fromJSON: expected {"chars": [strings]}, got ${JSON.stringify(j)?.slice(0, 80)}`,
      );
    return new CharVocab(chars as string[]);
  }
}

/** A text folder split by file: the file names on each side and their concatenated text. */
export interface TextSplit {
  /** Names of the training files. */
  trainFiles: string[];
  /** Names of the held-out validation files. */
  valFiles: string[];
  /** The training files' text, concatenated in name order. */
  train: string;
  /** The validation files' text, concatenated in name order. */
  val: string;
}

const TEXT_SPLIT_KEYS: ReadonlySet<string> = new Set(["valEvery"]);

/**
 * The regular text files of dir (sorted by name; fortune's *.dat indexes and symlinks skipped),
 * every valEvery-th of them (the 3rd, then valEvery further…) held out for validation.
 */
export function readTextSplit(dir: string, opts: { valEvery?: number } = {}): TextSplit {
  checkOptions("readTextSplit", opts, TEXT_SPLIT_KEYS);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    const hint = /(^|\/)fortunes\/?$/.test(dir)
      ? " (install Debian's `fortunes` package: sudo apt-get install fortunes)"
      : "";
    throw new DescentError(`readTextSplit: text folder ${dir} not found${hint}`);
  }
  const every = opts.valEvery ?? 6;
  if (!Number.isInteger(every) || every < 2)
    throw new DescentError(`readTextSplit: valEvery must be an integer >= 2, got ${every}`);
  const names = readdirSync(dir)
    .filter((n) => !n.endsWith(".dat") && !n.startsWith(".") && lstatSync(join(dir, n)).isFile())
    .sort();
  if (names.length < 2) throw new DescentError(`readTextSplit: ${dir} holds ${names.length} text files, need >= 2`);
  const isVal = (i: number) => i % every === 2 % every || (names.length <= 2 && i === 1);
  const trainFiles = names.filter((_, i) => !isVal(i));
  const valFiles = names.filter((_, i) => isVal(i));
  const read = (n: string) => readFileLimited("readTextSplit", join(dir, n), MAX_CORPUS_BYTES).toString("utf8");
  return {
    trainFiles,
    valFiles,
    train: trainFiles.map(read).join(""),
    val: valFiles.map(read).join(""),
  };
}

/** Random windows of a token array: sample(B, T) is int32 [B, T+1], reproducible from the seed. */
export class TextWindows {
  /** The generator that picks window starts (its state advances with each sample). */
  readonly gen: Generator;
  constructor(
    /** The token ids windows are cut from. */
    readonly ids: Int32Array,
    seed = 0,
  ) {
    this.gen = new Generator(seed);
  }

  /** batch windows of t+1 consecutive ids at random starts: int32 [batch, t+1] (inputs [:, :t], targets [:, 1:]). */
  sample(batch: number, t: number): Tensor {
    if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(t) || t < 1)
      throw new DescentError(`TextWindows.sample: batch and length must be positive integers, got ${batch}, ${t}`);
    const n = this.ids.length - t - 1;
    if (n < 0)
      throw new DescentError(`TextWindows.sample: ${this.ids.length} tokens are too few for windows of ${t + 1}`);
    const out = new Int32Array(batch * (t + 1));
    for (let b = 0; b < batch; b++) {
      const s = this.gen.randint(n + 1);
      out.set(this.ids.subarray(s, s + t + 1), b * (t + 1));
    }
    return tensor(out, { shape: [batch, t + 1] });
  }
}

/** −Σ p·ln p of the ids' own character frequencies: the loss (nats/char) of a unigram model. */
export function unigramEntropy(ids: ArrayLike<number>, vocabSize: number): number {
  const counts = new Float64Array(vocabSize);
  for (let i = 0; i < ids.length; i++) counts[ids[i]!]!++;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / ids.length) * Math.log(c / ids.length);
  return h;
}
